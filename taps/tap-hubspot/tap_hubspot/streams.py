"""HubSpot CRM v3 objects through the search API, one stream per object type.

The search API returns at most 10,000 results per query (paging past that is
a 400), so a long history is walked as a series of queries:

1. ``<modified> GTE cursor``, sorted by ``<modified>`` ascending, ``after`` paging;
2. before the 10,000th result, the query starts again from the newest
   ``<modified>`` seen (rows at that instant are read twice: no-ops);
3. if a whole 10,000-result query shares one ``<modified>`` instant (a bulk
   import), that instant is walked by ``hs_object_id``: ``<modified> EQ t``
   and ``hs_object_id GT last id``, sorted by id, until it is exhausted;
   then the walk goes on with ``<modified> GT t``.

So a burst of any size at one instant is neither looped over forever nor
skipped.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from bronze_core.http import BronzeRESTStream, SyncStopped, object_with_list
from bronze_core.timestamps import UTC, parse_timestamp

SCHEMAS_DIR = Path(__file__).parent / "schemas"
PAGE_SIZE = 100
SEARCH_LIMIT = 10_000  # results one search query can page through
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
    replication_key = None

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
        response = self.request_once(f"{self.url_base}/crm/v3/properties/{self.object_type}")
        return sorted(p["name"] for p in self.response_json(response)["results"])

    def validate_response(self, response) -> None:
        if response.status_code == 429:
            policy = (self._json_or_empty(response)).get("policyName", "")
            if policy.upper() == "DAILY":
                raise SyncStopped("HubSpot's daily request limit is used up (429, policyName DAILY); "
                                  "state is saved, run again tomorrow", failed=True)
        super().validate_response(response)

    @staticmethod
    def _json_or_empty(response) -> dict:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    # --- the walk --------------------------------------------------------------
    def fetch_records(self, context) -> Iterator[dict]:
        since = self.cursor(context) or self.config.get("start_date")
        bound = parse_timestamp(since) if since else dt.datetime(1970, 1, 1, tzinfo=UTC)
        operator = "GTE"
        while True:
            count, newest = 0, None
            for record in self.search([self.filter(self.modified, operator, epoch_ms(bound))], self.modified):
                count += 1
                newest = self.payload_cursor(record["raw_data"])
                yield record
            if count < SEARCH_LIMIT:
                return  # this query is exhausted: done
            if newest > bound:
                bound, operator = newest, "GTE"  # go on from the newest instant seen
            else:
                yield from self.walk_instant(bound)  # 10,000 results at one instant
                operator = "GT"

    def walk_instant(self, instant: dt.datetime) -> Iterator[dict]:
        """Every object modified exactly at ``instant``, by ascending ``hs_object_id``."""
        after_id = 0
        while True:
            seen = 0
            filters = [self.filter(self.modified, "EQ", epoch_ms(instant)),
                       self.filter("hs_object_id", "GT", str(after_id))]
            for record in self.search(filters, "hs_object_id"):
                seen += 1
                after_id = int(record["raw_data"]["id"])
                yield record
            if seen < SEARCH_LIMIT:
                return

    @staticmethod
    def filter(name: str, operator: str, value: str) -> dict:
        return {"propertyName": name, "operator": operator, "value": value}

    def search(self, filters: list[dict], sort_by: str) -> Iterator[dict]:
        """One search query, paged with ``after`` up to the 10,000-result limit."""
        after = 0
        while after < SEARCH_LIMIT:
            body: dict[str, Any] = {
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": sort_by, "direction": "ASCENDING"}],
                "properties": self.properties, "limit": PAGE_SIZE,
            }
            if after:
                body["after"] = str(after)
            page = list(self.fetch(self.url_base + self.path, json_body=body, method="POST"))
            yield from page
            if len(page) < PAGE_SIZE:
                return
            after += PAGE_SIZE

    # --- the payload -------------------------------------------------------------
    def payload_id(self, payload, lineage):
        return payload["id"]

    def payload_time(self, payload):
        return parse_timestamp(payload.get("createdAt"))

    def payload_cursor(self, payload):
        return parse_timestamp((payload.get("properties") or {}).get(self.modified) or payload.get("updatedAt"))
