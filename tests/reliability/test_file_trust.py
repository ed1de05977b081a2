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
import shutil
import zipfile
from pathlib import Path

from tests.fakes import apple_health_export as apple
from tests.fakes.garmin_export import expected_counts, write_export

SAMPLE_MANUAL = Path(__file__).resolve().parents[2] / "samples" / "manual"


def all_row_text(meltano, table: str) -> str:
    """Every stored column of a bronze table that could carry a path, as one text."""
    rows = meltano.query(f"SELECT raw_id, raw_data::text, metadata::text, coalesce(error_message, '') "
                         f"FROM bronze.{table}")
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
    landed = {t: meltano.query(f"SELECT count(*) FROM bronze.garmin__export_{t}")[0][0]
              for t in ("daily_summary", "activities")}
    assert landed == {"daily_summary": 5, "activities": expected_counts(days=5)["activities"]}

    again = meltano.run("run", "tap-garmin-export", "target-postgres", check=False, extra_env=env)
    assert again.returncode != 0 and str(path) in again.stderr, "not marked done: read again"
    assert f"{path.name} unchanged, skipped" not in again.stderr

    path.write_text(json.dumps(nights))  # the file as Garmin writes it
    meltano.run("run", "tap-garmin-export", "target-postgres", extra_env=env)
    assert meltano.query("SELECT count(*) FROM bronze.garmin__export_sleep")[0][0] == 5


# --- tap-manual: one hostile line costs one row --------------------------------

def test_manual_deep_line_and_long_id_land_as_rows_and_other_folders_still_sync(meltano, tmp_path):
    logs = tmp_path / "manual"
    shutil.copytree(SAMPLE_MANUAL, logs)
    journal = logs / "a_journal"  # sorts first: before the fix, it stopped every other folder
    journal.mkdir()
    (journal / "schema.json").write_text('{"type": "object", "required": ["id"]}')
    long_id = "note-" + "x" * 10_000
    deep = '{"id": "deep", "v": ' + "[" * 10_000 + "]" * 10_000 + "}"
    (journal / "2024.jsonl").write_text("\n".join([
        '{"id": "n1", "text": "first"}', deep, json.dumps({"id": long_id, "text": "long"}),
        '{"id": "n2", "text": typo}', '{"id": "n3", "text": "last"}']) + "\n")

    result = meltano.run("run", "tap-manual", "target-postgres",
                         extra_env={"TAP_MANUAL_MANUAL_DIR": str(logs)})
    rows = {line: (raw_id, status, error, raw) for raw_id, status, error, raw, line in meltano.query(
        "SELECT raw_id, validation_status, error_message, raw_data, (metadata->>'line')::int "
        "FROM bronze.manual__a_journal")}
    assert sorted(rows) == [1, 2, 3, 4, 5]
    assert [rows[n][1] for n in (1, 3, 5)] == ["valid"] * 3
    _, status, error, raw = rows[2]
    assert status == "invalid" and "2024.jsonl, line 2: JSON nested too deep" in error
    assert raw == {"_line": deep}, "the whole line is kept as text"
    raw_id, _, _, raw = rows[3]
    assert raw["id"] == long_id, "the whole id stays in raw_data"
    assert len(raw_id) == 256 and raw_id.startswith("note-xxx")
    assert raw_id.endswith("|sha256:" + hashlib.sha256(long_id.encode()).hexdigest())
    assert rows[4][1] == "invalid" and "2024.jsonl, line 4: invalid JSON" in rows[4][2]
    assert meltano.query("SELECT count(*) FROM bronze.manual__water_intake")[0][0] == 4
    assert meltano.query("SELECT count(*) FROM bronze.manual__body_measurements")[0][0] == 2

    # No path of this machine in any row (error messages included); the log may name them.
    assert str(tmp_path) not in all_row_text(meltano, "manual__a_journal")
    assert f"{journal / '2024.jsonl'}, line 4: invalid JSON" in result.stderr


# --- Apple Health: one raw_id is one sample -------------------------------------

