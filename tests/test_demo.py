"""`make demo` end to end, as a user runs it: every source, then dbt, then the report.

The demo is what a newcomer runs first, and what proves the registry, the taps, the
loader, dbt and the report fit together. Here it runs against a database of its own
(and Meltano's system database in the test's folder), exactly as `make demo` does:
fakes and samples named by sources.yml, `meltano run` of every pipeline, dbt run and
test through Meltano, `make status`, and the report.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import psycopg
import yaml

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import dbctl
import registry

DONE = re.compile(r"^  (?P<pipeline>\S+)\s+done: (?P<rows>\d+) records \((?P<invalid>\d+) invalid\)", re.MULTILINE)
DBT = re.compile(r"^  dbt (run|test|freshness) +Done\. PASS=(\d+) WARN=\d+ ERROR=(\d+)", re.MULTILINE)


def test_the_demo_lands_every_source_builds_and_tests_the_marts_and_writes_the_report(fresh_db, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": fresh_db,
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    demo_db = fresh_db.rsplit("/", 1)[1] + "_demo"
    try:
        # A demo killed in the middle (Ctrl-C twice, a closed terminal) leaves its pipelines
        # marked running in Meltano's system database; the next demo must run all the same.
        kill_a_demo_midway(env, tmp_path / "meltano.db")
        done = run_demo(env, timeout=1500)
        out = done.stdout
        assert done.returncode == 0, out[-4000:] + done.stderr[-4000:]

        # Every pipeline of the registry ran and delivered records.
        delivered = {m["pipeline"]: int(m["rows"]) for m in DONE.finditer(out)}
        assert set(delivered) == {p.name for p in registry.pipelines()}, out[-4000:]
        assert all(rows > 0 for rows in delivered.values()), delivered

        # dbt built the marts and its tests passed; every bronze source dbt declares
        # (transform/models/sources.yml) landed and passes its freshness check.
        summaries = {m[1]: (int(m[2]), int(m[3])) for m in DBT.finditer(out)}
        assert set(summaries) == {"run", "test", "freshness"}, out[-3000:]
        assert all(passed > 0 and errors == 0 for passed, errors in summaries.values()), summaries
        sources = yaml.safe_load((ROOT / "transform" / "models" / "sources.yml").read_text())["sources"]
        assert summaries["freshness"] == (sum(len(s["tables"]) for s in sources), 0), out[-3000:]

        demo_url = fresh_db.rsplit("/", 1)[0] + "/" + demo_db
        with psycopg.connect(demo_url) as conn:
            landed = dict(
                conn.execute("SELECT table_name, row_count FROM bronze.status WHERE table_name IS NOT NULL").fetchall()
            )
            days = conn.execute("SELECT count(*) FROM mart.daily_health WHERE steps IS NOT NULL").fetchone()[0]
        # Each pipeline's rows are in tables it writes, and daily health has days with steps.
        for p in registry.pipelines():
            assert any(p.writes(table) and rows > 0 for table, rows in landed.items()), (p.name, landed)
        assert days > 0

        # As `make status` sees the demo: every pipeline fresh after its run.
        status = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "status.py"), "--format", "json"],
            cwd=ROOT,
            env={**env, "DATABASE_URL": demo_url, "MELTANO_ENVIRONMENT": "demo"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        verdicts = {row["pipeline"]: row["verdict"] for row in json.loads(status.stdout)}
        assert set(verdicts) >= {p.name for p in registry.pipelines()}, verdicts
        assert set(verdicts.values()) <= {"fresh", "warning"}, verdicts

        # The report was written, owner-only, and its path printed.
        report = ROOT / "reports" / "demo.html"
        assert f"Open the report in a browser: {report}" in out
        assert report.stat().st_mode & 0o077 == 0
        assert report.read_text(encoding="utf-8").count("data:image/png;base64,") >= 8
    finally:
        dbctl.drop_database(demo_db)


def run_demo(env: dict, timeout: int) -> subprocess.CompletedProcess:
    """`make demo` as a user runs it (scripts/demo.py), its output captured."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def kill_a_demo_midway(env: dict, system_db) -> None:
    """Start a demo, check a second one is refused while it runs, then SIGKILL the first
    once a pipeline is under way, leaving a job marked running behind."""
    first = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        started = 0
        for line in first.stdout:
            started += line.rstrip().endswith(" started")
            if started == 2:  # the first pipeline is done, the second one's job is running
                break
        assert started == 2, "the first demo ended before its second pipeline started"
        second = run_demo(env, timeout=120)
        assert second.returncode != 0
        assert "another make demo is running in this project" in second.stderr, second.stderr[-2000:]
        time.sleep(1)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=60)
    with sqlite3.connect(system_db) as db:
        running = db.execute("SELECT job_name FROM runs WHERE state = 'RUNNING'").fetchall()
    assert any(name.startswith("demo:") for (name,) in running), running
