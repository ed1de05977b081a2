"""State written by the previous version still resumes exactly (no gap, no extra re-read).

Before ``bronze_core.cursors`` there were three ways of keeping state:
singer-sdk's bookmark (``replication_key_value``, tap-garmin), Toggl's unix
``since`` (and ``backfill_started``) and Open-Meteo's ``through``. A user's
Meltano state still holds those shapes on the first run of this version. Each
test runs the real tap process with such a state, as the previous version
wrote it, and checks it asks for exactly what the same state in the current
shape asks for, lands what is new, and leaves the state in the current shape.
"""

from __future__ import annotations

import datetime as dt

from tests import tap_runner
from tests.fakes.garmin_api import FakeGarmin
from tests.fakes.openmeteo_api import FakeOpenMeteo
from tests.fakes.toggl_api import FakeToggl

UTC = dt.UTC
TODAY = dt.datetime.now(UTC).date()
GARMIN_STREAMS = (
    "garmin__sleep",
    "garmin__daily_summary",
    "garmin__heart_rate",
    "garmin__hrv",
    "garmin__stress",
    "garmin__body_battery",
    "garmin__activities",
)


def asked(fake) -> list[tuple[str, tuple]]:
    return sorted((r["path"], tuple(sorted(r["query"].items()))) for r in fake.requests)


def rows(messages) -> set[tuple]:
    return {
        (m["stream"], m["record"]["raw_id"], m["record"]["raw_hash"], m["record"]["source_timestamp"])
        for m in messages
        if m["type"] == "RECORD"
    }


def test_garmin_resumes_from_the_sdk_bookmark_the_previous_version_kept(tmp_path):
    with FakeGarmin(days=10) as fake:
        config = tap_runner.garmin_config(fake, lookback_days=2)
        first, _, state = tap_runner.run_tap("tap-garmin", config, tmp_path)
        assert first.returncode == 0, first.stderr[-2000:]
        current = state["bookmarks"]
        # What the previous version wrote: singer-sdk's bookmark on `source_timestamp`.
        previous = {
            "bookmarks": {
                name: {"replication_key": "source_timestamp", "replication_key_value": current[name]["cursor"]}
                for name in GARMIN_STREAMS
            }
        }

        fake.reset_log()
        result, from_current, after_current = tap_runner.run_tap("tap-garmin", config, tmp_path, state)
        assert result.returncode == 0, result.stderr[-2000:]
        asked_current = asked(fake)
        fake.reset_log()
        result, from_previous, after_previous = tap_runner.run_tap("tap-garmin", config, tmp_path, previous)
        assert result.returncode == 0, result.stderr[-2000:]

        assert asked(fake) == asked_current
        assert rows(from_previous) == rows(from_current)
        assert after_previous == after_current
        sleep_days = sorted(dict(q)["date"] for p, q in asked_current if "dailySleepData" in p)
        # The bookmark minus two days through the last day: every day after the bookmark is read.
        assert sleep_days[-1] == fake.days_list[-1].isoformat() and len(sleep_days) < len(fake.days_list)
        for name in GARMIN_STREAMS:
            assert set(after_previous["bookmarks"][name]) == {"cursor"}, after_previous["bookmarks"][name]


def toggl_config(fake, **overrides):
    return tap_runner.toggl_config(fake, **{"backoff_base_ms": 10, "max_retries": 1, **overrides})


def entry_ids(messages) -> set[int]:
    return {int(r["raw_id"]) for r in tap_runner.records(messages, "toggl__time_entries")}


def test_toggl_asks_since_the_unix_time_the_previous_version_kept(tmp_path):
    with FakeToggl(days=20) as fake:
        since = int(dt.datetime.now(UTC).timestamp()) - 5 * 86400
        previous = {"bookmarks": {"toggl__time_entries": {"since": since}}}
        result, _, state = tap_runner.run_tap("tap-toggl", toggl_config(fake), tmp_path, previous)
        assert result.returncode == 0, result.stderr[-2000:]
        [query] = [r["query"] for r in fake.requests if r["path"].endswith("/me/time_entries")]
        assert query == {"since": str(since - 60)}  # the old `since`, less the minute of slack
        entries = state["bookmarks"]["toggl__time_entries"]
        assert set(entries) == {"cursor"} and dt.datetime.fromisoformat(entries["cursor"]).timestamp() > since


def test_toggl_finishes_a_backfill_the_previous_version_began(tmp_path):
    """A backfill stopped by the request budget under the previous version (``backfill_started``
    in unix seconds) goes on after its last window, and its start becomes the cursor."""
    with FakeToggl(days=60) as fake:
        result, first, state = tap_runner.run_tap("tap-toggl", toggl_config(fake, max_requests_per_run=2), tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        progress = state["bookmarks"]["toggl__time_entries"]
        through = progress["backfill_through"]
        started = int(dt.datetime.fromisoformat(progress["backfill_started"]).timestamp())
        previous = {"bookmarks": {"toggl__time_entries": {"backfill_through": through, "backfill_started": started}}}

        fake.reset_log()
        result, second, state = tap_runner.run_tap("tap-toggl", toggl_config(fake), tmp_path, previous)
        assert result.returncode == 0, result.stderr[-2000:]
        windows = [r["query"] for r in fake.requests if r["path"].endswith("/me/time_entries")]
        following = (dt.date.fromisoformat(through) + dt.timedelta(days=1)).isoformat()
        assert windows[0]["start_date"] == following  # no gap, no window read twice
        assert windows[-1]["end_date"] == (TODAY + dt.timedelta(days=1)).isoformat()
        assert entry_ids(first) | entry_ids(second) == {e["id"] for e in fake.visible_entries()}
        assert not entry_ids(first) & entry_ids(second)
        assert state["bookmarks"]["toggl__time_entries"] == {
            "cursor": dt.datetime.fromtimestamp(started, UTC).isoformat()
        }


def test_openmeteo_resumes_each_location_from_the_through_day_the_previous_version_kept(tmp_path):
    with FakeOpenMeteo() as fake:
        home = {"name": "home", "latitude": 52.52, "longitude": 13.41}
        cabin = {"name": "cabin", "latitude": 61.2, "longitude": 7.1}
        config = {
            "api_url": fake.url + "/v1",
            "locations": [home, cabin],
            "requests_per_second": 100,
            "start_date": (TODAY - dt.timedelta(days=60)).isoformat(),
            "trailing_days": 3,
        }
        previous = {
            "bookmarks": {
                "openmeteo__weather": {
                    "through": {
                        "home": (TODAY - dt.timedelta(days=10)).isoformat(),
                        "cabin": (TODAY - dt.timedelta(days=20)).isoformat(),
                    }
                }
            }
        }
        result, messages, state = tap_runner.run_tap("tap-openmeteo", config, tmp_path, previous)
        assert result.returncode == 0, result.stderr[-2000:]
        days = {}
        for record in tap_runner.records(messages, "openmeteo__weather"):
            location, day = record["raw_id"].split(":")
            days.setdefault(location, []).append(dt.date.fromisoformat(day))
        for location, back in (("home", 13), ("cabin", 23)):  # through minus trailing_days, to today
            expected = [TODAY - dt.timedelta(days=n) for n in range(back, -1, -1)]
            assert sorted(days[location]) == expected, location
        assert state["bookmarks"]["openmeteo__weather"] == {
            "cursors": {"home": TODAY.isoformat(), "cabin": TODAY.isoformat()}
        }
