"""Reading export files and drop folders: listing, checksums, streaming parsers.

Exports are big (an Apple Health export is gigabytes) and arrive as a zip or
an unpacked folder. So:

- a zip is read in place, member by member, never extracted (no zip-slip, no
  temporary copies);
- files are matched by pattern anywhere below the root, because exports nest
  their folders under names that vary (a UUID folder, an account id);
- a file's sha256 is computed streaming and kept in state, so an unchanged
  file is skipped on the next run;
- parsers stream items and report a broken file with its path and line.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Sequence

import ijson


class FileFormatError(ValueError):
    """A file that cannot be parsed; says which file and where."""

    def __init__(self, path: str, line: int | None, detail: str):
        self.path, self.line, self.detail = path, line, detail
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {detail}")


@dataclass(frozen=True)
class SourceFile:
    """One file found below an export root (plain file or zip member)."""

    #: Path relative to the root, with "/" separators: stable across runs.
    relative_path: str
    #: The root it was found in (a folder or a .zip).
    root: str
    size: int
    _open: Callable[[], IO[bytes]]

    @property
    def display_path(self) -> str:
        """What a person needs to find the file: ``export.zip!member`` or a file path."""
        if self.root.endswith(".zip"):
            return f"{self.root}!{self.relative_path}"
        return str(Path(self.root) / self.relative_path)

    def open(self) -> IO[bytes]:
        return self._open()

    def sha256(self, chunk_size: int = 1 << 20) -> str:
        digest = hashlib.sha256()
        with self.open() as handle:
            for chunk in iter(lambda: handle.read(chunk_size), b""):
                digest.update(chunk)
        return digest.hexdigest()


def list_files(root: str | Path, patterns: Sequence[str], *, nested_zips: bool = False,
               problems: list[FileFormatError] | None = None) -> list[SourceFile]:
    """Files below ``root`` (a folder or a .zip) whose relative path matches a pattern.

    Patterns are ``fnmatch`` patterns on the "/"-separated relative path, where
    ``*`` also crosses folders: ``*DI-Connect-Wellness/*_sleepData.json``.
    Sorted by relative path so runs read files in the same order.

    With ``nested_zips``, zips dropped in a folder are searched too (their
    members' relative paths read ``sub/export.zip!/member``); a broken one is
    added to ``problems`` (or raised when no list is given) and the rest is
    still listed.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"export not found: {root}")
    if root.is_file():
        if not zipfile.is_zipfile(root):
            raise FileFormatError(str(root), None, "not a zip archive (or a truncated one)")
        return _zip_members(root, patterns)
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        if nested_zips and path.suffix.lower() == ".zip":
            found.extend(_nested_zip_members(root, path, relative, patterns, problems))
        elif _matches(relative, patterns):
            found.append(SourceFile(relative, str(root), path.stat().st_size,
                                    lambda p=path: open(p, "rb")))
    return sorted(found, key=lambda f: f.relative_path)


def _nested_zip_members(root: Path, path: Path, relative: str, patterns: Sequence[str],
                        problems: list[FileFormatError] | None) -> list[SourceFile]:
    if not zipfile.is_zipfile(path):
        error = FileFormatError(str(path), None, "not a zip archive (or a truncated one)")
        if problems is None:
            raise error
        problems.append(error)
        return []
    prefix = f"{relative}!/"
    members = _zip_members(path, [pattern for p in patterns
                                  for pattern in (p, p.removeprefix("*/"))])
    return [SourceFile(prefix + m.relative_path, str(root), m.size, m._open) for m in members]


def _zip_members(archive: Path, patterns: Sequence[str]) -> list[SourceFile]:
    with zipfile.ZipFile(archive) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and _matches(i.filename, patterns)]

    def opener(name: str) -> Callable[[], IO[bytes]]:
        def _open() -> IO[bytes]:
            zf = zipfile.ZipFile(archive)
            member = zf.open(name)
            member._bronze_zip = zf  # keep the archive open as long as the member
            return member
        return _open

    return sorted(
        (SourceFile(i.filename, str(archive), i.file_size, opener(i.filename)) for i in infos),
        key=lambda f: f.relative_path,
    )


def _matches(relative: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(relative, p) for p in patterns)


class _LineCounter:
    """A reader that counts the newlines handed to the parser, to locate errors."""

    def __init__(self, raw: IO[bytes]):
        self._raw, self.lines = raw, 1

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self.lines += chunk.count(b"\n")
        return chunk


