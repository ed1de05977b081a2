"""The bronze envelope: one source payload wrapped as one immutable bronze row.

Every stream of every tap emits records of exactly this shape (``BRONZE_SCHEMA``),
so one loader configuration lands all sources into identical tables:

- ``raw_data`` is the payload exactly as the source sent it (a non-object
  payload is wrapped as ``{"value": ...}``, nothing else is changed);
- ``raw_id`` + ``raw_hash`` key the row, so re-landing an unchanged payload is a
  no-op and a changed payload lands as a new version. The key is a btree
  index entry, which PostgreSQL caps at about 2.7 kB, so a natural id longer
  than ``MAX_RAW_ID_CHARS`` is stored as a readable prefix plus the sha256 of
  the whole id (``bounded_raw_id``); the whole id is still in ``raw_data``;
- ``validation_status`` / ``error_message`` record whether the payload met the
  stream's own JSON Schema. An invalid payload is still emitted: bronze never
  drops data, it marks it;
- ``metadata`` is lineage: which run, tap, request or file line it came from.

Some payloads cannot be stored as they are: PostgreSQL ``jsonb`` refuses NUL
characters and lone UTF-16 surrogates (which is also what invalid UTF-8
becomes when decoded with ``surrogateescape``), JSON has no infinity, and
Python's JSON encoder stops at about a thousand levels of nesting.
``scan`` makes such a payload storable and says what it changed; the row
still lands, as ``invalid`` with that reason, so nothing is silently lost or
silently altered:

- a NUL becomes the six characters ``\\u0000``, a lone surrogate the six
  characters ``\\udXXX`` (text, readable, reversible by hand);
- a number beyond float range (``1e400`` parses as infinity) becomes the
  string ``"inf"`` / ``"-inf"`` / ``"nan"``;
- an object that repeated a key (see ``DuplicateKeys``) keeps the last value,
  as PostgreSQL would, and says which keys repeated;
- nesting deeper than ``MAX_NESTING`` is cut and replaced by a marker string.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import fastjsonschema
from jsonschema import validators

from bronze_core.hashing import payload_hash
from bronze_core.timestamps import to_utc_iso

VALID, INVALID, WARNING = "valid", "invalid", "warning"

#: How many schema violations are spelled out in ``error_message``.
MAX_REPORTED_ERRORS = 3
#: Long offending values are cut so one bad record cannot bloat the row twice.
MAX_MESSAGE_CHARS = 2000

BRONZE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "raw_id": {"type": "string"},
        "raw_hash": {"type": "string"},
        "source": {"type": "string"},
        # No "properties": the payload must reach the loader untouched.
        "raw_data": {"type": "object"},
        "source_timestamp": {"type": ["string", "null"], "format": "date-time"},
        "validation_status": {"type": "string", "enum": [VALID, INVALID, WARNING]},
        "error_message": {"type": ["string", "null"]},
        "metadata": {"type": ["object", "null"]},
    },
    "required": ["raw_id", "raw_hash", "source", "raw_data", "validation_status"],
}

BRONZE_KEY = ["raw_id", "raw_hash"]
#: The envelope's columns, in table (and COPY) order: sql/001_bronze.sql, the loader.
BRONZE_COLUMNS = tuple(BRONZE_SCHEMA["properties"])
#: The columns that hold JSON (``jsonb`` in the table).
BRONZE_JSON_COLUMNS = frozenset(name for name, prop in BRONZE_SCHEMA["properties"].items() if "object" in prop["type"])

#: Longest ``raw_id`` stored as it is. Even at 4 bytes a character, with the
#: 64-character ``raw_hash``, a key stays far below the ~2.7 kB btree limit.
MAX_RAW_ID_CHARS = 256
_DIGEST_MARK = "|sha256:"

#: Deepest nesting stored as is (real payloads are rarely past 20).
MAX_NESTING = 200
NESTING_CUT = f"<cut: nested deeper than {MAX_NESTING} levels>"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class DuplicateKeys(dict):
    """A JSON object that repeated keys; ``duplicates`` names them (the last value is kept).

    Made by ``keep_duplicates``, the ``object_pairs_hook`` the HTTP streams parse with.
    """

    duplicates: tuple[str, ...] = ()


def keep_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    """``json.loads`` hook: a plain dict, or a ``DuplicateKeys`` when a key repeats."""
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    marked = DuplicateKeys(result)
    marked.duplicates = tuple(sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1))
    return marked


def _escape_text(text: str) -> str:
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def scan(value: Any) -> tuple[Any, list[str], bool]:
    """``value`` made storable in ``jsonb``, what had to change (empty: nothing), and
    whether the result is *plain* (``bronze_core.hashing``).

    One walk serves both: it visits every value anyway, and knowing there is
    no float lets the hash take the fast encoder.
    """
    walk = _Walk()
    return _storable(value, None, 0, walk), walk.problems, walk.plain


class _Walk:
    """What one ``scan`` found: the problems, and whether all it saw was plain."""

    __slots__ = ("plain", "problems")

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.plain = True


def _path(where: tuple | None) -> str:
    """``/a/0/b`` from the ``(parent, key)`` chain; built only when a problem is reported."""
    parts: list[str] = []
    while where is not None:
        where, key = where
        parts.append(str(key))
    return "".join("/" + part for part in reversed(parts))


def _short(where: tuple | None) -> str:
    path = _path(where)
    return (path if len(path) <= 80 else path[:40] + "..." + path[-37:]) or "(root)"


def _is_clean_text(text: str) -> bool:
    return text.isascii() and "\x00" not in text


def _storable(value: Any, where: tuple | None, depth: int, walk: _Walk) -> Any:
    # Strings, integers, booleans and nulls are by far the most common values;
    # they are decided without a call where a dict holds them (below).
    kind = type(value)
    if kind is str or isinstance(value, str):
        if _is_clean_text(value):
            return value
        if _UNSTORABLE.search(value):
            walk.problems.append(f"{_short(where)}: NUL or lone surrogate characters, stored escaped as \\uXXXX text")
            return _escape_text(value)
        return value
    if kind is int or kind is bool or value is None:
        return value
    if isinstance(value, float):
        walk.plain = False
        if not math.isfinite(value):
            walk.problems.append(f"{_short(where)}: number beyond float range, stored as the string {str(value)!r}")
            return str(value)
        return value
    if isinstance(value, (dict, list)) and depth >= MAX_NESTING:
        walk.problems.append(f"{_short(where)}: nested deeper than {MAX_NESTING} levels, the rest was cut")
        return NESTING_CUT
    if isinstance(value, dict):
        if isinstance(value, DuplicateKeys):
            walk.problems.append(
                f"{_short(where)}: repeated keys {list(value.duplicates)}, the last value of each kept"
            )
        cleaned = {}
        for key, item in value.items():
            if type(key) is not str:
                walk.plain = False  # JSON keys are strings; anything else takes the standard encoder
                if isinstance(key, str):
                    key = _storable(key, where, depth, walk)
            elif not _is_clean_text(key):
                key = _storable(key, where, depth, walk)
            kind = type(item)
            if (kind is str and _is_clean_text(item)) or kind is int or kind is bool or item is None:
                cleaned[key] = item
            else:
                cleaned[key] = _storable(item, (where, key), depth + 1, walk)
        return cleaned
    if isinstance(value, list):
        return [_storable(item, (where, n), depth + 1, walk) for n, item in enumerate(value)]
    walk.plain = False  # Decimal, tuple, ...: the standard encoder decides
    return value


#: Keywords whose meaning is the same in draft-07 (fastjsonschema) and 2020-12
#: (jsonschema) for JSON-parsed values. ``enum``/``const`` are left out on
#: purpose: fastjsonschema compares ``True == 1`` where jsonschema does not.
_FAST_KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "pattern",
        "format",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "minProperties",
        "maxProperties",
    }
)


def _fast_compatible(schema: Any) -> bool:
    """Whether every keyword of ``schema`` (recursively) is in ``_FAST_KEYWORDS``."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or not set(schema) <= _FAST_KEYWORDS:
        return False
    if isinstance(schema.get("items", {}), list):  # tuple form differs between drafts
        return False
    children = list(schema.get("properties", {}).values())
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            children.append(schema[key])
    return all(_fast_compatible(child) for child in children)


