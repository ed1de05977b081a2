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
- parsers stream items and report a broken file with its path and line.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Sequence

import ijson


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


def list_files(root: str | Path, patterns: Sequence[str]) -> list[SourceFile]:
    """Files below ``root`` (a folder or a .zip) whose relative path matches a pattern.

    Patterns are ``fnmatch`` patterns on the "/"-separated relative path, where
    ``*`` also crosses folders: ``*DI-Connect-Wellness/*_sleepData.json``.
    Sorted by relative path so runs read files in the same order.
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
        if path.is_file():
            relative = path.relative_to(root).as_posix()
            if _matches(relative, patterns):
                found.append(SourceFile(relative, str(root), path.stat().st_size,
                                        lambda p=path: open(p, "rb")))
    return sorted(found, key=lambda f: f.relative_path)


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
