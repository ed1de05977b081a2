"""Zips read in place: members behind a size cap, and zips cut short read up to the cut.

A zip is read member by member, never extracted (no zip-slip, no temporary
copies). A member that decompresses to more than ``max_member_bytes()`` (a
zip bomb) is refused with a clear error, by its declared size before reading
and by the bytes actually read while reading. A zip cut short (an interrupted
download has no central directory) is still read, member by member from
their local headers, up to the cut, so what it holds lands and the cut is
reported (``damaged_zip``).
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import IO

from bronze_core.files.source import ByteReader, FileFormatError, SourceFile, WrappedReader, matches

#: Largest decompressed zip member read, unless ``BRONZE_MAX_MEMBER_BYTES`` says otherwise.
#: Generous: an Apple Health export.xml of a decade is a few GB.
DEFAULT_MAX_MEMBER_BYTES = 16 * 1024**3

NOT_A_ZIP = "not a zip archive (or a truncated one)"


def max_member_bytes() -> int:
    """The zip member size cap (``BRONZE_MAX_MEMBER_BYTES`` in the environment, else 16 GiB)."""
    return int(os.environ.get("BRONZE_MAX_MEMBER_BYTES") or DEFAULT_MAX_MEMBER_BYTES)


def nested_zip_members(
    root: Path, path: Path, relative: str, patterns: Sequence[str], problems: list[FileFormatError] | None
) -> list[SourceFile]:
    """The matching members of a zip dropped in a folder, named ``sub/export.zip!/member``."""
    if not zipfile.is_zipfile(path):
        error = FileFormatError(str(path), None, NOT_A_ZIP)
        if problems is None:
            raise error
        problems.append(error)
        return []
    prefix = f"{relative}!/"
    members = zip_members(path, [pattern for p in patterns for pattern in (p, p.removeprefix("*/"))])
    return [SourceFile(prefix + m.relative_path, str(root), m.size, m._open) for m in members]


def zip_members(archive: Path, patterns: Sequence[str]) -> list[SourceFile]:
    """The matching members of a sound zip, each opened behind the size cap."""
    with zipfile.ZipFile(archive) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and matches(i.filename, patterns)]

    def opener(name: str) -> Callable[[], ByteReader]:
        def _open() -> ByteReader:
            cap = max_member_bytes()
            where = f"{archive}!{name}"
            zf = zipfile.ZipFile(archive)
            info = zf.getinfo(name)
            if info.file_size > cap:
                zf.close()
                raise FileFormatError(where, None, _too_big(f"declares {info.file_size} bytes", cap))
            return _CappedReader(zf.open(name), cap, where, archive=zf)

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
    return (
        "truncated zip archive (no central directory, e.g. an interrupted download): "
        "its members were read from their local headers up to the cut"
    )


def salvaged_members(archive: Path, patterns: Sequence[str]) -> list[SourceFile]:
    """The members of a zip without its central directory, walking the local headers in order."""
    found: list[SourceFile] = []
    size = archive.stat().st_size
    walked = 0
    with open(archive, "rb") as handle:
        offset = 0
        while offset + _LOCAL_HEADER.size <= size:
            handle.seek(offset)
            (signature, _, flags, method, _, _, _, csize, usize, name_len, extra_len) = _LOCAL_HEADER.unpack(
                handle.read(_LOCAL_HEADER.size)
            )
            if signature != _LOCAL_SIGNATURE or method not in (0, 8):
                break
            name = handle.read(name_len).decode("utf-8" if flags & 0x800 else "cp437", "replace")
            csize, usize = _zip64_sizes(handle.read(extra_len), csize, usize)
            start = offset + _LOCAL_HEADER.size + name_len + extra_len
            walked += 1
            known = not (flags & 0x08) or csize > 0  # with a data descriptor, sizes come after the data
            if not name.endswith("/") and matches(name, patterns):
                found.append(
                    SourceFile(
                        name,
                        str(archive),
                        usize if known else 0,
                        partial(_MemberStream, archive, start, method, csize if known else None),
                    )
                )
            end = start + csize if known else _deflated_end(archive, start, method)
            if end is None or end > size:
                break
            offset = _after_descriptor(handle, end) if flags & 0x08 else end
    if not walked:
        raise FileFormatError(str(archive), None, NOT_A_ZIP)
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


class _MemberStream(WrappedReader):
    """Reads one member's data straight from the archive, inflating as it goes.

    At the cut (or corrupt data) it simply ends, so whoever parses it sees a
    file that stops there and reports the line.
    """

    def __init__(self, archive: Path, start: int, method: int, csize: int | None):
        self._raw = open(archive, "rb")
        self._raw.seek(start)
        self._left = csize
        self._inflate = zlib.decompressobj(-15) if method == 8 else None
        self._buffer = b""
        self.complete = False
        self.end = start

    def _fill(self) -> bool:
        if self.complete or self._left == 0:
            self.complete = True
            return False
        raw = self._raw.read(1 << 20 if self._left is None else min(1 << 20, self._left))
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


def _too_big(what: str, cap: int) -> str:
    return (
        f"zip member {what} decompressed, more than the cap of {cap} bytes (a zip bomb?); "
        "not read. Raise BRONZE_MAX_MEMBER_BYTES if the file is genuine"
    )


class _CappedReader(WrappedReader):
    """A zip member that refuses to decompress past the cap, whatever its header claims.

    ``archive``, the zip the member was opened from, is kept open as long as the member.
    """

    def __init__(self, member: ByteReader, cap: int, where: str, archive: zipfile.ZipFile | None = None):
        self._raw, self._cap, self._where, self._read = member, cap, where, 0
        self._archive = archive

    def read(self, size: int = -1) -> bytes:
        room = self._cap + 1 - self._read  # one byte past the cap proves it is exceeded
        try:
            chunk = self._raw.read(room if size is None or size < 0 else min(size, room))
        except zipfile.BadZipFile as exc:  # a bad CRC: a corrupt member, or a header that lied
            raise FileFormatError(self._where, None, f"corrupt zip member ({exc})") from None
        self._read += len(chunk)
        if self._read > self._cap:
            raise FileFormatError(self._where, None, _too_big(f"reached {self._read} bytes", self._cap))
        return chunk

    def close(self) -> None:
        super().close()
        if self._archive is not None:
            self._archive.close()
