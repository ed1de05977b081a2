"""The bronze envelope: hashing, validation, time normalisation, wrapping."""

import datetime as dt
import hashlib

from bronze_core.envelope import PayloadValidator, build_envelope
from bronze_core.fields import EPOCH_MS
from bronze_core.hashing import canonical_json, payload_hash
from bronze_core.timestamps import parse_timestamp, to_utc_iso

SCHEMA = {
    "type": "object",
    "required": ["calendarDate"],
    "properties": {"calendarDate": {"type": "string"}, "steps": {"type": ["integer", "null"]}},
}


def test_hash_is_stable_across_key_order_and_spacing():
    a = {"b": 1, "a": {"y": [1, 2], "x": "é"}}
    b = {"a": {"x": "é", "y": [1, 2]}, "b": 1}
    assert payload_hash(a) == payload_hash(b)
    assert canonical_json(a) == '{"a":{"x":"é","y":[1,2]},"b":1}'


def test_hash_changes_when_a_value_changes():
    assert payload_hash({"steps": 1}) != payload_hash({"steps": 2})
    assert payload_hash({"steps": 1}) != payload_hash({"steps": 1.5})


def test_valid_payload_is_valid_and_untouched():
    payload = {"calendarDate": "2024-05-14", "steps": 10, "extra": {"kept": True}}
    row = build_envelope(payload, raw_id="2024-05-14", source="garmin", validator=PayloadValidator(SCHEMA))
    assert row["validation_status"] == "valid"
    assert row["error_message"] is None
    assert row["raw_data"] == payload
    assert row["raw_hash"] == payload_hash(payload)
    assert row["raw_id"] == "2024-05-14"


def test_invalid_payload_is_kept_and_explained():
    payload = {"steps": "many"}
    row = build_envelope(payload, raw_id="x", source="garmin", validator=PayloadValidator(SCHEMA))
    assert row["validation_status"] == "invalid"
    assert "steps" in row["error_message"] and "integer" in row["error_message"]
    assert "calendarDate" in row["error_message"]  # the missing required field too
    assert row["raw_data"] == payload


def test_warning_when_valid_but_noted():
    row = build_envelope(
        {"calendarDate": "d"},
        raw_id="d",
        source="garmin",
        validator=PayloadValidator(SCHEMA),
        warnings=["unreadable source time"],
    )
    assert row["validation_status"] == "warning"
    assert row["error_message"] == "unreadable source time"


def test_non_object_payloads_are_wrapped_not_reshaped():
    row = build_envelope([1, 2, 3], raw_id="a", source="s")
    assert row["raw_data"] == {"value": [1, 2, 3]}
    assert build_envelope("x", raw_id="a", source="s")["raw_data"] == {"value": "x"}


def test_source_timestamp_is_utc():
    when = dt.datetime(2024, 5, 14, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    row = build_envelope({}, raw_id="a", source="s", source_timestamp=when)
    assert row["source_timestamp"] == "2024-05-14T06:00:00+00:00"


def test_timestamp_parsing_of_source_formats():
    assert to_utc_iso(parse_timestamp("2024-05-14T15:41:04.0")) == "2024-05-14T15:41:04+00:00"
    assert to_utc_iso(parse_timestamp("2024-01-04 12:00:00 +0100")) == "2024-01-04T11:00:00+00:00"
    assert to_utc_iso(parse_timestamp("2024-05-14T10:00:00Z")) == "2024-05-14T10:00:00+00:00"
    assert to_utc_iso(EPOCH_MS(1715670131000)) == "2024-05-14T07:02:11+00:00"  # Garmin's epoch ms
    cet = dt.timezone(dt.timedelta(hours=1))
    assert to_utc_iso(parse_timestamp("2024-05-14 00:30:00", naive_tz=cet)) == "2024-05-13T23:30:00+00:00"


def test_long_raw_ids_are_bounded_readable_and_still_one_per_id():
    from bronze_core.envelope import MAX_RAW_ID_CHARS, bounded_raw_id

    short = "x" * MAX_RAW_ID_CHARS
    assert bounded_raw_id(short) == short
    long_a, long_b = "é" * 5000 + "a", "é" * 5000 + "b"  # differ only past the kept start
    a, b = bounded_raw_id(long_a), bounded_raw_id(long_b)
    assert len(a) == len(b) == MAX_RAW_ID_CHARS and a != b
    assert a.startswith("é" * 100) and a.endswith("|sha256:" + hashlib.sha256(long_a.encode()).hexdigest())
    assert len(a.encode()) + 64 < 2704, "with raw_hash, within PostgreSQL's btree entry limit"
    row = build_envelope({"id": long_a}, raw_id=long_a, source="manual")
    assert row["raw_id"] == a and row["raw_data"] == {"id": long_a}
