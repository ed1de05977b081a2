"""File taps never lose, merge or misplace data silently (issue 13), through real `meltano run`s.

Every input is shaped like the real export it imitates, written small by the
test: a Garmin export folder whose ``*_sleepData.json`` holds an object, a
manual logs folder with a JSON Lines line nested 10,000 levels and a 10 kB
``id``, an Apple Health ``export.zip`` with food entries that share type,
source and interval, an element nested 5,000 levels and a 4 kB
``sourceName``, and drop folders with symbolic links leading out of them.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import shutil
import string
import zipfile
from pathlib import Path

from tests.fakes import apple_health_export as apple
from tests.fakes.garmin_export import expected_counts, write_export
from tests.tap_runner import records, run_tap

SAMPLE_MANUAL = Path(__file__).resolve().parents[2] / "samples" / "manual"


def _noise(length: int) -> str:
    """Letters that PostgreSQL cannot compress: a long id of them is as big in the index as
    it is in the file (a repeated letter would compress and hide the limit)."""
    rng = random.Random(length)
    return "".join(rng.choice(string.ascii_letters) for _ in range(length))


def all_row_text(meltano, table: str) -> str:
    """Every stored column of a bronze table that could carry a path, as one text."""
    rows = meltano.query(
        f"SELECT raw_id, raw_data::text, metadata::text, coalesce(error_message, '') FROM bronze.{table}"
    )
    return "\n".join(" ".join(row) for row in rows)


# --- Garmin: a file of the wrong shape is a broken file ------------------------


def test_garmin_sleep_file_holding_an_object_is_reported_not_marked_done(meltano, tmp_path):
    folder = write_export(tmp_path / "export", days=5)
    path = next(folder.rglob("*DI-Connect-Wellness/*_sleepData.json"))
    nights = json.loads(path.read_text())
    path.write_text(json.dumps({"sleepData": nights}))  # an object, not the array Garmin writes
    env = {"TAP_GARMIN_EXPORT_EXPORT_PATH": str(folder)}

    result = meltano.run("run", "tap-garmin-export", "target-postgres", check=False, extra_env=env)
    assert result.returncode != 0, "zero rows from a file of the wrong shape must fail the run"
    assert f"{path}, line 1: not the expected shape" in result.stderr, result.stderr[-3000:]
    assert "first key 'sleepData'" in result.stderr
    landed = {
        t: meltano.query(f"SELECT count(*) FROM bronze.garmin__export_{t}")[0][0]
        for t in ("daily_summary", "activities")
    }
    assert landed == {"daily_summary": 5, "activities": expected_counts(days=5)["activities"]}

    again = meltano.run("run", "tap-garmin-export", "target-postgres", check=False, extra_env=env)
    assert again.returncode != 0 and str(path) in again.stderr, "not marked done: read again"
    assert f"{path.name} unchanged, skipped" not in again.stderr

    path.write_text(json.dumps(nights))  # the file as Garmin writes it
    meltano.run("run", "tap-garmin-export", "target-postgres", extra_env=env)
    assert meltano.query("SELECT count(*) FROM bronze.garmin__export_sleep")[0][0] == 5


# --- tap-manual: one hostile line costs one row --------------------------------


def _journal(logs: Path, *lines: str) -> Path:
    """A manual folder named to sort first (before the fix a bad line in it stopped every
    other folder) next to the sample's two, holding one JSON Lines file."""
    shutil.copytree(SAMPLE_MANUAL, logs)
    journal = logs / "a_journal"
    journal.mkdir()
    (journal / "schema.json").write_text('{"type": "object", "required": ["id"]}')
    (journal / "2024.jsonl").write_text("\n".join(lines) + "\n")
    return journal


def _journal_rows(meltano) -> dict[int, tuple]:
    return {
        line: rest
        for *rest, line in meltano.query(
            "SELECT raw_id, validation_status, error_message, raw_data, (metadata->>'line')::int "
            "FROM bronze.manual__a_journal"
        )
    }


def _sample_folders_landed(meltano) -> bool:
    return (
        meltano.query("SELECT count(*) FROM bronze.manual__water_intake")[0][0],
        meltano.query("SELECT count(*) FROM bronze.manual__body_measurements")[0][0],
    ) == (4, 2)


def test_manual_deeply_nested_line_is_one_invalid_row_and_other_folders_sync(meltano, tmp_path):
    deep = '{"id": "deep", "v": ' + "[" * 10_000 + "]" * 10_000 + "}"
    journal = _journal(
        tmp_path / "manual",
        '{"id": "n1", "text": "first"}',
        deep,
        '{"id": "n2", "text": typo}',
        '{"id": "n3", "text": "last"}',
    )
    result = meltano.run(
        "run", "tap-manual", "target-postgres", extra_env={"TAP_MANUAL_MANUAL_DIR": str(journal.parent)}
    )
    rows = _journal_rows(meltano)
    assert sorted(rows) == [1, 2, 3, 4] and rows[1][1] == rows[4][1] == "valid"
    _, status, error, raw = rows[2]
    assert status == "invalid" and "2024.jsonl, line 2: JSON nested too deep" in error
    assert raw == {"_line": deep}, "the whole line is kept as text"
    assert rows[3][1] == "invalid" and "2024.jsonl, line 3: invalid JSON" in rows[3][2]
    assert _sample_folders_landed(meltano)

    # No path of this machine in any row (error messages included); the log may name them.
    assert str(tmp_path) not in all_row_text(meltano, "manual__a_journal")
    assert f"{journal / '2024.jsonl'}, line 3: invalid JSON" in result.stderr


