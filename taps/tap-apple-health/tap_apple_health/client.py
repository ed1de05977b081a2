"""What every Apple Health export stream shares: where the export is, how an element becomes JSON.

All streams read the same file (``apple_health_export/export.xml`` in the zip, in
the unpacked folder, or handed over bare), each picking its own elements while
the parser streams past the rest; the records stream's pass also collects the
other streams' elements for them (``shared_pass``). Every attribute and child the XML has is
kept (see ``element_payload``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from bronze_core.envelope import MAX_NESTING, NESTING_CUT
from bronze_core.file_streams import BronzeFileStream
from bronze_core.files.xml_elements import iter_xml_elements
from tap_apple_health.shared_pass import SpoolWriter

SCHEMAS_DIR = Path(__file__).parent / "schemas"
#: ``export.xml`` at any depth (zip or folder), or the bare file; never ``export_cda.xml``.
EXPORT_PATTERNS = ("export.xml", "*/export.xml")
#: The root element of ``export.xml`` (Apple's export DTD); any other document is not an export.
ROOT_ELEMENT = "HealthData"


#: How deep ``element_payload`` follows nested elements. Each level is two
#: JSON levels (an object in a list), so this is past ``MAX_NESTING``: the
#: envelope cuts there and marks the row invalid, saying so.
MAX_ELEMENT_DEPTH = MAX_NESTING // 2 + 1


def element_payload(element: Element, depth: int = 0) -> dict[str, Any]:
    """An element as JSON: its attributes as keys, its children as lists under their tag.

    Attribute values stay the strings the XML has (``"72"`` stays ``"72"``:
    bronze keeps what the source wrote). Children keep their order, so
    repeated ``MetadataEntry`` keys or beat lists survive as they are. Text,
    which Apple's export does not use, is kept under ``"#text"`` if present.
    Elements nested past ``MAX_ELEMENT_DEPTH`` (no real export comes close;
    a hostile one could nest thousands) are not followed, so one such element
    becomes one invalid row instead of stopping the stream.
    """
    payload: dict[str, Any] = dict(element.attrib)
    if depth >= MAX_ELEMENT_DEPTH:
        return {**payload, "#cut": NESTING_CUT} if len(element) else payload
    for child in element:
        payload.setdefault(child.tag, []).append(element_payload(child, depth + 1))
    text = (element.text or "").strip()
    if text:
        payload["#text"] = element.text
    return payload


class AppleHealthStream(BronzeFileStream):
    """Reads one element kind from the export named by ``export_path``."""

    source = "apple_health"
    schemas_dir = SCHEMAS_DIR
    file_patterns = EXPORT_PATTERNS
    #: The XML element this stream turns into rows.
    tag: str = ""
    time_field = "startDate"

    def files_root(self) -> Path:
        return Path(self.config["export_path"]).expanduser()

    def read_items(self, source, resume=None):
        spooled = self._tap.shared_pass.read(source.relative_path, self.current_file.sha256, self.tag)
        if spooled is not None:
            self.logger.info("%s: %s elements taken from the records pass", self.name, self.tag)
            yield from spooled
            return
        spool = self.spool_for_others(source)
        tags = (self.tag, *(spool.tags if spool is not None else ()))
        complete = False
        try:
            for line, element in iter_xml_elements(source, tags, root=ROOT_ELEMENT):
                if element.tag == self.tag:
                    yield {"line": line}, element_payload(element)
                else:
                    spool.add(element.tag, line, element_payload(element))
            complete = True
        finally:
            if spool is not None:
                spool.close(complete=complete)

    def spool_for_others(self, source) -> SpoolWriter | None:
        """Where this stream's pass collects other streams' elements; only records' pass does."""
        return None
