"""Canonical JSON and the payload hash that, with ``raw_id``, keys a bronze row.

The hash must not change when a source merely reorders keys or re-spaces its
JSON, or every refetch would land as a "new version". So it is taken over a
canonical serialisation: sorted keys, no insignificant whitespace, UTF-8.

The canonical form is defined by the standard library's encoder
(``canonical_json``). msgspec writes the very same bytes about twenty times
faster for every JSON value except floats, whose exponent spelling differs
(``1e+16`` against ``1e16``). Rows landed before must keep their hash, so the
fast encoder is used only when the caller knows the value is *plain*: dicts
with string keys, lists, strings, integers, booleans and nulls, no float
(``bronze_core.envelope`` finds out on its way through the payload), and
anything msgspec refuses takes the standard path.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec

_sorted_encoder = msgspec.json.Encoder(order="sorted")


def canonical_json(value: Any) -> str:
    """Serialise ``value`` the same way whatever its key order or spacing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_bytes(value: Any, *, plain: bool = False) -> bytes:
    """UTF-8 of ``canonical_json(value)``; fast when ``value`` is plain (no float)."""
    if plain:
        try:
            return _sorted_encoder.encode(value)
        except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
            pass
    return canonical_json(value).encode("utf-8")


def payload_hash(value: Any, *, plain: bool = False) -> str:
    """Hex sha256 of the canonical JSON of ``value``.

    ``plain=True`` is a promise that ``value`` holds no float and no non-string
    key; it only makes the hash faster, never different.
    """
    return hashlib.sha256(canonical_bytes(value, plain=plain)).hexdigest()
