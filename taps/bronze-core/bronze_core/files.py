"""Reading export files and drop folders: listing, checksums, streaming parsers.

Exports are big (an Apple Health export is gigabytes) and arrive as a zip or
an unpacked folder. So:

- a zip is read in place, member by member, never extracted (no zip-slip, no
  temporary copies); a member that decompresses to more than
  ``max_member_bytes()`` (a zip bomb) is refused with a clear error, by its
  declared size before reading and by the bytes actually read while reading;
- files are matched by pattern anywhere below the root, because exports nest
  their folders under names that vary (a UUID folder, an account id);
- a file's sha256 is computed streaming and kept in state, so an unchanged
  file is skipped on the next run;
- parsers stream items and report a broken file with its path and line;
- a bare file (an ``export.xml`` handed over on its own) is its own root;
- a zip cut short (an interrupted download has no central directory) is still
  read, member by member from their local headers, up to the cut, so what it
  holds lands and the cut is reported (``damaged_zip``);
- symbolic links are not followed out of the folder (a link in a drop folder
  to a file elsewhere on the machine would land that file in bronze): links
  that leave it are skipped and named, unless ``follow_symlinks`` is set;
  links that stay inside are followed, and a file reached twice is read once;
- a reader that finds a container other than the one it expects (an object
  where the export holds an array) raises ``FileFormatError``: zero rows
  from a file of the wrong shape is a broken file, not an empty one.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import os
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO, Any, Callable, Collection, Iterator, Sequence
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

import ijson

_PYTHON_IJSON = ijson.get_backend("python")


#: Largest decompressed zip member read, unless ``BRONZE_MAX_MEMBER_BYTES`` says otherwise.
#: Generous: an Apple Health export.xml of a decade is a few GB.
DEFAULT_MAX_MEMBER_BYTES = 16 * 1024**3


def max_member_bytes() -> int:
    """The zip member size cap (``BRONZE_MAX_MEMBER_BYTES`` in the environment, else 16 GiB)."""
    return int(os.environ.get("BRONZE_MAX_MEMBER_BYTES") or DEFAULT_MAX_MEMBER_BYTES)


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
    #: The file on disk, for a plain file (None for a zip member).
    local_path: Path | None = None

    def changed_since(self, size: int, mtime_ns: int | None) -> bool:
        """Whether a plain file is no longer the size (or age) it had: still being written."""
        if self.local_path is None:
            return False
        try:
            stat = self.local_path.stat()
        except OSError:
            return True
        return stat.st_size != size or (mtime_ns is not None and stat.st_mtime_ns != mtime_ns)

    def mtime_ns(self) -> int | None:
        try:
            return self.local_path.stat().st_mtime_ns if self.local_path else None
        except OSError:
            return None

    def bounded(self, size: int) -> "SourceFile":
        """The same file, read only up to ``size`` bytes: what was checksummed, not what a
        writer appended since."""
        return SourceFile(self.relative_path, self.root, size,
                          lambda: _Bounded(self._open(), size), self.local_path)

    @property
    def display_path(self) -> str:
        """What a person needs to find the file on this machine (logs only):
        ``/path/export.zip!member`` or a file path."""
        if self.in_archive:
            return f"{self.root}!{self.relative_path}"
        return str(Path(self.root) / self.relative_path)

    @property
    def in_archive(self) -> bool:
        """Whether the root is a zip (the file is one of its members)."""
        return self.root.lower().endswith(".zip")

    @property
    def row_path(self) -> str:
        """The file as bronze rows name it: relative to the configured folder, or
        ``export.zip!member``. No directory of this machine, so rows never carry one."""
        if self.in_archive:
            return f"{Path(self.root).name}!{self.relative_path}"
        return self.relative_path

    def lineage(self) -> dict[str, str]:
        """The file's part of a row's ``metadata``: its path in the folder or archive, and
        the archive's file name (never its directory)."""
        if self.in_archive:
            return {"file": self.relative_path, "archive": Path(self.root).name}
        return {"file": self.relative_path}

    def for_rows(self, message: str) -> str:
        """``message`` with this file's machine path replaced by its ``row_path``.

        Readers name the file by ``display_path`` in what they report, for the
        log; a row's ``error_message`` gets the relative name instead.
        """
        return message.replace(self.display_path, self.row_path)

    def open(self) -> IO[bytes]:
        return self._open()

    def sha256(self, chunk_size: int = 1 << 20) -> str:
        digest = hashlib.sha256()
        with self.open() as handle:
            for chunk in iter(lambda: handle.read(chunk_size), b""):
                digest.update(chunk)
        return digest.hexdigest()


