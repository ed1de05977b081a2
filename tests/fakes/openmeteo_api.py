"""A local fake of the Open-Meteo historical weather API (``/v1/archive``).

Answers in the API's documented shape: place fields (``latitude``,
``longitude``, ``utc_offset_seconds``, ``timezone``, ``timezone_abbreviation``,
``elevation``), ``generationtime_ms`` (different on every call, as for real),
and column-oriented ``hourly``/``daily`` objects whose ``time`` arrays hold
local times without offset. Unknown variables get a 400 with
``{"error": true, "reason": ...}``; ``fail_next(429)`` mimics the rate limit,
which has a JSON ``reason`` and no ``Retry-After``.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from tests.fakes.http_fake import FakeAPI, Request

HOURLY = {"temperature_2m": "°C", "relative_humidity_2m": "%", "precipitation": "mm", "wind_speed_10m": "km/h"}
DAILY = {
    "temperature_2m_max": "°C",
    "temperature_2m_min": "°C",
    "precipitation_sum": "mm",
    "sunrise": "iso8601",
    "sunset": "iso8601",
}


class FakeOpenMeteo(FakeAPI):
    """Deterministic weather for any place and day (values depend on place, day and hour)."""

    def __init__(self, seed: int = 1):
        super().__init__()
        self.seed = seed
        self.revisions: dict[dt.date, float] = {}  # day -> temperature shift (ERA5 revising a day)

    def revise(self, day: dt.date, shift: float = 0.4) -> None:
        with self._lock:
            self.revisions[day] = shift

    def _value(self, variable: str, lat: float, lon: float, day: dt.date, hour: int = 12):
        rng = random.Random(f"{self.seed}:{variable}:{lat:.2f}:{lon:.2f}:{day}:{hour}")
        season = 10 * math.sin((day.timetuple().tm_yday - 110) / 365 * 2 * math.pi)
        daily_cycle = 4 * math.sin((hour - 9) / 24 * 2 * math.pi)
        shift = self.revisions.get(day, 0.0)
        if variable.startswith("temperature_2m"):
            base = 9 + season + shift + (daily_cycle if variable == "temperature_2m" else 0)
            return round(
                base
                + (4 if variable.endswith("max") else -4 if variable.endswith("min") else 0)
                + rng.uniform(-1.5, 1.5),
                1,
            )
        if variable == "relative_humidity_2m":
            return rng.randint(45, 98)
        if variable.startswith("precipitation"):
            return round(max(0.0, rng.gauss(0.1, 0.4)) * (24 if variable.endswith("sum") else 1), 1)
        if variable == "wind_speed_10m":
            return round(rng.uniform(2, 30), 1)
        if variable in ("sunrise", "sunset"):
            minutes = (6 * 60 if variable == "sunrise" else 19 * 60) - round(season * 9)
            return f"{day}T{minutes // 60:02d}:{minutes % 60:02d}"
        raise KeyError(variable)

    def answer(self, request: Request) -> tuple[int, object, dict]:
        if request.path != "/v1/archive":
            return 404, {"error": True, "reason": "Not Found"}, {}
        q = request.query
        try:
            lat, lon = float(q["latitude"]), float(q["longitude"])
            first, last = dt.date.fromisoformat(q["start_date"]), dt.date.fromisoformat(q["end_date"])
        except (KeyError, ValueError) as exc:
            return 400, {"error": True, "reason": f"Parameter is missing or invalid: {exc}"}, {}
        hourly = [v for v in q.get("hourly", "").split(",") if v]
        daily = [v for v in q.get("daily", "").split(",") if v]
        unknown = [v for v in hourly if v not in HOURLY] + [v for v in daily if v not in DAILY]
        if unknown:
            return (
                400,
                {"error": True, "reason": f"Cannot initialize WeatherVariable from invalid String value {unknown[0]}"},
                {},
            )
        offset = round(lon / 15) * 3600 if q.get("timezone", "GMT") == "auto" else 0
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        with self._lock:
            body = {
                "latitude": round(lat, 4),
                "longitude": round(lon, 4),
                "generationtime_ms": random.uniform(0.1, 3),
                "utc_offset_seconds": offset,
                "timezone": "GMT" if not offset else f"Etc/GMT{-offset // 3600:+d}",
                "timezone_abbreviation": "GMT" if not offset else f"GMT{offset // 3600:+d}",
                "elevation": round(abs(lat * 3.1) % 400, 1),
            }
            if hourly:
                body["hourly_units"] = {"time": "iso8601", **{v: HOURLY[v] for v in hourly}}
                body["hourly"] = {
                    "time": [f"{d}T{h:02d}:00" for d in days for h in range(24)],
                    **{v: [self._value(v, lat, lon, d, h) for d in days for h in range(24)] for v in hourly},
                }
            if daily:
                body["daily_units"] = {"time": "iso8601", **{v: DAILY[v] for v in daily}}
                body["daily"] = {
                    "time": [d.isoformat() for d in days],
                    **{v: [self._value(v, lat, lon, d) for d in days] for v in daily},
                }
        return 200, body, {}