class PayloadValidator:
    """Checks payloads against one stream's JSON Schema and explains failures.

    The common case, a valid payload, is decided by a compiled validator
    (fastjsonschema, about ten times faster) when the schema uses only
    keywords on which it agrees with jsonschema; formats are not asserted by
    either. Anything it rejects is checked again by jsonschema, which alone
    decides invalidity and writes the message, so the marking and wording of
    invalid rows are jsonschema's.
    """

    def __init__(self, schema: Mapping[str, Any]):
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
        self._validator = cls(schema)
        self._fast = None
        if _fast_compatible(schema):
            stripped = {k: v for k, v in schema.items() if k != "$schema"}
            self._fast = fastjsonschema.compile(stripped, use_formats=False)

    def errors(self, payload: Any) -> list[str]:
        """Readable violations, most relevant first, or an empty list."""
        if self._fast is not None:
            try:
                self._fast(payload)
                return []
            except fastjsonschema.JsonSchemaException:
                pass
        found = sorted(self._validator.iter_errors(payload), key=_error_rank)
        return [_describe(error) for error in found[:MAX_REPORTED_ERRORS]] + (
            [f"... and {len(found) - MAX_REPORTED_ERRORS} more"] if len(found) > MAX_REPORTED_ERRORS else []
        )


def _error_rank(error) -> tuple:
    return (len(error.absolute_path), str(error.message))


