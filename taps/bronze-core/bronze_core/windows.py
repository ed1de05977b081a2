"""Which calendar days a run asks for: the first day, the lookback, the windows.

APIs without a modified-since filter (Garmin's daily endpoints, Open-Meteo,
Toggl's date-range query) are read by date. A first run starts at the
``start_date`` setting, or a tap's default number of days ago; a later run
starts at its bookmark minus a lookback (recent days change at the source:
sleep is rescored, weather revised), never before ``start_date``. The range
is asked for in windows of a few days, oldest first, so a run stopped part
way keeps the windows it finished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from bronze_core.timestamps import UTC, parse_timestamp


class DateWindow(NamedTuple):
    """An inclusive range of calendar dates; ``first == last`` for one day."""

    first: dt.date
    last: dt.date


def today() -> dt.date:
    """Today's date in UTC."""
    return dt.datetime.now(UTC).date()


def setting_day(config: Mapping[str, Any], setting: str) -> dt.date | None:
    """A date setting (``start_date``, ``end_date``) as a date, if set."""
    moment = parse_timestamp(config.get(setting)) if config.get(setting) else None
    return moment.date() if moment else None


def start_day(config: Mapping[str, Any], default_days: int) -> dt.date:
    """``start_date``, or ``default_days`` before today when it is not set."""
    return setting_day(config, "start_date") or today() - dt.timedelta(days=default_days)


def resume_day(start: dt.date, bookmark: str | dt.date | None, lookback_days: int) -> dt.date:
    """Where a run begins: the bookmark's day (ISO date or time, read in UTC) minus
    ``lookback_days``, never before ``start``; ``start`` when there is no bookmark yet."""
    moment = parse_timestamp(bookmark) if bookmark else None
    if moment is None:
        return start
    return max(start, moment.date() - dt.timedelta(days=lookback_days))


def date_windows(first: dt.date, last: dt.date, days: int = 1) -> Iterator[DateWindow]:
    """``[first, last]`` in windows of ``days`` days, oldest first (none when first > last)."""
    if days < 1:
        raise ValueError("a window is at least one day")
    step = dt.timedelta(days=days)
    while first <= last:
        window = DateWindow(first, min(first + step - dt.timedelta(days=1), last))
        yield window
        first = window.last + dt.timedelta(days=1)
