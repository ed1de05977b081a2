"""A local fake of HidrateSpark's Parse server (the app's unofficial cloud API).

Follows Parse's REST conventions: ``GET /parse/login?username=&password=``
with ``X-Parse-Application-Id``/``X-Parse-Client-Key`` answers a user with a
``sessionToken``; ``GET /parse/classes/<Class>`` takes ``where`` (JSON),
``order``, ``limit`` and ``skip`` and answers ``{"results": [...]}``; objects
carry ``objectId``, ``createdAt``, ``updatedAt`` and dates as
``{"__type": "Date", "iso": ...}``; an expired session is HTTP 400 with
``{"code": 209, "error": "invalid session token"}``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import string

from tests.fakes.http_fake import FakeAPI, Request

UTC = dt.UTC
APP_ID = "fake-hidrate-app-id"
CLIENT_KEY = "fake-hidrate-client-key"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _date(moment: dt.datetime) -> dict:
    return {"__type": "Date", "iso": _iso(moment)}


def _object_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(10))


class FakeHidrate(FakeAPI):
    """One user with a bottle, ``days`` days of sips and daily totals."""

    meta_paths = ("/parse/login",)

    def __init__(
        self, username: str = "me@example.com", password: str = "fake-pass-word-42", days: int = 30, seed: int = 4
    ):
        super().__init__()
        self.username, self.password = username, password
        self.sessions: set[str] = set()
        self.logins = 0
        rng = random.Random(seed)
        midnight = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        user = {"__type": "Pointer", "className": "_User", "objectId": "uSeR000001"}
        self.classes: dict[str, list[dict]] = {"Sip": [], "Day": [], "Bottle": []}
        for n in range(days, 0, -1):
            day = midnight - dt.timedelta(days=n)
            total = 0
            for _ in range(rng.randint(6, 14)):
                moment = day + dt.timedelta(
                    hours=rng.randint(7, 22), minutes=rng.randint(0, 59), milliseconds=rng.randint(0, 999)
                )
                amount = rng.randint(40, 350)
                total += amount
                synced = moment + dt.timedelta(minutes=rng.randint(1, 90))
                self.classes["Sip"].append(
                    {
                        "objectId": _object_id(rng),
                        "amount": amount,
                        "time": _date(moment),
                        "bottleSerialNumber": "HS2-0042",
                        "user": user,
                        "createdAt": _iso(synced),
                        "updatedAt": _iso(synced),
                    }
                )
            closed = day + dt.timedelta(days=1, minutes=5)
            self.classes["Day"].append(
                {
                    "objectId": _object_id(rng),
                    "date": _date(day),
                    "totalAmount": total,
                    "goal": 2400,
                    "user": user,
                    "createdAt": _iso(day),
                    "updatedAt": _iso(closed),
                }
            )
        synced = midnight - dt.timedelta(hours=3)
        self.classes["Bottle"].append(
            {
                "objectId": _object_id(rng),
                "serialNumber": "HS2-0042",
                "name": "Desk",
                "batteryLevel": 71,
                "lastSynced": _date(synced),
                "user": user,
                "createdAt": _iso(midnight - dt.timedelta(days=400)),
                "updatedAt": _iso(synced),
            }
        )

    def expire_sessions(self) -> None:
        with self._lock:
            self.sessions.clear()

    def log_sip(self, amount: int) -> dict:
        with self._lock:
            now = dt.datetime.now(UTC)
            sip = {
                **self.classes["Sip"][-1],
                "objectId": "nEwSiP0001",
                "amount": amount,
                "time": _date(now),
                "createdAt": _iso(now),
                "updatedAt": _iso(now + dt.timedelta(milliseconds=5)),
            }
            self.classes["Sip"].append(sip)
            return sip

    def answer(self, request: Request) -> tuple[int, object, dict]:
        if (
            request.headers.get("X-Parse-Application-Id") != APP_ID
            or request.headers.get("X-Parse-Client-Key") != CLIENT_KEY
        ):
            return 403, {"error": "unauthorized"}, {}
        if request.path == "/parse/login":
            if (request.query.get("username"), request.query.get("password")) != (self.username, self.password):
                return 404, {"code": 101, "error": "Invalid username/password."}, {}
            with self._lock:
                self.logins += 1
                token = f"r:fake-session-{self.logins:04d}"
                self.sessions.add(token)
            return 200, {"objectId": "uSeR000001", "username": self.username, "sessionToken": token}, {}
        if request.headers.get("X-Parse-Session-Token") not in self.sessions:
            return 400, {"code": 209, "error": "invalid session token"}, {}
        name = request.path.removeprefix("/parse/classes/")
        if name not in self.classes:
            return 404, {"code": 119, "error": "class not found"}, {}
        with self._lock:
            found = list(self.classes[name])
        where = json.loads(request.query.get("where") or "{}")
        bound = ((where.get("updatedAt") or {}).get("$gte") or {}).get("iso")
        if bound:
            found = [o for o in found if o["updatedAt"] >= bound]
        found.sort(key=lambda o: (o["updatedAt"], o["objectId"]))
        skip, limit = int(request.query.get("skip", 0)), min(int(request.query.get("limit", 100)), 1000)
        return 200, {"results": found[skip : skip + limit]}, {}
