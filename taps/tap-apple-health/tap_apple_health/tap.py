"""tap-apple-health: an Apple Health export into bronze, read in place and streamed."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th

from bronze_core.file_streams import FILE_SETTINGS
from bronze_core.settings import required_path
from bronze_core.tap import BronzeTap
from tap_apple_health.shared_pass import SharedPass
from tap_apple_health.streams import STREAMS


class TapAppleHealth(BronzeTap):
    """Apple Health records, workouts and activity summaries from an export."""

    name = "tap-apple-health"
    stream_types = STREAMS

    config_jsonschema = th.PropertiesList(
        th.Property(
            "export_path",
            th.StringType,
            description="The Apple Health export: `export.zip` as the Health app shares it "
            "(read in place, never unpacked), the folder it was unpacked to, "
            "or `export.xml` itself. An unchanged export is skipped by its "
            "checksum; a newer one lands only what is new.",
        ),
        *FILE_SETTINGS,
    ).to_dict()

    def sync_all(self) -> None:
        """Fail early and plainly when there is no export to read."""
        required_path(
            self.name,
            self.config,
            "export_path",
            hint=": point it at export.zip, the unpacked apple_health_export folder or export.xml",
        )
        try:
            super().sync_all()
        finally:
            self.shared_pass.close()

    @cached_property
    def shared_pass(self) -> SharedPass:
        """Elements the records stream's parse collects for the other streams."""
        return SharedPass()

    def load_streams(self):
        """Records first, so its pass over the export can serve the other streams."""
        return sorted(super().load_streams(), key=lambda stream: stream.tag != "Record")


if __name__ == "__main__":
    TapAppleHealth.cli()
