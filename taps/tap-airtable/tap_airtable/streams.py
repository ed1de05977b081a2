"""Airtable Web API: one stream per configured table."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from singer_sdk.pagination import JSONPathPaginator

from bronze_core.fields import When
from bronze_core.http import BronzeRESTStream, object_with_list
from bronze_core.streams import stream_name as shared_stream_name

SCHEMAS_DIR = Path(__file__).parent / "schemas"
PAGE_SIZE = 100  # Airtable's maximum


def stream_name(table: str) -> str:
    """``airtable__<table>``, the name reduced to [a-z0-9_]: never raw user text in SQL."""
    return shared_stream_name("airtable", table)


class TableStream(BronzeRESTStream):
    """The records of one Airtable table.

    With ``last_modified_field`` (a "Last modified time" field of the table)
    the run asks only for records modified on or after the saved cursor, via
    ``filterByFormula``; without it the whole table is read each run and
    unchanged records land as no-ops.
    """

    source = "airtable"
    schemas_dir = SCHEMAS_DIR
    payload_schema_name = "record"
    auth_setting = "api_token"
    records_jsonpath = "$.records[*]"
    response_shape = object_with_list("records")
    path = "/{base_id}/{table}"  # for logs and metrics; get_url builds the real URL
    wait_on_429_seconds = 30.0  # Airtable: "wait 30 seconds before subsequent requests succeed"
    key_fields = ("id",)
    time_field = "createdTime"

    def __init__(self, tap, table: dict[str, Any]):
        self.table = table["name"]
        self.last_modified_field = table.get("last_modified_field")
        if self.last_modified_field and re.search(r"[{}]", self.last_modified_field):
            raise ValueError(f"airtable: field name {self.last_modified_field!r} cannot be used in a formula")
        super().__init__(tap=tap, name=stream_name(self.table))
        self.wait_on_429_seconds = float(tap.config.get("rate_limit_wait_seconds", 30))

    def get_url(self, context) -> str:
        return f"{self.url_base}/{self._url_encode(self.config['base_id'])}/{self._url_encode(self.table)}"

    def get_new_paginator(self):
        return JSONPathPaginator("$.offset")

    def get_url_params(self, context, next_page_token):
        params: dict[str, Any] = {"pageSize": PAGE_SIZE}
        if next_page_token:
            params["offset"] = next_page_token
        since = self.cursor(context)
        if self.last_modified_field and since:
            params["filterByFormula"] = f"NOT(IS_BEFORE({{{self.last_modified_field}}}, '{since}'))"
        return params

    @property
    def cursor_field(self) -> When | None:
        """The table's "Last modified time" field, when configured."""
        return When(("fields", self.last_modified_field)) if self.last_modified_field else None

    def request_lineage(self, response, context):
        lineage = super().request_lineage(response, context)
        lineage["table"] = self.table
        return lineage
