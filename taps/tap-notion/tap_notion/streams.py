"""Notion API streams: the configured databases, and the pages of their data sources."""

from __future__ import annotations

from pathlib import Path

from singer_sdk.pagination import JSONPathPaginator

from bronze_core.http import BronzeRESTStream, ResponseShape, object_with_list
from bronze_core.timestamps import parse_timestamp

SCHEMAS_DIR = Path(__file__).parent / "schemas"
PAGE_SIZE = 100  # Notion's maximum


class NotionStream(BronzeRESTStream):
    """A Notion API stream: bearer integration token and the ``Notion-Version`` header."""

    source = "notion"
    schemas_dir = SCHEMAS_DIR
    auth_setting = "api_token"
    key_fields = ("id",)
    time_field = "created_time"

    @property
    def http_headers(self) -> dict:
        return {**super().http_headers, "Notion-Version": self.config["notion_version"]}


class DatabasesStream(NotionStream):
    """Each configured database (title, properties, data sources); parent of ``pages``.

    Under Notion-Version 2025-09-03 a database holds one or more data sources;
    pages are queried per data source.
    """

    name = "notion__databases"
    path = "/databases/{database_id}"
    records_jsonpath = "$"
    response_shape = ResponseShape(dict, required=("id",))
    state_partitioning_keys: list[str] = []

    @property
    def partitions(self):
        return [{"database_id": database_id} for database_id in self.config["database_ids"]]

    def generate_child_contexts(self, record, context):
        for source in record["raw_data"].get("data_sources") or []:
            yield {"database_id": context["database_id"], "data_source_id": source["id"]}


class PagesStream(NotionStream):
    """Pages (rows) of every data source of the configured databases, one stream.

    Incremental on ``last_edited_time``: each data source keeps its own
    cursor, and a run asks for pages edited on or after it. Notion rounds
    ``last_edited_time`` to the minute, so the cursor minute itself is read
    again; those pages are unchanged and land as no-ops.
    """

    name = "notion__pages"
    path = "/data_sources/{data_source_id}/query"
    http_method = "POST"
    records_jsonpath = "$.results[*]"
    response_shape = object_with_list("results")
    parent_stream_type = DatabasesStream
    state_partitioning_keys: list[str] = []
    cursor_field = "last_edited_time"

    def cursor_scope(self, context) -> str:
        return context["data_source_id"]

    def get_new_paginator(self):
        return JSONPathPaginator("$.next_cursor")

    def prepare_request_payload(self, context, next_page_token):
        body: dict = {"page_size": PAGE_SIZE, "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}]}
        since = self.cursor(context) or self.config.get("start_date")
        if since:
            body["filter"] = {
                "timestamp": "last_edited_time",
                "last_edited_time": {"on_or_after": parse_timestamp(since).isoformat()},
            }
        if next_page_token:
            body["start_cursor"] = next_page_token
        return body

    def request_lineage(self, response, context):
        """Adds the database and data source ids (the request's context) and the query body sent."""
        lineage = super().request_lineage(response, context)
        body = response.request.body
        lineage["query"] = body.decode() if isinstance(body, bytes) else body
        lineage.update(database_id=context["database_id"], data_source_id=context["data_source_id"])
        return lineage


STREAMS = [DatabasesStream, PagesStream]
