"""The spool's streams: one bronze table each, read past the last loaded ``seq``.

What is specific here is each app's natural id and time; reading, state and
compaction are the same for all (``SpoolStream``). Lineage (endpoint, request
id, OwnTracks user and device, spool seq) goes into ``metadata``; ``raw_data``
is the item exactly as the app sent it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from bronze_core.envelope import PayloadValidator
from bronze_core.fields import When
from bronze_core.streams import BronzeStream
from bronze_core.timestamps import parse_timestamp, to_utc_iso
from tap_events import apps

SCHEMAS = Path(__file__).parent / "schemas"
UTC = dt.UTC


def _iso(value: Any) -> str:
    """A time as the one spelling raw_ids use (UTC ISO 8601); a bare date stays a date."""
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return text
    return to_utc_iso(parse_timestamp(text))


class SpoolStream(BronzeStream):
    """Items of one stream of the spool; state is ``{"seq": <last seq read>}``.

    At the start, the state Meltano hands over is what the target committed: the
    items up to it are in bronze, so those older than ``retention_days`` are
    deleted from the spool. Items arriving during the run wait for the next one.
    """

    replication_key = None
    schemas_dir = SCHEMAS

    def __init__(self, tap, name: str | None = None):
        super().__init__(tap, name=name or self.name)

    def get_records(self, context):
        spool = self._tap.spool
        start = int(self.stream_state.get("seq") or 0)
        if start:
            gone = spool.compact(self.name, start, float(self.config["retention_days"]))
            if gone:
                self.logger.info(
                    "%s: compacted %d loaded spool items older than %s days",
                    self.name,
                    gone,
                    self.config["retention_days"],
                )
        last = start
        for seq, payload, context_json in spool.read(self.name, start):
            lineage = {**json.loads(context_json), "spool_seq": seq}
            yield self.to_bronze(json.loads(payload), lineage)
            last = seq
        self.stream_state["seq"] = last


# --- Overland -----------------------------------------------------------------------
class OverlandLocations(SpoolStream):
    """Overland GeoJSON Features; raw_id ``<device_id>|<timestamp UTC>``."""

    name = "overland__locations"
    source = "overland"
    payload_schema_name = "overland_location"
    time_field = ("properties", "timestamp")

    def payload_id(self, payload: Any, lineage: Mapping[str, Any]) -> Any:
        """Device and time, the time normalised to UTC (a resend from another zone is the same id)."""
        props = payload["properties"]
        return f"{str(props.get('device_id') or '').strip()}|{_iso(props['timestamp'])}"


# --- OwnTracks ------------------------------------------------------------------------
def _tracker(payload: Mapping[str, Any], lineage: Mapping[str, Any]) -> str:
    """Who sent it: ``user/device`` (headers or Basic user), else the two-letter ``tid``."""
    if lineage.get("user") or lineage.get("device"):
        return f"{lineage.get('user') or ''}/{lineage.get('device') or ''}"
    return str(payload.get("tid") or "")


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value, tz=UTC) if isinstance(value, (int, float)) else None


class OwntracksLocations(SpoolStream):
    """OwnTracks ``location`` messages; raw_id ``<tracker>|<tst>``."""

    name = "owntracks__locations"
    source = "owntracks"
    payload_schema_name = "owntracks_location"
    time_field = When("tst", _epoch)

    def payload_id(self, payload: Any, lineage: Mapping[str, Any]) -> Any:
        """The tracker comes from the request (headers or Basic user), not the payload."""
        if not isinstance(payload.get("tst"), (int, float)):
            return None
        return f"{_tracker(payload, lineage)}|{int(payload['tst'])}"


class OwntracksMessages(OwntracksLocations):
    """Every other OwnTracks message (transition, waypoint, lwt, card, ...);
    raw_id ``<_type>|<tracker>|<tst>`` (a card, which has no tst: ``card|<tracker>|``,
    so a new card is a new version of the same row)."""

    name = "owntracks__messages"
    payload_schema_name = "owntracks_message"

    def payload_id(self, payload: Any, lineage: Mapping[str, Any]) -> Any:
        tst = payload.get("tst")
        return (
            f"{payload.get('_type')}|{_tracker(payload, lineage)}|{int(tst) if isinstance(tst, (int, float)) else ''}"
        )


# --- Health Auto Export -----------------------------------------------------------------
class HealthMetrics(SpoolStream):
    """One metric data point each (``{"name", "units", "data": [point]}``);
    raw_id ``<metric>|<source>|<date>`` (per-stage sleep: its startDate), so the
    same samples sent again by "previous 7 days" land nothing new."""

    name = "health_auto_export__metrics"
    source = "health_auto_export"
    payload_schema_name = "health_metric"

    def payload_id(self, payload: Any, lineage: Mapping[str, Any]) -> Any:
        point = payload["data"][0]
        return f"{payload['name']}|{str(point.get('source') or '').strip()}|{_iso(apps.point_time(point))}"

    def payload_time(self, payload: Any) -> dt.datetime | None:
        return parse_timestamp(apps.point_time(payload["data"][0]))


class HealthSection(SpoolStream):
    """Workouts and the newer sections: raw_id the entry's ``id``, else its start or date."""

    source = "health_auto_export"

    def payload_id(self, payload: Any, lineage: Mapping[str, Any]) -> Any:
        key = apps.section_key(payload)
        if key is None:
            return None
        if key == payload.get("id"):
            return str(key).strip()
        return f"{payload.get('name') or lineage.get('section') or ''}|{_iso(key)}"

    def payload_time(self, payload: Any) -> dt.datetime | None:
        for name in ("start", "startDate", "date"):
            if payload.get(name):
                return parse_timestamp(payload[name])
        return None


def health_sections(tap, spooled: list[str]) -> list[HealthSection]:
    """Workouts always; the newer sections once the spool holds some (no empty tables for
    sections an app version never sends)."""
    names = ["health_auto_export__workouts"]
    names += [
        f"health_auto_export__{name}"
        for name in (*apps.HAE_SECTIONS.values(), apps.HAE_OTHER)
        if f"health_auto_export__{name}" in spooled
    ]
    return [HealthSection(tap, name=name) for name in names]


# --- your own events -----------------------------------------------------------------------
class EventStream(SpoolStream):
    """``events__<event_type>``: raw_id the ``event_id``; checked against the contract
    ``<contracts_dir>/<event_type>.json`` (no contract: the rows land ``invalid`` saying so)."""

    source = "events"

    @property
    def event_type(self) -> str:
        return self.name.removeprefix("events__")

    @cached_property
    def payload_validator(self) -> PayloadValidator | None:
        path = Path(self.config["contracts_dir"]) / f"{self.event_type}.json"
        if not path.exists():
            return _MissingContract(path.name)
        return PayloadValidator(json.loads(path.read_text(encoding="utf-8")))

    def payload_id(self, payload: Any, lineage: Mapping[str, Any]) -> Any:
        return str(payload["event_id"]).strip()

    def payload_time(self, payload: Any) -> dt.datetime | None:
        return parse_timestamp(apps.event_time(payload))


class _MissingContract:
    """Stands in for a validator when the event type has no contract file: every row says so."""

    def __init__(self, file_name: str):
        self.message = f"no contract for this event_type ({file_name} in contracts_dir)"

    def errors(self, payload: Any) -> list[str]:
        return [self.message]
