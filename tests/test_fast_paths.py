"""The fast paths of bronze_core give exactly what the stock paths give.

- PayloadValidator's compiled fast path never calls a payload valid that
  jsonschema calls invalid, on every payload schema the taps ship;
- the taps' message writer encodes messages as singer-sdk's serialiser does;
- the loader's COPY path lands the same rows as target-postgres's stock upsert
  (same dedup, invalid rows kept, re-landing a key changes nothing).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import subprocess
from pathlib import Path

import pytest
from jsonschema import validators
from singer_sdk.singerlib.json import serialize_json

from bronze_core.envelope import PayloadValidator, _fast_compatible
from bronze_core.fast_io import dumps

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILES = sorted(ROOT.glob("taps/*/tap_*/schemas/*.json"))
TARGET = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres-bronze"

#: Values that tell lenient and strict validators apart.
PROBES = [None, True, False, 0, 1, 1.0, 1.5, -3, "", "x", "2024-05-14", "١٢", [], [1], ["a", None], {}, {"a": 1}]


def _variants(schema: dict) -> list:
    """Payloads built from a schema: each property set to each probe, plus a few wholes."""
    props = schema.get("properties", {})
    base = dict.fromkeys(props, "x")
    out = [base, {}, [], "x", None]
    for name in props:
        for probe in PROBES:
            out.append({**base, name: probe})
        out.append({k: v for k, v in base.items() if k != name})
    return out


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_fast_validator_agrees_with_jsonschema(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    checker = PayloadValidator(schema)
    reference = validators.validator_for(schema)(schema)
    for payload in _variants(schema):
        assert (checker.errors(payload) == []) == reference.is_valid(payload), payload


def test_fast_validator_is_used_only_where_it_agrees():
    assert _fast_compatible({"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}})
    assert not _fast_compatible({"type": "object", "properties": {"a": {"const": 1}}})
    assert not _fast_compatible({"type": "object", "properties": {"a": {"enum": [1]}}})
    assert not _fast_compatible({"type": "array", "prefixItems": [{"type": "string"}]})
    assert not _fast_compatible({"$ref": "#/$defs/x", "$defs": {"x": {}}})
    # With const the answer is jsonschema's: True is not 1.
    assert PayloadValidator({"properties": {"a": {"const": 1}}}).errors({"a": True})


def test_fast_validator_messages_are_jsonschemas():
    schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    errors = PayloadValidator(schema).errors({"id": 5})
    assert errors == ["id: 5 is not of type 'string'"]


@pytest.mark.parametrize(
    "value",
    [
        {"a": "é", "b": [1, 2.5, None, True], "c": "\u2028", "d": {"e": "\x01"}},
        {"d": decimal.Decimal("1.10"), "e": decimal.Decimal("NaN"), "s": "NaN and Infinity"},
        {"big": 10**30, "small": -(2**63) - 1, "f": 1e16, "g": 1e-05},
    ],
)
def test_writer_encodes_the_meaning_the_sdk_encodes(value):
    parse = lambda text: json.loads(text, parse_float=decimal.Decimal)  # noqa: E731
    if "e" in value:  # NaN is no JSON: the SDK's own spelling is kept
        assert dumps(value) == serialize_json(value)
    else:
        assert parse(dumps(value)) == parse(serialize_json(value))


def test_writer_keeps_the_time_extracted_instant():
    when = dt.datetime(2020, 1, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert dt.datetime.fromisoformat(json.loads(dumps({"t": when}))["t"]) == when


def test_records_hold_no_float_the_fast_writer_would_change():
    """msgspec writes a float NaN or infinity as null; the envelope never lets one through."""
    from bronze_core.envelope import build_envelope

    record = build_envelope({"a": float("nan"), "b": [float("inf")]}, raw_id="x", source="t")
    assert json.loads(dumps(record))["raw_data"] == {"a": "nan", "b": ["inf"]}
    assert record["validation_status"] == "invalid"


def _envelope(raw_id, payload, status="valid", error=None, line=1):
    from bronze_core.hashing import payload_hash

    return {
        "raw_id": raw_id,
        "raw_hash": payload_hash(payload),
        "source": "bench",
        "raw_data": payload,
        "source_timestamp": "2024-05-14T06:00:00+00:00",
        "validation_status": status,
        "error_message": error,
        "metadata": {"line": line},
    }


def _singer(records: list[dict]) -> str:
    from bronze_core.envelope import BRONZE_KEY, BRONZE_SCHEMA

    lines = [{"type": "SCHEMA", "stream": "bench__rows", "schema": BRONZE_SCHEMA, "key_properties": BRONZE_KEY}]
    lines += [{"type": "RECORD", "stream": "bench__rows", "record": r} for r in records]
    lines.append({"type": "STATE", "value": {"bookmarks": {"bench__rows": {"done": True}}}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def _load(url: str, schema: str, fast: bool, messages: str, batch: int, tmp: Path) -> str:
    config = {
        "sqlalchemy_url": url,
        "default_target_schema": schema,
        "load_method": "upsert",
        "use_copy": True,
        "add_record_metadata": False,
        "validate_records": False,
        "activate_version": False,
        "process_activate_version_messages": False,
        "batch_size_rows": batch,
        "fast_copy": fast,
    }
    cfg = tmp / f"cfg-{schema}.json"
    cfg.write_text(json.dumps(config))
    result = subprocess.run(
        [str(TARGET), "--config", str(cfg)],
        input=messages,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "BRONZE_SQL_DIR": str(ROOT / "sql")},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_copy_loader_lands_what_the_stock_loader_lands(fresh_db, tmp_path):
    import psycopg

    first = [_envelope(f"id{i}", {"i": i, "v": 1.5 * i, "s": "é"}, line=i) for i in range(25)]
    first.append(_envelope("bad", {"i": "x"}, "invalid", "i: 'x' is not of type 'integer'"))
    first.append(_envelope("id3", {"i": 3, "v": 4.5, "s": "é"}, line=99))  # repeat in the stream
    second = [
        _envelope("id1", {"i": 1, "v": 1.5, "s": "é"}, line=500),  # unchanged: no-op
        _envelope("id1", {"i": 1, "v": 2.0, "s": "é"}, line=501),
    ]  # changed: new version
    rows = {}
    for schema, fast in (("stock", False), ("fast", True)):
        out = _load(fresh_db, schema, fast, _singer(first), batch=10, tmp=tmp_path)
        assert '"done": true' in out  # the state is emitted after the rows landed
        _load(fresh_db, schema, fast, _singer(second), batch=10, tmp=tmp_path)
        with psycopg.connect(fresh_db) as conn:
            rows[schema] = conn.execute(
                f"SELECT raw_id, raw_hash, source, raw_data, source_timestamp, validation_status, "
                f"error_message, metadata->>'line' FROM {schema}.bench__rows "
                f"ORDER BY raw_id, raw_hash"
            ).fetchall()
            trigger = conn.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'keep_first_landing' AND tgrelid = %s::regclass",
                (f"{schema}.bench__rows",),
            ).fetchone()[0]
            assert trigger == 1
    assert len(rows["fast"]) == 27
    assert rows["fast"] == rows["stock"]
    by_id = {}
    for row in rows["fast"]:
        by_id.setdefault(row[0], []).append(row)
    assert len(by_id["id1"]) == 2  # history kept
    assert [r[7] for r in by_id["id1"] if r[3]["v"] == 1.5] == ["1"]  # first landing kept
    assert by_id["bad"][0][5] == "invalid"


def _batched(records: list[dict], folder: Path, compression: str) -> str:
    """The same records as BATCH messages pointing at files written by the taps' batch writer."""
    from singer_sdk.helpers._batch import BatchConfig

    from bronze_core.batches import write_batches
    from bronze_core.envelope import BRONZE_KEY, BRONZE_SCHEMA

    config = BatchConfig.from_dict(
        {
            "encoding": {"format": "jsonl", "compression": compression},
            "storage": {"root": folder.as_uri()},
            "batch_size": 10,
        }
    )
    lines = [{"type": "SCHEMA", "stream": "bench__rows", "schema": BRONZE_SCHEMA, "key_properties": BRONZE_KEY}]
    for encoding, manifest in write_batches(iter(records), config, "tap-bench", "bench__rows"):
        lines.append(
            {
                "type": "BATCH",
                "stream": "bench__rows",
                "encoding": {"format": encoding.format, "compression": encoding.compression},
                "manifest": manifest,
            }
        )
    lines.append({"type": "STATE", "value": {"bookmarks": {"bench__rows": {"done": True}}}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_batch_files_land_what_record_messages_land_and_are_then_deleted(fresh_db, tmp_path, compression):
    import psycopg

    records = [_envelope(f"id{i}", {"i": i, "v": 1.5 * i, "big": 10**30, "s": "é\u2028"}, line=i) for i in range(25)]
    records.append(_envelope("bad", {"i": "x"}, "invalid", "i: 'x' is not of type 'integer'"))
    records.append(_envelope("id3", {"i": 3, "v": 4.5, "big": 10**30, "s": "é\u2028"}, line=99))
    folder = tmp_path / "batches"
    bystander = folder / "notes.jsonl"
    folder.mkdir()
    bystander.write_text("{}\n")
    out = _load(fresh_db, "batched", True, _batched(records, folder, compression), 10, tmp_path)
    assert '"done": true' in out
    _load(fresh_db, "streamed", True, _singer(records), 10, tmp_path)
    query = (
        "SELECT raw_id, raw_hash, source, raw_data, source_timestamp, validation_status, "
        "error_message, metadata FROM {}.bench__rows ORDER BY raw_id, raw_hash"
    )
    with psycopg.connect(fresh_db) as conn:
        batched = conn.execute(query.format("batched")).fetchall()
        streamed = conn.execute(query.format("streamed")).fetchall()
    assert len(batched) == 26 and batched == streamed
    assert sorted(p.name for p in folder.iterdir()) == ["notes.jsonl"]  # loaded files deleted
