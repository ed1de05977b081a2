"""What every Garmin Connect API stream shares: base URL, tokens, the day walk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from singer_sdk.streams.rest import HTTPRequest

from bronze_core.http import JSON_OBJECT, BronzeRESTStream
from bronze_core.http import DateWindowPaginator
from bronze_core.timestamps import UTC, parse_timestamp

SCHEMAS_DIR = Path(__file__).parent / "schemas"
DEFAULT_HISTORY_DAYS = 30


class GarminStream(BronzeRESTStream):
    """A Garmin Connect web API stream (``connectapi.garmin.com``)."""

    source = "garmin"
    schemas_dir = SCHEMAS_DIR
    auth_setting = "token_file"
    #: The daily wellness endpoints answer one object per day, also for a day without data
    #: (its fields null); streams that answer otherwise say so.
    response_shape = JSON_OBJECT

    @property
    def authenticator(self):
        return self._tap.garmin_auth

    @property
    def display_name(self) -> str:
        return self._tap.display_name

    def refresh_credentials(self) -> bool:
        """A 401: trade the refresh token for a new pair (shared by all streams)."""
        self.authenticator.refresh()
        return True

    def start_day(self) -> dt.date:
        """``start_date``, or 30 days ago for a first run without one."""
        if self.config.get("start_date"):
            return parse_timestamp(self.config["start_date"]).date()
        return dt.datetime.now(UTC).date() - dt.timedelta(days=DEFAULT_HISTORY_DAYS)

    def get_url(self, context) -> str:
        return self.url_base + self.path.format(display_name=self.display_name)


class GarminDailyStream(GarminStream):
    """One request per calendar date (or per window of dates), oldest first.

    Garmin has no modified-since filter and rescored recent days (sleep scores,
    HRV status) change, so every run re-reads from the bookmark minus
    ``lookback_days`` up to today. Unchanged days land as no-ops.
    """

    #: Query parameter carrying the date, if the date is not in the path.
    date_param: str | None = "date"
    #: Extra constant query parameters.
    extra_params: dict[str, Any] = {}
    #: Days per request (1 for per-day endpoints, more for range endpoints).
    window_days = 1
    is_sorted = True
    check_sorted = False  # the lookback re-reads days older than the bookmark

    def first_day(self, context) -> dt.date:
        start = self.start_day()
        bookmark = self.get_context_state(context).get("replication_key_value")
        if bookmark:
            resume = parse_timestamp(bookmark).date() - dt.timedelta(days=int(self.config["lookback_days"]))
            return max(start, resume)
        return start

    def last_day(self) -> dt.date:
        if self.config.get("end_date"):
            return parse_timestamp(self.config["end_date"]).date()
        return dt.datetime.now(UTC).date()

    def get_new_paginator(self):
        return DateWindowPaginator(self.first_day(None), self.last_day(), self.window_days)

    def get_http_request(self, *, page) -> HTTPRequest:
        window = page.next_page_token
        url = self.url_base + self.path.format(
            display_name=self.display_name if "{display_name}" in self.path else "",
            date=window.first.isoformat(),
        )
        params = dict(self.extra_params)
        if self.date_param:
            params[self.date_param] = window.first.isoformat()
        return HTTPRequest(url=url, method="GET", headers=self.http_headers, params=params)

    def request_lineage(self, response, context) -> dict[str, Any]:
        """Adds the date asked for (from the query, or the path's last segment)."""
        lineage = super().request_lineage(response, context)
        if self.date_param:
            lineage["requested_date"] = lineage["params"].get(self.date_param)
        elif self.path.endswith("{date}"):
            lineage["requested_date"] = lineage["endpoint"].rsplit("/", 1)[-1]
        return lineage

    def payload_id(self, payload, lineage) -> str:
        return lineage["requested_date"]


def gmt(value) -> dt.datetime | None:
    """A Garmin "...GMT" field: epoch ms (API) or zone-less ISO text (export)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value / 1000.0, tz=UTC)
    return parse_timestamp(value)


def calendar_day(value) -> dt.datetime | None:
    """A calendar date as midnight UTC: the best "when" a day-level record has."""
    return parse_timestamp(value) if value else None
