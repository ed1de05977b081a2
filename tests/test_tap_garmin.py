"""tap-garmin as a standalone process: Singer output, retries, auth, secrets."""

from __future__ import annotations

import json

import pytest

from tests import tap_runner
from tests.fakes.garmin_api import TOKEN_PATH, FakeGarmin


@pytest.fixture
def fake():
    with FakeGarmin(days=4) as server:
        yield server


def run_tap(fake, tmp_path, state=None, **overrides):
    config = tap_runner.garmin_config(fake, **{"backoff_base_ms": 10, "max_retries": 2, **overrides})
    result, messages, _ = tap_runner.run_tap("tap-garmin", config, tmp_path, state)
    return result, messages


def test_writes_valid_singer_messages(fake, tmp_path):
    result, messages = run_tap(fake, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    seen_schema = set()
    for message in messages:
        assert message["type"] in {"SCHEMA", "RECORD", "STATE"}
        if message["type"] == "SCHEMA":
            assert message["key_properties"] == ["raw_id", "raw_hash"]
            seen_schema.add(message["stream"])
        if message["type"] == "RECORD":
            assert message["stream"] in seen_schema, "RECORD before its SCHEMA"
            assert set(message["record"]) >= {"raw_id", "raw_hash", "source", "raw_data", "validation_status"}
    assert messages[-1]["type"] == "STATE"
    bookmarks = messages[-1]["value"]["bookmarks"]
    assert set(bookmarks) == seen_schema and len(seen_schema) == 7


def test_state_limits_the_days_requested(fake, tmp_path):
    _, messages = run_tap(fake, tmp_path)
    state = messages[-1]["value"]
    fake.reset_log()
    run_tap(fake, tmp_path, state=state, lookback_days=1)
    asked = sorted({r["query"]["date"] for r in fake.data_requests() if "dailySleepData" in r["path"]})
    assert asked == [d.isoformat() for d in fake.days_list[-3:]]  # bookmark night - 1 day .. today


def test_retry_after_is_honoured(fake, tmp_path):
    fake.fail_next(429, path_contains="dailySleepData", headers={"Retry-After": "1"})
    result, _ = run_tap(fake, tmp_path)
    assert result.returncode == 0
    sleep = [r for r in fake.requests if "dailySleepData" in r["path"]]
    assert sleep[0]["status"] == 429 and sleep[1]["status"] == 200
    assert sleep[1]["at"] - sleep[0]["at"] >= 0.95, "the retry did not wait what Retry-After asked"


def test_server_errors_are_retried_then_fatal(fake, tmp_path):
    fake.fail_next(503, times=2, path_contains="dailyStress")
    result, messages = run_tap(fake, tmp_path)
    assert result.returncode == 0
    assert sum(1 for m in messages if m.get("stream") == "garmin__stress" and m["type"] == "RECORD") == 4

    fake.fail_next(500, times=10, path_contains="dailyStress")
    result, _ = run_tap(fake, tmp_path)
    assert result.returncode != 0
    assert "dailyStress" in result.stderr and "500" in result.stderr


def test_forbidden_names_the_setting(fake, tmp_path):
    fake.fail_next(403, times=5)
    result, _ = run_tap(fake, tmp_path)
    assert result.returncode != 0
    assert "token_file" in result.stderr and "HTTP 403" in result.stderr


def test_tokens_never_reach_output_even_when_echoed(fake, tmp_path):
    echoed = json.dumps({"error": f"bad request for Bearer {fake.access_token}"})
    fake.fail_next(500, times=10, path_contains="dailySleepData", body=echoed)
    result, messages = run_tap(fake, tmp_path)
    assert result.returncode != 0
    everything = result.stdout + result.stderr
    assert fake.access_token not in everything and fake.refresh_token not in everything
    assert "***" in result.stderr


def test_token_file_refresh_is_written_back(fake, tmp_path):
    token_file = tmp_path / "tokens.json"
    token_file.write_text(
        json.dumps({"access_token": fake.access_token, "refresh_token": fake.refresh_token, "expires_at": 1})
    )  # already expired: refresh before the first call
    result, _ = run_tap(fake, tmp_path, access_token=None, refresh_token=None, token_file=str(token_file))
    assert result.returncode == 0, result.stderr[-2000:]
    saved = json.loads(token_file.read_text())
    assert fake.refresh_count == 1
    assert (saved["access_token"], saved["refresh_token"]) == (fake.access_token, fake.refresh_token)
    assert token_file.stat().st_mode & 0o077 == 0
    assert fake.requests[0]["path"].endswith("/oauth/token")


def test_missing_tokens_is_a_clear_error(fake, tmp_path):
    result, _ = run_tap(fake, tmp_path, access_token=None, refresh_token=None)
    assert result.returncode != 0
    assert "token_file" in result.stderr


def test_a_day_without_data_does_not_stop_the_walk(fake, tmp_path):
    import datetime as dt

    before_data = fake.days_list[0] - dt.timedelta(days=1)  # HRV answers 204 No Content here
    result, messages = run_tap(fake, tmp_path, start_date=before_data.isoformat())
    assert result.returncode == 0
    hrv_days = [m["record"]["raw_id"] for m in messages if m.get("stream") == "garmin__hrv" and m["type"] == "RECORD"]
    with_hrv = [d.isoformat() for d in fake.days_list if fake.hrv_payload(d) is not None]
    assert hrv_days == with_hrv and len(with_hrv) < len(fake.days_list)  # 204 nights: no row, walk goes on
    sleep = {
        m["record"]["raw_id"]: m["record"]
        for m in messages
        if m.get("stream") == "garmin__sleep" and m["type"] == "RECORD"
    }
    assert len(sleep) == len(fake.days_list) + 1
    assert sleep[before_data.isoformat()]["raw_data"]["dailySleepDTO"]["sleepTimeSeconds"] is None


def test_a_401_after_the_refresh_is_rejected_credentials(fake, tmp_path):
    """The core's refresh-once hook: one refresh per request; the fresh token refused too stops the run."""
    fake.fail_next(401, times=2, path_contains="dailySleepData", body=json.dumps({"message": "Unauthorized"}))
    result, _ = run_tap(fake, tmp_path)
    assert result.returncode != 0
    assert fake.refresh_count == 1 and fake.pending_faults() == 0
    sleep = [r["status"] for r in fake.requests if "dailySleepData" in r["path"]]
    assert sleep == [401, 401], "refreshed once, asked once more, then stopped"
    assert "rejected the credentials (HTTP 401)" in result.stderr and "token_file" in result.stderr
    assert "the run stops here" in result.stderr


def test_the_profile_request_is_retried_like_a_paginated_one(fake, tmp_path):
    """``request_json`` (the one-off profile call) retries a 503 and a 200 that is not JSON."""
    fake.fail_next(503, path_contains="socialProfile")
    fake.inject("html200", path_contains="socialProfile")
    result, messages = run_tap(fake, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert fake.pending_faults() == 0
    assert len([r for r in fake.requests if "socialProfile" in r["path"]]) == 3
    assert any(r["path"].endswith("/" + fake.display_name) for r in fake.requests)  # the profile's name used


def test_a_refresh_answered_without_a_token_fails_clearly(fake, tmp_path):
    """A token service answering an HTML page with 200: a clear error, the token file untouched."""
    token_file = tmp_path / "tokens.json"
    saved = {"access_token": fake.access_token, "refresh_token": fake.refresh_token, "expires_at": 1}
    token_file.write_text(json.dumps(saved))
    fake.inject("html200", times=20, path_contains="/oauth/token")
    result, _ = run_tap(fake, tmp_path, access_token=None, refresh_token=None, token_file=str(token_file))
    assert result.returncode != 0
    assert "answered the refresh (HTTP 200) without an access token" in result.stderr
    assert "JSONDecodeError" not in result.stderr and "Traceback" not in result.stderr
    assert json.loads(token_file.read_text()) == saved


def expired_token_file(fake, tmp_path):
    """A token file whose access token has expired: the tap refreshes before its first request."""
    token_file = tmp_path / "tokens.json"
    token_file.write_text(
        json.dumps({"access_token": fake.access_token, "refresh_token": fake.refresh_token, "expires_at": 1})
    )
    return {"access_token": None, "refresh_token": None, "token_file": str(token_file)}


@pytest.mark.parametrize("held", ["settings", "expired token_file"])
def test_a_refused_refresh_stops_the_run_once_naming_the_setting(fake, tmp_path, held):
    """The refresh token was revoked: Garmin answers invalid_grant, quoting it. Like any rejected
    credential the run stops there: the refresh token is sent once, not once per stream (each
    stream used to try it again), the message names the settings and shows no token, nothing
    is read and the state stays as the last good run left it."""
    first, messages = run_tap(fake, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    state = messages[-1]["value"]
    fake.revoke()
    fake.reset_log()
    overrides = expired_token_file(fake, tmp_path) if held == "expired token_file" else {}
    result, messages = run_tap(fake, tmp_path, state=state, **overrides)
    assert result.returncode != 0
    assert [r["path"] for r in fake.requests].count(TOKEN_PATH) == 1 and fake.requests[-1]["path"] == TOKEN_PATH
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "tap-garmin: garmin: the token service refused the refresh token (HTTP 400: Invalid refresh token: ***). "
            "Log in again and re-create `token_file` (or the `refresh_token` setting)."
        )
    )
    assert "the run stops here" in result.stderr and "everything else landed" not in result.stderr
    assert not [m for m in messages if m["type"] == "RECORD"]
    assert [m["value"] for m in messages if m["type"] == "STATE"][-1] == state
    assert "fake-access" not in result.stderr + result.stdout and "fake-refresh" not in result.stderr + result.stdout


def test_a_token_service_outage_is_retried_then_stops_the_run_without_blaming_the_tokens(fake, tmp_path):
    """A 503 or a 429 from the token service is retried like any request. A 503 that lasts
    says nothing about the tokens: "run again later", not "log in again" (a needless login
    costs hours of 429s); the run stops after the retries of one refresh, the token file
    untouched."""
    html = "<html><title>503 Service Unavailable</title></html>"
    fake.fail_next(503, path_contains=TOKEN_PATH, body=html)
    fake.fail_next(429, path_contains=TOKEN_PATH, headers={"Retry-After": "0"})
    result, _ = run_tap(fake, tmp_path, **expired_token_file(fake, tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert [r["status"] for r in fake.requests if r["path"] == TOKEN_PATH] == [503, 429, 200]  # max_retries is 2

    overrides = expired_token_file(fake, tmp_path)
    saved = json.loads((tmp_path / "tokens.json").read_text())
    fake.reset_log()
    fake.fail_next(503, times=3, path_contains=TOKEN_PATH, body=html)  # max_retries is 2
    result, _ = run_tap(fake, tmp_path, **overrides)
    assert result.returncode != 0
    assert "the token service could not refresh the access token (HTTP 503)" in result.stderr
    assert "Run again later" in result.stderr and "Log in again" not in result.stderr
    assert [r["path"] for r in fake.requests] == [TOKEN_PATH] * 3
    assert json.loads((tmp_path / "tokens.json").read_text()) == saved
