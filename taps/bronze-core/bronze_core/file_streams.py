"""The base of every stream that reads files (exports, drop folders).

State keeps each file's sha256 under ``files`` in the stream's state, so a
re-run skips unchanged files and re-reads changed ones (whose unchanged rows
are no-ops in bronze). A file that cannot be parsed is reported with its path
and line, its good items still land, and it is not marked done, so it is read
again next time; the tap then exits non-zero once everything else has landed,
so the run shows as failed (and `make status` says so) until the file is fixed. The state is written by singer-sdk when the stream ends: a
run that dies part-way re-reads its files on the next run, which lands
nothing twice because rows are keyed by (raw_id, raw_hash).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from bronze_core.files import FileFormatError, SourceFile, iter_json_array, list_files
from bronze_core.streams import BronzeStream


class BronzeFileStream(BronzeStream):
    """Emits one bronze row per item of the files matching ``file_patterns``."""

    #: fnmatch patterns of the relative paths this stream reads.
    file_patterns: Sequence[str] = ()
    #: Files are tracked by checksum, not by a record cursor.
    replication_key = None

    def files_root(self) -> Path:
        """The folder or zip to search; taps say which setting holds it."""
        raise NotImplementedError

    def read_items(self, source: SourceFile) -> Iterable[tuple[dict[str, Any], Any]]:
        """``(position, payload)`` pairs of a file; JSON arrays by default."""
        for index, item in iter_json_array(source):
            yield {"item": index}, item

    def get_records(self, context) -> Iterator[dict]:
        done: dict[str, str] = self.stream_state.setdefault("files", {})
        for source in list_files(self.files_root(), self.file_patterns):
            try:
                digest = source.sha256()
            except (FileFormatError, OSError) as exc:  # too big, or gone since the listing
                self._file_problem(exc)
                continue
            if done.get(source.relative_path) == digest:
                self.logger.info("%s: %s unchanged, skipped", self.name, source.display_path)
                continue
            self.logger.info("%s: reading %s (%.1f MB)", self.name, source.display_path, source.size / 1e6)
            lineage = {"file": source.relative_path, "archive": source.root, "file_sha256": digest}
            try:
                for position, payload in self.read_items(source):
                    yield self.to_bronze(payload, {**lineage, **position})
            except (FileFormatError, OSError) as exc:
                self._file_problem(exc)
                continue
            done[source.relative_path] = digest

    def _file_problem(self, exc: Exception) -> None:
        """Report a file that could not be read; the run fails once everything else landed."""
        self.logger.error("%s: %s (any rows before it landed; the file will be read "
                          "again on the next run)", self.name, exc)
        problems = getattr(self._tap, "problems", None)
        if problems is not None:
            problems.append(str(exc))
