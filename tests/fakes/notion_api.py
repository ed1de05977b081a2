"""A local fake of the Notion API (2025-09-03: databases with data sources).

Shapes follow Notion's reference: ``GET /v1/databases/{id}`` lists
``data_sources``; ``POST /v1/data_sources/{id}/query`` takes ``filter``,
``sorts``, ``page_size`` (at most 100) and ``start_cursor`` and answers
``{"object": "list", "results": [...], "next_cursor", "has_more"}``. Page
times are rounded to the minute, as Notion's are. Requests need
``Authorization: Bearer`` and a ``Notion-Version`` header.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from tests.fakes.http_fake import FakeAPI, Request

UTC = dt.UTC
PREFIX = "/v1"


def _minute(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def _error(status: int, code: str, message: str) -> tuple[int, dict, dict]:
    return status, {"object": "error", "status": status, "code": code, "message": message}, {}


class FakeNotion(FakeAPI):
    """Two databases (a habit tracker with two data sources, a journal) and their pages."""

    def __init__(self, token: str = "ntn_fake_integration_token", pages_per_source: int = 120, seed: int = 5):
        super().__init__()
        self.token = token
        rng = random.Random(seed)
        # Midnight today: the same data all day, so re-running the demo lands nothing new.
        self.now = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.databases: dict[str, dict] = {}
        self.pages: dict[str, list[dict]] = {}  # data source id -> pages
        for title, sources in (("Habits", ["2025", "2026"]), ("Journal", ["Entries"])):
            database_id = _uid(rng)
            created = _minute(self.now - dt.timedelta(days=400))
            data_sources = [{"id": _uid(rng), "name": name} for name in sources]
            self.databases[database_id] = {
                "object": "database",
                "id": database_id,
                "created_time": created,
                "last_edited_time": created,
                "title": [{"type": "text", "text": {"content": title}, "plain_text": title}],
                "parent": {"type": "workspace", "workspace": True},
                "is_inline": False,
                "in_trash": False,
                "url": f"https://www.notion.so/{database_id.replace('-', '')}",
                "data_sources": data_sources,
            }
            for source in data_sources:
                self.pages[source["id"]] = [
                    self._page(database_id, source["id"], n, rng) for n in range(pages_per_source)
                ]

    def _page(self, database_id: str, source_id: str, n: int, rng: random.Random) -> dict:
        created = self.now - dt.timedelta(days=200 - n, hours=rng.randint(0, 20))
        edited = created + dt.timedelta(minutes=rng.randint(0, 600))
        page_id = _uid(rng)
        return {
            "object": "page",
            "id": page_id,
            "created_time": _minute(created),
            "last_edited_time": _minute(edited),
            "created_by": {"object": "user", "id": "c2f20311-9e54-4d11-8c79-7398424ae41e"},
            "last_edited_by": {"object": "user", "id": "c2f20311-9e54-4d11-8c79-7398424ae41e"},
            "cover": None,
            "icon": None,
            "archived": False,
            "in_trash": False,
            "parent": {"type": "data_source_id", "data_source_id": source_id, "database_id": database_id},
            "properties": {
                "Name": {
                    "id": "title",
                    "type": "title",
                    "title": [{"type": "text", "text": {"content": f"Day {n}"}, "plain_text": f"Day {n}"}],
                },
                "Date": {"id": "a%3Bb", "type": "date", "date": {"start": created.date().isoformat(), "end": None}},
                "Done": {"id": "c%3Dd", "type": "checkbox", "checkbox": rng.random() < 0.7},
                "Minutes": {"id": "e%3Ef", "type": "number", "number": rng.randint(0, 90)},
                "Mood": {
                    "id": "g%3Fh",
                    "type": "select",
                    "select": {"id": "1", "name": rng.choice(["good", "ok", "low"]), "color": "green"},
                },
            },
            "url": f"https://www.notion.so/Day-{n}-{page_id.replace('-', '')}",
            "public_url": None,
        }

    # --- test helpers ---------------------------------------------------------------
    def database_ids(self) -> list[str]:
        return list(self.databases)

    def all_pages(self) -> list[dict]:
        return [page for pages in self.pages.values() for page in pages]

    def edit_page(self, source_index: int, page_index: int, **properties) -> dict:
        with self._lock:
            page = list(self.pages.values())[source_index][page_index]
            page["properties"].update(properties)
            page["last_edited_time"] = _minute(dt.datetime.now(UTC))
            return page

    # --- the API ------------------------------------------------------------------
    def answer(self, request: Request) -> tuple[int, object, dict]:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "unauthorized", "API token is invalid.")
        if not request.headers.get("Notion-Version"):
            return _error(400, "missing_version", "Notion-Version header failed validation.")
        path = request.path.removeprefix(PREFIX)
        with self._lock:
            if path.startswith("/databases/") and request.method == "GET":
                database = self.databases.get(path.rsplit("/", 1)[1])
                return (
                    (200, database, {})
                    if database
                    else _error(
                        404, "object_not_found", "Could not find database. Make sure it is shared with the integration."
                    )
                )
            if path.startswith("/data_sources/") and path.endswith("/query") and request.method == "POST":
                source_id = path.split("/")[2]
                if source_id not in self.pages:
                    return _error(404, "object_not_found", "Could not find data source.")
                return 200, self._query(self.pages[source_id], request.json() or {}), {}
        return _error(404, "invalid_request_url", "Invalid request URL.")

    def _query(self, pages: list[dict], body: dict) -> dict:
        found = list(pages)
        after = ((body.get("filter") or {}).get("last_edited_time") or {}).get("on_or_after")
        if after:
            bound = dt.datetime.fromisoformat(after.replace("Z", "+00:00"))
            found = [
                p for p in found if dt.datetime.fromisoformat(p["last_edited_time"].replace("Z", "+00:00")) >= bound
            ]
        found.sort(key=lambda p: (p["last_edited_time"], p["id"]))
        size = min(int(body.get("page_size", 100)), 100)
        start = 0
        if body.get("start_cursor"):
            start = next(i for i, p in enumerate(found) if p["id"] == body["start_cursor"])
        chunk = found[start : start + size]
        more = start + size < len(found)
        return {
            "object": "list",
            "results": chunk,
            "next_cursor": found[start + size]["id"] if more else None,
            "has_more": more,
            "type": "page_or_database",
            "page_or_database": {},
        }
