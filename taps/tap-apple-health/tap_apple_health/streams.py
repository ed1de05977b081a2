"""Apple Health export streams: one per kind of top-level element of ``export.xml``.

The export carries no ids, so a row's ``raw_id`` is built from what identifies
the sample: its type, source and interval (a day for activity summaries).
"""

from __future__ import annotations

from bronze_core.timestamps import parse_timestamp
from tap_apple_health.client import AppleHealthStream


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
        others = [stream.tag for stream in self._tap.streams.values()
                  if isinstance(stream, AppleHealthStream) and stream is not self
                  and stream.selected]
        if not others:
            return None
        return self._tap.shared_pass.writer(source.relative_path, self.current_file.sha256, others)

    def payload_id(self, payload, lineage):
        return "|".join(payload[k] for k in ("type", "sourceName", "startDate", "endDate"))


class WorkoutsStream(AppleHealthStream):
    """``<Workout>`` with its statistics, events, metadata and route references."""

    name = "apple_health__workouts"
    tag = "Workout"

    def payload_id(self, payload, lineage):
        return "|".join(payload[k] for k in ("workoutActivityType", "sourceName", "startDate", "endDate"))


class ActivitySummariesStream(AppleHealthStream):
    """``<ActivitySummary>``: the day's rings, one per calendar day (``dateComponents``)."""

    name = "apple_health__activity_summaries"
    tag = "ActivitySummary"

    def payload_id(self, payload, lineage):
        return payload["dateComponents"]

    def payload_time(self, payload):
        return parse_timestamp(payload.get("dateComponents"))


STREAMS = (RecordsStream, WorkoutsStream, ActivitySummariesStream)