def _describe(error) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


def bounded_raw_id(raw_id: str) -> str:
    """``raw_id`` itself, or, when longer than ``MAX_RAW_ID_CHARS``, its start plus
    ``|sha256:`` and the digest of all of it (exactly ``MAX_RAW_ID_CHARS`` long).

    One id still gives one ``raw_id`` and two ids two, whatever their length;
    the start keeps it readable. A 10 kB id no longer fails the load ("index
    row size ... exceeds maximum").
    """
    if len(raw_id) <= MAX_RAW_ID_CHARS:
        return raw_id
    digest = hashlib.sha256(raw_id.encode("utf-8")).hexdigest()
    return raw_id[: MAX_RAW_ID_CHARS - len(_DIGEST_MARK) - len(digest)] + _DIGEST_MARK + digest


def wrap_payload(payload: Any) -> dict:
    """Objects stay as they are; arrays and scalars are wrapped, nothing else."""
    return payload if isinstance(payload, dict) else {"value": payload}


def build_envelope(
    payload: Any,
    *,
    raw_id: Any,
    source: str,
    source_timestamp: dt.datetime | None = None,
    validator: PayloadValidator | None = None,
    metadata: Mapping[str, Any] | None = None,
    warnings: Iterable[str] = (),
) -> dict:
    """Wrap one payload as a bronze record.

    ``warnings`` are notes about a payload that met its schema but still needs a
    second look (for example a time that could not be read); they make the row
    ``warning`` instead of ``valid``.
    """
    raw_data, problems, plain = scan(wrap_payload(payload))
    problems += validator.errors(raw_data) if validator is not None else []
    notes = list(warnings)
    if problems:
        status, message = INVALID, "; ".join(problems)
    elif notes:
        status, message = WARNING, "; ".join(notes)
    else:
        status, message = VALID, None
    if message is not None and len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 3] + "..."
    return {
        "raw_id": bounded_raw_id(_escape_text(str(raw_id))),
        "raw_hash": payload_hash(raw_data, plain=plain),
        "source": source,
        "raw_data": raw_data,
        "source_timestamp": to_utc_iso(source_timestamp),
        "validation_status": status,
        "error_message": message,
        "metadata": dict(metadata) if metadata else {},
    }