def _food(value: str, source: str = "MyFitnessPal") -> str:
    moment = "2018-01-01 12:30:00 +0100"
    return (f' <Record type="HKQuantityTypeIdentifierDietaryEnergyConsumed" sourceName="{source}" '
            f'sourceVersion="22.1.0" unit="kcal" creationDate="2018-01-01 12:31:05 +0100" '
            f'startDate="{moment}" endDate="{moment}" value="{value}">\n'
            f'  <MetadataEntry key="meal" value="Lunch"/>\n </Record>\n')


def _apple_export(path: Path, extra: str) -> Path:
    """The fake's export.zip (200 ordinary records, workouts, summaries) with ``extra``
    elements right after ``<Me>``."""
    out = io.StringIO()
    apple.write_export_xml(out, records=200, seed=7)
    head, tail = out.getvalue().split(apple.ME + "\n", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{apple.FOLDER}/export.xml", head + apple.ME + "\n" + extra + tail)
    return path


def test_apple_samples_sharing_an_interval_keep_their_own_raw_ids(meltano, tmp_path):
    long_source = "Kitchen scale " + "s" * 4000
    deep = (' <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Health" unit="kg" '
            'startDate="2018-01-01 07:00:00 +0100" endDate="2018-01-01 07:00:00 +0100" value="64">'
            + "<MetadataEntry>" * 5000 + "</MetadataEntry>" * 5000 + "</Record>\n")
    extra = (_food("31.2") + _food("0") + _food("12") + _food("31.2")  # the last: listed twice
             + _food("250", source=long_source) + deep)
    archive = _apple_export(tmp_path / "export.zip", extra)

    result = meltano.run("run", "tap-apple-health", "target-postgres",
                         extra_env={"TAP_APPLE_HEALTH_EXPORT_PATH": str(archive)})
    food = meltano.query("SELECT raw_id, raw_data->>'value', raw_data->>'sourceName' "
                         "FROM bronze.apple_health__records WHERE raw_data->>'type' = "
                         "'HKQuantityTypeIdentifierDietaryEnergyConsumed' ORDER BY 2")
    assert sorted(value for _, value, source in food if source == "MyFitnessPal") == ["0", "12", "31.2"]
    assert len({raw_id for raw_id, *_ in food}) == len(food) == 4, "one raw_id per sample"
    assert "1 of them exact duplicates" in result.stderr, "the element listed twice is counted"

    (raw_id,) = [raw_id for raw_id, _, source in food if source == long_source]
    assert len(raw_id) == 256 and raw_id.startswith(
        "HKQuantityTypeIdentifierDietaryEnergyConsumed|Kitchen scale sss")
    assert "|sha256:" in raw_id

    (status, error), = meltano.query(
        "SELECT validation_status, error_message FROM bronze.apple_health__records "
        "WHERE raw_data->>'type' = 'HKQuantityTypeIdentifierBodyMass' AND raw_data->>'value' = '64'")
    assert status == "invalid" and "nested deeper than 200 levels" in error
    counts = {t: meltano.query(f"SELECT count(*) FROM bronze.apple_health__{t}")[0][0]
              for t in ("records", "workouts", "activity_summaries")}
    assert counts == {**apple.expected_counts(200, seed=7), "records": 200 + 5}

    (meta,) = meltano.query("SELECT metadata FROM bronze.apple_health__records LIMIT 1")[0]
    assert (meta["archive"], meta["file"]) == ("export.zip", "apple_health_export/export.xml")
    assert str(tmp_path) not in all_row_text(meltano, "apple_health__records")


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

    meltano.run("run", "tap-manual", "target-postgres",
                extra_env={**env, "TAP_MANUAL_FOLLOW_SYMLINKS": "true"})
    ids = {r[0] for r in meltano.query("SELECT raw_id FROM bronze.manual__body_measurements")}
    assert ids == {"m-2024-11-01", "m-2024-11-08", "secret-file", "secret-folder"}
    assert meltano.query("SELECT raw_id FROM bronze.manual__stolen") == [("secret-folder",)]
