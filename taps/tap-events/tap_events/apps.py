"""What each pushing app sends, split into the items the spool keeps (one per bronze row).

Shapes as the apps document them (../shared/SOURCES.md, "Pushed sources"):

- Overland: ``{"locations": [GeoJSON Feature, ...], ...}``; one item per Feature.
- OwnTracks: one message ``{"_type": "location", "lat", "lon", "tst", ...}``;
  locations in ``owntracks__locations``, every other ``_type`` in ``owntracks__messages``.
- Health Auto Export: ``{"data": {"metrics": [...], "workouts": [...], ...}}``; one
  item per metric data point (the metric with that one point: ``{"name", "units",
  "data": [point]}``, the app's own shape cut to one point), one per workout, one
  per entry of the newer sections.
- Your own events: one object or an array, each with ``event_id``, ``event_type``
  and ``event_time`` (or ``timestamp``), checked against ``<contracts>/<event_type>.json``.

Each item gets an outcome: ``accepted`` (stored), ``invalid`` (stored, but it
breaks its contract or lacks what its row is keyed by: it lands ``invalid``
with the reason), or ``rejected`` (not stored: it cannot be keyed at all, the
reason says why). Overland items are never rejected: the app resends the whole
batch until it gets ``{"result": "ok"}``, so everything is stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bronze_core.envelope import PayloadValidator
from bronze_core.timestamps import parse_timestamp
from tap_events.spool import Item

ACCEPTED, INVALID, REJECTED, DUPLICATE = "accepted", "invalid", "rejected", "duplicate"

#: Event types become table names (``events__<event_type>``): lower-case, short, plain.
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,47}")
#: Health Auto Export's newer sections and their tables (``health_auto_export__<name>``).
HAE_SECTIONS = {
    "stateOfMind": "state_of_mind",
    "medications": "medications",
    "symptoms": "symptoms",
    "cycleTracking": "cycle_tracking",
    "ecg": "ecg",
    "heartRateNotifications": "heart_rate_notifications",
}
HAE_OTHER = "other"


class BadBody(ValueError):
    """JSON, but not the shape the endpoint takes (the answer is 400 with this text)."""


@dataclass
class Outcome:
    """One item of a request and what became of it."""

    item: Item | None
    outcome: str
    reason: str | None = None
    key: str | None = None  # what the client calls it (an event_id), for the answer


def _readable_time(value: Any) -> bool:
    try:
        return parse_timestamp(value) is not None
    except (TypeError, ValueError, OverflowError):
        return False


# --- Overland -------------------------------------------------------------------
def overland(body: Any, context: dict) -> list[Outcome]:
    if not isinstance(body, dict) or not isinstance(body.get("locations"), list):
        raise BadBody('an Overland batch is an object {"locations": [Feature, ...]}')
    found = []
    for feature in body["locations"]:
        item = Item("overland__locations", feature, context)
        props = feature.get("properties") if isinstance(feature, dict) else None
        when = props.get("timestamp") if isinstance(props, dict) else None
        if _readable_time(when):
            found.append(Outcome(item, ACCEPTED))
        else:
            found.append(Outcome(item, INVALID, "no readable properties.timestamp (kept, lands invalid)"))
    return found


# --- OwnTracks ------------------------------------------------------------------
def owntracks(body: Any, context: dict) -> list[Outcome]:
    if not isinstance(body, dict):
        raise BadBody('an OwnTracks message is one JSON object with "_type"')
    kind = body.get("_type")
    stream = "owntracks__locations" if kind == "location" else "owntracks__messages"
    item = Item(stream, body, context)
    if kind == "location" and not isinstance(body.get("tst"), (int, float)):
        return [Outcome(item, INVALID, "location without a numeric tst (kept, lands invalid)")]
    return [Outcome(item, ACCEPTED)]


# --- Health Auto Export -----------------------------------------------------------
def point_time(point: dict) -> Any:
    """A data point's time: ``date``, or ``startDate`` for per-stage sleep and similar."""
    return point.get("date", point.get("startDate"))


