"""Stream declarations (``key_fields``, ``time_field``) and the day windows of the core."""

import datetime as dt
from types import SimpleNamespace

import pytest

from bronze_core.fields import EPOCH_MS, ISO, When, iso_in, read_key, read_time
from bronze_core.streams import BronzeStream
from bronze_core.windows import DateWindow, date_windows, resume_day, start_day, today
from tap_toggl.tap import TapToggl

UTC = dt.UTC
# Garmin's sleep answer as its web API sends it: epoch ms, and a night without sleep.
NIGHT = {"dailySleepDTO": {"calendarDate": "2024-05-14", "sleepStartTimestampGMT": 1715724000000}}
NO_NIGHT = {"dailySleepDTO": {"calendarDate": "2024-05-15", "sleepStartTimestampGMT": None}}
SLEEP_TIME = (When(("dailySleepDTO", "sleepStartTimestampGMT"), EPOCH_MS), When(("dailySleepDTO", "calendarDate")))


def test_a_nested_time_field_in_epoch_ms_falls_back_to_the_calendar_date():
    assert read_time(SLEEP_TIME, NIGHT) == dt.datetime(2024, 5, 14, 22, 0, tzinfo=UTC)
    assert read_time(SLEEP_TIME, NO_NIGHT) == dt.datetime(2024, 5, 15, tzinfo=UTC)
    assert read_time(SLEEP_TIME, {"dailySleepDTO": None}) is None
    assert read_time(SLEEP_TIME, ["not", "an", "object"]) is None


def test_epoch_ms_reads_the_export_s_zone_less_text_as_utc_too():
    assert EPOCH_MS("2024-05-14T22:00:00.0") == EPOCH_MS(1715724000000)


def test_a_plain_path_is_iso_and_an_unreadable_time_raises_for_the_envelope_to_report():
    assert read_time("at", {"at": "2024-05-14T10:00:00+02:00"}) == dt.datetime(2024, 5, 14, 8, tzinfo=UTC)
    assert read_time("at", {"at": ""}) is None and read_time(None, {"at": "2024-05-14"}) is None
    with pytest.raises(ValueError):
        read_time("at", {"at": "yesterday"})


def test_iso_in_a_zone_reads_zone_less_text_there():
    berlin = When("when", iso_in(dt.timezone(dt.timedelta(hours=2))))
    assert berlin.read({"when": "2024-05-14 10:00"}) == dt.datetime(2024, 5, 14, 8, tzinfo=UTC)
    assert ISO("2024-05-14") == dt.datetime(2024, 5, 14, tzinfo=UTC)


def test_key_fields_one_value_as_written_several_joined_and_a_missing_one_raises():
    assert read_key(("id",), {"id": 4021}) == 4021
    assert read_key(("Id", ("log", "day")), {"Id": "7", "log": {"day": "2024-05-14"}}) == "7|2024-05-14"
    with pytest.raises(KeyError):
        read_key(("activityId",), {"activityName": "run"})
    with pytest.raises(TypeError):
        read_key((("summary", "id"),), {"summary": "none"})


def test_a_declared_stream_makes_its_rows_and_a_payload_without_its_key_is_invalid():
    """tap-toggl's time entries declare ``key_fields = ("id",)`` and ``time_field = "start"``."""
    stream = TapToggl(config={"api_token": "t"}, validate_config=False).streams["toggl__time_entries"]
    entry = {
        "id": 3461120987,
        "workspace_id": 77,
        "start": "2024-05-14T08:00:00+02:00",
        "stop": "2024-05-14T09:00:00+02:00",
        "duration": 3600,
        "at": "2024-05-14T09:00:05+00:00",
    }
    row = stream.to_bronze(entry, {})
    assert (row["raw_id"], row["source_timestamp"], row["validation_status"]) == (
        "3461120987",
        "2024-05-14T06:00:00+00:00",
        "valid",
    )
    bad = stream.to_bronze({k: v for k, v in entry.items() if k != "id"}, {})
    assert bad["validation_status"] == "invalid" and "no natural id" in bad["error_message"]


def test_a_stream_declaring_no_key_says_so():
    undeclared = SimpleNamespace(key_fields=())  # a stream class without key_fields and no override
    with pytest.raises(NotImplementedError, match="declares no `key_fields`"):
        BronzeStream.payload_id(undeclared, {"id": 1}, {})


def test_start_day_is_the_setting_or_n_days_ago():
    assert start_day({"start_date": "2024-05-01"}, 30) == dt.date(2024, 5, 1)
    assert start_day({}, 30) == today() - dt.timedelta(days=30)


def test_resume_day_is_the_bookmark_minus_the_lookback_never_before_the_start():
    start = dt.date(2024, 5, 1)
    assert resume_day(start, None, 3) == start
    assert resume_day(start, "2024-05-20T22:10:00+00:00", 3) == dt.date(2024, 5, 17)
    assert resume_day(start, "2024-05-02", 7) == start


def test_date_windows_cover_the_range_oldest_first_without_gaps():
    windows = list(date_windows(dt.date(2024, 1, 1), dt.date(2024, 3, 1), 28))
    assert windows == [
        DateWindow(dt.date(2024, 1, 1), dt.date(2024, 1, 28)),
        DateWindow(dt.date(2024, 1, 29), dt.date(2024, 2, 25)),
        DateWindow(dt.date(2024, 2, 26), dt.date(2024, 3, 1)),
    ]
    assert list(date_windows(dt.date(2024, 1, 2), dt.date(2024, 1, 1))) == []
    with pytest.raises(ValueError):
        list(date_windows(dt.date(2024, 1, 1), dt.date(2024, 1, 2), 0))