def list_files(root: str | Path, patterns: Sequence[str], *, nested_zips: bool = False,
               problems: list[FileFormatError] | None = None, follow_symlinks: bool = False,
               skipped: list[str] | None = None) -> list[SourceFile]:
    """Files below ``root`` (a folder or a .zip) whose relative path matches a pattern.

    Patterns are ``fnmatch`` patterns on the "/"-separated relative path, where
    ``*`` also crosses folders: ``*DI-Connect-Wellness/*_sleepData.json``.
    Sorted by relative path so runs read files in the same order.

    With ``nested_zips``, zips dropped in a folder are searched too (their
    members' relative paths read ``sub/export.zip!/member``); a broken one is
    added to ``problems`` (or raised when no list is given) and the rest is
    still listed. So is a sub-folder that cannot be read.

    Symbolic links (to files or folders) are followed only while they stay
    inside ``root``, unless ``follow_symlinks``; each one skipped is described
    in ``skipped`` (its path and where it points, never what it holds). A file
    reached by several paths is listed once, under its real path if that
    matches.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"export not found: {root}")
    if root.is_file():
        if zipfile.is_zipfile(root):
            return _zip_members(root, patterns)
        if damaged_zip(root):
            return _salvaged_members(root, patterns)
        if _matches(root.name, patterns):  # the wanted file itself, e.g. a bare export.xml
            return [SourceFile(root.name, str(root.parent), root.stat().st_size,
                               lambda p=root: open(p, "rb"))]
        raise FileFormatError(str(root), None, "not a zip archive (or a truncated one)")
    found, seen = [], set()
    for relative, path in _walk(root, follow_symlinks, problems, skipped):
        if nested_zips and path.suffix.lower() == ".zip":
            if path not in seen:
                seen.add(path)
                found.extend(_nested_zip_members(root, path, relative, patterns, problems))
        elif _matches(relative, patterns) and path not in seen:
            seen.add(path)
            found.append(SourceFile(relative, str(root), path.stat().st_size,
                                    lambda p=path: _open_no_follow(p), path))
    return sorted(found, key=lambda f: f.relative_path)


def _walk(root: Path, follow_symlinks: bool, problems: list[FileFormatError] | None,
          skipped: list[str] | None) -> Iterator[tuple[str, Path]]:
    """``(relative path, real path)`` of every file below ``root``, links last.

    The real tree is walked first without following any link, so a file's
    own path wins over a link to it; then the links, each resolved once (a
    link to a folder already walked, or a loop, adds nothing). A link whose
    target lies outside ``root`` is skipped unless ``follow_symlinks``.
    """
    real_root = root.resolve()
    walked: set[Path] = {real_root}
    links: list[tuple[str, Path]] = []
    folders: list[tuple[str, Path]] = [("", real_root)]
    while folders or links:
        if not folders:  # the real tree is done: follow the next link
            relative, link = links.pop(0)
            target = Path(os.path.realpath(link))
            if not (_inside(target, real_root) or follow_symlinks):
                if skipped is not None:
                    skipped.append(f"{link} (a link to {target}, outside {root}; set "
                                   "follow_symlinks to read it)")
                continue
            if target.is_file():
                yield relative, target
            elif target.is_dir() and target not in walked:
                walked.add(target)
                folders.append((relative + "/", target))
            continue
        prefix, folder = folders.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            error = FileFormatError(str(folder), None, f"folder cannot be read ({exc.strerror})")
            if problems is None:
                raise error from None
            problems.append(error)
            continue
        for entry in entries:
            relative = prefix + entry.name
            if entry.is_symlink():
                links.append((relative, Path(entry.path)))
            elif entry.is_dir(follow_symlinks=False):
                walked.add(Path(entry.path))
                folders.append((relative + "/", Path(entry.path)))
            elif entry.is_file(follow_symlinks=False):
                yield relative, Path(entry.path)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _open_no_follow(path: Path) -> IO[bytes]:
    """Open a listed file, refusing a link put in its place since it was listed."""
    return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")


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
            cap = max_member_bytes()
            where = f"{archive}!{name}"
            zf = zipfile.ZipFile(archive)
            info = zf.getinfo(name)
            if info.file_size > cap:
                zf.close()
                raise FileFormatError(where, None, _too_big(f"declares {info.file_size} bytes", cap))
            member = zf.open(name)
            member._bronze_zip = zf  # keep the archive open as long as the member
            return _CappedReader(member, cap, where)
        return _open

    return sorted(
        (SourceFile(i.filename, str(archive), i.file_size, opener(i.filename)) for i in infos),
        key=lambda f: f.relative_path,
    )


_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE, _DESCRIPTOR_SIGNATURE = b"PK\x03\x04", b"PK\x07\x08"


def damaged_zip(path: str | Path) -> str | None:
    """Why ``path`` is a zip that cannot be opened normally (a truncated one), else None."""
    path = Path(path)
    if not path.is_file() or zipfile.is_zipfile(path):
        return None
    with open(path, "rb") as handle:
        if handle.read(4) != _LOCAL_SIGNATURE:
            return None
    return ("truncated zip archive (no central directory, e.g. an interrupted download): "
            "its members were read from their local headers up to the cut")


def _salvaged_members(archive: Path, patterns: Sequence[str]) -> list[SourceFile]:
    """The members of a zip without its central directory, walking the local headers in order."""
    found: list[SourceFile] = []
    size = archive.stat().st_size
    walked = 0
    with open(archive, "rb") as handle:
        offset = 0
        while offset + _LOCAL_HEADER.size <= size:
            handle.seek(offset)
            (signature, _, flags, method, _, _, _, csize, usize, name_len,
             extra_len) = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
            if signature != _LOCAL_SIGNATURE or method not in (0, 8):
                break
            name = handle.read(name_len).decode("utf-8" if flags & 0x800 else "cp437", "replace")
            csize, usize = _zip64_sizes(handle.read(extra_len), csize, usize)
            start = offset + _LOCAL_HEADER.size + name_len + extra_len
            walked += 1
            known = not (flags & 0x08) or csize > 0  # with a data descriptor, sizes come after the data
            if not name.endswith("/") and _matches(name, patterns):
                found.append(SourceFile(name, str(archive), usize if known else 0,
                                        lambda a=start, m=method, c=(csize if known else None):
                                        _MemberStream(archive, a, m, c)))
            end = start + csize if known else _deflated_end(archive, start, method)
            if end is None or end > size:
                break
            offset = _after_descriptor(handle, end) if flags & 0x08 else end
    if not walked:
        raise FileFormatError(str(archive), None, "not a zip archive (or a truncated one)")
    return sorted(found, key=lambda f: f.relative_path)


def _zip64_sizes(extra: bytes, csize: int, usize: int) -> tuple[int, int]:
    """Sizes from the zip64 extra field when the header says 0xFFFFFFFF."""
    position = 0
    while position + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, position)
        if tag == 0x0001:
            values = list(struct.unpack_from(f"<{min(length // 8, 2)}Q", extra, position + 4))
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            break
        position += 4 + length
    return csize, usize


def _deflated_end(archive: Path, start: int, method: int) -> int | None:
    """Where a member of unknown size ends (inflating it), or None if the file ends first."""
    if method != 8:
        return None
    stream = _MemberStream(archive, start, method, None)
    with stream:
        while stream.read(1 << 20):
            pass
        return stream.end if stream.complete else None


def _after_descriptor(handle: IO[bytes], end: int) -> int:
    """The offset after a data descriptor (signature optional, 32- or 64-bit sizes)."""
    handle.seek(end)
    start = end + 4 if handle.read(4) == _DESCRIPTOR_SIGNATURE else end
    for length in (12, 20):
        handle.seek(start + length)
        if handle.read(4) in (_LOCAL_SIGNATURE, b"PK\x01\x02"):
            return start + length
    return start + 12


class _MemberStream:
    """Reads one member's data straight from the archive, inflating as it goes.

    At the cut (or corrupt data) it simply ends, so whoever parses it sees a
    file that stops there and reports the line.
    """

    def __init__(self, archive: Path, start: int, method: int, csize: int | None):
        self._file = open(archive, "rb")
        self._file.seek(start)
        self._left = csize
        self._inflate = zlib.decompressobj(-15) if method == 8 else None
        self._buffer = b""
        self.complete = False
        self.end = start

    def _fill(self) -> bool:
        if self.complete or self._left == 0:
            self.complete = True
            return False
        raw = self._file.read(1 << 20 if self._left is None else min(1 << 20, self._left))
        if not raw:
            return False  # the archive ends here: the cut
        if self._left is not None:
            self._left -= len(raw)
        self.end += len(raw)
        if self._inflate is None:
            self._buffer += raw
            return True
        try:
            self._buffer += self._inflate.decompress(raw)
        except zlib.error:
            return False  # corrupt data: treat as the end
        if self._inflate.eof:
            self.end -= len(self._inflate.unused_data)
            self.complete = True
        return True

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and self._fill():
            pass
        if size < 0:
            size = len(self._buffer)
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        return chunk

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _too_big(what: str, cap: int) -> str:
    return (f"zip member {what} decompressed, more than the cap of {cap} bytes (a zip bomb?); "
            "not read. Raise BRONZE_MAX_MEMBER_BYTES if the file is genuine")


class _CappedReader:
    """A zip member that refuses to decompress past the cap, whatever its header claims."""

    def __init__(self, member: IO[bytes], cap: int, where: str):
        self._member, self._cap, self._where, self._read = member, cap, where, 0

    def read(self, size: int = -1) -> bytes:
        room = self._cap + 1 - self._read  # one byte past the cap proves it is exceeded
        try:
            chunk = self._member.read(room if size is None or size < 0 else min(size, room))
        except zipfile.BadZipFile as exc:  # a bad CRC: a corrupt member, or a header that lied
            raise FileFormatError(self._where, None, f"corrupt zip member ({exc})") from None
        self._read += len(chunk)
        if self._read > self._cap:
            raise FileFormatError(self._where, None, _too_big(f"reached {self._read} bytes", self._cap))
        return chunk

    def close(self) -> None:
        archive = getattr(self._member, "_bronze_zip", None)
        self._member.close()
        if archive is not None:
            archive.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Bounded:
    """A reader that stops after ``limit`` bytes."""

    def __init__(self, raw: IO[bytes], limit: int):
        self._raw, self._left = raw, limit

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        chunk = self._raw.read(self._left if size is None or size < 0 else min(size, self._left))
        self._left -= len(chunk)
        return chunk

    def close(self) -> None:
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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

    ``prefix`` is the ijson path of the items: ``item`` for a top-level array,
    ``item.summarizedActivitiesExport.item`` for the arrays inside the
    objects of a top-level array. A file whose containers on that path are
    of another kind (an object where an array belongs) or lack the key
    raises ``FileFormatError``: it would otherwise give no items and pass as
    an empty file. Numbers keep their JSON meaning (ints stay ints, decimals
    become floats). A broken file raises ``FileFormatError`` after the items
    before the break.
    """
    problem = _shape_problem(source, prefix)
    if problem is not None:
        line, detail = problem
        raise FileFormatError(source.display_path, line, detail)
    index = -1
    with source.open() as raw:
        counter = _LineCounter(raw)
        try:
            for index, item in enumerate(ijson.items(counter, prefix, use_float=True)):
                yield index, item
            return
        except ijson.JSONError as exc:
            if "integer overflow" not in str(exc):
                detail = str(exc).splitlines()[0][:300][:300]
                raise FileFormatError(
                    source.display_path, counter.lines,
                    f"invalid JSON after item {index} ({detail}); the line is where reading stopped",
                ) from None
    # The fast C parser stops at integers beyond 64 bits; the pure-Python one
    # reads them exactly. Carry on with it after the items already yielded.
    done = index
    with source.open() as raw:
        counter = _LineCounter(raw)
        try:
            for index, item in enumerate(_PYTHON_IJSON.items(counter, prefix, use_float=True)):
                if index > done:
                    yield index, item
        except (ijson.JSONError, ValueError) as exc:  # ValueError: an integer of over 4300 digits
            detail = str(exc).splitlines()[0][:300]
            raise FileFormatError(
                source.display_path, counter.lines,
                f"invalid JSON after item {index} ({detail}); the line is where reading stopped",
            ) from None


