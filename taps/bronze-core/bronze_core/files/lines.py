"""Line-based files, CSV and JSON Lines: streamed row by row, each bad byte pinned to its line.

A row whose bytes cannot be trusted as they stand (invalid UTF-8, a NUL, a
wrong column count, a repeated header name, an oversized field) still lands,
flagged with the reasons (``FileRow.defects``), so nothing is dropped. An
appended file continues where the last run stopped (``ResumePoint``).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from bronze_core.files.source import ByteReader, FileFormatError, SourceFile

#: A CSV field may be long (a note, an embedded JSON blob), but not unbounded.
MAX_FIELD_CHARS = 16 * 1024 * 1024
csv.field_size_limit(MAX_FIELD_CHARS)


@dataclass
class FileRow:
    """One row of a line-based file, with what was wrong with its bytes.

    ``defects`` are reasons the row cannot be trusted as it stands (invalid
    UTF-8, a NUL byte, a wrong column count). The row still lands, marked
    ``invalid`` with those reasons, so nothing is dropped; its payload keeps
    what could be read, with undecodable bytes and NULs written as ``\\xNN``.
    """

    line: int
    payload: Any
    defects: list[str]


@dataclass(frozen=True)
class ResumePoint:
    """Where to continue an append-only file: its old size and line count."""

    offset: int
    line: int


def _decoded_lines(
    raw: ByteReader, path: str, first_line: int, defects: dict[int, list[str]]
) -> Iterator[tuple[int, str]]:
    """Decode a byte stream line by line, so a bad byte is pinned to its line.

    Undecodable bytes and NULs (which PostgreSQL text and jsonb refuse) are
    escaped as ``\\xNN`` and recorded in ``defects`` under their line number.
    """
    number = first_line - 1
    for number, chunk in enumerate(_byte_lines(raw), start=first_line):
        if number == 1 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]  # a UTF-8 byte order mark is not data
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = chunk.decode("utf-8", "backslashreplace")
            defects.setdefault(number, []).append(
                f"{path}, line {number}: invalid UTF-8 at byte {exc.start + 1} of the line"
            )
        if "\x00" in text:
            text = text.replace("\x00", "\\x00")
            defects.setdefault(number, []).append(f"{path}, line {number}: NUL byte")
        yield number, text


def _byte_lines(raw: ByteReader, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Lines (with their ``\n``) from any reader that has ``read``: plain files,
    zip members behind a size cap, members salvaged from a truncated zip."""
    pending = b""
    for chunk in iter(lambda: raw.read(chunk_size), b""):
        pending += chunk
        start = 0
        while (end := pending.find(b"\n", start)) >= 0:
            yield pending[start : end + 1]
            start = end + 1
        pending = pending[start:]
    if pending:
        yield pending


def open_at(source: SourceFile, resume: ResumePoint | None) -> ByteReader:
    """``source`` opened where ``resume`` says (from the start without one); a tap that
    pre-scans part of a file reads it from where the reader will."""
    handle = source.open()
    if resume is not None:
        if hasattr(handle, "seek") and getattr(handle, "seekable", lambda: False)():
            handle.seek(resume.offset)
        else:  # a stream that cannot seek: skip the part already read
            left = resume.offset
            while left > 0 and (chunk := handle.read(min(left, 1 << 20))):
                left -= len(chunk)
    return handle


def csv_header(source: SourceFile) -> list[str]:
    """The header row of a CSV file (its first line); empty if the file is empty.

    A header with a field longer than the CSV field limit cannot name the
    columns, so no row can be built from the file: ``FileFormatError`` at
    line 1 (the caller reports it and reads the other files).
    """
    with source.open() as raw:
        first = next(_byte_lines(raw, 1 << 16), b"")
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    text = first.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    try:
        row = next(csv.reader([text]), [])
    except csv.Error as exc:
        raise FileFormatError(
            source.display_path,
            1,
            f"unreadable CSV header ({exc}, in a header line of "
            f"{len(text):,} characters); no row of the file can be read",
        ) from None
    return [name.strip() for name in row]


def unique_columns(header: Sequence[str]) -> tuple[list[str], list[str]]:
    """Keys for the columns of ``header``, and what is wrong with it.

    A repeated name would make a dict keep only the last column's value, so
    each repeat gets a suffix (``TotalSteps``, ``TotalSteps__2``) and every
    value lands; the repeat is reported, so the rows land ``invalid``.
    """
    keys: list[str] = []
    taken = set(header)
    seen: dict[str, list[int]] = {}
    for number, name in enumerate(header, start=1):
        seen.setdefault(name, []).append(number)
        key = name
        if len(seen[name]) > 1:
            suffix = len(seen[name])
            while f"{name}__{suffix}" in taken:
                suffix += 1
            key = f"{name}__{suffix}"
            taken.add(key)
        keys.append(key)
    problems = [
        f"the header repeats {name!r} (columns {', '.join(map(str, numbers))}); "
        f"every column is kept, the repeats as "
        f"{', '.join(repr(keys[n - 1]) for n in numbers[1:])}"
        for name, numbers in seen.items()
        if len(numbers) > 1
    ]
    return keys, problems


