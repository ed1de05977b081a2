"""Two runs of the same job at once.

Meltano itself guards this: `meltano run` records each pipeline as a running
job in its system database and refuses to start a pipeline whose state id
already has a live running job ("Another '<state id>' pipeline is already
running ... or ignore this check using the '--force' option"), before it
writes anything under `.meltano/run/<plugin>/` or reads state. These tests
prove that guard holds for our pipelines and that bronze and state stay exact,
including when both runs are started in the same instant (where the check
and the job record race), which the (raw_id, raw_hash) primary key of every
bronze table keeps from doubling rows.
"""

from __future__ import annotations

import json

from tests.reliability.cases import API_TAPS
from tests.reliability.helpers import assert_exact, run
from tests.reliability.processes import start

HUBSPOT = next(t for t in API_TAPS if t.name == "tap-hubspot")
STATE_ID = "dev:tap-hubspot-to-target-postgres"
OBJECTS = {"hubspot__contacts", "hubspot__companies", "hubspot__meetings"}


def start_run(meltano, fake):
    return start(meltano, "run", HUBSPOT.name, "target-postgres",
                 extra_env=HUBSPOT.env(fake, request_timeout=300))


def bookmarks(meltano) -> dict:
    out = meltano.run("state", "get", STATE_ID).stdout
    return json.loads(out[out.index("{"):])["singer_state"]["bookmarks"]


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
        # Each run either lands everything or stops before loading anything:
        # refused clearly (Meltano's job check, or the tap's run lock; each
        # run may see the other's job row, so both can be refused), or stopped
        # by Meltano itself when the other run rewrote the catalog file it was
        # reading (both discover into the same .meltano/run/<tap>/ in the same
        # instant: "Cannot start plugin ...: Invalid catalog"). Nothing else.
        for code, text in outcomes:
            if code != 0:
                assert ("already running" in text
                        or "Invalid catalog" in text and "Cannot start plugin" in text), text[-3000:]
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