_CONTAINER = {"start_map": "an object", "start_array": "an array"}


def _shape_problem(source: SourceFile, prefix: str) -> tuple[int, str] | None:
    """``(line, why)`` if the containers on the way to ``prefix``'s items are not the
    ones it names, else None.

    Reads only as far as the array that holds the items (the first few bytes
    of a good file). Broken JSON is left to the reader, which reports it with
    its line.
    """
    parts = prefix.split(".")
    wanted = {".".join(parts[:n]): part for n, part in enumerate(parts)}  # path -> child it leads to
    holder = ".".join(parts[:-1])
    lacking: tuple[int, str] | None = None
    with source.open() as raw:
        counter = _LineCounter(raw)
        try:
            # The pure-Python parser: it reads only a few events of a good file, and the C
            # one (ijson 3.4) crashes the process on an integer of over 4300 digits here.
            events = _PYTHON_IJSON.parse(counter)
            for path, event, value in events:
                child = wanted.get(path)
                if child is None or event in ("end_map", "end_array"):
                    continue
                if event == "map_key":
                    if value == child:
                        lacking = None
                    continue
                expected = "start_array" if child == "item" else "start_map"
                if event != expected:
                    found = _CONTAINER.get(event, f"a {event} value")
                    if event == "start_map":  # its first key says what it is ({"sleepData": [...]})
                        _, after, key = next(events, (None, None, None))
                        found += f" (first key {key!r})" if after == "map_key" else " (empty)"
                    where = f"at {path!r}" if path else "at the top level"
                    return counter.lines, (
                        f"not the expected shape: {where} an {'array' if child == 'item' else 'object'} "
                        f"was expected, found {found}; nothing was read from it")
                if path == holder:
                    return None  # the array holding the items: the shape is right
                if child != "item":
                    lacking = (counter.lines, f"not the expected shape: the object at "
                               f"{path or 'the top level'!r} has no {child!r}; nothing was read from it")
        except (ijson.JSONError, ValueError):
            return None
    return lacking


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
    for number, chunk in enumerate(_byte_lines(raw), start=first_line):
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


