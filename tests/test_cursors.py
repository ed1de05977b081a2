"""``bronze_core.cursors``: when a stream's cursor is saved, and that it never moves back."""

from __future__ import annotations

import pytest

from tap_garmin.tap import TapGarmin
from tap_hidrate.tap import TapHidrate

GARMIN = {"access_token": "a", "refresh_token": "r", "start_date": "2024-05-01"}
HIDRATE = {"username": "u@example.com", "password": "p", "app_id": "app", "client_key": "key"}


def garmin_records(*times):
    return [{"raw_data": {}, "source_timestamp": moment} for moment in times]


def sips(*updated):
    return [{"raw_data": {"objectId": str(n), "updatedAt": moment}, "source_timestamp": None}
            for n, moment in enumerate(updated)]


class Broken(Exception):
    pass


def failing_after(records):
    yield from records
    raise Broken("the connection dropped")


def test_a_sorted_read_saves_its_event_time_cursor_as_it_goes():
    """Garmin's days are read oldest first: a read that fails keeps the days it finished."""
    stream = TapGarmin(config=GARMIN, validate_config=False).streams["garmin__sleep"]
    walk = stream.read_with_cursor(None, failing_after(garmin_records(
        "2024-05-01T22:00:00+00:00", "2024-05-02T21:30:00+00:00")))
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
