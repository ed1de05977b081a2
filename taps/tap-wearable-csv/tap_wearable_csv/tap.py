"""tap-wearable-csv: Fitbit history from CSV exports (the Fitabase format), from a drop folder."""

from __future__ import annotations

from singer_sdk import typing as th

from bronze_core.file_streams import FILE_SETTINGS
from bronze_core.files.listing import list_files
from bronze_core.settings import required_path, required_timezone
from bronze_core.tap import BronzeTap
from tap_wearable_csv.dates import MONTH_FIRST, ORDERS
from tap_wearable_csv.streams import STREAM_TYPES


class TapWearableCsv(BronzeTap):
    """Every ``*_merged.csv`` of a Fitabase-style export found below ``data_dir``, one stream per file kind."""

    name = "tap-wearable-csv"
    stream_types = STREAM_TYPES

    config_jsonschema = th.PropertiesList(
        th.Property(
            "data_dir",
            th.StringType,
            default="data",
            description="The drop folder (or one .zip) holding the export's CSV files at "
            "any depth; zips dropped in the folder are read in place too.",
        ),
        th.Property(
            "timezone",
            th.StringType,
            default="UTC",
            description="IANA zone the export's zone-less times are read in for "
            "`source_timestamp` (the original text stays in `raw_data`).",
        ),
        th.Property(
            "date_order",
            th.StringType,
            default=MONTH_FIRST,
            allowed_values=list(ORDERS),
            description="How to read a file's dates when none of them shows which number "
            "is the day (every day 12 or less): `month-first` (4/12/2016 is "
            "April 12, as Fitabase writes) or `day-first`. A file whose dates "
            "show the order is read that way whatever this says.",
        ),
        *FILE_SETTINGS,
    ).to_dict()

    def sync_all(self) -> None:
        self._check_settings()
        self._report_unknown_files()
        super().sync_all()

    def _check_settings(self) -> None:
        """What the schema cannot check: the drop folder is there, the zone is a real one."""
        required_path(self.name, self.config, "data_dir")
        required_timezone(self.name, self.config)

    def _report_unknown_files(self) -> None:
        """A CSV the tap does not know is named in the log and left alone, never guessed at."""
        known = {stream.file_name for stream in STREAM_TYPES}
        for source in list_files(
            self.config["data_dir"],
            ["*.csv", "*.CSV"],
            nested_zips=True,
            problems=[],
            follow_symlinks=bool(self.config.get("follow_symlinks")),
        ):
            if source.relative_path.rsplit("/", 1)[-1] not in known:
                self.logger.warning(
                    "%s: %s is not a known export file; skipped (known: %s)",
                    self.name,
                    source.display_path,
                    ", ".join(sorted(known)),
                )


if __name__ == "__main__":
    TapWearableCsv.cli()
