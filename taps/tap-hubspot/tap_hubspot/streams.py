"""HubSpot CRM v3 objects through the search API, one stream per object type.

The search API pages with ``after``, an offset into the result list, and
returns at most 10,000 results per query (paging past that is a 400). An
offset walk sorted by modification time skips an object whenever one read on
an earlier page is modified meanwhile (it moves to the end, the rest slide
back by one), and the cursor (the newest time seen) then passes the skipped
object for good. So every page is a query of its own, keyed on what was read:

1. ``<modified> GTE t``, sorted by ``<modified>`` ascending, one page; the
   next page asks again from the newest ``<modified>`` on it (objects at that
   instant are read twice: no-ops);
2. if a whole page shares one ``<modified>`` instant (a bulk import), that
   instant is walked by ``hs_object_id``: ``<modified> EQ t`` and
   ``hs_object_id GT last id``, sorted by id, until it is exhausted; then the
   walk goes on with ``<modified> GT t``.

So a burst of any size at one instant is neither looped over forever nor
skipped, no query comes near the 10,000-result limit, and an edit during
the walk skips nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from bronze_core.fields import When
from bronze_core.http import BronzeRESTStream, RequestSpec, SyncStopped, json_object_body, object_with_list
from bronze_core.timestamps import UTC, parse_timestamp

SCHEMAS_DIR = Path(__file__).parent / "schemas"
PAGE_SIZE = 100
ENGAGEMENTS = ("calls", "emails", "meetings", "notes", "tasks")
OBJECTS = ("contacts", "companies", *ENGAGEMENTS)


def epoch_ms(moment: dt.datetime) -> str:
    return str(int(moment.timestamp() * 1000))


class ObjectStream(BronzeRESTStream):
    """One CRM object type (``contacts``, ``companies``, ``calls``...)."""

    source = "hubspot"
    schemas_dir = SCHEMAS_DIR
    payload_schema_name = "object"
    auth_setting = "api_token"
    http_method = "POST"
    records_jsonpath = "$.results[*]"
    response_shape = object_with_list("results")  # search and properties answers alike
    key_fields = ("id",)
    time_field = "createdAt"

    def __init__(self, tap, object_type: str):
        if object_type not in OBJECTS:
            raise ValueError(f"hubspot: unknown object type {object_type!r}; choose from {', '.join(OBJECTS)}")
        self.object_type = object_type
        self.modified = "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"
        self.path = f"/crm/v3/objects/{object_type}/search"
        super().__init__(tap=tap, name=f"hubspot__{object_type}")

    @cached_property
    def properties(self) -> list[str]:
        """Properties to request: configured, else every property of the object type."""
        configured = (self.config.get("properties") or {}).get(self.object_type)
        if configured:
            return sorted({*configured, self.modified, "hs_object_id"})
        answer = self.request_json(RequestSpec(f"/crm/v3/properties/{self.object_type}"))
        return sorted(p["name"] for p in answer["results"])

    def validate_response(self, response) -> None:
        if response.status_code == 429:
            policy = json_object_body(response).get("policyName")
            if isinstance(policy, str) and policy.upper() == "DAILY":
                raise SyncStopped(
                    "HubSpot's daily request limit is used up (429, policyName DAILY); "
                    "state is saved, run again tomorrow",
                    failed=True,
                )
        super().validate_response(response)

    # --- the walk --------------------------------------------------------------
    def fetch_records(self, context) -> Iterator[dict]:
        since = self.cursor(context) or self.config.get("start_date")
        bound = parse_timestamp(since) if since else dt.datetime(1970, 1, 1, tzinfo=UTC)
        operator = "GTE"
        while True:
            page = self.search([self.filter(self.modified, operator, epoch_ms(bound))], self.modified)
            yield from page
            if len(page) < PAGE_SIZE:
                return  # this query is exhausted: done
            newest = self.payload_cursor(page[-1]["raw_data"])
            if newest > bound:
                bound, operator = newest, "GTE"  # go on from the newest instant seen
            else:
                yield from self.walk_instant(bound)  # a whole page at one instant
                operator = "GT"

    def walk_instant(self, instant: dt.datetime) -> Iterator[dict]:
        """Every object modified exactly at ``instant``, by ascending ``hs_object_id``."""
        after_id = 0
        while True:
            filters = [
                self.filter(self.modified, "EQ", epoch_ms(instant)),
                self.filter("hs_object_id", "GT", str(after_id)),
            ]
            page = self.search(filters, "hs_object_id")
            yield from page
            if len(page) < PAGE_SIZE:
                return
            after_id = int(page[-1]["raw_data"]["id"])

    @staticmethod
    def filter(name: str, operator: str, value: str) -> dict:
        return {"propertyName": name, "operator": operator, "value": value}

    def search(self, filters: list[dict], sort_by: str) -> list[dict]:
        """The first page of one search query, as bronze records (never paged with ``after``)."""
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort_by, "direction": "ASCENDING"}],
            "properties": self.properties,
            "limit": PAGE_SIZE,
        }
        return list(self.fetch(RequestSpec(self.path, method="POST", json_body=body)))

    # --- the payload -------------------------------------------------------------
    @property
    def cursor_field(self) -> tuple[When, When]:
        """The object type's modification property, else the object's ``updatedAt``."""
        return When(("properties", self.modified)), When("updatedAt")
