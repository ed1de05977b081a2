"""tap-hidrate against the fake HidrateSpark Parse server."""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_hidrate.tap import TapHidrate
from tests import tap_runner
from tests.fakes.hidrate_api import APP_ID, CLIENT_KEY, FakeHidrate

_FAKE = FakeHidrate(days=3).start()
atexit.register(_FAKE.stop)
TestTapHidrate = get_tap_test_class(
    tap_class=TapHidrate,
    config={
        "username": _FAKE.username,
        "password": _FAKE.password,
        "app_id": APP_ID,
        "client_key": CLIENT_KEY,
        "api_url": _FAKE.url + "/parse",
    },
)


@pytest.fixture
def fake():
    with FakeHidrate(days=30) as server:
        yield server


def run_tap(fake, tmp_path, state=None, **overrides):
    config = {
        "username": fake.username,
        "password": fake.password,
        "app_id": APP_ID,
        "client_key": CLIENT_KEY,
        "api_url": fake.url + "/parse",
        "page_size": 100,
        "backoff_base_ms": 10,
        "max_retries": 2,
        **overrides,
    }
    return tap_runner.run_tap("tap-hidrate", config, tmp_path, state)


def test_classes_land_paged_then_only_updates(fake, tmp_path):
    result, messages, state = run_tap(fake, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    for stream, parse_class in (("sips", "Sip"), ("days", "Day"), ("bottles", "Bottle")):
        rows = tap_runner.records(messages, f"hidrate__{stream}")
        assert {r["raw_id"] for r in rows} == {o["objectId"] for o in fake.classes[parse_class]}
        assert all(r["validation_status"] == "valid" for r in rows)
    sip_pages = [r["query"]["skip"] for r in fake.requests if r["path"].endswith("/Sip")]
    assert len(sip_pages) >= 3 and sip_pages[0] == "0"
    assert fake.logins == 1
    assert fake.password not in result.stderr + result.stdout

    fake.reset_log()
    new = fake.log_sip(250)
    result, messages, _ = run_tap(fake, tmp_path, state=state)
    sips = {r["raw_id"] for r in tap_runner.records(messages, "hidrate__sips")}
    assert new["objectId"] in sips and len(sips) <= 3
    assert all("where" in r["query"] for r in fake.requests if "/classes/" in r["path"])


def test_expired_session_logs_in_once_more(fake, tmp_path):
    _, _, state = run_tap(fake, tmp_path)
    fake.expire_sessions()
    fake.reset_log()
    result, messages, _ = run_tap(fake, tmp_path, state=state)
    assert result.returncode == 0
    assert fake.logins == 2  # a new run logs in; nothing else forced another login

    # Expire mid-run: the tap logs in once more and carries on.
    fake.fail_next(400, path_contains="/classes/Day", body='{"code": 209, "error": "invalid session token"}')
    result, _, _ = run_tap(fake, tmp_path, state=state)
    assert result.returncode == 0, result.stderr[-2000:]
    assert fake.logins == 4


def test_wrong_password_fails_clearly_and_stays_secret(fake, tmp_path):
    result, _, _ = run_tap(fake, tmp_path, password="not-the-password-99")
    assert result.returncode != 0
    assert "login refused" in result.stderr and "`password`" in result.stderr
    assert "not-the-password-99" not in result.stderr


def test_a_refused_login_says_what_parse_said(fake, tmp_path):
    """The error-body helper: Parse's own words (``{"code": 101, "error": ...}``) reach the message."""
    result, _, _ = run_tap(fake, tmp_path, password="not-the-password-98")
    assert result.returncode != 0
    assert "login refused (HTTP 404: Invalid username/password.)" in result.stderr
    assert "not-the-password-98" not in result.stderr


def test_a_login_answered_with_an_html_page_fails_clearly(fake, tmp_path):
    """A login answered 200 with an error page (a proxy): a clear message, not a JSON decoding error."""
    fake.inject("html200", times=10, path_contains="/login")
    result, _, _ = run_tap(fake, tmp_path)
    assert result.returncode != 0
    assert "login refused (HTTP 200)" in result.stderr and "`password`" in result.stderr
    assert "JSONDecodeError" not in result.stderr and fake.logins == 0


def test_a_refused_login_is_sent_once_then_the_run_stops(fake, tmp_path):
    """A wrong or changed password (Parse: 404, code 101) is sent once per run, not once per
    stream (Parse servers can lock an account after failed logins); the run stops there like
    any rejected credential, reading nothing."""
    result, messages, _ = run_tap(fake, tmp_path, password="not-the-password-97")
    assert result.returncode != 0
    assert [r["path"] for r in fake.requests] == ["/parse/login"]
    assert "the run stops here" in result.stderr and "everything else landed" not in result.stderr
    assert not [m for m in messages if m["type"] == "RECORD"]
    assert "not-the-password-97" not in result.stderr + result.stdout


def test_a_login_outage_is_retried_then_stops_the_run_without_blaming_the_password(fake, tmp_path):
    """A 503 from the login endpoint is retried like any request; one that lasts says nothing
    about the password: "run again later", after the retries of one login."""
    html = "<html><title>503 Service Unavailable</title></html>"
    fake.fail_next(503, path_contains="/parse/login", body=html)
    result, _, _ = run_tap(fake, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [r["status"] for r in fake.requests if r["path"] == "/parse/login"] == [503, 200]

    fake.reset_log()
    fake.fail_next(503, times=3, path_contains="/parse/login", body=html)  # max_retries is 2
    result, _, _ = run_tap(fake, tmp_path)
    assert result.returncode != 0
    assert "hidrate: login failed (HTTP 503)" in result.stderr and "Run again later" in result.stderr
    assert "`password`" not in result.stderr
    assert [r["path"] for r in fake.requests] == ["/parse/login"] * 3
