"""tap-manual as a process, with hand-kept files as people write them: a repeated column
name, a header or cell past the CSV field limit, ids spelled several ways."""

from __future__ import annotations

import json

from tests import tap_runner

HUGE = "X" * (16 * 1024 * 1024 + 10)  # past the reader's field limit (16 MiB)


def folder(root, name, schema, files):
    path = root / name
    path.mkdir(parents=True)
    (path / "schema.json").write_text(json.dumps(schema))
    for file_name, text in files.items():
        (path / file_name).write_text(text)
    return path


def run(root, tmp_path, state=None, **config):
    return tap_runner.run_tap("tap-manual", {"manual_dir": str(root), **config}, tmp_path, state)


WATER = {
    "type": "object",
    "required": ["time", "amount_ml"],
    "properties": {"time": {"type": "string", "format": "date-time"}, "amount_ml": {"type": "number"}},
}


def test_a_repeated_column_keeps_both_values_and_marks_the_row(tmp_path):
    folder(
        tmp_path / "manual",
        "water_intake",
        WATER,
        {"2024-11.csv": "time,amount_ml,amount_ml\n2024-11-02 07:45,250,330\n"},
    )
    result, messages, _ = run(tmp_path / "manual", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (row,) = tap_runner.records(messages, "manual__water_intake")
    assert row["raw_data"] == {"time": "2024-11-02 07:45", "amount_ml": "250", "amount_ml__2": "330"}
    assert row["validation_status"] == "invalid"
    assert "line 1: the header repeats 'amount_ml' (columns 2, 3)" in row["error_message"]


def test_a_header_or_cell_past_the_field_limit_costs_only_itself(tmp_path):
    root = tmp_path / "manual"
    folder(root, "a_broken", WATER, {"notes.csv": f"time,amount_ml,{HUGE}\n2024-11-02 07:45,250,\n"})
    folder(
        root,
        "water_intake",
        WATER,
        {
            "2024-11.csv": f"time,amount_ml,note\n2024-11-02 07:45,250,\n"
            f"2024-11-02 08:00,330,{HUGE}\n"
            "2024-11-02 09:00,200,tea\n"
        },
    )
    result, messages, _ = run(root, tmp_path)
    assert result.returncode != 0, "a file that cannot be read fails the run"
    assert f"{root / 'a_broken' / 'notes.csv'}, line 1: unreadable CSV header" in result.stderr
    rows = {r["metadata"]["line"]: r for r in tap_runner.records(messages, "manual__water_intake")}
    assert [rows[n]["validation_status"] for n in (2, 3, 4)] == ["valid", "invalid", "valid"]
    assert rows[3]["raw_data"]["note"] == HUGE
    assert "line 3: field larger than field limit (16777216) in 'note'" in rows[3]["error_message"]


def test_ids_are_keyed_by_value_not_by_spelling(tmp_path):
    root = tmp_path / "manual"
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kg": {"type": "number"},
            "date": {"type": "string", "format": "date"},
        },
    }
    folder(
        root,
        "weight",
        schema,
        {
            "phone.csv": "id,date,kg\n 7 ,2024-11-01,80.1\n1.462233599000E+12,2024-11-02,80.2\n"
            "1.46223E+12,2024-11-03,80.3\n",
            "watch.jsonl": '{"id": 7.0, "date": "2024-11-01", "kg": 80.1}\n'
            '{"id": 1462233599000, "date": "2024-11-02", "kg": 80.2}\n',
        },
    )
    folder(
        root,
        "notes",
        {"type": "object", "properties": {"id": {"type": "string"}}},
        {"a.csv": "id,text\n  n-1 ,hello\n007,bond\n"},
    )
    result, messages, _ = run(root, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    weight = sorted((r["raw_id"], r["metadata"]["file"]) for r in tap_runner.records(messages, "manual__weight"))
    assert weight == [
        ("1.46223E+12|2024-11-03T00:00:00+00:00", "phone.csv"),
        ("1462233599000", "phone.csv"),
        ("1462233599000", "watch.jsonl"),
        ("7", "phone.csv"),
        ("7", "watch.jsonl"),
    ]
    notes = [r["raw_id"] for r in tap_runner.records(messages, "manual__notes")]
    assert notes == ["n-1", "007"]  # a text id is trimmed, never read as a number