def test_manual_id_longer_than_an_index_entry_lands_with_a_bounded_raw_id(meltano, tmp_path):
    long_id = "note-" + _noise(10_000)  # does not compress: past the btree entry limit as stored
    other = long_id[:-1] + "!"
    journal = _journal(
        tmp_path / "manual",
        json.dumps({"id": long_id, "text": "long"}),
        json.dumps({"id": other, "text": "another"}),
        '{"id": "n1", "text": "short"}',
    )
    meltano.run("run", "tap-manual", "target-postgres", extra_env={"TAP_MANUAL_MANUAL_DIR": str(journal.parent)})
    rows = _journal_rows(meltano)
    assert {n: r[1] for n, r in rows.items()} == {1: "valid", 2: "valid", 3: "valid"}
    raw_id, _, _, raw = rows[1]
    assert raw["id"] == long_id, "the whole id stays in raw_data"
    assert len(raw_id) == 256 and raw_id.startswith(long_id[:100])
    assert raw_id.endswith("|sha256:" + hashlib.sha256(long_id.encode()).hexdigest())
    assert rows[2][0] != raw_id, "two ids, two raw_ids"
    assert rows[3][0] == "n1" and _sample_folders_landed(meltano)


# --- Apple Health: one raw_id is one sample -------------------------------------


def _food(value: str, source: str = "MyFitnessPal") -> str:
    """A food-log entry as Apple exports it: one meal's items share type, source and time."""
    moment = "2018-01-01 12:30:00 +0100"
    return (
        f' <Record type="HKQuantityTypeIdentifierDietaryEnergyConsumed" sourceName="{source}" '
        f'sourceVersion="22.1.0" unit="kcal" creationDate="2018-01-01 12:31:05 +0100" '
        f'startDate="{moment}" endDate="{moment}" value="{value}">\n'
        f'  <MetadataEntry key="meal" value="Lunch"/>\n </Record>\n'
    )


