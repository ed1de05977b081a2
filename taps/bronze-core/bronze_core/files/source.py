"""One file found below an export root, what goes wrong reading it, and readers that wrap it.

A ``SourceFile`` is a plain file or a zip member behind the same interface
(``open``), named three ways: relative to its root (stable across runs, the
state key), for the log (``display_path``, this machine's path) and for rows
(``row_path``, never a directory of this machine).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self


class ByteReader(Protocol):
    """What the file readers need of an open file: its bytes, chunk by chunk, then closing it.

    A plain file, a zip member and the readers that cap, bound or inflate one
    (``WrappedReader``) all are one; none of them promises ``seek``.
    """

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> ByteReader: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None, /
    ) -> None: ...


class FileFormatError(ValueError):
    """A file that cannot be parsed; says which file and where."""

    def __init__(self, path: str, line: int | None, detail: str):
        self.path, self.line, self.detail = path, line, detail
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {detail}")


class WrappedReader:
    """A byte reader over another one (``_raw``): closing it closes what it wraps.

    The readers that cap, bound or inflate a file share this, so each says
    only how it reads.
    """

    _raw: ByteReader

    def read(self, size: int = -1) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bounded(WrappedReader):
    """A reader that stops after ``limit`` bytes."""

    def __init__(self, raw: ByteReader, limit: int):
        self._raw, self._left = raw, limit

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        chunk = self._raw.read(self._left if size is None or size < 0 else min(size, self._left))
        self._left -= len(chunk)
        return chunk


def matches(relative: str, patterns: Sequence[str]) -> bool:
    """Whether a "/"-separated relative path matches one of the ``fnmatch`` patterns."""
    return any(fnmatch.fnmatchcase(relative, p) for p in patterns)


@dataclass(frozen=True)
class SourceFile:
    """One file found below an export root (plain file or zip member)."""

    #: Path relative to the root, with "/" separators: stable across runs.
    relative_path: str
    #: The root it was found in (a folder or a .zip).
    root: str
    size: int
    _open: Callable[[], ByteReader]
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

    def bounded(self, size: int) -> SourceFile:
        """The same file, read only up to ``size`` bytes: what was checksummed, not what a
        writer appended since."""
        return SourceFile(self.relative_path, self.root, size, lambda: Bounded(self._open(), size), self.local_path)

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

    def open(self) -> ByteReader:
        return self._open()
