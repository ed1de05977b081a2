"""tap-manual: hand-kept logs, one sub-folder per stream, each with the JSON Schema its rows must meet."""

from __future__ import annotations

from pathlib import Path

from singer_sdk import typing as th

from bronze_core.file_streams import FILE_SETTINGS
from bronze_core.settings import required_path, required_timezone, unique_stream_names
from bronze_core.tap import BronzeTap
from tap_manual.streams import ManualStream, SchemaError


class TapManual(BronzeTap):
    """Rows of the ``.csv`` / ``.jsonl`` files in each sub-folder of ``manual_dir``; the folder names the stream."""

    name = "tap-manual"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "manual_dir",
            th.StringType,
            default="manual",
            description="Folder with one sub-folder per stream (e.g. water_intake/), each "
            "holding schema.json and .csv or .jsonl files.",
        ),
        th.Property(
            "timezone", th.StringType, default="UTC", description="IANA zone for times written without an offset."
        ),
        *FILE_SETTINGS,
    ).to_dict()

    def discover_streams(self):
        root = required_path(self.name, self.config, "manual_dir", folder=True, hint="; start from samples/manual/")
        required_timezone(self.name, self.config)
        try:
            streams = [ManualStream(self, folder) for folder in self._stream_folders(root)]
        except (SchemaError, ValueError) as exc:
            raise SystemExit(f"{self.name}: {exc}") from None
        return unique_stream_names(self.name, streams, "folders")

    def _stream_folders(self, root: Path) -> list[Path]:
        """The sub-folders of ``manual_dir``; a link to a folder outside it is skipped (and
        named in the log) unless ``follow_symlinks`` is set, like any link in a drop folder."""
        real_root = root.resolve()
        folders = []
        for folder in sorted(root.iterdir()):
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            target = folder.resolve()
            if folder.is_symlink() and real_root not in target.parents and not self.config.get("follow_symlinks"):
                self.logger.warning(
                    "%s: skipped symbolic link %s (a link to %s, outside %s; set follow_symlinks to read it)",
                    self.name,
                    folder,
                    target,
                    root,
                )
                continue
            folders.append(folder)
        return folders


if __name__ == "__main__":
    TapManual.cli()
