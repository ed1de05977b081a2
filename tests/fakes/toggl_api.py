"""A local fake of the Toggl Track API v9 (the parts tap-toggl reads).

Shapes follow Toggl's v9 documentation: time entries with ``workspace_id``/
``wid``, ``project_id``/``pid``, ISO 8601 ``start``/``stop``/``at``, a negative
``duration`` while running, ``server_deleted_at`` on deleted entries (served
only to ``since`` queries, as Toggl does). Auth is HTTP Basic
``<api_token>:api_token``; a wrong token gets 403. Quota answers (402) are
injected with ``quota_exceeded``.
"""

from __future__ import annotations

import base64
import datetime as dt
import random

from tests.fakes.http_fake import FakeAPI, Request

UTC = dt.UTC
PREFIX = "/api/v9"
WORKSPACE_ID = 7_000_001


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class FakeToggl(FakeAPI):
    """Toggl Track with one workspace and ``days`` days of time entries."""

    def __init__(self, api_token: str = "fake-toggl-token-1234", days: int = 60, seed: int = 3):
        super().__init__()
        self.api_token = api_token
        # Midnight today: the same data all day, so re-running the demo lands nothing new.
        self.now = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        rng = random.Random(seed)
        created = _iso(self.now - dt.timedelta(days=400))
        self.workspaces = [
            {
                "id": WORKSPACE_ID,
                "name": "Personal",
                "organization_id": 9_000_001,
                "premium": False,
                "default_currency": "EUR",
                "at": created,
                "logo_url": "https://assets.track.toggl.com/images/workspace.jpg",
            }
        ]
        self.clients = [
            {"id": 60_000_001 + n, "wid": WORKSPACE_ID, "name": name, "archived": False, "at": created}
            for n, name in enumerate(["Self", "Side project"])
        ]
        self.projects = [
            {
                "id": 190_000_001 + n,
                "workspace_id": WORKSPACE_ID,
                "wid": WORKSPACE_ID,
                "client_id": self.clients[n % 2]["id"],
                "cid": self.clients[n % 2]["id"],
                "name": name,
                "is_private": True,
                "active": name != "Old thesis",
                "billable": False,
                "color": "#06aaf5",
                "at": created,
                "created_at": created,
                "actual_hours": rng.randint(1, 300),
            }
            for n, name in enumerate(["Deep work", "Reading", "Exercise", "Old thesis"])
        ]
        self.tags = [
            {"id": 15_000_001 + n, "workspace_id": WORKSPACE_ID, "name": name, "at": created, "deleted_at": None}
            for n, name in enumerate(["focus", "admin", "learning"])
        ]
        self.entries: list[dict] = []
        for day in range(days, 0, -1):
            for _ in range(rng.randint(0, 3)):
                start = self.now - dt.timedelta(days=day, hours=rng.randint(0, 10), minutes=rng.randint(0, 59))
                self._add(start, rng.randint(10, 150) * 60, rng)
        self.entries[-2]["server_deleted_at"] = _iso(self.now - dt.timedelta(hours=2))
        self.entries[-2]["at"] = self.entries[-2]["server_deleted_at"]
        running_start = self.now - dt.timedelta(minutes=25)
        self._add(running_start, -int(running_start.timestamp()), rng)

    def _add(self, start: dt.datetime, duration: int, rng: random.Random) -> dict:
        project = rng.choice(self.projects[:3])
        stop = None if duration < 0 else start + dt.timedelta(seconds=duration)
        entry = {
            "id": 3_400_000_000 + len(self.entries),
            "workspace_id": WORKSPACE_ID,
            "wid": WORKSPACE_ID,
            "project_id": project["id"],
            "pid": project["id"],
            "task_id": None,
            "user_id": 5_000_001,
            "uid": 5_000_001,
            "billable": False,
            "start": _iso(start),
            "stop": _iso(stop) if stop else None,
            "duration": duration,
            "description": rng.choice(["Writing", "Review", "Run", "Notes", ""]),
            "tags": [rng.choice(self.tags)["name"]],
            "tag_ids": [],
            "duronly": False,
            "at": _iso((stop or start) + dt.timedelta(minutes=1)),
            "server_deleted_at": None,
            "project_name": project["name"],
            "permissions": None,
        }
        self.entries.append(entry)
        return entry

    # --- test helpers -------------------------------------------------------------
    def edit_entry(self, index: int, **changes) -> dict:
        """Change an entry as a user would; its ``at`` moves to now."""
        with self._lock:
            entry = self.entries[index]
            entry.update(changes, at=_iso(dt.datetime.now(UTC) + dt.timedelta(seconds=1)))
            return entry

    def add_entry(self, description: str) -> dict:
        with self._lock:
            entry = self._add(dt.datetime.now(UTC) - dt.timedelta(hours=1), 1800, random.Random(len(self.entries)))
            entry.update(description=description, at=_iso(dt.datetime.now(UTC) + dt.timedelta(seconds=1)))
            return entry

    def quota_exceeded(self, times: int = 1, resets_in: int = 1200) -> None:
        self.fail_next(
            402,
            times=times,
            headers={"X-Toggl-Quota-Resets-In": str(resets_in)},
            body='"You have hit your hourly limit for API calls."',
        )

    def visible_entries(self) -> list[dict]:
        return [e for e in self.entries if not e["server_deleted_at"]]

    # --- the API ------------------------------------------------------------------
    def _authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.api_token}:api_token".encode()).decode()
        return header == f"Basic {expected}"

    def answer(self, request: Request) -> tuple[int, object, dict]:
        if not self._authorized(request.headers.get("Authorization")):
            return 403, None, {}
        path = request.path.removeprefix(PREFIX)
        with self._lock:
            if path == "/me/workspaces":
                return 200, self.workspaces, {}
            if path == "/me/time_entries":
                return 200, self._time_entries(request.query), {}
            for kind in ("projects", "clients", "tags"):
                if path == f"/workspaces/{WORKSPACE_ID}/{kind}":
                    return 200, getattr(self, kind), {}
        return 404, {"message": f"no such endpoint: {request.path}"}, {}

    def _time_entries(self, query: dict) -> list[dict]:
        """Newest first, as Toggl returns them."""
        if "since" in query:
            since = dt.datetime.fromtimestamp(int(query["since"]), UTC)
            found = [e for e in self.entries if dt.datetime.fromisoformat(e["at"]) >= since]
        elif "start_date" in query:
            first, last = query["start_date"], query["end_date"]
            found = [e for e in self.visible_entries() if first <= e["start"][:10] < last]
        else:
            recent = _iso(self.now - dt.timedelta(days=9))
            found = [e for e in self.visible_entries() if e["start"] >= recent]
        return sorted(found, key=lambda e: e["start"], reverse=True)
