"""Open-Meteo historical weather: one bronze row per location and day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from singer_sdk.exceptions import RetriableAPIError

from bronze_core.http import BronzeRESTStream, NoAuth, RequestSpec, ResponseShape
from bronze_core.timestamps import UTC
from bronze_core.windows import date_windows, resume_day, start_day, today

SCHEMAS_DIR = Path(__file__).parent / "schemas"
DEFAULT_HISTORY_DAYS = 30
#: Response fields describing the place, kept with every day's slice.
PLACE_FIELDS = ("latitude", "longitude", "utc_offset_seconds", "timezone", "timezone_abbreviation", "elevation")


class WeatherStream(BronzeRESTStream):
    """Daily and hourly weather of each configured location, one row per location and day.

    The archive API answers column-oriented arrays for a date range. Each day's
    slice is kept in the API's own shape (``hourly``/``daily`` with their
    ``time`` arrays, the ``*_units`` and the place fields such as
    ``utc_offset_seconds``), nothing renamed or computed. ``generationtime_ms``
    changes on every request, so it goes to ``metadata``, not ``raw_data``:
    otherwise every refetch of an unchanged day would land as a new version.

    ERA5 lags about five days and recent days are revised, so each run asks
    again for the last ``trailing_days`` before the location's bookmark, in
    date windows of ``chunk_days``.
    """

    name = "openmeteo__weather"
    source = "openmeteo"
    schemas_dir = SCHEMAS_DIR
    path = "/archive"
    #: One cursor per location (its name): the last day asked for, in ``cursors``.
    state_partitioning_keys: list[str] = []
    auth_setting = "api_url"  # no credentials: a 401/403 can only mean a wrong URL

    @property
    def authenticator(self):
        return NoAuth()

    @property
    def response_shape(self) -> ResponseShape:
        """An object with the place and a column block for each kind of data asked for."""
        asked = tuple(kind for kind in ("hourly", "daily") if self.config.get(kind))
        return ResponseShape(dict, required=("latitude", "longitude", "utc_offset_seconds", *asked))

    def validate_response(self, response) -> None:
        """The archive answers every day of the range asked for (values null where ERA5 has
        none yet); an answer without some of them would leave those days out for good."""
        super().validate_response(response)
        missing = self.missing_days(response)
        if missing:
            raise RetriableAPIError(
                self.response_error_message(
                    response, f"answered without {len(missing)} of the days asked for (first: {missing[0]})"
                ),
                response,
            )

    def missing_days(self, response) -> list[str]:
        """Days of the requested window absent from a ``time`` array of the answer."""
        query = dict(parse_qsl(urlsplit(response.request.url).query))
        first, last = dt.date.fromisoformat(query["start_date"]), dt.date.fromisoformat(query["end_date"])
        asked = [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
        body = self.response_json(response)
        found: set[str] | None = None
        for kind in ("hourly", "daily"):
            if self.config.get(kind):
                block = body.get(kind)
                times = block.get("time") if isinstance(block, dict) else None
                days = {str(stamp)[:10] for stamp in times} if isinstance(times, list) else set()
                found = days if found is None else found & days
        return [] if found is None else [day for day in asked if day not in found]

    def fetch_records(self, context):
        last = today()
        for location in self.config["locations"]:
            scope = {"location": location["name"]}
            first = resume_day(
                start_day(self.config, DEFAULT_HISTORY_DAYS), self.cursor(scope), int(self.config["trailing_days"])
            )
            for window in date_windows(first, last, int(self.config["chunk_days"])):
                yield from self.fetch(RequestSpec(self.path, self.params(location, window), context=scope))
            self.save_cursor(scope, last)

    def cursor_scope(self, context) -> str | None:
        return context["location"] if context else None

    def upgrade_state(self, state: dict) -> None:
        """The previous version kept ``through: {location: last day}``: those are the cursors."""
        through = state.pop("through", None)
        if isinstance(through, dict):
            cursors = state.setdefault("cursors", {})
            for location, day in through.items():
                cursors.setdefault(location, day)

    def params(self, location: dict, window) -> dict[str, Any]:
        return {
            "latitude": location["latitude"],
            "longitude": location["longitude"],
            "start_date": window.first.isoformat(),
            "end_date": window.last.isoformat(),
            "hourly": ",".join(self.config["hourly"]),
            "daily": ",".join(self.config["daily"]),
            "timezone": self.config["timezone"],
        }

    def request_lineage(self, response, context):
        lineage = super().request_lineage(response, context)
        lineage["location"] = context["location"]
        body = self.response_json(response) or {}
        lineage["generationtime_ms"] = body.get("generationtime_ms")
        return lineage

    def extract_payloads(self, response) -> Iterable[dict]:
        """Cut the column arrays into one slice per day, in the API's shape."""
        body = self.response_json(response) or {}
        place = {key: body[key] for key in PLACE_FIELDS if key in body}
        hourly, daily = body.get("hourly") or {}, body.get("daily") or {}
        hours_by_day: dict[str, list[int]] = {}
        for index, stamp in enumerate(hourly.get("time") or []):
            hours_by_day.setdefault(stamp[:10], []).append(index)
        days = list(daily.get("time") or []) or list(hours_by_day)
        for day in days:
            payload = dict(place)
            if hourly:
                picks = hours_by_day.get(day, [])
                payload["hourly_units"] = body.get("hourly_units")
                payload["hourly"] = {key: [values[i] for i in picks] for key, values in hourly.items()}
            if daily:
                index = daily["time"].index(day)
                payload["daily_units"] = body.get("daily_units")
                payload["daily"] = {key: [values[index]] for key, values in daily.items()}
            yield payload

    def payload_id(self, payload, lineage):
        """``<location>:<day>``: the location is the configured name (the payload has only its
        coordinates), the day is the slice's, in the ``daily`` or else the ``hourly`` block."""
        return f"{lineage['location']}:{self._day(payload)}"

    def payload_time(self, payload):
        """Local midnight of the day, in UTC: the times carry no offset, the payload's
        ``utc_offset_seconds`` says it, so no ``time_field`` parser alone can read it."""
        midnight = dt.datetime.fromisoformat(self._day(payload)).replace(tzinfo=UTC)
        return midnight - dt.timedelta(seconds=payload.get("utc_offset_seconds") or 0)

    @staticmethod
    def _day(payload) -> str:
        if payload.get("daily"):
            return payload["daily"]["time"][0]
        return payload["hourly"]["time"][0][:10]
