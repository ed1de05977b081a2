"""XML files (an Apple Health ``export.xml`` of gigabytes): the wanted elements, streamed.

Only the wanted elements are built; the document's internal DTD is read but
entity declarations are refused, and nothing external is ever fetched.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Collection, Iterator
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from bronze_core.files.source import FileFormatError, SourceFile

#: Bytes handed to the XML parser at a time.
XML_CHUNK = 1 << 20


class _WrongShape(Exception):
    """Raised from inside the XML parser's callbacks: the document is of another kind."""


def iter_xml_elements(
    source: SourceFile, tags: Collection[str], root: str | None = None
) -> Iterator[tuple[int, Element]]:
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
                raise _WrongShape(
                    f"not the expected shape: the document is <{name}>, not <{root}>; nothing was read from it"
                )
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
                problem = FileFormatError(
                    source.display_path,
                    getattr(exc, "lineno", None) or parser.CurrentLineNumber,
                    f"invalid XML ({detail})",
                )
            except _WrongShape as exc:
                problem = FileFormatError(source.display_path, parser.CurrentLineNumber, str(exc))
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                problem = FileFormatError(
                    source.display_path,
                    parser.CurrentLineNumber,
                    f"unreadable compressed data ({exc}); the line is where reading stopped",
                )
            yield from done  # the elements completed before a break still count
            done.clear()
            if problem is not None:
                raise problem
            if not chunk:
                return
