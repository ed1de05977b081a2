"""Processes and the database dying mid-run: SIGKILL of the target, of the tap, a PostgreSQL restart.

The run is held at a known request (the fake API stops answering the
meetings search after contacts and companies were read and, with a small
batch size, committed), the blow is struck, the request is released. Then
one ordinary re-run must leave bronze exactly equal to the source: had the
killed run saved state past what was committed, the re-run would skip rows
and the gap would show.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

import dbctl
from tests.reliability.cases import API_TAPS
from tests.reliability.helpers import assert_exact, run
from tests.reliability.processes import child, start

HUBSPOT = next(t for t in API_TAPS if t.name == "tap-hubspot")
STATE_ID = "dev:tap-hubspot-to-target-postgres"
SMALL_BATCHES = {"TARGET_POSTGRES_BATCH_SIZE_ROWS": "20"}


def held_run(meltano, fake):
    fake.inject("hold", path_contains="/meetings/search")
    process = start(
        meltano,
        "run",
        HUBSPOT.name,
        "target-postgres",
        extra_env={**HUBSPOT.env(fake, request_timeout=300), **SMALL_BATCHES},
    )
    assert fake.held.wait(240), "the run never reached the held request"
    # The target starts slower than the tap reads: wait until it committed a batch.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not committed(meltano):
        time.sleep(0.5)
    assert committed(meltano), "the target committed nothing while the run was held"
    return process


def committed(meltano) -> int:
    tables = [
        t
        for (t,) in meltano.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'bronze' "
            "AND table_name IN ('hubspot__contacts', 'hubspot__companies')"
        )
    ]
    return sum(meltano.query(f"SELECT count(*) FROM bronze.{t}")[0][0] for t in tables)


def finish(process, fake) -> tuple[int, str]:
    fake.release()
    out, err = process.communicate(timeout=300)
    return process.returncode, out + err


@pytest.mark.parametrize("victim", ["target-postgres-bronze", "tap-hubspot"])
def test_sigkill_mid_run_then_one_rerun_is_exact(meltano, victim):
    with HUBSPOT.make_fake() as fake:
        process = held_run(meltano, fake)
        os.kill(child(process, victim), signal.SIGKILL)
        code, output = finish(process, fake)
        assert code != 0, "a run whose process was killed must not report success"
        saved = meltano.run("state", "get", STATE_ID, check=False).stdout
        assert (
            "hubspot__meetings" not in saved or meltano.query("SELECT count(*) FROM bronze.hubspot__meetings")[0][0] > 0
        ), "state moved past the rows"
        run(meltano, HUBSPOT, fake, check=True, extra_env=SMALL_BATCHES)
        assert_exact(meltano, HUBSPOT, fake)


def test_postgres_restart_mid_run_fails_clearly_or_completes_then_rerun_is_exact(meltano):
    with HUBSPOT.make_fake() as fake:
        process = held_run(meltano, fake)
        dbctl.down()
        dbctl.up()
        code, output = finish(process, fake)
        if code != 0:
            assert any(w in output for w in ("connection", "terminating", "OperationalError")), output[-3000:]
        run(meltano, HUBSPOT, fake, check=True, extra_env=SMALL_BATCHES)
        assert_exact(meltano, HUBSPOT, fake)
