"""Paginators for APIs that are walked by date rather than by page token.

Many personal-data APIs (Garmin's daily endpoints, Open-Meteo) have no
modified-since filter: a run asks for each day, or each window of days, from
the bookmark minus a lookback up to today. Treating the date window as the
"page token" lets singer-sdk's request loop, retries and metrics do the rest.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from singer_sdk.pagination import BaseAPIPaginator


class DateWindow(NamedTuple):
    """An inclusive range of calendar dates; ``first == last`` for one day."""

    first: dt.date
    last: dt.date


class DateWindowPaginator(BaseAPIPaginator[DateWindow]):
    """Walks ``[first, last]`` in windows of ``step_days`` days, oldest first."""

    def __init__(self, first: dt.date, last: dt.date, step_days: int = 1):
        if step_days < 1:
            raise ValueError("step_days must be at least 1")
        self._last = last
        self._step = dt.timedelta(days=step_days)
        super().__init__(self._window(first))
        if first > last:
            self._finished = True

    def _window(self, first: dt.date) -> DateWindow:
        return DateWindow(first, min(first + self._step - dt.timedelta(days=1), self._last))

    def get_next(self, response) -> DateWindow | None:
        following = self.current_value.last + dt.timedelta(days=1)
        return self._window(following) if following <= self._last else None

    def continue_if_empty(self, response) -> bool:
        # A day without data (watch not worn) says nothing about the next day.
        return True
