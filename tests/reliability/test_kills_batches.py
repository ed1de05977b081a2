"""Kills on the batch-file path (file sources): the next run is exact and clears the leftovers.

tap-wearable-csv hands its rows over in JSON Lines files (meltano.yml's
``batch_config``). The target or the tap is SIGKILLed once the first files
are committed. The killed run must fail, must not have saved a bookmark for
the file it was loading, may leave unloaded batch files behind; one ordinary
re-run must then land every row exactly once and remove those files.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests.fakes.fitabase_export import write_drop
from tests.reliability.processes import child, start

STATE_ID = "dev:tap-wearable-csv-to-target-postgres"
HEART = "wearable__heartrate_seconds"


def counts(meltano) -> dict[str, int]:
    tables = meltano.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'bronze' AND table_name LIKE %s",
        "wearable\\_\\_%",
    )
    return {name.split("__")[1]: meltano.query(f'SELECT count(*) FROM bronze."{name}"')[0][0] for (name,) in tables}


def landed(meltano) -> int:
    exists = meltano.query("SELECT to_regclass(%s) IS NOT NULL", f"bronze.{HEART}")[0][0]
    return meltano.query(f"SELECT count(*) FROM bronze.{HEART}")[0][0] if exists else 0


@pytest.mark.parametrize("victim", ["target-postgres-bronze", "tap-wearable-csv"])
def test_sigkill_mid_batch_load_then_one_rerun_is_exact_and_clears_leftovers(meltano, tmp_path, victim):
    expected = write_drop(tmp_path / "drop", heartrate_rows_count=150_000)
    folder = tmp_path / "batches"
    env = {
        "TAP_WEARABLE_CSV_DATA_DIR": str(tmp_path / "drop"),
        "TAP_WEARABLE_CSV_BATCH_CONFIG": json.dumps(
            {
                "encoding": {"format": "jsonl", "compression": "none"},
                "storage": {"root": folder.as_uri()},
                "batch_size": 1000,
            }
        ),
    }
    process = start(meltano, "run", "tap-wearable-csv", "target-postgres", extra_env=env)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not landed(meltano) and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before the first batch was committed"
    assert landed(meltano) < expected["heartrate_seconds"]
    os.kill(child(process, victim), signal.SIGKILL)
    out, err = process.communicate(timeout=300)
    assert process.returncode != 0, "a run whose process was killed must not report success"
    partial = landed(meltano)
    assert 0 < partial < expected["heartrate_seconds"]
    stale = list(folder.glob("bronze-batch-*"))  # written, maybe announced, never committed
    saved = meltano.run("state", "get", STATE_ID, check=False).stdout
    assert "heartrate_seconds_merged.csv" not in saved, "the bookmark moved past unloaded rows"

    again = meltano.run("run", "tap-wearable-csv", "target-postgres", extra_env=env)
    assert counts(meltano) == expected
    (dupes,) = meltano.query(f"SELECT count(*) - count(DISTINCT (raw_id, raw_hash)) FROM bronze.{HEART}")[0]
    assert dupes == 0
    assert list(folder.glob("bronze-batch-*")) == []
    if stale:
        assert f"removed {len(stale)} batch file(s) an earlier run left unloaded" in again.stderr
