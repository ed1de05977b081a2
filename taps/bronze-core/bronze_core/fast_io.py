"""Faster JSON for bronze messages: the taps' message writer, batch files, the loader.

singer-sdk's default writer serialises every message with simplejson (with
``use_decimal``) and flushes stdout after every message: at a million rows
the flushes alone are a million write syscalls. Bronze records hold only
JSON-native values (payloads come from JSON or CSV parsers and pass through
``bronze_core.envelope.scan``, which turns infinities and NaN into
strings; the envelope is strings), so msgspec (singer-sdk's own optional
encoder, ``singer-sdk[msgspec]``) writes the same meaning several times
faster. Anything it would spell differently takes the SDK's own serialiser:
a value it cannot encode, and a ``NaN``/``Infinity`` it would write (from a
``Decimal``, which singer-sdk's reader makes of every JSON float).

Stdout is flushed on every message that is not a RECORD (SCHEMA, STATE, ...),
so a target never waits on a bookmark that sits in a buffer; records are
written in the buffer's own rhythm.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import msgspec
from singer_sdk.singerlib.encoding.base import SingerMessageType
from singer_sdk.singerlib.encoding.simple import SimpleSingerWriter
from singer_sdk.singerlib.json import serialize_json


def _encode_special(value):
    if isinstance(value, dt.datetime):
        return value.isoformat(sep="T")
    raise TypeError(type(value).__name__)


_encoder = msgspec.json.Encoder(enc_hook=_encode_special, decimal_format="number")
_decoder = msgspec.json.Decoder()


def dumpb(value) -> bytes:
    """JSON bytes of a message, record or payload, meaning exactly what the SDK's serialiser writes."""
    try:
        out = _encoder.encode(value)
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return serialize_json(value).encode("utf-8")
    if b"NaN" in out or b"Infinity" in out:  # only non-JSON numbers, or text holding the words
        return serialize_json(value).encode("utf-8")
    return out


def dumps(value) -> str:
    """``dumpb`` as text."""
    return dumpb(value).decode("utf-8")


def loadb(line: bytes | str):
    """One JSON document; big or out-of-range numbers take the standard parser."""
    try:
        return _decoder.decode(line)
    except msgspec.ValidationError:  # e.g. 1e400, which the standard parser reads as inf
        return json.loads(line)


class BronzeSingerWriter(SimpleSingerWriter):
    """msgspec-encoded messages; stdout flushed at every non-RECORD message."""

    def serialize_message(self, message) -> str:
        return dumps(message.to_dict())

    def write_message(self, message) -> None:
        sys.stdout.write(self.serialize_message(message) + "\n")
        if message.type is not SingerMessageType.RECORD:
            sys.stdout.flush()
