"""tap-manual as a process: folders become streams, the user's schema checks rows, bad rows kept."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_manual.streams import read_as_declared
from tap_manual.tap import TapManual
from tests import tap_runner

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "manual"
_STANDARD_DIR = Path(tempfile.mkdtemp(prefix="manual-std-"))
atexit.register(shutil.rmtree, _STANDARD_DIR, True)
shutil.copytree(SAMPLE, _STANDARD_DIR, dirs_exist_ok=True)

TestTapManual = get_tap_test_class(tap_class=TapManual, config={"manual_dir": str(_STANDARD_DIR)})


def run(folder, tmp_path, state=None, **config):
    return tap_runner.run_tap("tap-manual", {"manual_dir": str(folder), **config}, tmp_path, state)


@pytest.fixture
def logs(tmp_path):
    folder = tmp_path / "manual"
    shutil.copytree(SAMPLE, folder)
    return folder


def test_csv_cells_are_checked_as_declared_types_but_land_as_written(logs, tmp_path):
    with open(logs / "water_intake" / "2024-11.csv", "a") as handle:
        handle.write("2024-11-03 08:00,lots,water,\n2024-11-03 09:00,-5,juice,\n2024-11-03 10:00,300\n")
    result, messages, _ = run(logs, tmp_path, timezone="Europe/Berlin")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["metadata"]["line"]: r for r in tap_runner.records(messages, "manual__water_intake")}
    assert rows[2]["raw_data"] == {"time": "2024-11-02 07:45", "amount_ml": "250", "drink": "water", "note": ""}
    assert rows[2]["validation_status"] == "valid"
    assert rows[2]["source_timestamp"] == "2024-11-02T06:45:00+00:00"  # CET, read in the zone
    assert rows[6]["validation_status"] == "invalid" and "amount_ml" in rows[6]["error_message"]
    assert rows[7]["validation_status"] == "invalid"
    assert "minimum" in rows[7]["error_message"] or "-5" in rows[7]["error_message"]
    assert "juice" in rows[7]["error_message"]
    assert (
        rows[8]["validation_status"] == "invalid" and "line 8: 2 fields, the header has 4" in rows[8]["error_message"]
    )


def test_raw_id_is_the_id_column_else_file_and_content(logs, tmp_path):
    _, messages, _ = run(logs, tmp_path)
    body = tap_runner.records(messages, "manual__body_measurements")
    assert [r["raw_id"] for r in body] == ["m-2024-11-01", "m-2024-11-08"]
    water = tap_runner.records(messages, "manual__water_intake")
    assert all(r["raw_id"] == f"2024-11.csv|{r['raw_hash']}" for r in water)


def test_bad_json_lines_land_invalid_and_the_rest_still_lands(logs, tmp_path):
    with open(logs / "body_measurements" / "log.jsonl", "a") as handle:
        handle.write('{"id": "m-3", "date": "2024-11-15", "waist_cm": 83.5\n')
        handle.write('{"id": "m-4", "date": "2024-11-22", "waist_cm": "eighty"}\n')
        handle.write('{"id": "m-5", "date": "2024-11-29"}\n')
    result, messages, _ = run(logs, tmp_path)
    assert result.returncode == 0
    body = tap_runner.records(messages, "manual__body_measurements")
    status = {r["metadata"]["line"]: r["validation_status"] for r in body}
    assert status == {1: "valid", 2: "valid", 3: "invalid", 4: "invalid", 5: "valid"}
    broken = next(r for r in body if r["metadata"]["line"] == 3)
    assert broken["raw_data"] == {"_line": '{"id": "m-3", "date": "2024-11-15", "waist_cm": 83.5'}
    assert "log.jsonl, line 3: invalid JSON" in broken["error_message"]


def test_hostile_folder_names_become_safe_stream_names(logs, tmp_path):
    hostile = logs / 'x"; DROP TABLE bronze.y; --'
    hostile.mkdir()
    (hostile / "a.jsonl").write_text('{"id": "1"}\n')
    result, messages, _ = run(logs, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    streams = {m["stream"] for m in messages if m["type"] == "SCHEMA"}
    assert "manual__x_drop_table_bronze_y" in streams
    assert all(set(s) <= set("abcdefghijklmnopqrstuvwxyz0123456789_") for s in streams)
    assert "no schema.json" in result.stderr  # it has none: rows land unchecked, and the log says so


def test_folders_that_map_to_one_stream_name_stop_the_tap_naming_them(logs, tmp_path):
    for name in ("Sleep Notes", "sleep-notes"):  # both would land in manual__sleep_notes
        (logs / name).mkdir()
        (logs / name / "a.jsonl").write_text('{"id": "1"}\n')
    result, messages, _ = run(logs, tmp_path)
    assert result.returncode != 0 and not [m for m in messages if m["type"] == "RECORD"]
    assert (
        "tap-manual: these folders map to the same stream name: ['manual__sleep_notes']; rename one"
    ) in result.stderr


def test_unusable_schema_and_missing_folder_are_clear_errors(logs, tmp_path):
    (logs / "water_intake" / "schema.json").write_text('{"type": "object", "properties": ')
    result, _, _ = run(logs, tmp_path)
    assert result.returncode != 0
    assert f"{logs / 'water_intake' / 'schema.json'}: not a usable JSON Schema" in result.stderr
    (logs / "water_intake" / "schema.json").write_text(json.dumps({"type": "objekt"}))
    result, _, _ = run(logs, tmp_path)
    assert result.returncode != 0 and "not a valid JSON Schema" in result.stderr
    result, _, _ = run(tmp_path / "nowhere", tmp_path)
    assert result.returncode != 0 and "manual_dir" in result.stderr and "is not a folder" in result.stderr


@pytest.mark.parametrize(
    "text, declared, expected",
    [
        ("250", "number", 250),
        ("2.5", "number", 2.5),
        ("1e3", "number", 1000.0),
        ("x", "number", "x"),
        ("7", "integer", 7),
        ("7.5", "integer", "7.5"),
        ("", ["number", "null"], None),
        ("", "number", ""),
        ("Yes", "boolean", True),
        ("0", "boolean", False),
        ("maybe", "boolean", "maybe"),
        ("a", "string", "a"),
    ],
)
def test_cells_are_read_as_declared(text, declared, expected):
    assert read_as_declared(text, declared) == expected
