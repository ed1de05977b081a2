"""A local fake of HubSpot's CRM v3 search and properties APIs.

Follows HubSpot's documented behaviour: ``POST /crm/v3/objects/{type}/search``
with ``filterGroups`` (groups OR-ed, filters within a group AND-ed),
one sort, ``properties``, ``limit`` and ``after``; answers
``{"total", "results": [{"id", "properties", "createdAt", "updatedAt",
"archived"}], "paging": {"next": {"after"}}}``; a query can page through at
most 10,000 results, past that it answers 400. Ties in the sort come back in
no particular order, as they do for real. Date properties are ISO strings;
filter values are epoch milliseconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random

from tests.fakes.http_fake import FakeAPI, Request

UTC = dt.UTC
SEARCH_LIMIT = 10_000
TYPES = ("contacts", "companies", "calls", "emails", "meetings", "notes", "tasks")
EXTRA = {
    "contacts": ["email", "firstname", "lastname", "phone", "lifecyclestage"],
    "companies": ["name", "domain", "city", "industry"],
    "calls": ["hs_call_title", "hs_call_duration", "hs_timestamp"],
    "emails": ["hs_email_subject", "hs_email_direction", "hs_timestamp"],
    "meetings": ["hs_meeting_title", "hs_meeting_start_time", "hs_meeting_end_time"],
    "notes": ["hs_note_body", "hs_timestamp"],
    "tasks": ["hs_task_subject", "hs_task_status", "hs_timestamp"],
}


def modified_property(object_type: str) -> str:
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class FakeHubspot(FakeAPI):
    """A small CRM: ``per_type`` objects of each type, modified over the last months."""

    def __init__(self, token: str = "pat-na1-fake-hubspot-token", per_type: int = 60, seed: int = 8):
        super().__init__()
        self.token = token
        self.rng = random.Random(seed)
        self.now = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.objects: dict[str, list[dict]] = {t: [] for t in TYPES}
        self.next_id = 1000
        for object_type in TYPES:
            for n in range(per_type):
                created = self.now - dt.timedelta(days=200 - n * 3, minutes=self.rng.randint(0, 900))
                self._add(object_type, created, created + dt.timedelta(hours=self.rng.randint(0, 300)))

    def _add(self, object_type: str, created: dt.datetime, modified: dt.datetime) -> dict:
        self.next_id += 1
        object_id = str(self.next_id)
        properties = {
            "hs_object_id": object_id,
            "createdate": _iso(created),
            modified_property(object_type): _iso(modified),
        }
        for name in EXTRA[object_type]:
            properties[name] = f"{name}-{object_id}" if not name.startswith("hs_timestamp") else _iso(created)
        record = {
            "id": object_id,
            "properties": properties,
            "createdAt": _iso(created),
            "updatedAt": _iso(modified),
            "archived": False,
        }
        self.objects[object_type].append(record)
        return record

    def add_burst(self, object_type: str, count: int, at: dt.datetime) -> None:
        """``count`` objects all modified at the same instant (a bulk import)."""
        with self._lock:
            for _ in range(count):
                self._add(object_type, at - dt.timedelta(days=1), at)

    def edit(self, object_type: str, index: int, **properties) -> dict:
        with self._lock:
            record = self.objects[object_type][index]
            record["properties"].update(properties)
            moment = _iso(dt.datetime.now(UTC))
            record["properties"][modified_property(object_type)] = moment
            record["updatedAt"] = moment
            return record

    # --- the API ----------------------------------------------------------------
    def answer(self, request: Request) -> tuple[int, object, dict]:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return (
                401,
                {
                    "status": "error",
                    "category": "INVALID_AUTHENTICATION",
                    "message": "Authentication credentials not found.",
                },
                {},
            )
        parts = request.path.strip("/").split("/")
        if parts[:3] == ["crm", "v3", "properties"] and len(parts) == 4 and parts[3] in TYPES:
            names = ["hs_object_id", "createdate", modified_property(parts[3]), *EXTRA[parts[3]]]
            return 200, {"results": [{"name": n, "label": n, "type": "string", "fieldType": "text"} for n in names]}, {}
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 5 and parts[4] == "search" and parts[3] in TYPES:
            return self._search(parts[3], request.json() or {})
        return 404, {"status": "error", "message": "Not found", "category": "OBJECT_NOT_FOUND"}, {}

    @staticmethod
    def _matches(record: dict, check: dict) -> bool:
        value = record["properties"].get(check["propertyName"])
        if value is None:
            return False
        left = int(value) if check["propertyName"] == "hs_object_id" else _ms(value)
        right = int(check["value"])
        return {
            "EQ": left == right,
            "GT": left > right,
            "GTE": left >= right,
            "LT": left < right,
            "LTE": left <= right,
        }[check["operator"]]

    def _search(self, object_type: str, body: dict) -> tuple[int, object, dict]:
        limit, after = min(int(body.get("limit", 10)), 200), int(body.get("after") or 0)
        if after + limit > SEARCH_LIMIT:
            return (
                400,
                {"status": "error", "category": "VALIDATION_ERROR", "message": "Cannot page beyond 10000 results"},
                {},
            )
        with self._lock:
            found = [
                r
                for r in self.objects[object_type]
                if not body.get("filterGroups")
                or any(all(self._matches(r, f) for f in group["filters"]) for group in body["filterGroups"])
            ]
        sort = (body.get("sorts") or [{"propertyName": "hs_object_id", "direction": "ASCENDING"}])[0]
        key = sort["propertyName"]

        def order(record):
            value = record["properties"].get(key) or ""
            primary = int(value) if key == "hs_object_id" else value
            return primary, hashlib.md5(record["id"].encode()).hexdigest()  # ties: no useful order

        found.sort(key=order, reverse=sort.get("direction") == "DESCENDING")
        wanted = set(body.get("properties") or [])
        page = [
            {**r, "properties": {k: v for k, v in r["properties"].items() if k in wanted or k == "hs_object_id"}}
            for r in found[after : after + limit]
        ]
        answer = {"total": len(found), "results": page}
        if after + limit < len(found):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return 200, answer, {}