def section_key(entry: dict) -> Any:
    """What keys a workout or a newer section's entry: its ``id``, else its start or date."""
    for name in ("id", "start", "startDate", "date"):
        if entry.get(name) not in (None, ""):
            return entry[name]
    return None


def health_auto_export(body: Any, context: dict) -> list[Outcome]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise BadBody('a Health Auto Export body is an object {"data": {"metrics": [...], ...}}')
    found: list[Outcome] = []
    for section, entries in data.items():
        if not isinstance(entries, list):
            found.append(Outcome(None, REJECTED, f"data.{section} is not a list"))
            continue
        if section == "metrics":
            found += _metrics(entries, context)
            continue
        table = {"workouts": "workouts"}.get(section) or HAE_SECTIONS.get(section, HAE_OTHER)
        where = {**context, "section": section}
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict) or section_key(entry) is None:
                found.append(Outcome(None, REJECTED, f"data.{section}[{n}] has no id, start or date"))
            else:
                found.append(Outcome(Item(f"health_auto_export__{table}", entry, where), ACCEPTED))
    return found


def _metrics(metrics: list, context: dict) -> list[Outcome]:
    found = []
    for m, metric in enumerate(metrics):
        if not isinstance(metric, dict) or not metric.get("name") or not isinstance(metric.get("data"), list):
            found.append(Outcome(None, REJECTED, f"data.metrics[{m}] is not a metric with a name and data"))
            continue
        outer = {key: value for key, value in metric.items() if key != "data"}
        for n, point in enumerate(metric["data"]):
            if not isinstance(point, dict) or not _readable_time(point_time(point)):
                found.append(
                    Outcome(None, REJECTED, f"data.metrics[{m}] ({metric['name']}) point {n} has no readable date")
                )
                continue
            found.append(Outcome(Item("health_auto_export__metrics", {**outer, "data": [point]}, context), ACCEPTED))
    return found


# --- your own events --------------------------------------------------------------
def event_time(event: dict) -> Any:
    return event.get("event_time", event.get("timestamp"))


class Contracts:
    """The JSON Schemas of ``<folder>/<event_type>.json``, read again when a file changes."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._cache: dict[str, tuple[float, PayloadValidator]] = {}

    def errors(self, event_type: str, event: dict) -> list[str]:
        """The contract's violations; a missing or broken contract is one too."""
        path = self.folder / f"{event_type}.json"
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return [f"no contract for event_type {event_type!r} ({path.name} in the contracts folder)"]
        cached = self._cache.get(event_type)
        if cached is None or cached[0] != mtime:
            try:
                cached = (mtime, PayloadValidator(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError) as exc:
                return [f"contract {path.name} cannot be read: {exc}"]
            self._cache[event_type] = cached
        return cached[1].errors(event)


def events(body: Any, context: dict, contracts: Contracts) -> list[Outcome]:
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        raise BadBody("events are one JSON object or an array of them")
    return [_event(n, event, context, contracts) for n, event in enumerate(body)]


def _event(n: int, event: Any, context: dict, contracts: Contracts) -> Outcome:
    if not isinstance(event, dict):
        return Outcome(None, REJECTED, f"item {n} is not an object")
    event_id = event.get("event_id")
    key = str(event_id).strip() if isinstance(event_id, (str, int)) and not isinstance(event_id, bool) else ""
    if not key:
        return Outcome(None, REJECTED, f"item {n}: no event_id (a non-empty string or integer)")
    kind = event.get("event_type")
    if not isinstance(kind, str) or not EVENT_TYPE.fullmatch(kind):
        return Outcome(None, REJECTED, f"item {n}: event_type must match {EVENT_TYPE.pattern}", key)
    if not _readable_time(event_time(event)):
        return Outcome(None, REJECTED, f"item {n}: no readable event_time (ISO 8601)", key)
    item = Item(f"events__{kind}", event, context, event_id=key)
    errors = contracts.errors(kind, event)
    if errors:
        return Outcome(item, INVALID, "; ".join(errors), key)
    return Outcome(item, ACCEPTED, key=key)
