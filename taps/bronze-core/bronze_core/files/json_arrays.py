"""JSON array files (a Garmin export's ``[...]``), streamed item by item in constant memory.

A reader that finds a container other than the one it expects (an object
where the export holds an array) raises ``FileFormatError``: zero rows from a
file of the wrong shape is a broken file, not an empty one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ijson

from bronze_core.files.source import ByteReader, FileFormatError, SourceFile

_PYTHON_IJSON = ijson.get_backend("python")


class _LineCounter:
    """A reader that counts the newlines handed to the parser, to locate errors."""

    def __init__(self, raw: ByteReader):
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
                detail = str(exc).splitlines()[0][:300]
                raise FileFormatError(
                    source.display_path,
                    counter.lines,
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
                source.display_path,
                counter.lines,
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
                        f"was expected, found {found}; nothing was read from it"
                    )
                if path == holder:
                    return None  # the array holding the items: the shape is right
                if child != "item":
                    lacking = (
                        counter.lines,
                        f"not the expected shape: the object at "
                        f"{path or 'the top level'!r} has no {child!r}; nothing was read from it",
                    )
        except (ijson.JSONError, ValueError):
            return None
    return lacking
