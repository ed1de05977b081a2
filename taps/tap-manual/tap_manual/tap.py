"""tap-manual: hand-kept logs, one sub-folder per stream, each with the JSON Schema its rows must meet."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from singer_sdk import typing as th

from bronze_core.file_streams import FILE_SETTINGS
from bronze_core.tap import BronzeTap
from tap_manual.streams import ManualStream, SchemaError


class TapManual(BronzeTap):
    """Rows of the ``.csv`` / ``.jsonl`` files in each sub-folder of ``manual_dir``; the folder names the stream."""

    name = "tap-manual"
    package_name = "tap-manual"

    config_jsonschema = th.PropertiesList(
        th.Property("manual_dir", th.StringType, default="manual",
                    description="Folder with one sub-folder per stream (e.g. water_intake/), each "
                                "holding schema.json and .csv or .jsonl files."),
        th.Property("timezone", th.StringType, default="UTC",
                    description="IANA zone for times written without an offset."),
        *FILE_SETTINGS,
    ).to_dict()

    def discover_streams(self):
        root = Path(self.config["manual_dir"]).expanduser()
        if not root.is_dir():
            raise SystemExit(f"{self.name}: manual_dir {str(root)!r} is not a folder "
                             "(setting manual_dir, TAP_MANUAL_MANUAL_DIR); start from samples/manual/")
        try:
            ZoneInfo(self.config["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise SystemExit(f"{self.name}: timezone {self.config['timezone']!r} is not an IANA "
                             "time zone name (setting timezone)") from None
        try:
            streams = [ManualStream(self, folder) for folder in self._stream_folders(root)]
        except (SchemaError, ValueError) as exc:
            raise SystemExit(f"{self.name}: {exc}") from None
        names = [stream.name for stream in streams]
        clashes = sorted({name for name in names if names.count(name) > 1})
        if clashes:
            raise SystemExit(f"{self.name}: these folders map to the same stream name: {clashes}; "
                             "rename one")
        return streams

    def _stream_folders(self, root: Path) -> list[Path]:
        """The sub-folders of ``manual_dir``; a link to a folder outside it is skipped (and
        named in the log) unless ``follow_symlinks`` is set, like any link in a drop folder."""
        real_root = root.resolve()
        folders = []
        for folder in sorted(root.iterdir()):
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            target = folder.resolve()
            if (folder.is_symlink() and real_root not in target.parents
                    and not self.config.get("follow_symlinks")):
                self.logger.warning("%s: skipped symbolic link %s (a link to %s, outside %s; set "
                                    "follow_symlinks to read it)", self.name, folder, target, root)
                continue
            folders.append(folder)
        return folders


if __name__ == "__main__":
    TapManual.cli()
