"""What every Garmin Connect API stream shares: base URL, tokens, the day walk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from singer_sdk.streams.rest import HTTPRequest

from bronze_core.cursors import EVENT_TIME
from bronze_core.fields import EPOCH_MS, When
from bronze_core.http import JSON_OBJECT, BronzeRESTStream, DateWindowPaginator
from bronze_core.windows import resume_day, setting_day, start_day, today

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
    #: No modified-since filter: the newest record's time, read again with ``lookback_days``.
    cursor_field = EVENT_TIME

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
        return start_day(self.config, DEFAULT_HISTORY_DAYS)

    def resume_day(self, context) -> dt.date:
        """The cursor minus ``lookback_days`` (Garmin rescores recent days), or the start day."""
        return resume_day(self.start_day(), self.cursor(context), int(self.config["lookback_days"]))

    def upgrade_state(self, state: dict) -> None:
        """The previous version kept singer-sdk's bookmark, ``replication_key_value`` (the newest
        ``source_timestamp``): that value is the cursor. Progress markers of an unfinished
        unsorted read are dropped, as a failed read's are."""
        value = state.pop("replication_key_value", None)
        for key in ("replication_key", "replication_key_signpost", "starting_replication_value", "progress_markers"):
            state.pop(key, None)
        if value and "cursor" not in state:
            state["cursor"] = value

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
    #: One object per day.
    records_jsonpath = "$"
    #: Where most daily answers say when the day began; streams whose answer differs say so.
    time_field = (When("startTimestampGMT", EPOCH_MS), When("calendarDate"))

    def get_new_paginator(self):
        last = setting_day(self.config, "end_date") or today()
        return DateWindowPaginator(self.resume_day(None), last, self.window_days)

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
        """The day asked for, unless the stream declares ``key_fields`` (a range endpoint).

        Not a payload field: a day without data answers an object whose date
        fields are null (and HRV none at all), and it is still that day.
        """
        if self.key_fields:
            return super().payload_id(payload, lineage)
        return lineage["requested_date"]
