"""Bookmarks live with the data (issue 18): Meltano's state in the project's database.

These runs use the project's default system database (meltano.yml's database_uri,
no MELTANO_DATABASE_URI), which is the point: state and rows must vanish, be
backed up and come back together. Each test's database is its own (DATABASE_URL),
so the default lands in that database's schema `meltano`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import dbctl
import status
from bronze_loader.pgsettings import read_dotenv

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "wearable-csv"
MONTHS = sorted(p.name for p in SAMPLE.iterdir() if p.is_dir())  # a drop folder that grows
STATE_ID = "dev:tap-wearable-csv-to-target-postgres"


@pytest.fixture
def default_state(meltano, monkeypatch):
    """The `meltano` fixture without its per-test SQLite: Meltano's own default applies."""
    if read_dotenv(ROOT / ".env").get("MELTANO_DATABASE_URI"):
        pytest.skip("the project's .env sets MELTANO_DATABASE_URI; these tests exercise the default")
    monkeypatch.delenv("MELTANO_DATABASE_URI", raising=False)
    env = {k: v for k, v in meltano.env.items() if k != "MELTANO_DATABASE_URI"}
    if dbctl.settings()["embedded"]:  # as after `make up`: no URL, the password from .pgdata.secret
        env.pop("DATABASE_URL")
        env["PG_DB"] = meltano.database_url.rsplit("/", 1)[1]
    return dataclasses.replace(meltano, env=env)


def database_name(meltano) -> str:
    return meltano.database_url.rsplit("/", 1)[1]


def land(meltano, drop: Path):
    return meltano.run("run", "tap-wearable-csv", "target-postgres", extra_env={"TAP_WEARABLE_CSV_DATA_DIR": str(drop)})


def add_month(drop: Path, month: str) -> None:
    shutil.copytree(SAMPLE / month, drop / month)


def rows(meltano) -> dict[str, list]:
    """Every bronze row by table: what a run landed, without when or by which run."""
    tables = [
        t
        for (t,) in meltano.query(  # tables holding bronze rows (not status_acknowledged)
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'bronze' AND column_name = 'raw_id' ORDER BY 1"
        )
    ]
    return {
        t: meltano.query(
            f"SELECT raw_id, raw_hash, source, raw_data, source_timestamp, "
            f'validation_status, error_message FROM bronze."{t}" '
            f"ORDER BY raw_id, raw_hash"
        )
        for t in sorted(tables)
    }


def recreate(meltano) -> None:
    """What a new server, a `make clean` of the data or a lost disk does to the database."""
    dbctl.drop_database(database_name(meltano))
    dbctl.create_database(database_name(meltano))


def test_a_recreated_database_gets_every_row_back(default_state, tmp_path, monkeypatch):
    """The state is in the database: dropped with it, so the next run lands everything again."""
    for key, value in default_state.env.items():  # status.py runs with meltano's settings
        monkeypatch.setenv(key, value)
    drop = tmp_path / "drop"
    for month in MONTHS:
        add_month(drop, month)
    land(default_state, drop)
    first = rows(default_state)
    assert sum(map(len, first.values())) > 400
    (bookmark,) = default_state.query("SELECT state_id FROM meltano.state")
    assert bookmark == (STATE_ID,)  # where the rows are, not in .meltano/meltano.db
    assert default_state.query("SELECT state FROM meltano.runs") == [("SUCCESS",)]
    assert status.last_runs()[STATE_ID][0]["state"] == "SUCCESS"  # `make status` reads the same place

    recreate(default_state)
    assert status.last_runs() == {}  # the run history went with the rows
    second = land(default_state, drop)
    assert "unchanged, skipped" not in second.stderr
    assert rows(default_state) == first


def dbctl_cli(meltano, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **meltano.env}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "dbctl.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_restored_mid_history_backup_then_a_run_ends_with_every_row(default_state, tmp_path):
    """Backup after month 1, month 2 lands, the database is lost, the backup is restored:
    the next run lands month 2 again (its bookmark went back with the rows) and skips month 1."""
    drop, backups = tmp_path / "drop", tmp_path / "backups"
    add_month(drop, MONTHS[0])
    land(default_state, drop)
    after_first = rows(default_state)
    ingested = default_state.query("SELECT min(ingested_at), max(ingested_at) FROM bronze.wearable__hourly_steps")

    made = dbctl_cli(default_state, "backup", "--dir", str(backups))
    assert made.returncode == 0, made.stderr
    (dump,) = backups.iterdir()
    assert re.fullmatch(rf"{database_name(default_state)}-\d{{4}}-\d\d-\d\dT\d{{6}}Z\.dump", dump.name)
    assert dump.stat().st_mode & 0o777 == 0o600 and backups.stat().st_mode & 0o077 == 0
    assert default_state.database_url.split("@")[0].rsplit(":", 1)[1] not in made.stdout + made.stderr

    add_month(drop, MONTHS[1])
    land(default_state, drop)
    never_lost = rows(default_state)  # the history of a database that never lost anything
    assert sum(map(len, never_lost.values())) > sum(map(len, after_first.values()))

    refused = dbctl_cli(default_state, "restore", str(dump))  # over live data: never
    assert refused.returncode == 1 and "is not empty" in refused.stderr
    assert rows(default_state) == never_lost

    dbctl.drop_database(database_name(default_state))  # the disaster
    restored = dbctl_cli(default_state, "restore", str(dump))
    assert restored.returncode == 0, restored.stderr
    assert rows(default_state) == after_first
    assert (
        default_state.query("SELECT min(ingested_at), max(ingested_at) FROM bronze.wearable__hourly_steps") == ingested
    )

    again = land(default_state, drop)
    first_month_files = sum(1 for _ in (drop / MONTHS[0]).rglob("*_merged.csv"))
    assert again.stderr.count("unchanged, skipped") == first_month_files  # its bookmark came back
    assert rows(default_state) == never_lost


def test_bookmarks_of_an_older_checkout_are_carried_over(meltano, default_state, tmp_path):
    """Runs made before (state in SQLite, as Meltano's default was) are not fetched again."""
    drop = tmp_path / "drop"
    for month in MONTHS:
        add_month(drop, month)
    land(meltano, drop)  # the old way: the fixture's SQLite system database
    old_db = meltano.system_db
    files = sum(1 for _ in drop.rglob("*_merged.csv"))

    imported = dbctl_cli(default_state, "import-state", str(old_db))
    assert imported.returncode == 0, imported.stderr
    assert f"1 bookmarks imported from {old_db}" in imported.stdout and STATE_ID in imported.stdout
    before = rows(default_state)
    again = land(default_state, drop)  # the new default: the database's schema meltano
    assert again.stderr.count("unchanged, skipped") == files
    assert rows(default_state) == before
    assert dbctl_cli(default_state, "import-state", str(old_db)).stdout.count("1 already there were kept") == 1


def test_meltano_before_make_up_says_what_to_do(tmp_path):
    """A fresh clone's `meltano run` before `make up`: one clear line, not 15 s of retries."""
    if {"DATABASE_URL", "PG_HOST", "MELTANO_DATABASE_URI"} & set(read_dotenv(ROOT / ".env")):
        pytest.skip("the project's .env names another database; this is about the embedded one")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PG_HOST", "MELTANO_DATABASE_URI")}
    env.update(PGDATA_DIR=str(tmp_path / "pgdata"), COLUMNS="1000")  # a project where `make up` never ran
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "meltano"), "state", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"no password file {tmp_path / 'pgdata.secret'}): run `make up` first" in result.stderr
    assert "DB connection failed" not in result.stderr
