"""One parse of ``export.xml`` for all three streams.

The export is one big XML file, and every stream used to parse all of it for
its own elements: at a million records the two small streams (workouts,
activity summaries) spent about 20 s of a 72 s run parsing past records. Now
the records stream, which runs first, also collects the other streams'
elements into a spool on local disk (there are thousands of them, not
millions). The later streams read their elements from the spool when it
holds the very file they are about to read (same path, same sha256) and the
records pass reached its end. Otherwise, because the records stream was
deselected, found the file unchanged, or hit a broken file, they parse the
export themselves, as before.

The rows are the same either way: the same parser gives the same line
numbers and payloads. One pass matching all three element names gives what
three passes give because, in Apple's export DTD, none of the three is ever
nested in another.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bronze_core.fast_io import dumpb, loadb
from bronze_core.owner_only import open_private


class SharedPass:
    """Elements spooled for later streams, per (file, sha256, tag); removed when the tap ends."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._complete: dict[tuple[str, str, str], Path] = {}

    def writer(self, file: str, sha256: str, tags: list[str]) -> SpoolWriter:
        """A spool for ``tags`` of one file; it counts only once ``complete()`` is called."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="tap-apple-health-pass-"))
        return SpoolWriter(self, file, sha256, tags)

    def read(self, file: str, sha256: str, tag: str) -> Iterator[tuple[dict[str, Any], Any]] | None:
        """``(position, payload)`` of ``tag`` from a complete pass over this very file, or None."""
        path = self._complete.get((file, sha256, tag))
        if path is None:
            return None
        return self._items(path)

    @staticmethod
    def _items(path: Path) -> Iterator[tuple[dict[str, Any], Any]]:
        with open(path, "rb") as handle:
            for line in handle:
                number, payload = loadb(line)
                yield {"line": number}, payload

    def close(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        self._complete.clear()


class SpoolWriter:
    """Appends the elements of other streams met during the records pass."""

    def __init__(self, owner: SharedPass, file: str, sha256: str, tags: list[str]) -> None:
        self._owner, self._key, self.tags = owner, (file, sha256), tuple(tags)
        self._paths = {tag: owner._folder / f"{len(owner._complete)}-{n}-{tag}.jsonl" for n, tag in enumerate(tags)}
        # Health records are personal data: owner-only (in mkdtemp's 0700 folder, too).
        self._handles = {tag: open_private(path, "wb") for tag, path in self._paths.items()}

    def add(self, tag: str, line: int, payload: Any) -> None:
        self._handles[tag].write(dumpb([line, payload]) + b"\n")

    def close(self, *, complete: bool) -> None:
        """Close the spool files; only a pass that reached the end of the file is used."""
        for handle in self._handles.values():
            handle.close()
        if complete:
            for tag, path in self._paths.items():
                self._owner._complete[(*self._key, tag)] = path
