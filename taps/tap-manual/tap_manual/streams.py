"""One stream per sub-folder of the manual logs folder, checked by the user's own schema.

A folder such as ``manual/water_intake/`` holds ``schema.json`` (a JSON
Schema the user writes) and any number of ``.csv`` or ``.jsonl`` files. Rows
land exactly as written; CSV values stay the file's text in ``raw_data``.
So that a user can write ``"type": "number"`` for a CSV column, a CSV row is
checked against the schema after reading its text as the types the schema
declares (``"250"`` as 250); the stored payload is not changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bronze_core.envelope import PayloadValidator
from bronze_core.fields import When, iso_in
from bronze_core.file_streams import BronzeFileStream
from bronze_core.files.lines import iter_csv_rows, iter_json_lines
from bronze_core.hashing import payload_hash
from bronze_core.natural_ids import normal_id
from bronze_core.streams import stream_name

SCHEMA_FILE = "schema.json"
#: A schema may name the column that says when a row happened; otherwise the
#: first property with ``"format": "date-time"`` or ``"date"`` is used.
TIME_KEYWORD = "x-time-field"
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}


class SchemaError(ValueError):
    """A stream's schema.json that cannot be used; names the file."""


def load_schema(folder: Path) -> dict[str, Any] | None:
    path = folder / SCHEMA_FILE
    if not path.exists():
        return None
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        PayloadValidator(schema)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path}: not a usable JSON Schema ({str(exc).splitlines()[0]})") from None
    except Exception as exc:  # noqa: BLE001  # jsonschema's SchemaError and friends
        raise SchemaError(f"{path}: not a valid JSON Schema ({str(exc).splitlines()[0]})") from None
    if not isinstance(schema, dict):
        raise SchemaError(f"{path}: a JSON Schema must be an object")
    return schema


def read_as_declared(text: str, declared: Any) -> Any:
    """A CSV cell read as the type its schema property declares, or the text if it does not fit."""
    types = declared if isinstance(declared, list) else [declared]
    if text == "" and "null" in types:
        return None
    for kind in types:
        try:
            if kind == "integer":
                return int(text)
            if kind == "number":
                value = float(text)
                return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
            if kind == "boolean" and text.strip().lower() in TRUE | FALSE:
                return text.strip().lower() in TRUE
        except ValueError:
            continue
    return text


class CsvAwareValidator(PayloadValidator):
    """Validates CSV rows as their declared types, JSON Lines rows as they are."""

    def __init__(self, schema: Mapping[str, Any], stream: ManualStream):
        super().__init__(schema)
        self._declared = {
            name: spec.get("type") for name, spec in schema.get("properties", {}).items() if isinstance(spec, dict)
        }
        self._stream = stream

    def errors(self, payload: Any) -> list[str]:
        if self._stream.reading_csv and isinstance(payload, dict):
            payload = {
                key: read_as_declared(value, self._declared.get(key))
                if isinstance(value, str) and key in self._declared
                else value
                for key, value in payload.items()
            }
        return super().errors(payload)


class ManualStream(BronzeFileStream):
    """The rows of every ``.csv`` and ``.jsonl`` file in one folder."""

    source = "manual"
    appendable = True
    file_patterns = ("*.csv", "*.jsonl")

    def __init__(self, tap, folder: Path):
        self.folder = folder
        #: A schema.json that cannot be used stops this folder only (see ``get_records``).
        self.schema_error: SchemaError | None = None
        try:
            self.user_schema = load_schema(folder)
        except SchemaError as exc:
            self.user_schema, self.schema_error = None, exc
        super().__init__(tap, name=stream_name("manual", folder.name))
        self.reading_csv = False

    def get_records(self, context):
        """The folder's rows; none while its schema.json is unusable: that is reported, its files
        stay unread (not marked done) and the other folders still land."""
        if self.schema_error is not None:
            self.report_problem(self.schema_error, "its files are read once it is fixed; the other folders still land")
            return iter(())
        return super().get_records(context)

    def files_root(self) -> Path:
        return self.folder

    @cached_property
    def payload_validator(self) -> PayloadValidator | None:
        if self.user_schema is None:
            self.logger.warning("%s: no %s in %s; rows land unchecked", self.name, SCHEMA_FILE, self.folder)
            return None
        return CsvAwareValidator(self.user_schema, self)

    @cached_property
    def time_column(self) -> str | None:
        """The column that says when a row happened: the schema's ``x-time-field``, else its
        first date or date-time property."""
        schema = self.user_schema or {}
        if schema.get(TIME_KEYWORD):
            return schema[TIME_KEYWORD]
        for name, spec in schema.get("properties", {}).items():
            if isinstance(spec, dict) and spec.get("format") in ("date-time", "date"):
                return name
        return None

    @cached_property
    def time_field(self) -> When | None:
        """The time column, its zone-less values read in the ``timezone`` setting's zone."""
        return When(self.time_column, iso_in(self.zone)) if self.time_column else None

    @cached_property
    def zone(self) -> dt.tzinfo:
        return ZoneInfo(self.config["timezone"])

    def read_items(self, source, resume=None):
        self.reading_csv = source.relative_path.lower().endswith(".csv")
        reader = iter_csv_rows if self.reading_csv else iter_json_lines
        return reader(source, resume)

    def payload_id(self, payload: Any, lineage: Mapping[str, Any]) -> str:
        """The row's ``id`` if it has one; else its file and content (an edit is a new row).

        Not a ``key_fields`` declaration: the user's folders need not have an
        id column, and CSV and JSON Lines spell one number differently.

        The id is normalised, never taken as spelled: trimmed, and a number
        (a JSON number, or a CSV cell the schema declares a number) written
        as its plain integer (``7``, ``7.0`` and ``1.462233599000E+12`` style
        spellings agree). A number a spreadsheet shortened (``1.46223E+12``)
        no longer tells rows apart, so that row is keyed by its time too.
        """
        if not isinstance(payload, dict) or payload.get("id") in (None, ""):
            return f"{lineage['file']}|{payload_hash(payload)}"
        value = payload["id"]
        if isinstance(value, str) and not self._numeric_id:
            return value.strip() or f"{lineage['file']}|{payload_hash(payload)}"
        text, lossy = normal_id(value)
        if lossy and self.time_column and payload.get(self.time_column) not in (None, ""):
            try:
                when = self.payload_time(payload).isoformat()
            except (TypeError, ValueError, OverflowError, AttributeError):
                when = str(payload[self.time_column]).strip()
            text = f"{text}|{when}"
        return text

    @property
    def _numeric_id(self) -> bool:
        """Whether the file is a CSV whose ``id`` is declared a number, so its text is one."""
        return self.reading_csv and bool({"integer", "number"} & self._declared_id_types)

    @cached_property
    def _declared_id_types(self) -> set:
        declared = (self.user_schema or {}).get("properties", {}).get("id")
        kinds = declared.get("type") if isinstance(declared, dict) else None
        return set(kinds if isinstance(kinds, list) else [kinds])
