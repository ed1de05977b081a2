"""Apple Health export streams: one per kind of top-level element of ``export.xml``.

The export carries no sample ids (HealthKit's UUIDs are not exported), so a
row's ``raw_id`` is built from what tells one sample from another. Times in
it are normalised to UTC: Apple writes them in the zone the phone is in when
exporting, and one sample must keep its raw_id across exports made in
different zones.

- A ``Record``: type, source, start, end, value, unit and creation time, plus
  a digest of its ``MetadataEntry`` list when it has one. Type, source and
  interval alone are not one sample: a food log writes several entries with
  one interval (``DietaryEnergyConsumed`` 31.2, 0 and 0 kcal), and "the latest
  version per raw_id" must never merge them. The ``device`` text is left out
  on purpose: it holds an object address (``<<HKDevice: 0x2831c4a50>, ...``)
  that is not the sample's. Elements identical in all of these are the same
  sample listed twice: they land as one row (same raw_id and raw_hash), and
  the stream's summary line counts them.
- A ``Workout``: activity type, source, start and end.
- An ``ActivitySummary``: its day (``dateComponents``).
"""

from __future__ import annotations

from typing import Any

from bronze_core.hashing import payload_hash
from bronze_core.timestamps import parse_timestamp
from tap_apple_health.client import AppleHealthStream


def utc_text(value: Any) -> str:
    """An Apple timestamp (``2024-01-04 12:00:00 +0100``) as ``2024-01-04T11:00:00Z``;
    empty when absent. Raises ``ValueError`` for text that is not a time."""
    moment = parse_timestamp(value)
    if moment is None:
        return ""
    return moment.isoformat().replace("+00:00", "Z")


def identity(
    payload: dict,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    times: frozenset[str] = frozenset({"startDate", "endDate", "creationDate"}),
) -> str:
    """The ``required`` then ``optional`` attributes of an element joined by ``|``: text
    trimmed, times in UTC. A required one missing raises ``KeyError`` (the row is then
    invalid: no natural id); an optional one missing is an empty part."""
    values = [payload[name] for name in required] + [payload.get(name) for name in optional]
    return "|".join(
        utc_text(value) if name in times else (value or "").strip() for name, value in zip(required + optional, values)
    )


class RecordsStream(AppleHealthStream):
    """Every ``<Record>`` (steps, heart rate, sleep, water, body mass...), one stream for all types.

    The type is a column away in SQL (``raw_data->>'type'``); one table per
    type belongs to silver, and one stream keeps a new HealthKit type from
    needing a tap release.
    """

    name = "apple_health__records"
    tag = "Record"

    def spool_for_others(self, source):
        """Records run first and parse the whole export: they collect the selected other streams' elements."""
        others = [
            stream.tag
            for stream in self._tap.streams.values()
            if isinstance(stream, AppleHealthStream) and stream is not self and stream.selected
        ]
        if not others:
            return None
        return self._tap.shared_pass.writer(source.relative_path, self.current_file.sha256, others)

    def payload_id(self, payload, lineage):
        """``type|sourceName|start|end|value|unit|created`` (+ ``|meta:<digest>``); see the module.

        Not ``key_fields``: the times are normalised to UTC (one sample keeps its raw_id
        across exports made in different zones) and the metadata list is digested."""
        found = identity(payload, ("type", "sourceName", "startDate", "endDate"), ("value", "unit", "creationDate"))
        metadata = payload.get("MetadataEntry")
        if metadata:
            found += "|meta:" + payload_hash(metadata)[:16]
        return found


class WorkoutsStream(AppleHealthStream):
    """``<Workout>`` with its statistics, events, metadata and route references."""

    name = "apple_health__workouts"
    tag = "Workout"

    def payload_id(self, payload, lineage):
        """Type, source and interval, times in UTC (as for records, not joined as written)."""
        return identity(payload, ("workoutActivityType", "sourceName", "startDate", "endDate"))


class ActivitySummariesStream(AppleHealthStream):
    """``<ActivitySummary>``: the day's rings, one per calendar day (``dateComponents``)."""

    name = "apple_health__activity_summaries"
    tag = "ActivitySummary"

    key_fields = ("dateComponents",)
    time_field = "dateComponents"


STREAMS = (RecordsStream, WorkoutsStream, ActivitySummariesStream)
