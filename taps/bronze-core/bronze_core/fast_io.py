"""Faster JSON for bronze messages: the taps' message writer, the loader's JSON columns.

singer-sdk's default writer serialises every message with simplejson (with
``use_decimal``) and flushes stdout after every message: at a million rows
the flushes alone are a million write syscalls. Bronze records hold only
JSON-native values (payloads come from JSON or CSV parsers, the envelope is
strings), so the C-accelerated stdlib encoder gives the same bytes' meaning;
anything it cannot encode exactly (a ``Decimal``, NaN) falls back to the SDK's
own serialiser. Stdout is flushed on every message that is not a RECORD
(SCHEMA, STATE, ...), so a target never waits on a bookmark that sits in a
buffer; records are written in the buffer's own rhythm.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from singer_sdk.singerlib.encoding.base import SingerMessageType
from singer_sdk.singerlib.encoding.simple import SimpleSingerWriter
from singer_sdk.singerlib.json import serialize_json

_encoder = json.JSONEncoder(allow_nan=False, separators=(",", ":"),
                            default=lambda value: _encode_special(value))


class _NotNative(TypeError):
    pass


def _encode_special(value):
    if isinstance(value, dt.datetime):
        return value.isoformat(sep="T")
    raise _NotNative(type(value).__name__)


def dumps(message) -> str:
    """JSON text of a message or payload, meaning exactly what the SDK's serialiser writes.

    (A ``Decimal``, which singer-sdk's reader makes of every JSON float, or a
    NaN takes the SDK's slower path.)
    """
    try:
        return _encoder.encode(message)
    except (_NotNative, ValueError):
        return serialize_json(message)


class BronzeSingerWriter(SimpleSingerWriter):
    """Stdlib-encoded messages; stdout flushed at every non-RECORD message."""

    def serialize_message(self, message) -> str:
        return dumps(message.to_dict())

    def write_message(self, message) -> None:
        sys.stdout.write(self.serialize_message(message) + "\n")
        if message.type is not SingerMessageType.RECORD:
            sys.stdout.flush()
