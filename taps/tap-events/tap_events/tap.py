"""tap-events: what the collector accepted (Overland, OwnTracks, Health Auto Export, your own events)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from singer_sdk import typing as th

from bronze_core.tap import BronzeTap
from tap_events.apps import EVENT_TYPE
from tap_events.spool import Spool
from tap_events.streams import (
    EventStream,
    HealthMetrics,
    OverlandLocations,
    OwntracksLocations,
    OwntracksMessages,
    health_sections,
)


class TapEvents(BronzeTap):
    """Reads the collector's spool past each stream's last loaded ``seq``; compacts what is loaded."""

    name = "tap-events"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "spool_path",
            th.StringType,
            required=True,
            description="The collector's spool (COLLECTOR_SPOOL), an SQLite file.",
        ),
        th.Property(
            "contracts_dir",
            th.StringType,
            required=True,
            description="Folder of the event contracts, <event_type>.json (COLLECTOR_CONTRACTS).",
        ),
        th.Property(
            "retention_days",
            th.NumberType,
            default=7,
            description="Days a loaded item stays in the spool before it is compacted away "
            "(it is in bronze by then; 0 compacts at the next run).",
        ),
    ).to_dict()

    @cached_property
    def spool(self) -> Spool:
        return Spool(Path(self.config["spool_path"]).expanduser())

    def event_types(self, spooled: list[str]) -> list[str]:
        """Event types with a contract, and those the spool holds (a contract may come later)."""
        folder = Path(self.config["contracts_dir"]).expanduser()
        found = {path.stem for path in folder.glob("*.json")} if folder.is_dir() else set()
        found |= {name.removeprefix("events__") for name in spooled if name.startswith("events__")}
        usable = {kind for kind in found if EVENT_TYPE.fullmatch(kind)}
        for kind in sorted(found - usable):
            self.logger.warning(
                "%s: contract %s.json skipped: event types must match %s", self.name, kind, EVENT_TYPE.pattern
            )
        return sorted(usable)

    def discover_streams(self):
        spooled = self.spool.streams()
        fixed = [
            OverlandLocations(self),
            OwntracksLocations(self),
            OwntracksMessages(self),
            HealthMetrics(self),
            *health_sections(self, spooled),
        ]
        return fixed + [EventStream(self, name=f"events__{kind}") for kind in self.event_types(spooled)]


if __name__ == "__main__":
    TapEvents.cli()
