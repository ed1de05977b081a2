"""The bronze envelope: one source payload wrapped as one immutable bronze row.

Every stream of every tap emits records of exactly this shape (``BRONZE_SCHEMA``),
so one loader configuration lands all sources into identical tables:

- ``raw_data`` is the payload exactly as the source sent it (a non-object
  payload is wrapped as ``{"value": ...}``, nothing else is changed);
- ``raw_id`` + ``raw_hash`` key the row, so re-landing an unchanged payload is a
  no-op and a changed payload lands as a new version;
- ``validation_status`` / ``error_message`` record whether the payload met the
  stream's own JSON Schema. An invalid payload is still emitted: bronze never
  drops data, it marks it;
- ``metadata`` is lineage: which run, tap, request or file line it came from.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

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


#: Keywords whose meaning is the same in draft-07 (fastjsonschema) and 2020-12
#: (jsonschema) for JSON-parsed values. ``enum``/``const`` are left out on
#: purpose: fastjsonschema compares ``True == 1`` where jsonschema does not.
_FAST_KEYWORDS = frozenset({
    "$schema", "$id", "$comment", "title", "description", "default", "examples",
    "type", "properties", "required", "additionalProperties", "items", "pattern",
    "format", "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum",
    "minProperties", "maxProperties",
})


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
            [f"... and {len(found) - MAX_REPORTED_ERRORS} more"]
            if len(found) > MAX_REPORTED_ERRORS
            else []
        )


def _error_rank(error) -> tuple:
    return (len(error.absolute_path), str(error.message))


def _describe(error) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


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
    raw_data = wrap_payload(payload)
    problems = validator.errors(raw_data) if validator is not None else []
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
        "raw_id": str(raw_id),
        "raw_hash": payload_hash(raw_data),
        "source": source,
        "raw_data": raw_data,
        "source_timestamp": to_utc_iso(source_timestamp),
        "validation_status": status,
        "error_message": message,
        "metadata": dict(metadata) if metadata else {},
    }
