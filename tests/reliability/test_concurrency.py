"""Runs that start at once: two of the same job, and different pipelines together.

Meltano itself guards this: `meltano run` records each pipeline as a running
job in its system database and refuses to start a pipeline whose state id
already has a live running job ("Another '<state id>' pipeline is already
running ... or ignore this check using the '--force' option"), before it
writes anything under `.meltano/run/<plugin>/` or reads state. These tests
prove that guard holds for our pipelines and that bronze and state stay exact,
including when both runs are started in the same instant (where the check
and the job record race), which the (raw_id, raw_hash) primary key of every
bronze table keeps from doubling rows.

Different pipelines started in the same instant (schedules that fire
together) must all succeed: their loaders apply the bronze DDL under an
advisory lock and only when it changed, plugins sharing an executable
(``tap-garmin``, ``tap-garmin-export``) hold separate run locks and never
delete each other's batch files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from bronze_core.envelope import BRONZE_KEY, BRONZE_SCHEMA
from bronze_core.hashing import payload_hash
from bronze_core.streams import stream_name
from tests.conftest import ROOT
from tests.fakes.fitabase_export import write_drop
from tests.fakes.garmin_export import expected_counts, write_export
from tests.reliability.cases import API_TAPS
from tests.reliability.helpers import assert_exact, run
from tests.reliability.processes import start

HUBSPOT = next(t for t in API_TAPS if t.name == "tap-hubspot")
STATE_ID = "dev:tap-hubspot-to-target-postgres"
OBJECTS = {"hubspot__contacts", "hubspot__companies", "hubspot__meetings"}


def start_run(meltano, fake):
    return start(meltano, "run", HUBSPOT.name, "target-postgres", extra_env=HUBSPOT.env(fake, request_timeout=300))


def stopped_before_loading(text: str) -> bool:
    """Whether a failed run's log names one of the ways a same-instant race ends."""
    refused = "already running" in text
    catalog_cut = "Invalid catalog" in text and "Cannot start plugin" in text
    catalog_gone = "tap.properties.json': No such file or directory" in text and "Extractor failed" in text
    records_read = [
        int(n) for n in re.findall(r"completed processing \d+ lines of input \(\d+ schemas, (\d+) records", text)
    ]
    return (refused or catalog_cut or catalog_gone) and not any(records_read)


def bookmarks(meltano) -> dict:
    out = meltano.run("state", "get", STATE_ID).stdout
    return json.loads(out[out.index("{") :])["singer_state"]["bookmarks"]


def test_second_run_while_the_first_runs_is_refused_clearly(meltano):
    with HUBSPOT.make_fake() as fake:
        fake.inject("hold", path_contains="/companies/search")
        first = start_run(meltano, fake)
        assert fake.held.wait(240), "the first run never reached the held request"
        second = start_run(meltano, fake)
        out, err = second.communicate(timeout=300)
        assert second.returncode != 0
        assert "already running" in out + err, (out + err)[-3000:]
        fake.release()
        out, err = first.communicate(timeout=300)
        assert first.returncode == 0, (out + err)[-3000:]
        assert_exact(meltano, HUBSPOT, fake)
        assert set(bookmarks(meltano)) == OBJECTS


def test_two_runs_started_in_the_same_instant_stay_exact(meltano):
    # A system database that exists already, as in any project past its first run (two
    # first-ever commands racing to create it fail on Meltano's own migration instead).
    meltano.run("state", "list")
    with HUBSPOT.make_fake() as fake:
        runs = [start_run(meltano, fake), start_run(meltano, fake)]
        outcomes = []
        for process in runs:
            out, err = process.communicate(timeout=300)
            outcomes.append((process.returncode, out + err))
        # Each run either lands everything or stops before loading anything. A run that
        # failed must say why in one of the ways this race can end, all of them before
        # the tap sent a record: refused (Meltano's job check, or the tap's run lock;
        # each run may see the other's job row, so both can be refused), or stopped by
        # Meltano's shared catalog file (both discover into the same
        # .meltano/run/<tap>/tap.properties.json in the same instant: one reads the
        # other's half-written file, "Cannot start plugin ...: Invalid catalog", and
        # deletes it, so the other's tap starts on a catalog that is gone).
        for code, text in outcomes:
            if code != 0:
                assert stopped_before_loading(text), text[-3000:]
        if any(code == 0 for code, _ in outcomes):
            assert_exact(meltano, HUBSPOT, fake)
            assert set(bookmarks(meltano)) == OBJECTS
        run(meltano, HUBSPOT, fake, check=True)  # and the next ordinary run is exact too
        assert_exact(meltano, HUBSPOT, fake)