def _byte_lines(raw: IO[bytes], chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Lines (with their ``\n``) from any reader that has ``read``: plain files,
    zip members behind a size cap, members salvaged from a truncated zip."""
    pending = b""
    for chunk in iter(lambda: raw.read(chunk_size), b""):
        pending += chunk
        start = 0
        while (end := pending.find(b"\n", start)) >= 0:
            yield pending[start:end + 1]
            start = end + 1
        pending = pending[start:]
    if pending:
        yield pending


def _open_at(source: SourceFile, resume: ResumePoint | None) -> IO[bytes]:
    handle = source.open()
    if resume is not None:
        if hasattr(handle, "seek") and getattr(handle, "seekable", lambda: False)():
            handle.seek(resume.offset)
        else:  # a stream that cannot seek: skip the part already read
            left = resume.offset
            while left > 0 and (chunk := handle.read(min(left, 1 << 20))):
                left -= len(chunk)
    return handle


#: Public: a tap that pre-scans part of a file reads it from where the reader will.
open_at = _open_at


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
        raise FileFormatError(source.display_path, 1,
                              f"unreadable CSV header ({exc}, in a header line of "
                              f"{len(text):,} characters); no row of the file can be read"
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
    problems = [f"the header repeats {name!r} (columns {', '.join(map(str, numbers))}); "
                f"every column is kept, the repeats as "
                f"{', '.join(repr(keys[n - 1]) for n in numbers[1:])}"
                for name, numbers in seen.items() if len(numbers) > 1]
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
    with _open_at(source, resume) as raw:
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
                    raise FileFormatError(source.display_path, start,
                                          f"unreadable CSV ({again})") from None
            if not values or values == [""]:
                continue  # blank line
            problems = [p for n in range(start, position["next"]) for p in defects.pop(n, [])]
            problems += header_problems
            if too_long is not None:
                long_columns = [header[n] if n < len(header) else f"field {n + 1}"
                                for n, value in enumerate(values)
                                if len(value) > csv.field_size_limit()]
                problems.append(f"{source.display_path}, line {start}: {too_long} in "
                                f"{', '.join(map(repr, long_columns)) or 'a field'}; "
                                "the row is kept whole")
            payload = dict(zip(header, values))
            if len(values) != len(header):
                problems.append(f"{source.display_path}, line {start}: {len(values)} fields, "
                                f"the header has {len(header)}")
                if len(values) > len(header):
                    payload["_extra"] = values[len(header):]
            yield FileRow(start, payload, problems)


def iter_json_lines(source: SourceFile, resume: ResumePoint | None = None) -> Iterator[FileRow]:
    """Stream a JSON Lines file: one JSON value per line, blank lines skipped.

    A line that is not JSON, or nested too deep for the parser (thousands of
    levels), is kept as ``{"_line": text}`` and flagged, so a hand-edited typo
    or a hostile line costs one invalid row, not the file or the tap.
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
            except RecursionError:
                payload = {"_line": text.rstrip("\r\n")}
                problems.append(f"{source.display_path}, line {number}: JSON nested too deep to "
                                "read; the line is kept as text")
            yield FileRow(number, payload, problems)


# --- XML ----------------------------------------------------------------------

#: Bytes handed to the XML parser at a time.
XML_CHUNK = 1 << 20


class _WrongShape(Exception):
    """Raised from inside the XML parser's callbacks: the document is of another kind."""


def iter_xml_elements(source: SourceFile, tags: Collection[str],
                      root: str | None = None) -> Iterator[tuple[int, Element]]:
    """Stream the elements named in ``tags`` as ``(line, element)``, in constant memory.

    Only the wanted elements (with all their children) are built; everything
    around them is parsed and dropped, so a gigabyte ``export.xml`` never sits
    in memory. An element nested inside a wanted one is part of it, not a
    match of its own. The line is where the element starts. The internal DTD
    of a document is read but entity declarations are refused (no "billion
    laughs"), and nothing external is ever fetched. A broken file raises
    ``FileFormatError`` with the line where parsing stopped, after the
    elements before it. So does a document whose root element is not
    ``root`` (when given): another kind of document holds none of the
    wanted elements and would otherwise pass as an empty export.
    """
    wanted = frozenset(tags)
    done: list[tuple[int, Element]] = []
    state: dict[str, Any] = {"builder": None, "depth": 0, "line": 0}
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def start(name, attrs):
        if root is not None and not state.get("root_seen"):
            state["root_seen"] = True
            if name != root:
                raise _WrongShape(f"not the expected shape: the document is <{name}>, not "
                                  f"<{root}>; nothing was read from it")
        builder = state["builder"]
        if builder is None:
            if name not in wanted:
                return
            builder = state["builder"] = TreeBuilder()
            state["line"] = parser.CurrentLineNumber
        builder.start(name, attrs)
        state["depth"] += 1

    def end(name):
        builder = state["builder"]
        if builder is not None:
            builder.end(name)
            state["depth"] -= 1
            if state["depth"] == 0:
                done.append((state["line"], builder.close()))
                state["builder"] = None

    def data(text):
        if state["builder"] is not None:
            state["builder"].data(text)

    def refuse_entities(name, *_):
        raise expat.ExpatError(f"entity declarations are not accepted (entity {name!r})")

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = data
    parser.EntityDeclHandler = refuse_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    with source.open() as raw:
        while True:
            problem = None
            try:
                chunk = raw.read(XML_CHUNK)
                parser.Parse(chunk, not chunk)
            except expat.ExpatError as exc:
                code = getattr(exc, "code", None)
                detail = expat.ErrorString(code) if code else str(exc)
                problem = FileFormatError(source.display_path,
                                          getattr(exc, "lineno", None) or parser.CurrentLineNumber,
                                          f"invalid XML ({detail})")
            except _WrongShape as exc:
                problem = FileFormatError(source.display_path, parser.CurrentLineNumber, str(exc))
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                problem = FileFormatError(source.display_path, parser.CurrentLineNumber,
                                          f"unreadable compressed data ({exc}); the line is "
                                          "where reading stopped")
            yield from done  # the elements completed before a break still count
            done.clear()
            if problem is not None:
                raise problem
            if not chunk:
                return
