"""tap-toggl as a standalone process against the fake Toggl API, plus SDK standard tests."""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_toggl.tap import TapToggl
from tests import tap_runner
from tests.fakes.toggl_api import FakeToggl

_FAKE = FakeToggl(days=20).start()
atexit.register(_FAKE.stop)
TestTapToggl = get_tap_test_class(
    tap_class=TapToggl,
    config={
        "api_token": _FAKE.api_token,
        "api_url": _FAKE.url + "/api/v9",
        "max_requests_per_run": 1000,
        "start_date": "2000-01-01",
    },
)
TestTapToggl = pytest.mark.slow(TestTapToggl)  # syncs 26 years in 30-day windows, twice: ~30 s


@pytest.fixture
def fake():
    with FakeToggl(days=60) as server:
        yield server


def run_tap(fake, tmp_path, state=None, **overrides):
    config = tap_runner.toggl_config(fake, **{"backoff_base_ms": 10, "max_retries": 1, **overrides})
    return tap_runner.run_tap("tap-toggl", config, tmp_path, state)


def records(messages, stream):
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == f"toggl__{stream}"]


def test_backfill_then_since(fake, tmp_path):
    result, messages, state = run_tap(fake, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    entries = records(messages, "time_entries")
    assert {int(r["raw_id"]) for r in entries} == {e["id"] for e in fake.visible_entries()}
    running = [r for r in entries if r["raw_data"]["duration"] < 0]
    assert len(running) == 1 and running[0]["raw_data"]["stop"] is None  # landed as it is
    assert all(r["validation_status"] == "valid" for r in entries)
    assert {len(records(messages, k)) for k in ("projects", "clients", "tags")} == {4, 2, 3}
    windows = [r["query"] for r in fake.requests if r["path"].endswith("/me/time_entries")]
    assert all("start_date" in q for q in windows) and len(windows) == 4  # 90 days in 30-day windows
    assert "cursor" in state["bookmarks"]["toggl__time_entries"]

    fake.reset_log()
    edited = fake.edit_entry(0, description="rewritten")
    removed = fake.edit_entry(5, server_deleted_at="2099-01-01T00:00:00+00:00")  # deleted after the first run
    result, messages, _ = run_tap(fake, tmp_path, state=state)
    asked = [r["query"] for r in fake.requests if r["path"].endswith("/me/time_entries")]
    assert len(asked) == 1 and set(asked[0]) == {"since"}
    changed = records(messages, "time_entries")
    ids = {int(r["raw_id"]) for r in changed}
    assert edited["id"] in ids
    deleted = [int(r["raw_id"]) for r in changed if r["raw_data"]["server_deleted_at"]]
    assert deleted == [removed["id"]]  # deletions come back through `since` and land as new versions


def test_budget_stops_cleanly_and_resumes(fake, tmp_path):
    result, messages, state = run_tap(fake, tmp_path, max_requests_per_run=2)
    assert result.returncode == 0
    assert "request budget (2" in result.stderr and "skipped, the run stopped early" in result.stderr
    assert len(fake.requests) == 2
    assert state["bookmarks"]["toggl__time_entries"]["backfill_through"]
    assert "cursor" not in state["bookmarks"]["toggl__time_entries"]

    fake.reset_log()
    result, messages, state = run_tap(fake, tmp_path, state=state)
    windows = [r["query"]["start_date"] for r in fake.requests if r["path"].endswith("/me/time_entries")]
    assert len(windows) == 2, windows  # only the windows not read before
    assert "cursor" in state["bookmarks"]["toggl__time_entries"]


def test_quota_402_saves_state_and_says_when_to_retry(fake, tmp_path):
    _, _, state = run_tap(fake, tmp_path)
    fake.quota_exceeded(times=1, resets_in=1200)
    fake.reset_log()
    result, messages, new_state = run_tap(fake, tmp_path, state=state)
    assert result.returncode != 0
    assert "HTTP 402" in result.stderr and "retry after" in result.stderr and "(in 21 min)" in result.stderr
    assert len(fake.requests) == 1, "a 402 must not be retried"
    assert (
        new_state is not None
        and new_state["bookmarks"]["toggl__time_entries"]["cursor"]
        == state["bookmarks"]["toggl__time_entries"]["cursor"]
    )


def test_wrong_token_names_the_setting_and_stays_secret(fake, tmp_path):
    result, _, _ = run_tap(fake, tmp_path, api_token="wrong-token-5678")
    assert result.returncode != 0
    assert "api_token" in result.stderr and "HTTP 403" in result.stderr
    assert "wrong-token-5678" not in result.stderr + result.stdout
