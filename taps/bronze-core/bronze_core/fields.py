"""Where a payload says what it is and when it happened, declared instead of coded.

A stream names the payload fields that make its ``raw_id`` (``key_fields``)
and the field that says when the thing happened (``time_field``), with how
that field is written; ``BronzeStream`` reads them. A field is a key
(``"calendarDate"``) or a path of keys into nested objects
(``("dailySleepDTO", "calendarDate")``).

A time field is ``When(path, parse)``; a stream whose payloads carry the time
in one of several places (Garmin's sleep start, or the calendar date on a
night without sleep) declares a tuple of them, tried in order: the first that
holds a value wins. A plain path means ``When(path, ISO)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bronze_core.timestamps import UTC, parse_timestamp

#: A key, or keys into nested objects.
FieldPath = str | tuple[str, ...]


def ISO(value: Any) -> dt.datetime | None:
    """ISO 8601 date or datetime text; a date is midnight UTC, a datetime without zone is UTC."""
    return parse_timestamp(value)


def EPOCH_MS(value: Any) -> dt.datetime | None:
    """Epoch milliseconds when a number, else ISO text read as UTC.

    Garmin writes its ``...GMT`` fields as epoch ms in the web API and as
    zone-less ISO text in the data export: one parser reads both.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000.0, tz=UTC)
    return parse_timestamp(value)


def iso_in(zone: dt.tzinfo) -> Callable[[Any], dt.datetime | None]:
    """ISO text whose zone-less values are local times of ``zone`` (a file in the user's zone)."""

    def parse(value: Any) -> dt.datetime | None:
        return parse_timestamp(value, naive_tz=zone)

    return parse


def _keys(path: FieldPath) -> tuple[str, ...]:
    return (path,) if isinstance(path, str) else tuple(path)


def dig(payload: Any, path: FieldPath) -> Any:
    """The value at ``path``, or ``None`` where the payload has no such field (or no object there)."""
    value = payload
    for key in _keys(path):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def require(payload: Any, path: FieldPath) -> Any:
    """The value at ``path``; ``KeyError`` (or ``TypeError`` where an object is due) when absent,
    which the envelope reports as "no natural id"."""
    value = payload
    for key in _keys(path):
        if not isinstance(value, dict):
            raise TypeError(f"{'.'.join(_keys(path))}: {type(value).__name__} where an object is due")
        value = value[key]
    return value


@dataclass(frozen=True)
class When:
    """One place a payload may say when it happened, and how that value is written."""

    path: FieldPath
    parse: Callable[[Any], dt.datetime | None] = ISO

    def read(self, payload: Any) -> dt.datetime | None:
        value = dig(payload, self.path)
        if value is None or value == "":
            return None
        return self.parse(value)


#: What a stream may declare as ``time_field``.
TimeField = FieldPath | When | tuple[When, ...] | None


def read_time(declared: TimeField, payload: Any) -> dt.datetime | None:
    """The payload's time by a ``time_field`` declaration: the first of its places that holds one."""
    if declared is None:
        return None
    if isinstance(declared, When):
        return declared.read(payload)
    if isinstance(declared, tuple) and declared and isinstance(declared[0], When):
        for place in declared:
            found = place.read(payload) if isinstance(place, When) else None
            if found is not None:
                return found
        return None
    return When(declared).read(payload)  # type: ignore[arg-type]  # a field path: str or tuple of str


def read_key(key_fields: tuple[FieldPath, ...], payload: Any) -> Any:
    """The natural id by a ``key_fields`` declaration.

    One field: its value as the source wrote it (the envelope makes it text).
    Several: their values joined with ``|`` in the declared order. A missing
    field raises, and the row lands ``invalid`` with the reason.
    """
    if len(key_fields) == 1:
        return require(payload, key_fields[0])
    return "|".join(str(require(payload, path)) for path in key_fields)
