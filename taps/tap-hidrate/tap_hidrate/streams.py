"""HidrateSpark Parse classes, one stream each: sips, days, bottles."""

from __future__ import annotations

import json
from pathlib import Path

from singer_sdk.pagination import BaseAPIPaginator

from bronze_core.fields import When
from bronze_core.http import BronzeRESTStream, json_object_body, object_with_list
from bronze_core.timestamps import parse_timestamp

SCHEMAS_DIR = Path(__file__).parent / "schemas"
INVALID_SESSION = 209  # Parse's error code for an expired or revoked session token


class UpdatedAtPaginator(BaseAPIPaginator[tuple]):
    """Keyset paging on ``updatedAt``: each page starts at the last page's newest instant.

    The token is ``(updatedAt, n)``: ask ``updatedAt >= that instant`` and skip
    the ``n`` objects of that instant already read. A plain ``skip`` offset
    over the whole walk would shift when an object read on an earlier page is
    updated meanwhile (it moves to the end of the order), silently skipping
    the object that slid into its place; and the cursor, the newest
    ``updatedAt`` seen, would then be past it for good. Stops at a short page.
    """

    def __init__(self, limit: int):
        super().__init__((None, 0))
        self._limit = limit

    def get_next(self, response) -> tuple | None:
        results = (response.json() or {}).get("results") or []
        if len(results) < self._limit:
            return None
        newest = results[-1]["updatedAt"]
        ties = sum(1 for result in results if result.get("updatedAt") == newest)
        instant, skipped = self.current_value
        return newest, ties + (skipped if instant == newest else 0)


class ParseClassStream(BronzeRESTStream):
    """Objects of one Parse class, incremental on ``updatedAt``.

    Asks ``where={"updatedAt": {"$gte": <cursor>}}`` ordered by ``updatedAt``;
    ``$gte`` re-reads objects updated at the cursor instant itself, which are
    unchanged and land as no-ops. Pages follow on by ``updatedAt`` too
    (``UpdatedAtPaginator``), so an update during the walk skips nothing.
    """

    source = "hidrate"
    schemas_dir = SCHEMAS_DIR
    auth_setting = "username"
    records_jsonpath = "$.results[*]"
    response_shape = object_with_list("results")  # Parse's query answer
    cursor_field = "updatedAt"
    #: The Parse class queried (``/classes/<parse_class>``).
    parse_class = ""
    key_fields = ("objectId",)
    time_field = "createdAt"

    @property
    def path(self) -> str:
        return f"/classes/{self.parse_class}"

    @property
    def authenticator(self):
        return self._tap.hidrate_session

    def get_new_paginator(self):
        return UpdatedAtPaginator(int(self.config["page_size"]))

    def get_url_params(self, context, next_page_token):
        instant, skip = next_page_token or (None, 0)
        params = {"order": "updatedAt,objectId", "limit": int(self.config["page_size"]), "skip": skip}
        since = (
            instant
            or self.cursor(context)
            or (self.config.get("start_date") and parse_timestamp(self.config["start_date"]).isoformat())
        )
        if since:
            iso = parse_timestamp(since).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            params["where"] = json.dumps({"updatedAt": {"$gte": {"__type": "Date", "iso": iso}}})
        return params

    def credentials_expired(self, response) -> bool:
        """Parse answers an expired or revoked session with ``code`` 209 (on a 400 or 403)."""
        if response.status_code == 401:
            return True
        return response.status_code in (400, 403) and json_object_body(response).get("code") == INVALID_SESSION

    def refresh_credentials(self) -> bool:
        """Log in again (one login shared by all streams)."""
        self.authenticator.login()
        return True


def parse_date(value):
    """A Parse Date (``{"__type": "Date", "iso": ...}``) or an ISO string."""
    if isinstance(value, dict):
        value = value.get("iso")
    return parse_timestamp(value)


class SipsStream(ParseClassStream):
    """Each sip the bottle measured (amount in ml, ``time``)."""

    name = "hidrate__sips"
    parse_class = "Sip"
    time_field = (When("time", parse_date), When("createdAt"))


class DaysStream(ParseClassStream):
    """Daily totals (``date``, ``totalAmount`` in ml, goal)."""

    name = "hidrate__days"
    parse_class = "Day"
    time_field = (When("date", parse_date), When("createdAt"))


class BottlesStream(ParseClassStream):
    """The user's bottles (serial number, battery level, last sync)."""

    name = "hidrate__bottles"
    parse_class = "Bottle"


STREAMS = (SipsStream, DaysStream, BottlesStream)