def test_a_tap_refuses_to_run_beside_another_run_of_itself(tmp_path):
    """The lock that closes the race Meltano's own check leaves open (same-instant starts)."""
    import fcntl
    import os
    import subprocess

    from tests.tap_runner import BIN

    sample = tmp_path / "manual"
    (sample / "water").mkdir(parents=True)
    (sample / "water" / "log.jsonl").write_text('{"id": "1"}\n')
    (tmp_path / "config.json").write_text(json.dumps({"manual_dir": str(sample)}))
    env = {**os.environ, "MELTANO_PROJECT_ROOT": str(tmp_path)}
    command = [str(BIN / "tap-manual"), "--config", str(tmp_path / "config.json")]

    lock_path = tmp_path / ".meltano" / "run" / "tap-manual.lock"
    lock_path.parent.mkdir(parents=True)
    with open(lock_path, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run holds it
        refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "another run of tap-manual is already running in this project" in refused.stderr
    assert '"type":"RECORD"' not in refused.stdout.replace(" ", "")

    alone = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert alone.returncode == 0, alone.stderr[-2000:]
    assert '"raw_id":"1"' in alone.stdout.replace(" ", "")


LOADER = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres-bronze"
GARMIN = next(t for t in API_TAPS if t.name == "tap-garmin")


def loader_input(stream: str, count: int) -> str:
    """Singer messages of ``count`` bronze envelopes for ``stream``, as a tap writes them."""
    lines = [{"type": "SCHEMA", "stream": stream, "schema": BRONZE_SCHEMA, "key_properties": BRONZE_KEY}]
    for n in range(count):
        payload = {"n": n, "stream": stream}
        lines.append(
            {
                "type": "RECORD",
                "stream": stream,
                "record": {
                    "raw_id": str(n),
                    "raw_hash": payload_hash(payload),
                    "source": "lock",
                    "raw_data": payload,
                    "source_timestamp": "2024-05-14T06:00:00+00:00",
                    "validation_status": "valid",
                    "error_message": None,
                    "metadata": {"line": n},
                },
            }
        )
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def start_loader(url: str, sql_dir, stream: str, tmp_path) -> subprocess.Popen:
    config = tmp_path / f"{stream}.json"
    config.write_text(
        json.dumps(
            {"sqlalchemy_url": url, "default_target_schema": "bronze", "load_method": "upsert", "use_copy": True}
        )
    )
    process = subprocess.Popen(
        [str(LOADER), "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BRONZE_SQL_DIR": str(sql_dir)},
    )
    process.stdin.write(loader_input(stream, 5))
    process.stdin.close()
    return process


def ensure_table_version(url: str) -> int:
    """The catalog row version of bronze.ensure_table: changes whenever the function is replaced."""
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT xmin::text FROM pg_proc WHERE proname = 'ensure_table'").fetchone()[0])


def test_loaders_starting_together_apply_changed_ddl_once_and_all_land(fresh_db, tmp_path):
    """Six loaders reach the DDL in the same instant: none fails, each table is complete.

    The instant is made certain, not hoped for: the test holds pg_proc in SHARE
    mode (what replacing a function waits on) until every loader waits for a
    lock, then lets them all go. On main each replaced the functions at once
    and all but one failed with "tuple concurrently updated".
    """
    first = start_loader(fresh_db, ROOT / "sql", "lock__first", tmp_path)
    assert first.wait(180) == 0, first.stderr.read()[-3000:]
    unchanged = ensure_table_version(fresh_db)
    again = start_loader(fresh_db, ROOT / "sql", "lock__again", tmp_path)
    assert again.wait(180) == 0, again.stderr.read()[-3000:]
    assert ensure_table_version(fresh_db) == unchanged, "unchanged DDL was applied again"

    upgraded = tmp_path / "sql"  # a new release of the DDL: every loader must apply it
    shutil.copytree(ROOT / "sql", upgraded)
    with open(upgraded / "001_bronze.sql", "a") as handle:
        handle.write("\n-- a later release\n")
    with psycopg.connect(fresh_db) as gate:
        gate.execute("LOCK TABLE pg_catalog.pg_proc IN SHARE MODE")
        loaders = [start_loader(fresh_db, upgraded, f"lock__t{n}", tmp_path) for n in range(6)]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            (waiting,) = gate.execute(  # pg_locks, not pg_stat_activity (frozen for a transaction)
                "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
            if waiting >= len(loaders) or any(p.poll() is not None for p in loaders):
                break
            time.sleep(0.2)
        assert waiting >= len(loaders), f"only {waiting} of {len(loaders)} loaders reached the DDL"
        gate.rollback()  # all go at once
    for process in loaders:
        assert process.wait(180) == 0, process.stderr.read()[-3000:]
    assert ensure_table_version(fresh_db) != unchanged, "the changed DDL was not applied"
    with psycopg.connect(fresh_db) as conn:
        for n in range(6):
            rows = conn.execute(f"SELECT raw_id FROM bronze.lock__t{n} ORDER BY raw_id").fetchall()
            assert [r for (r,) in rows] == [str(i) for i in range(5)]


def batch_folder(meltano):
    return ROOT / ".meltano" / "run" / "batches"


def test_garmin_export_runs_beside_garmin_and_keeps_its_batch_files(meltano, tmp_path):
    """Two plugins of one executable: tap-garmin-export is not refused while tap-garmin runs,
    and a tap-garmin run (batch files on) never removes tap-garmin-export's batch files."""
    export = write_export(tmp_path / "export", days=5)
    export_env = {"TAP_GARMIN_EXPORT_EXPORT_PATH": str(export)}
    with GARMIN.make_fake() as fake:
        fake.inject("hold", path_contains="dailySleepData")
        garmin = start(meltano, "run", "tap-garmin", "target-postgres", extra_env=GARMIN.env(fake, request_timeout=300))
        try:
            assert fake.held.wait(240), "tap-garmin never reached the held request"
            beside = meltano.run("run", "tap-garmin-export", "target-postgres", check=False, extra_env=export_env)
        finally:
            fake.release()
        out, err = garmin.communicate(timeout=300)
        assert garmin.returncode == 0, (out + err)[-3000:]
        assert beside.returncode == 0, (beside.stdout + beside.stderr)[-3000:]
        assert_exact(meltano, GARMIN, fake)
    counts = {
        kind: meltano.query(f"SELECT count(*) FROM bronze.garmin__export_{kind}")[0][0]
        for kind in ("sleep", "daily_summary", "activities")
    }
    assert counts == expected_counts(days=5)

    # Batch files tap-garmin-export has written and not yet handed over (its tap alone,
    # as in a run whose loader is still busy) survive a tap-garmin run that batches too.
    invoked = meltano.run("invoke", "tap-garmin-export", extra_env=export_env)
    written = [json.loads(line)["manifest"][0] for line in invoked.stdout.splitlines() if '"BATCH"' in line]
    assert written, invoked.stderr[-2000:]
    files = [Path(url.removeprefix("file://")) for url in written]
    try:
        assert all(f.name.startswith("bronze-batch-tap-garmin-export--") for f in files), files
        with GARMIN.make_fake() as fake:
            config = {
                "encoding": {"format": "jsonl", "compression": "none"},
                "storage": {"root": f"file://{batch_folder(meltano)}"},
                "batch_size": 1000,
            }
            run(meltano, GARMIN, fake, check=True, extra_env={"TAP_GARMIN_BATCH_CONFIG": json.dumps(config)})
        assert all(f.exists() for f in files), "tap-garmin removed tap-garmin-export's batch files"
    finally:
        for f in files:
            f.unlink(missing_ok=True)


#: API pipelines of the same-instant test (each against its own fake).
TOGETHER_API = ["tap-garmin", "tap-toggl", "tap-notion", "tap-openmeteo", "tap-hubspot"]


def file_sources(tmp_path) -> tuple[dict, dict]:
    """Inputs of the file pipelines: {plugin: env}, and the rows bronze must then hold per table."""
    export = write_export(tmp_path / "garmin-export", days=6)
    drop = write_drop(tmp_path / "wearable")
    manual = tmp_path / "manual"
    for folder, count in (("water", 7), ("体重", 3)):
        (manual / folder).mkdir(parents=True)
        (manual / folder / "log.jsonl").write_text(
            "".join(json.dumps({"id": f"{folder}-{n}", "n": n}, ensure_ascii=False) + "\n" for n in range(count)),
            encoding="utf-8",
        )
    env = {
        "tap-garmin-export": {"TAP_GARMIN_EXPORT_EXPORT_PATH": str(export)},
        "tap-wearable-csv": {"TAP_WEARABLE_CSV_DATA_DIR": str(tmp_path / "wearable")},
        "tap-manual": {"TAP_MANUAL_MANUAL_DIR": str(manual)},
    }
    counts = {f"garmin__export_{kind}": n for kind, n in expected_counts(days=6).items()}
    counts.update({f"wearable__{stream}": n for stream, n in drop.items()})
    counts.update({stream_name("manual", "water"): 7, stream_name("manual", "体重"): 3})
    return env, counts


def test_pipelines_started_in_the_same_instant_all_succeed_exactly(meltano, tmp_path):
    """Eight pipelines (five APIs, the Garmin export beside the Garmin API, a wearable
    export, manual logs) started at once into one fresh database, as schedules that fire
    together do: every run succeeds and every table holds exactly its source's rows."""
    # The project is past its first Meltano command (`make install` runs `meltano install`,
    # which creates the system database). Meltano's own migration of a new system database
    # takes no lock: first-ever commands started together fail on "table job already exists".
    meltano.run("state", "list")
    env, counts = file_sources(tmp_path)
    taps = [next(t for t in API_TAPS if t.name == name) for name in TOGETHER_API]
    with contextlib.ExitStack() as stack:
        fakes = {tap.name: stack.enter_context(tap.make_fake()) for tap in taps}
        env.update({tap.name: tap.env(fakes[tap.name]) for tap in taps})
        runs = {
            plugin: start(meltano, "run", plugin, "target-postgres", extra_env=extra) for plugin, extra in env.items()
        }
        failed = {}
        for plugin, process in runs.items():
            out, err = process.communicate(timeout=900)
            if process.returncode != 0:
                failed[plugin] = (out + err)[-3000:]
        assert not failed, "\n\n".join(f"{plugin}:\n{text}" for plugin, text in failed.items())
        for tap in taps:
            assert_exact(meltano, tap, fakes[tap.name])
    for table, count in counts.items():
        assert meltano.query(f"SELECT count(*), count(DISTINCT raw_id) FROM bronze.{table}")[0] == (count, count), table
