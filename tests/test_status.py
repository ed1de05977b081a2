"""`make status` against a real database with fresh, stale and failed sources."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent


def seed_bronze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor() as cursor:
            for path in sorted((ROOT / "sql").glob("*.sql")):
                cursor.execute(path.read_text())
        for table, age_hours, status in (("garmin__sleep", 1, "valid"), ("toggl__time_entries", 100, "invalid"),
                                         ("notion__pages", 2, "warning")):
            conn.execute("SELECT bronze.ensure_table('bronze', %s)", (table,))
            conn.execute(
                f"INSERT INTO bronze.{table} (raw_id, raw_hash, source, raw_data, source_timestamp, ingested_at,"
                " validation_status) VALUES ('a', 'h', %s, '{}', now() - make_interval(hours => %s),"
                " now() - make_interval(hours => %s), %s)", (table.split("__")[0], age_hours, age_hours, status))


def seed_runs(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (job_name TEXT, state TEXT, started_at TIMESTAMP, ended_at TIMESTAMP)")
        db.executemany("INSERT INTO runs VALUES (?, ?, datetime('now', ?), datetime('now', ?))", [
            ("dev:tap-garmin-to-target-postgres", "SUCCESS", "-2 hours", "-1 hours"),
            ("dev:tap-toggl-to-target-postgres", "SUCCESS", "-101 hours", "-100 hours"),
            ("dev:tap-notion-to-target-postgres", "SUCCESS", "-3 days", "-3 days"),
            ("dev:tap-notion-to-target-postgres", "FAILED", "-3 hours", "-2 hours"),
        ])


def status(url: str, runs: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts/status.py"), *args], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url, "MELTANO_DATABASE_URI": f"sqlite:///{runs}", **env})


def test_fresh_stale_and_failed(fresh_db, tmp_path):
    seed_bronze(fresh_db)
    seed_runs(tmp_path / "meltano.db")
    result = status(fresh_db, tmp_path / "meltano.db", "--format", "json")
    assert result.returncode == 1, result.stderr
    rows = {r["table_name"]: r for r in json.loads(result.stdout)}
    assert rows["garmin__sleep"]["verdict"] == "fresh"
    assert rows["toggl__time_entries"]["verdict"] == "stale" and rows["toggl__time_entries"]["invalid_count"] == 1
    assert rows["notion__pages"]["verdict"] == "failed" and rows["notion__pages"]["warning_count"] == 1
    assert rows["garmin__sleep"]["row_count"] == 1 and rows["garmin__sleep"]["last_run_state"] == "SUCCESS"

    text = status(fresh_db, tmp_path / "meltano.db").stdout
    assert "garmin__sleep" in text and "stale" in text and "failed" in text


def test_all_fresh_exits_zero(fresh_db, tmp_path):
    seed_bronze(fresh_db)
    seed_runs(tmp_path / "meltano.db")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DROP TABLE bronze.notion__pages")
    result = status(fresh_db, tmp_path / "meltano.db", FRESHNESS_TOGGL_HOURS="200")
    assert result.returncode == 0, result.stdout + result.stderr


def test_health_and_metrics_endpoint(fresh_db, tmp_path, monkeypatch):
    import threading
    import urllib.error
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    import metrics

    seed_bronze(fresh_db)
    seed_runs(tmp_path / "meltano.db")
    monkeypatch.setenv("DATABASE_URL", fresh_db)
    monkeypatch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{tmp_path / 'meltano.db'}")
    server = metrics.serve(port=0)
    assert server.server_address[0] == "127.0.0.1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert urllib.request.urlopen(base + "/health").status == 200
        text = urllib.request.urlopen(base + "/metrics").read().decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        rows = {s.labels["table"]: s.value for s in families["bronze_rows"].samples}
        assert rows == {"garmin__sleep": 1, "toggl__time_entries": 1, "notion__pages": 1}
        stale = {s.labels["table"]: s.value for s in families["bronze_stale"].samples}
        assert stale == {"garmin__sleep": 0, "toggl__time_entries": 1, "notion__pages": 1}
        since = {s.labels["source"]: s.value for s in families["bronze_seconds_since_last_success"].samples}
        assert 3000 < since["garmin"] < 4000

        monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
        with pytest.raises(urllib.error.HTTPError) as down:
            urllib.request.urlopen(base + "/health")
        assert down.value.code == 503
    finally:
        server.shutdown()


def test_a_source_with_an_underscore_finds_its_tap_runs():
    import status

    runs = {"dev:tap-apple-health-to-target-postgres": {"state": "SUCCESS", "started_at": None},
            "dev:tap-garmin-to-target-postgres": {"state": "FAILED", "started_at": None}}
    assert status.runs_of("apple_health", runs) == [{"state": "SUCCESS", "started_at": None}]
