"""tap-garmin export mode end to end: real `meltano run` into real PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests import tap_runner
from tests.fakes.garmin_export import expected_counts, write_export

STATE_ID = "dev:tap-garmin-export-to-target-postgres"
TABLES = {
    "sleep": "garmin__export_sleep",
    "daily_summary": "garmin__export_daily_summary",
    "activities": "garmin__export_activities",
}


def run_export(meltano, path, check=True):
    return tap_runner.run_pipeline(meltano, "tap-garmin-export", {"export_path": str(path)}, check=check)


def counts(meltano):
    return {kind: meltano.query(f"SELECT count(*) FROM bronze.{table}")[0][0] for kind, table in TABLES.items()}


def sleep_file(folder):
    return next(folder.rglob("*_sleepData.json"))


def test_zip_export_lands_and_unchanged_files_are_skipped(meltano, tmp_path):
    archive = write_export(tmp_path / "garmin.zip", days=14, as_zip=True)
    run_export(meltano, archive)
    assert counts(meltano) == expected_counts(days=14)

    (meta,) = meltano.query("SELECT metadata FROM bronze.garmin__export_sleep LIMIT 1")[0]
    assert meta["file"].endswith("_sleepData.json") and len(meta["file_sha256"]) == 64
    assert "item" in meta

    files = {k: v["files"] for k, v in meltano.state(STATE_ID)["singer_state"]["bookmarks"].items()}
    assert len(files["garmin__export_daily_summary"]) == 2  # the two overlapping UDS files

    second = run_export(meltano, archive)
    assert counts(meltano) == expected_counts(days=14)
    assert second.stderr.count("unchanged, skipped") == 4


def test_appended_night_lands_alone(meltano, tmp_path):
    folder = write_export(tmp_path / "export", days=10)
    run_export(meltano, folder)
    before = meltano.query("SELECT raw_id, raw_hash, ingested_at FROM bronze.garmin__export_sleep")

    path = sleep_file(folder)
    nights = json.loads(path.read_text())
    nights.append(
        {"calendarDate": "2024-05-21", "sleepStartTimestampGMT": "2024-05-20T22:30:00.0", "deepSleepSeconds": 4200}
    )
    path.write_text("[\n" + ",\n".join(json.dumps(n) for n in nights) + "\n]\n")
    run_export(meltano, folder)

    after = meltano.query("SELECT raw_id, raw_hash, ingested_at FROM bronze.garmin__export_sleep")
    assert set(after) - set(before) == {r for r in after if r[0] == "2024-05-21"}
    assert len(after) == len(before) + 1


def test_broken_file_is_reported_and_the_rest_lands(meltano, tmp_path):
    folder = write_export(tmp_path / "export", days=10)
    path = sleep_file(folder)
    text = path.read_text()
    lines = text.splitlines()
    path.write_text("\n".join(lines[:5]) + '\n{"calendarDate": "2024-05-1')  # cut mid-item

    result = run_export(meltano, folder, check=False)
    assert result.returncode != 0, "a broken file must fail the run (after the rest landed)"
    log = result.stderr
    assert str(path) in log and "line 6" in log, log[-3000:]
    got = counts(meltano)
    assert got["sleep"] == 4  # the items before the break
    assert got["daily_summary"] == 10 and got["activities"] == expected_counts(days=10)["activities"]

    again = run_export(meltano, folder, check=False)  # not marked done: read (and reported) again
    assert again.returncode != 0 and str(path) in again.stderr

    path.write_text(text)  # the user fixes the file
    run_export(meltano, folder)
    assert counts(meltano)["sleep"] == 10


def test_invalid_items_land_marked_invalid(meltano, tmp_path):
    folder = write_export(tmp_path / "export", days=5)
    path = sleep_file(folder)
    nights = json.loads(path.read_text())
    nights[0]["deepSleepSeconds"] = "lots"
    del nights[1]["calendarDate"]
    path.write_text(json.dumps(nights))
    run_export(meltano, folder)
    rows = meltano.query(
        "SELECT raw_id, validation_status, error_message FROM bronze.garmin__export_sleep "
        "WHERE validation_status <> 'valid' ORDER BY raw_id"
    )
    assert len(rows) == 2
    reasons = " ".join(r[2] for r in rows)
    assert "deepSleepSeconds" in reasons and "calendarDate" in reasons
    assert counts(meltano)["sleep"] == 5


def test_truncated_zip_fails_with_its_path(meltano, tmp_path):
    archive = write_export(tmp_path / "garmin.zip", days=5, as_zip=True)
    archive.write_bytes(archive.read_bytes()[:-200])
    result = run_export(meltano, archive, check=False)
    assert result.returncode != 0
    assert str(archive) in result.stderr and "zip" in result.stderr


def test_database_from_pg_parts_when_no_url(meltano, tmp_path, pg_server):
    """PG_HOST/PG_PORT/PG_DB/... (as in .env) reach the loader when DATABASE_URL is unset."""
    folder = write_export(tmp_path / "export", days=3)
    database = meltano.database_url.rsplit("/", 1)[1]
    meltano.run(
        "run",
        "tap-garmin-export",
        "target-postgres",
        extra_env={
            "TAP_GARMIN_EXPORT_EXPORT_PATH": str(folder),
            "DATABASE_URL": "",
            "PG_HOST": pg_server["PG_HOST"],
            "PG_PORT": pg_server["PG_PORT"],
            "PG_DB": database,
            "PG_USER": pg_server["PG_USER"],
            "PG_PASS": pg_server["PG_PASS"],
        },
    )
    assert counts(meltano)["sleep"] == 3


@pytest.mark.parametrize("flag", ["FORCE_FULL_REFRESH", "GARMIN_FULL_REFRESH"])
def test_full_refresh_overrides_reread_everything_without_duplicates(meltano, tmp_path, flag):
    folder = write_export(tmp_path / "export", days=6)
    run_export(meltano, folder)
    before = counts(meltano)
    result = meltano.run(
        "run",
        "tap-garmin-export",
        "target-postgres",
        extra_env={"TAP_GARMIN_EXPORT_EXPORT_PATH": str(folder), flag: "true"},
    )
    assert "unchanged, skipped" not in result.stderr  # every file was read again
    assert f"{flag}=true" in result.stderr
    assert counts(meltano) == before


def test_state_and_run_history_in_postgres(meltano, tmp_path):
    """MELTANO_DATABASE_URI on the same server, own schema: state survives and is used."""
    import psycopg

    with psycopg.connect(meltano.database_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA meltano")
    uri = meltano.database_url.replace("postgresql://", "postgresql+psycopg://") + "?options=-csearch_path%3Dmeltano"
    folder = write_export(tmp_path / "export", days=4)
    env = {"TAP_GARMIN_EXPORT_EXPORT_PATH": str(folder), "MELTANO_DATABASE_URI": uri}
    meltano.run("run", "tap-garmin-export", "target-postgres", extra_env=env)
    second = meltano.run("run", "tap-garmin-export", "target-postgres", extra_env=env)
    assert second.stderr.count("unchanged, skipped") == 4  # the state came back from PostgreSQL
    runs = meltano.query("SELECT state FROM meltano.runs WHERE job_name = %s", STATE_ID)
    assert [r[0] for r in runs] == ["SUCCESS", "SUCCESS"]
    assert not (tmp_path / "meltano.db").exists()


def test_without_export_path_it_is_a_clear_error_and_loads_nothing(meltano):
    """A first run on a fresh clone must not load the bundled fake sample into the real database."""
    result = meltano.run("run", "tap-garmin-export", "target-postgres", check=False)
    assert result.returncode != 0
    assert (
        "tap-garmin-export: mode is `export` but `export_path` is not set. Set `export_path` "
        "(environment variable TAP_GARMIN_EXPORT_EXPORT_PATH"
    ) in result.stderr
    assert meltano.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze'") == [(0,)]


def test_the_demo_environment_reads_the_bundled_sample(meltano):
    meltano.run("--environment=demo", "run", "tap-garmin-export", "target-postgres")
    (rows,) = meltano.query("SELECT count(*) FROM bronze.garmin__export_sleep")[0]
    assert rows > 0
