"""``bronze_core.cursors``: when a stream's cursor is saved, and that it never moves back."""

from __future__ import annotations

import pytest

from tap_garmin.tap import TapGarmin
from tap_hidrate.tap import TapHidrate
from tests import tap_runner
from tests.fakes.garmin_api import FakeGarmin

GARMIN = {"access_token": "a", "refresh_token": "r", "start_date": "2024-05-01"}
HIDRATE = {"username": "u@example.com", "password": "p", "app_id": "app", "client_key": "key"}


def garmin_records(*times):
    return [{"raw_data": {}, "source_timestamp": moment} for moment in times]


def sips(*updated):
    return [
        {"raw_data": {"objectId": str(n), "updatedAt": moment}, "source_timestamp": None}
        for n, moment in enumerate(updated)
    ]


class Broken(Exception):
    pass


def failing_after(records):
    yield from records
    raise Broken("the connection dropped")


def test_a_sorted_read_saves_its_event_time_cursor_as_it_goes():
    """Garmin's days are read oldest first: a read that fails keeps the days it finished."""
    stream = TapGarmin(config=GARMIN, validate_config=False).streams["garmin__sleep"]
    walk = stream.read_with_cursor(
        None, failing_after(garmin_records("2024-05-01T22:00:00+00:00", "2024-05-02T21:30:00+00:00"))
    )
    next(walk)
    next(walk)
    with pytest.raises(Broken):
        next(walk)
    assert stream.cursor(None) == "2024-05-02T21:30:00+00:00"


def test_an_unsorted_read_saves_the_newest_value_only_once_it_was_read_to_the_end():
    stream = TapHidrate(config=HIDRATE, validate_config=False).streams["hidrate__sips"]
    with pytest.raises(Broken):
        list(stream.read_with_cursor(None, failing_after(sips("2024-05-03T10:00:00.000Z"))))
    assert stream.cursor(None) is None
    list(stream.read_with_cursor(None, sips("2024-05-03T10:00:00.000Z", "2024-05-01T08:00:00.000Z")))
    assert stream.cursor(None) == "2024-05-03T10:00:00+00:00"


def test_a_cursor_never_moves_back():
    stream = TapHidrate(config=HIDRATE, validate_config=False).streams["hidrate__days"]
    stream.save_cursor(None, "2024-05-03T10:00:00+00:00")
    list(stream.read_with_cursor(None, sips("2024-05-02T00:00:00.000Z")))
    stream.save_cursor(None, "2024-05-01")
    assert stream.cursor(None) == "2024-05-03T10:00:00+00:00"


def test_a_stop_part_way_through_the_newest_first_activity_list_keeps_the_old_cursor(tmp_path):
    """Garmin lists activities newest first: a run stopped (request budget) after the first
    page must not save that page's newest time, or the older pages would never be read."""
    with FakeGarmin(days=10, activities_per_day=1.0) as fake:
        config = tap_runner.garmin_config(fake, lookback_days=1, activities_page_size=2)
        result, _, _ = tap_runner.run_tap("tap-garmin", config, tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        paths = [r["path"] for r in fake.requests]
        before = next(n for n, path in enumerate(paths) if "/activitylist-service/" in path)

        fake.reset_log()
        result, first, state = tap_runner.run_tap(
            "tap-garmin", {**config, "max_requests_per_run": before + 1}, tmp_path
        )
        assert result.returncode == 0 and "request budget" in result.stderr, result.stderr[-2000:]
        assert len(tap_runner.records(first, "garmin__activities")) == 2  # one page of two
        assert "cursor" not in state["bookmarks"].get("garmin__activities", {})

        result, second, _ = tap_runner.run_tap("tap-garmin", config, tmp_path, state)
        assert result.returncode == 0, result.stderr[-2000:]
        landed = {r["raw_id"] for r in tap_runner.records(first + second, "garmin__activities")}
        assert landed == {str(a["activityId"]) for a in fake.activities()}
