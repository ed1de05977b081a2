"""Pagination: page-token walks guarded against loops, and walks by date window.

singer-sdk's paginators stop only when a token repeats the one just before it;
``guard_loops`` stops any token that comes back in one walk (``PaginationLoop``).

Many personal-data APIs (Garmin's daily endpoints, Open-Meteo) have no
modified-since filter: a run asks for each day, or each window of days, from
the bookmark minus a lookback up to today. Treating the date window as the
"page token" (``DateWindowPaginator``) lets singer-sdk's request loop, retries
and metrics do the rest.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from singer_sdk.pagination import BaseAPIPaginator, BaseHATEOASPaginator, JSONPathPaginator, SimpleHeaderPaginator

from bronze_core.windows import DateWindow, date_windows


class PaginationLoop(RuntimeError):
    """The API sent a page token it had already sent in this walk."""


def _token_key(token: Any) -> str:
    try:
        return json.dumps(token, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(token)


def guard_loops(paginator, stream_name: str):
    """Make ``paginator`` raise ``PaginationLoop`` when a page token comes back in one walk.

    singer-sdk only notices a token equal to the one just before it; a cycle
    (A, B, A, ...) would read forever. Idempotent, and a no-op for ``None``.
    """
    if paginator is None or getattr(paginator, "_bronze_seen", None) is not None:
        return paginator
    if isinstance(paginator, (JSONPathPaginator, BaseHATEOASPaginator, SimpleHeaderPaginator)):
        # An empty page that still names a next page is not the end (singer-sdk stops there,
        # silently dropping the rest). Offset/page-number paginators keep stopping at an
        # empty page: for them it is the only end marker.
        paginator.continue_if_empty = lambda response: True
    seen = {_token_key(paginator.current_value)}
    paginator._bronze_seen = seen
    advance = paginator.advance

    def guarded_advance(response):
        advance(response)
        if paginator.finished:
            return
        key = _token_key(paginator.current_value)
        if key in seen:
            raise PaginationLoop(
                f"{stream_name}: the API sent page token {key[:80]} a second time in one walk "
                f"(after {len(seen)} pages): a pagination loop. Stopping with an error instead of "
                "reading forever; the pages before it landed, state was not advanced past them"
            )
        seen.add(key)

    paginator.advance = guarded_advance
    return paginator


def _guarded(get_new_paginator):
    def wrapper(self, *args, **kwargs):
        return guard_loops(get_new_paginator(self, *args, **kwargs), self.name)

    wrapper.__doc__ = get_new_paginator.__doc__
    wrapper.__bronze_guarded__ = True
    return wrapper


class DateWindowPaginator(BaseAPIPaginator[DateWindow]):
    """The windows of ``bronze_core.windows.date_windows`` as page tokens, oldest first."""

    def __init__(self, first: dt.date, last: dt.date, step_days: int = 1):
        windows = list(date_windows(first, last, step_days))
        self._following = iter(windows[1:])
        super().__init__(windows[0] if windows else DateWindow(first, last))
        if not windows:
            self._finished = True

    def get_next(self, response) -> DateWindow | None:
        return next(self._following, None)

    def continue_if_empty(self, response) -> bool:
        # A day without data (watch not worn) says nothing about the next day.
        return True