def iter_json_array(source: SourceFile, prefix: str = "item") -> Iterator[tuple[int, Any]]:
    """Stream the items of a JSON array file as ``(index, item)``, in constant memory.

    Numbers keep their JSON meaning (ints stay ints, decimals become floats).
    A broken file raises ``FileFormatError`` after the items before the break.
    """
    with source.open() as raw:
        counter = _LineCounter(raw)
        index = -1
        try:
            for index, item in enumerate(ijson.items(counter, prefix, use_float=True)):
                yield index, item
        except ijson.JSONError as exc:
            detail = str(exc).splitlines()[0]
            raise FileFormatError(
                source.display_path, counter.lines,
                f"invalid JSON after item {index} ({detail}); the line is where reading stopped",
            ) from None


# --- line-based files: CSV and JSON Lines -------------------------------------

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


def _decoded_lines(raw: IO[bytes], path: str, first_line: int,
                   defects: dict[int, list[str]]) -> Iterator[tuple[int, str]]:
    """Decode a byte stream line by line, so a bad byte is pinned to its line.

    Undecodable bytes and NULs (which PostgreSQL text and jsonb refuse) are
    escaped as ``\\xNN`` and recorded in ``defects`` under their line number.
    """
    number = first_line - 1
    for number, chunk in enumerate(raw, start=first_line):
        if number == 1 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]  # a UTF-8 byte order mark is not data
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = chunk.decode("utf-8", "backslashreplace")
            defects.setdefault(number, []).append(
                f"{path}, line {number}: invalid UTF-8 at byte {exc.start + 1} of the line")
        if "\x00" in text:
            text = text.replace("\x00", "\\x00")
            defects.setdefault(number, []).append(f"{path}, line {number}: NUL byte")
        yield number, text


def _open_at(source: SourceFile, resume: ResumePoint | None) -> IO[bytes]:
    handle = source.open()
    if resume is not None:
        handle.seek(resume.offset)
    return handle


def csv_header(source: SourceFile) -> list[str]:
    """The header row of a CSV file (its first line); empty if the file is empty."""
    with source.open() as raw:
        first = raw.readline()
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    text = first.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    row = next(csv.reader([text]), [])
    return [name.strip() for name in row]


def iter_csv_rows(source: SourceFile, resume: ResumePoint | None = None) -> Iterator[FileRow]:
    """Stream the rows of a CSV file with a header, as dicts of strings, in constant memory.

    Values are kept as the strings the file holds; reading them is silver's
    job. A row with more or fewer fields than the header is kept (extra values
    under ``_extra``) and flagged; so are invalid UTF-8 and NUL bytes. Quoting
    the parser cannot close raises ``FileFormatError`` with the line.
    ``resume`` continues an appended file after the part already read.
    """
    header = csv_header(source)
    if not header:
        return
    with _open_at(source, resume) as raw:
        defects: dict[int, list[str]] = {}
        lines = _decoded_lines(raw, source.display_path, resume.line if resume else 1, defects)
        position = {"next": resume.line if resume else 1}

        def texts() -> Iterator[str]:
            for number, text in lines:
                position["next"] = number + 1
                yield text

        reader = csv.reader(texts())
        if resume is None:
            next(reader, None)  # the header
        while True:
            start = position["next"]
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileFormatError(source.display_path, start, f"unreadable CSV ({exc})") from None
            if not values or values == [""]:
                continue  # blank line
            problems = [p for n in range(start, position["next"]) for p in defects.pop(n, [])]
            payload = dict(zip(header, values))
            if len(values) != len(header):
                problems.append(f"{source.display_path}, line {start}: {len(values)} fields, "
                                f"the header has {len(header)}")
                if len(values) > len(header):
                    payload["_extra"] = values[len(header):]
            yield FileRow(start, payload, problems)


def iter_json_lines(source: SourceFile, resume: ResumePoint | None = None) -> Iterator[FileRow]:
    """Stream a JSON Lines file: one JSON value per line, blank lines skipped.

    A line that is not JSON is kept as ``{"_line": text}`` and flagged, so a
    hand-edited typo costs one invalid row, not the file.
    """
    with _open_at(source, resume) as raw:
        defects: dict[int, list[str]] = {}
        for number, text in _decoded_lines(raw, source.display_path,
                                           resume.line if resume else 1, defects):
            problems = defects.pop(number, [])
            if not text.strip():
                continue
            try:
                payload = json.loads(text)
            except ValueError as exc:
                payload = {"_line": text.rstrip("\r\n")}
                problems.append(f"{source.display_path}, line {number}: invalid JSON ({exc})")
            yield FileRow(number, payload, problems)