class _UnlimitedFields:
    """Lift the csv module's field limit for one record that exceeds it (then restore it)."""

    def __enter__(self):
        self._limit = csv.field_size_limit(sys.maxsize)

    def __exit__(self, *exc) -> None:
        csv.field_size_limit(self._limit)


def iter_csv_rows(source: SourceFile, resume: ResumePoint | None = None) -> Iterator[FileRow]:
    """Stream the rows of a CSV file with a header, as dicts of strings, in constant memory.

    Values are kept as the strings the file holds; reading them is silver's
    job. A row with more or fewer fields than the header is kept (extra values
    under ``_extra``) and flagged; so are invalid UTF-8 and NUL bytes, a
    header that repeats a name (see ``unique_columns``) and a field longer
    than the CSV field limit (the record is read again without the limit, so
    the row lands whole, flagged, and reading goes on). A header that cannot
    be read raises ``FileFormatError`` (see ``csv_header``).
    ``resume`` continues an appended file after the part already read.
    """
    names = csv_header(source)
    if not names:
        return
    header, header_problems = unique_columns(names)
    header_problems = [f"{source.display_path}, line 1: {p}" for p in header_problems]
    with open_at(source, resume) as raw:
        defects: dict[int, list[str]] = {}
        lines = _decoded_lines(raw, source.display_path, resume.line if resume else 1, defects)
        position = {"next": resume.line if resume else 1}
        record: list[str] = []  # the text of the record being read, for a re-read

        def texts() -> Iterator[str]:
            for number, text in lines:
                position["next"] = number + 1
                record.append(text)
                yield text

        feed = texts()
        reader = csv.reader(feed)
        if resume is None:
            next(reader, None)  # the header
        while True:
            start = position["next"]
            record.clear()
            too_long = None
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a field over the limit: read the record without it
                too_long = str(exc)
                try:
                    with _UnlimitedFields():
                        values = next(csv.reader(chain(list(record), feed)), [])
                except csv.Error as again:
                    raise FileFormatError(source.display_path, start, f"unreadable CSV ({again})") from None
            if not values or values == [""]:
                continue  # blank line
            problems = [p for n in range(start, position["next"]) for p in defects.pop(n, [])]
            problems += header_problems
            if too_long is not None:
                long_columns = [
                    header[n] if n < len(header) else f"field {n + 1}"
                    for n, value in enumerate(values)
                    if len(value) > csv.field_size_limit()
                ]
                problems.append(
                    f"{source.display_path}, line {start}: {too_long} in "
                    f"{', '.join(map(repr, long_columns)) or 'a field'}; "
                    "the row is kept whole"
                )
            payload: dict[str, str | list[str]] = dict(zip(header, values))  # + "_extra": the fields past the header
            if len(values) != len(header):
                problems.append(
                    f"{source.display_path}, line {start}: {len(values)} fields, the header has {len(header)}"
                )
                if len(values) > len(header):
                    payload["_extra"] = values[len(header) :]
            yield FileRow(start, payload, problems)


def iter_json_lines(source: SourceFile, resume: ResumePoint | None = None) -> Iterator[FileRow]:
    """Stream a JSON Lines file: one JSON value per line, blank lines skipped.

    A line that is not JSON, or nested too deep for the parser (thousands of
    levels), is kept as ``{"_line": text}`` and flagged, so a hand-edited typo
    or a hostile line costs one invalid row, not the file or the tap.
    """
    with open_at(source, resume) as raw:
        defects: dict[int, list[str]] = {}
        for number, text in _decoded_lines(raw, source.display_path, resume.line if resume else 1, defects):
            problems = defects.pop(number, [])
            if not text.strip():
                continue
            try:
                payload = json.loads(text)
            except ValueError as exc:
                payload = {"_line": text.rstrip("\r\n")}
                problems.append(f"{source.display_path}, line {number}: invalid JSON ({exc})")
            except RecursionError:
                payload = {"_line": text.rstrip("\r\n")}
                problems.append(
                    f"{source.display_path}, line {number}: JSON nested too deep to read; the line is kept as text"
                )
            yield FileRow(number, payload, problems)