def _apple_export(path: Path, extra: str) -> Path:
    """The fake's export.zip (200 ordinary records, workouts, summaries) with ``extra``
    elements right after ``<Me>``."""
    out = io.StringIO()
    apple.write_export_xml(out, records=200, seed=7)
    head, tail = out.getvalue().split(apple.ME + "\n", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{apple.FOLDER}/export.xml", head + apple.ME + "\n" + extra + tail)
    return path


def _apple_counts(meltano) -> dict[str, int]:
    return {
        t: meltano.query(f"SELECT count(*) FROM bronze.apple_health__{t}")[0][0]
        for t in ("records", "workouts", "activity_summaries")
    }


def _run_apple(meltano, archive):
    return meltano.run(
        "run", "tap-apple-health", "target-postgres", extra_env={"TAP_APPLE_HEALTH_EXPORT_PATH": str(archive)}
    )


def test_apple_samples_sharing_an_interval_keep_their_own_raw_ids(meltano, tmp_path):
    # Three entries differing only in value, and the first listed a second time.
    archive = _apple_export(tmp_path / "export.zip", _food("31.2") + _food("0") + _food("12") + _food("31.2"))
    result = _run_apple(meltano, archive)
    food = meltano.query(
        "SELECT raw_id, raw_data->>'value' FROM bronze.apple_health__records "
        "WHERE raw_data->>'type' = 'HKQuantityTypeIdentifierDietaryEnergyConsumed'"
    )
    assert sorted(value for _, value in food) == ["0", "12", "31.2"]
    assert len({raw_id for raw_id, _ in food}) == 3, "one raw_id per sample"
    assert "1 of them exact duplicates" in result.stderr, "the element listed twice is counted"
    assert _apple_counts(meltano) == {**apple.expected_counts(200, seed=7), "records": 203}

    (meta,) = meltano.query("SELECT metadata FROM bronze.apple_health__records LIMIT 1")[0]
    assert (meta["archive"], meta["file"]) == ("export.zip", "apple_health_export/export.xml")
    assert str(tmp_path) not in all_row_text(meltano, "apple_health__records")


def test_apple_source_name_longer_than_an_index_entry_lands(meltano, tmp_path):
    long_source = "Kitchen scale " + _noise(4000)
    archive = _apple_export(tmp_path / "export.zip", _food("250", source=long_source))
    _run_apple(meltano, archive)
    ((raw_id, status),) = meltano.query(
        "SELECT raw_id, validation_status FROM bronze.apple_health__records WHERE raw_data->>'sourceName' = %s",
        long_source,
    )
    assert status == "valid" and len(raw_id) == 256 and "|sha256:" in raw_id
    assert raw_id.startswith("HKQuantityTypeIdentifierDietaryEnergyConsumed|" + long_source[:100])
    assert _apple_counts(meltano) == {**apple.expected_counts(200, seed=7), "records": 201}


def test_apple_element_nested_5000_levels_is_one_invalid_row(tmp_path):
    deep = (
        ' <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Deep scale" unit="kg" '
        'startDate="2018-01-01 07:00:00 +0100" endDate="2018-01-01 07:00:00 +0100" value="64">'
        + "<MetadataEntry>" * 5000
        + "</MetadataEntry>" * 5000
        + "</Record>\n"
    )
    archive = _apple_export(tmp_path / "export.zip", deep)
    result, messages, state = run_tap("tap-apple-health", {"export_path": str(archive)}, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = records(messages, "apple_health__records")
    (bad,) = [r for r in rows if r["raw_data"].get("sourceName") == "Deep scale"]
    assert bad["validation_status"] == "invalid"
    assert "nested deeper than 200 levels" in bad["error_message"]
    assert len(rows) == 201 and len(records(messages, "apple_health__workouts")) > 0
    assert "apple_health_export/export.xml" in state["bookmarks"]["apple_health__records"]["files"]


# --- Symbolic links do not lead out of a drop folder ----------------------------


def test_links_out_of_the_manual_folder_are_skipped_and_named(meltano, tmp_path):
    logs = tmp_path / "manual"
    shutil.copytree(SAMPLE_MANUAL, logs)
    elsewhere = tmp_path / "elsewhere"  # stands for a file the user never meant to share
    (elsewhere / "logs").mkdir(parents=True)
    (elsewhere / "secret.jsonl").write_text('{"id": "secret-file"}\n')
    (elsewhere / "logs" / "more.jsonl").write_text('{"id": "secret-folder"}\n')
    (elsewhere / "logs" / "schema.json").write_text("{}")
    body = logs / "body_measurements"
    (body / "leak.jsonl").symlink_to(elsewhere / "secret.jsonl")  # a file link out
    (body / "outside").symlink_to(elsewhere / "logs")  # a folder link out
    (logs / "stolen").symlink_to(elsewhere / "logs")  # a whole stream folder out
    (body / "again.jsonl").symlink_to(body / "log.jsonl")  # stays inside: read once
    (body / "loop").symlink_to(body)  # a loop
    env = {"TAP_MANUAL_MANUAL_DIR": str(logs)}

    result = meltano.run("run", "tap-manual", "target-postgres", extra_env=env)
    ids = [r[0] for r in meltano.query("SELECT raw_id FROM bronze.manual__body_measurements")]
    assert sorted(ids) == ["m-2024-11-01", "m-2024-11-08"], "nothing from outside, nothing twice"
    assert not meltano.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'manual__stolen'")
    for link in (body / "leak.jsonl", body / "outside", logs / "stolen"):
        assert f"skipped symbolic link {link} " in result.stderr, result.stderr[-3000:]
    assert "secret-file" not in result.stderr and "secret-folder" not in result.stderr

    meltano.run("run", "tap-manual", "target-postgres", extra_env={**env, "TAP_MANUAL_FOLLOW_SYMLINKS": "true"})
    ids = {r[0] for r in meltano.query("SELECT raw_id FROM bronze.manual__body_measurements")}
    assert ids == {"m-2024-11-01", "m-2024-11-08", "secret-file", "secret-folder"}
    assert meltano.query("SELECT raw_id FROM bronze.manual__stolen") == [("secret-folder",)]


def test_apple_export_xml_of_another_kind_is_reported_not_marked_done(tmp_path):
    """Another document under the name export.xml (here the clinical export) holds no records:
    reported as the wrong file, never recorded as an export read."""
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{apple.FOLDER}/export.xml", apple.CDA)
    result, messages, state = run_tap("tap-apple-health", {"export_path": str(archive)}, tmp_path)
    assert result.returncode != 0
    assert (
        f"{archive}!{apple.FOLDER}/export.xml, line 2: not the expected shape: the document is "
        "<ClinicalDocument>, not <HealthData>"
    ) in result.stderr
    assert not any(
        (state or {}).get("bookmarks", {}).get(s, {}).get("files")
        for s in ("apple_health__records", "apple_health__workouts")
    )


def test_manual_folder_with_an_unusable_schema_stops_only_itself(tmp_path):
    logs = tmp_path / "manual"
    shutil.copytree(SAMPLE_MANUAL, logs)
    broken = logs / "a_sleep_log"  # sorts first
    broken.mkdir()
    (broken / "schema.json").write_text('{"type": "objectt"}')  # a typo a user makes
    (broken / "log.jsonl").write_text('{"id": "s1"}\n')
    result, messages, state = run_tap("tap-manual", {"manual_dir": str(logs)}, tmp_path)
    assert result.returncode != 0
    assert f"{broken / 'schema.json'}: not a valid JSON Schema" in result.stderr
    assert len(records(messages, "manual__water_intake")) == 4
    assert len(records(messages, "manual__body_measurements")) == 2
    assert not records(messages, "manual__a_sleep_log")
    assert not state["bookmarks"].get("manual__a_sleep_log", {}).get("files"), "not marked done"
