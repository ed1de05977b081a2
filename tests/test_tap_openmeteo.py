"""tap-openmeteo against the fake Open-Meteo archive: standard tests, slicing, windows, errors."""

from __future__ import annotations

import atexit
import datetime as dt

import pytest
from singer_sdk.testing import get_tap_test_class

from bronze_core.hashing import payload_hash
from tap_openmeteo.tap import TapOpenMeteo
from tests import tap_runner
from tests.fakes.openmeteo_api import FakeOpenMeteo

HOME = {"name": "home", "latitude": 52.52, "longitude": 13.41}
TODAY = dt.datetime.now(dt.UTC).date()

_FAKE = FakeOpenMeteo().start()
atexit.register(_FAKE.stop)
TestTapOpenMeteo = get_tap_test_class(
    tap_class=TapOpenMeteo,
    config={
        "api_url": _FAKE.url + "/v1",
        "locations": [HOME],
        "requests_per_second": 100,
        "start_date": (TODAY - dt.timedelta(days=3)).isoformat(),
    },
)


@pytest.fixture
def fake():
    with FakeOpenMeteo() as server:
        yield server


def run_tap(fake, tmp_path, state=None, **overrides):
    config = {
        "api_url": fake.url + "/v1",
        "locations": [HOME, {"name": "cabin", "latitude": 61.2, "longitude": 7.1}],
        "start_date": (TODAY - dt.timedelta(days=99)).isoformat(),
        "requests_per_second": 100,
        "backoff_base_ms": 10,
        "max_retries": 2,
        **overrides,
    }
    result, messages, state = tap_runner.run_tap("tap-openmeteo", config, tmp_path, state)
    return result, tap_runner.records(messages, "openmeteo__weather"), state


def test_one_row_per_location_and_day_in_the_apis_shape(fake, tmp_path):
    result, rows, state = run_tap(fake, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(rows) == 2 * 100 and len({r["raw_id"] for r in rows}) == 200
    day = rows[0]["raw_data"]
    assert rows[0]["raw_id"] == f"home:{(TODAY - dt.timedelta(days=99)).isoformat()}"
    assert len(day["hourly"]["time"]) == 24 and len(day["daily"]["time"]) == 1
    assert set(day["hourly"]) == set(day["hourly_units"]) and day["utc_offset_seconds"] == 3600
    assert "generationtime_ms" not in day and rows[0]["metadata"]["generationtime_ms"] is not None
    assert rows[0]["source_timestamp"].endswith("T23:00:00+00:00")  # local midnight in UTC+1
    assert all(r["validation_status"] == "valid" for r in rows)
    assert len(fake.requests) == 4  # 100 days in 92-day chunks, per location
    assert state["bookmarks"]["openmeteo__weather"]["cursors"] == {
        "home": TODAY.isoformat(),
        "cabin": TODAY.isoformat(),
    }

    fake.reset_log()
    _, again, _ = run_tap(fake, tmp_path, state=state)
    assert len(again) == 2 * 8  # only the trailing window
    first = {r["raw_id"]: r["raw_hash"] for r in rows}
    assert all(first[r["raw_id"]] == r["raw_hash"] for r in again)  # unchanged days hash the same
    assert payload_hash(again[0]["raw_data"]) == again[0]["raw_hash"]


def test_rate_limit_without_retry_after_backs_off(fake, tmp_path):
    fake.fail_next(
        429, body='{"error": true, "reason": "Minutely API request limit exceeded. Please try again in one minute."}'
    )
    result, rows, _ = run_tap(fake, tmp_path)
    assert result.returncode == 0 and len(rows) == 200
    assert [r["status"] for r in fake.requests][:2] == [429, 200]


def test_bad_variable_is_a_clear_error(fake, tmp_path):
    result, _, _ = run_tap(fake, tmp_path, hourly=["temperature_3m"])
    assert result.returncode != 0
    assert "temperature_3m" in result.stderr and "400" in result.stderr
