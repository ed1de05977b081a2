"""Bodies and requests as the pushing apps send them (../shared/SOURCES.md, "Pushed sources").

- Overland: ``POST {"locations": [GeoJSON Feature, ...], "current": ..., "trip": ...}``
  with the token in the URL's query string (or a bearer header in newer versions).
- OwnTracks (HTTP mode): one message per POST, user/device as ``X-Limit-U``/``X-Limit-D``
  and HTTP Basic auth; the answer must be a JSON array.
- Health Auto Export (REST API automation): ``{"data": {"metrics": [...], "workouts": [...]}}``,
  dates ``yyyy-MM-dd HH:mm:ss Z``, a bearer token set as a custom header.
- Your own events: ``event_id``, ``event_type``, ``event_time``, ``payload``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.request

UTC = dt.UTC
START = dt.datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def overland_feature(n: int, device: str = "iphone-overland", start: dt.datetime = START) -> dict:
    when = start + dt.timedelta(seconds=30 * n)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [13.40 + n * 1e-4, 52.52 + n * 1e-4]},
        "properties": {
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "altitude": 34 + n % 5,
            "speed": 1.2,
            "horizontal_accuracy": 5,
            "vertical_accuracy": 3,
            "motion": ["walking"],
            "battery_state": "unplugged",
            "battery_level": 0.81,
            "wifi": "",
            "device_id": device,
        },
    }


def overland_batch(first: int, count: int, device: str = "iphone-overland") -> dict:
    return {
        "locations": [overland_feature(n, device) for n in range(first, first + count)],
        "current": None,
        "trip": None,
    }


def owntracks_location(tst: int, tid: str = "ph") -> dict:
    return {
        "_type": "location",
        "lat": 52.5201,
        "lon": 13.4049,
        "tst": tst,
        "acc": 12,
        "alt": 41,
        "batt": 77,
        "tid": tid,
        "vel": 0,
        "conn": "w",
        "topic": "owntracks/me/phone",
    }


def owntracks_transition(tst: int) -> dict:
    return {
        "_type": "transition",
        "wtst": 1700000000,
        "lat": 52.52,
        "lon": 13.40,
        "tst": tst,
        "acc": 10,
        "tid": "ph",
        "event": "enter",
        "desc": "home",
        "t": "c",
    }


def owntracks_card() -> dict:
    return {"_type": "card", "name": "Me", "tid": "ph"}


def hae_date(when: dt.datetime) -> str:
    """Health Auto Export's ``yyyy-MM-dd HH:mm:ss Z`` in the phone's zone (-05:00 here)."""
    return when.astimezone(dt.timezone(dt.timedelta(hours=-5))).strftime("%Y-%m-%d %H:%M:%S %z")


def hae_body(days: int = 1, start: dt.datetime = START) -> dict:
    """Steps, heart rate (Min/Avg/Max), sleep aggregated and per stage, one workout, a newer section."""
    steps, heart = [], []
    for day in range(days):
        base = start + dt.timedelta(days=day)
        for hour in range(3):
            when = base + dt.timedelta(hours=hour)
            steps.append({"qty": 120 + hour, "date": hae_date(when), "source": "iPhone"})
            heart.append({"date": hae_date(when), "Min": 55, "Avg": 63.5, "Max": 88, "source": "Apple Watch"})
    sleep_day = start.date().isoformat()
    return {
        "data": {
            "metrics": [
                {"name": "step_count", "units": "count", "data": steps},
                {"name": "heart_rate", "units": "count/min", "data": heart},
                {
                    "name": "sleep_analysis",
                    "units": "hr",
                    "data": [
                        {
                            "date": sleep_day,
                            "totalSleep": 7.1,
                            "asleep": 0,
                            "core": 3.9,
                            "deep": 1.2,
                            "rem": 2.0,
                            "sleepStart": "2026-11-29 23:10:00 -0500",
                            "sleepEnd": "2026-11-30 06:40:00 -0500",
                            "inBed": 7.5,
                            "inBedStart": "2026-11-29 23:00:00 -0500",
                            "inBedEnd": "2026-11-30 06:45:00 -0500",
                            "source": "Apple Watch",
                        }
                    ],
                },
                {
                    "name": "sleep_stages",
                    "units": "hr",
                    "data": [
                        {
                            "startDate": "2026-11-29 23:10:00 -0500",
                            "endDate": "2026-11-30 00:40:00 -0500",
                            "value": "Core",
                            "qty": 1.5,
                            "source": "Apple Watch",
                        },
                        {
                            "startDate": "2026-11-30 00:40:00 -0500",
                            "endDate": "2026-11-30 01:30:00 -0500",
                            "value": "Deep",
                            "qty": 0.83,
                            "source": "Apple Watch",
                        },
                    ],
                },
            ],
            "workouts": [
                {
                    "id": "6C1F1D8E-2B5A-4E55-9F0E-3A1B2C3D4E5F",
                    "name": "Outdoor Walk",
                    "start": "2026-11-30 08:00:00 -0500",
                    "end": "2026-11-30 08:45:00 -0500",
                    "duration": 2700,
                    "activeEnergyBurned": {"qty": 210, "units": "kcal"},
                    "distance": {"qty": 3.4, "units": "km"},
                }
            ],
            "stateOfMind": [
                {
                    "id": "A0B1C2D3-0000-4000-8000-000000000001",
                    "kind": "momentaryEmotion",
                    "start": "2026-11-30 12:00:00 -0500",
                    "end": "2026-11-30 12:00:00 -0500",
                    "valence": 0.4,
                    "labels": ["calm"],
                }
            ],
        }
    }


def event(event_id: str, event_type: str = "mood_logged", score=7, when: str = "2026-11-30T08:00:00Z") -> dict:
    return {
        "event_id": event_id,
        "event_type": event_type,
        "event_time": when,
        "payload": {"score": score, "note": "fine"},
    }


# --- requests ---------------------------------------------------------------------------------
def post(
    url: str,
    body,
    *,
    headers: dict | None = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
    timeout: float = 30,
) -> tuple[int, object]:
    """POST ``body`` (JSON) or ``raw`` bytes; ``(status, parsed answer or text)``, never raising on 4xx/5xx."""
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text.decode(errors="replace")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def owntracks_headers(token: str, user: str = "me", device: str = "phone") -> dict:
    """As the OwnTracks app sends them: Basic auth and the X-Limit headers."""
    return {**basic(user, token), "X-Limit-U": user, "X-Limit-D": device}
