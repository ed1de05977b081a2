"""The base of every stream that reads files (exports, drop folders).

State keeps, for each file, its sha256, size and line count under ``files``
in the stream's state, so a re-run skips unchanged files and re-reads changed
ones (whose unchanged rows are no-ops in bronze). Line-based files that only
grew (a CSV or JSON Lines log appended to) are read from where the last run
stopped, once the bytes already read are proven unchanged by their checksum.

A file that cannot be parsed is reported with its path and line, its good
items still land, and it is not marked done, so it is read again next time;
the tap then exits non-zero once everything else has landed, so the run shows
as failed (and `make status` says so) until the file is fixed. A truncated
zip (an interrupted download) is read up to the cut from its local headers:
what it holds lands, the cut is reported the same way, and its files are not
marked done. An export that cannot be read at all is reported too, so the
tap's other streams still land. The state is written by singer-sdk when the
stream ends: a run that dies part-way re-reads its files on the next run,
which lands nothing twice because rows are keyed by (raw_id, raw_hash).

Rows name their file relative to the configured folder (or as
``export.zip!member``), never by a path of this machine; logs give the full
path. Symbolic links leaving the folder are skipped and named in the log
unless the tap's ``follow_symlinks`` setting is true. Rows that repeat one
just read (same raw_id and content, e.g. an element the export lists twice)
land once; the stream's summary line says how many there were.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from singer_sdk import typing as th

from bronze_core.files.json_arrays import iter_json_array
from bronze_core.files.lines import FileRow, ResumePoint
from bronze_core.files.listing import list_files
from bronze_core.files.source import FileFormatError, SourceFile
from bronze_core.files.zips import damaged_zip
from bronze_core.streams import BronzeStream

#: Settings every file tap has (added to its ``config_jsonschema``).
FILE_SETTINGS = [
    th.Property(
        "follow_symlinks",
        th.BooleanType,
        default=False,
        description="Read files that symbolic links in the folder point to outside it. "
        "Off by default: such links are skipped and named in the log (links "
        "that stay inside the folder are always followed).",
    ),
]


@dataclass(frozen=True)
class Fingerprint:
    """What a run remembers of a file it has read completely."""

    sha256: str
    size: int
    lines: int
    #: sha256 of the first ``previous size`` bytes, to prove an append.
    prefix_sha256: str | None = None
    #: Whether the byte just before ``previous size`` is a newline.
    prefix_ends_line: bool = False

    def as_state(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "bytes": self.size, "lines": self.lines}


def fingerprint(source: SourceFile, prefix_size: int | None = None, chunk_size: int = 1 << 20) -> Fingerprint:
    """Hash a file in one streaming pass, also hashing its first ``prefix_size`` bytes.

    The one place a file's sha256 is taken (state, ``metadata.file_sha256``):
    read through the file's own reader, so a zip member's size cap holds.
    """
    digest, prefix_hex, ends_line, size, lines, last = hashlib.sha256(), None, False, 0, 0, b""
    with source.open() as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            if prefix_size is not None and prefix_hex is None and size + len(chunk) >= prefix_size:
                cut = prefix_size - size
                digest.update(chunk[:cut])
                prefix_hex = digest.hexdigest()
                ends_line = (chunk[:cut][-1:] or last) == b"\n"
                digest.update(chunk[cut:])
            else:
                digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return Fingerprint(digest.hexdigest(), size, lines, prefix_hex, ends_line)


def _remembered(entry: Any) -> Mapping[str, Any]:
    """State entries were plain sha256 strings before sizes were kept."""
    return {"sha256": entry} if isinstance(entry, str) else (entry or {})


class RecentKeys:
    """Whether a row's (raw_id, raw_hash) was seen among the last rows, in bounded memory.

    Exact duplicates in exports sit close together (an element listed twice
    among the samples of its type and time, the overlapping days of two
    files), so remembering the last ``window`` to ``2 * window`` keys finds
    them without keeping millions: about 0.6 us a row, memory flat.
    """

    def __init__(self, window: int = 10_000) -> None:
        self._window, self._new, self._old = window, set[int](), set[int]()

    def seen(self, raw_id: str, raw_hash: str) -> bool:
        key = hash((raw_id, raw_hash))
        if key in self._new or key in self._old:
            return True
        if len(self._new) >= self._window:
            self._old, self._new = self._new, set()
        self._new.add(key)
        return False


class BronzeFileStream(BronzeStream):
    """Emits one bronze row per item of the files matching ``file_patterns``."""

    #: fnmatch patterns of the relative paths this stream reads.
    file_patterns: Sequence[str] = ()
    #: Files are tracked by checksum, not by a record cursor.
    replication_key = None
    #: Line-based formats can continue an appended file where it stopped.
    appendable = False
    #: Also search zips dropped in a folder root (a broken one is reported, the rest read).
    nested_zips = False
    #: The fingerprint of the file ``read_items`` is reading (streams sharing one pass key on it).
    current_file: Fingerprint | None = None
    #: Rows of this run that repeated one just before (same raw_id and raw_hash): they land once.
    duplicates = 0

    def files_root(self) -> Path:
        """The folder or zip to search; taps say which setting holds it."""
        raise NotImplementedError

    def list_sources(self) -> list[SourceFile]:
        """The files this stream reads; broken zips in a drop folder are reported, not fatal;
        links leaving the folder are named in the log (once per tap run)."""
        broken: list[FileFormatError] = []
        skipped: list[str] = []
        found = list_files(
            self.files_root(),
            self.file_patterns,
            nested_zips=self.nested_zips,
            problems=broken,
            follow_symlinks=bool(self.config.get("follow_symlinks")),
            skipped=skipped,
        )
        for error in broken:
            self.report_problem(error, "the rest still lands; it will be read again on the next run")
        logged = self._tap.__dict__.setdefault("_skipped_links", set())  # once a run, not per stream
        for link in skipped:
            if link not in logged:
                logged.add(link)
                self.logger.warning("%s: skipped symbolic link %s", self.name, link)
        return found

    def report_problem(self, error: Exception, consequence: str) -> None:
        """Log a broken file now; the tap fails the run once everything else has landed."""
        self.logger.error("%s: %s (%s)", self.name, error, consequence)
        problems = getattr(self._tap, "problems", None)
        if problems is not None and str(error) not in problems:  # several streams may read one file
            problems.append(str(error))

    def read_items(self, source: SourceFile, resume: ResumePoint | None = None) -> Iterable[tuple[dict[str, Any], Any]]:
        """``(position, payload)`` pairs of a file, or ``FileRow``s; JSON arrays by default."""
        for index, item in iter_json_array(source):
            yield {"item": index}, item

    def resume_point(self, before: Mapping[str, Any], now: Fingerprint) -> ResumePoint | None:
        """Where to continue a file that only grew since it was read, if it did."""
        if (
            self.appendable
            and before.get("bytes")
            and now.size > before["bytes"]
            and now.prefix_sha256 == before.get("sha256")
            and now.prefix_ends_line
            and before.get("lines") is not None
        ):
            return ResumePoint(offset=before["bytes"], line=before["lines"] + 1)
        return None

    def get_records(self, context) -> Iterator[dict]:
        done: dict[str, Any] = self.stream_state.setdefault("files", {})
        self._recent, self.duplicates = RecentKeys(), 0
        try:
            sources = self.list_sources()
        except FileFormatError as exc:
            self.report_problem(exc, "nothing could be read from it")
            return
        damage = damaged_zip(self.files_root())
        if damage:
            self.report_problem(
                FileFormatError(str(self.files_root()), None, damage),
                "what it holds lands; replace it with a complete copy",
            )
        for source in sources:
            before = _remembered(done.get(source.relative_path))
            mtime = source.mtime_ns()
            try:
                now = fingerprint(source, before.get("bytes") if self.appendable else None)
            except (FileFormatError, OSError) as exc:  # too big, or gone since the listing
                self.report_problem(exc, "the file will be read again on the next run")
                continue
            if before.get("sha256") == now.sha256:
                self.logger.info("%s: %s unchanged, skipped", self.name, source.display_path)
                continue
            resume = self.resume_point(before, now)
            self.logger.info(
                "%s: reading %s (%.1f MB)%s",
                self.name,
                source.display_path,
                source.size / 1e6,
                f" from line {resume.line} (appended)" if resume else "",
            )
            lineage = {**source.lineage(), "file_sha256": now.sha256}
            self.current_file = now
            try:
                for item in self.read_items(source.bounded(now.size), resume):
                    yield self._file_record(source, item, lineage)
            except (FileFormatError, OSError) as exc:
                self.report_problem(exc, "the rows before it landed; the file will be read again on the next run")
                continue
            except Exception as exc:  # noqa: BLE001 - one file must not stop the others
                self.report_problem(
                    FileFormatError(
                        source.display_path,
                        None,
                        f"reading stopped on an unexpected error ({type(exc).__name__}: {str(exc)[:300]})",
                    ),
                    "the rows before it landed; the file will be read again on the next run",
                )
                continue
            if source.changed_since(now.size, mtime):
                self.logger.warning(
                    "%s: %s changed while it was read (still being written?); "
                    "what was read landed, the file will be read again on the "
                    "next run",
                    self.name,
                    source.display_path,
                )
            elif not damage:
                done[source.relative_path] = now.as_state()

    def _file_record(self, source: SourceFile, item: Any, lineage: dict) -> dict:
        if isinstance(item, FileRow):
            for defect in item.defects:
                self.logger.warning("%s: %s (kept as invalid)", self.name, defect)
            record = self.to_bronze(
                item.payload, {**lineage, "line": item.line}, defects=[source.for_rows(d) for d in item.defects]
            )
        else:
            position, payload = item
            record = self.to_bronze(payload, {**lineage, **position})
        if self._recent.seen(record["raw_id"], record["raw_hash"]):
            self.duplicates += 1
        return record
