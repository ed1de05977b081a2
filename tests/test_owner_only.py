"""Everything a run writes is owner-only, and killed runs leave no secrets behind.

Real `meltano run`s and `meltano invoke`s of tap-wearable-csv (a file tap
with ``batch_config``) started under the usual umask 022, as a user who runs
Meltano by hand would: batch files, their folder, Meltano's per-run tap
config (it holds passwords) and ``.meltano/`` must still be owner-only. A
SIGKILLed run leaves its tap config behind; the next run removes it, and never
the config of a run that is still alive.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from bronze_core import owner_only
from tests.conftest import ROOT
from tests.fakes.fitabase_export import write_drop
from tests.reliability.processes import child, start

RUN_DIR = ROOT / ".meltano" / "run" / "tap-wearable-csv"


@contextlib.contextmanager
def umask(value: int):
    """Run the enclosed commands (and their children) under ``value``."""
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def batch_env(tmp_path: Path, drop: Path, batch_size: int = 1000) -> dict:
    return {
        "TAP_WEARABLE_CSV_DATA_DIR": str(drop),
        "TAP_WEARABLE_CSV_BATCH_CONFIG": json.dumps(
            {
                "encoding": {"format": "jsonl", "compression": "none"},
                "storage": {"root": (tmp_path / "batches").as_uri()},
                "batch_size": batch_size,
            }
        ),
    }


def configs() -> set[Path]:
    return set(RUN_DIR.glob("tap.*.config.json"))


def test_batch_files_tap_config_and_meltano_dir_are_owner_only_under_umask_022(meltano, tmp_path):
    write_drop(tmp_path / "drop", heartrate_rows_count=5000)
    env = batch_env(tmp_path, tmp_path / "drop")
    out = tmp_path / "out.jsonl"
    with umask(0o022), open(out, "w") as sink:
        # `meltano invoke`: the tap's own batch files stay (no loader deletes them).
        process = start(meltano, "invoke", "tap-wearable-csv", extra_env=env)
        live_modes = {}
        while process.poll() is None:
            for path in configs():
                with contextlib.suppress(FileNotFoundError):
                    if (RUN_DIR / (path.name + ".owner")).exists():  # the tap has started
                        live_modes[path.name] = mode(path)
            time.sleep(0.05)
        sink.write(process.stdout.read())
    assert process.returncode == 0, process.stderr.read()
    written = sorted((tmp_path / "batches").glob("bronze-batch-*"))
    assert written, "the tap wrote no batch files"
    assert {f.name: mode(f) for f in written} == {f.name: 0o600 for f in written}
    assert mode(tmp_path / "batches") == 0o700
    assert live_modes and set(live_modes.values()) == {0o600}, live_modes
    assert mode(ROOT / ".meltano") == 0o700

    # A whole run: what Meltano itself writes (logs, state, catalogs) sits in the 0700 .meltano/.
    os.chmod(ROOT / ".meltano", 0o755)  # as an older checkout left it
    for stale in written:
        stale.unlink()
    with umask(0o022):
        meltano.run("run", "tap-wearable-csv", "target-postgres", extra_env=env)
    assert mode(ROOT / ".meltano") == 0o700
    assert list((tmp_path / "batches").iterdir()) == []
    assert configs() == set()


def wait_for_child(process: subprocess.Popen, executable: str, timeout: float = 120) -> int:
    """The pid of ``executable`` in ``process``'s session, once it has started."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return child(process, executable)
        except AssertionError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.05)


def test_the_config_of_a_sigkilled_run_is_removed_by_the_next_run(meltano, tmp_path):
    write_drop(tmp_path / "drop", heartrate_rows_count=150_000)
    env = batch_env(tmp_path, tmp_path / "drop")
    before = configs()
    process = start(meltano, "run", "tap-wearable-csv", "target-postgres", extra_env=env)
    wait_for_child(process, "tap-wearable-csv")
    deadline = time.monotonic() + 120  # the tap is syncing (its first batch file is written)
    while (
        time.monotonic() < deadline
        and process.poll() is None
        and not list((tmp_path / "batches").glob("bronze-batch-*"))
    ):
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    left = configs() - before
    os.killpg(process.pid, signal.SIGKILL)  # meltano, tap and target at once, as `kill -9 -<pgid>`
    process.communicate(timeout=60)
    assert left and all(path.exists() for path in left), "the killed run left no config to clean"

    # --force: the killed run's record still reads "running" (Meltano marks it stale after 5 min).
    again = meltano.run("run", "--force", "tap-wearable-csv", "target-postgres", extra_env=env)
    assert not any(path.exists() for path in left)
    assert configs() == before
    assert "tap config file(s) (they hold secrets) that killed runs left" in again.stderr


def test_only_configs_of_dead_runs_are_removed(tmp_path):
    """Unit check of the owner rule: live owners (another run of the plugin) keep their config."""
    folder = tmp_path / ".meltano" / "run" / "tap-x"
    folder.mkdir(parents=True)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        files = {
            name: folder / f"tap.{name}.config.json"
            for name in ("current", "alive", "dead", "unclaimed_old", "unclaimed_new")
        }
        for path in files.values():
            path.write_text("{}")
        for name, pid in (("alive", alive.pid), ("dead", dead.pid)):
            started = owner_only._start_time(pid)
            (folder / f"tap.{name}.config.json.owner").write_text(f"{pid} {started or 'gone'}\n")
        old = time.time() - owner_only.UNCLAIMED_SECONDS - 60
        os.utime(files["unclaimed_old"], (old, old))
        (folder / "tap.ended.config.json.owner").write_text("1 1\n")  # its config was deleted

        assert owner_only.remove_leftover_configs([files["current"]]) == 2
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [
                "tap.current.config.json",
                "tap.alive.config.json",
                "tap.alive.config.json.owner",
                "tap.unclaimed_new.config.json",
            ]
        )
    finally:
        alive.kill()
        alive.wait()


def test_the_tap_says_once_where_batch_files_go_and_how_to_get_records(meltano, tmp_path):
    write_drop(tmp_path / "drop")
    env = batch_env(tmp_path, tmp_path / "drop")
    result = meltano.run("run", "tap-wearable-csv", "target-postgres", extra_env=env)
    notices = [line for line in result.stderr.splitlines() if "BATCH messages" in line]
    assert len(notices) == 1, notices
    assert (tmp_path / "batches").as_uri() in notices[0]
    assert "TAP_WEARABLE_CSV_BATCH_CONFIG='{}'" in notices[0]
    # ... and that setting does give RECORD messages, which any Singer target reads.
    out = meltano.run("invoke", "tap-wearable-csv", extra_env={**env, "TAP_WEARABLE_CSV_BATCH_CONFIG": "{}"}).stdout
    kinds = {json.loads(line)["type"] for line in out.splitlines() if line.startswith("{")}
    assert "RECORD" in kinds and "BATCH" not in kinds


def test_apple_health_spool_is_owner_only():
    """The records pass spools workouts and summaries (personal data) for the later streams."""
    from tap_apple_health.shared_pass import SharedPass

    spool = SharedPass()
    with umask(0o022):
        writer = spool.writer("export.zip", "0" * 64, ["Workout", "ActivitySummary"])
        writer.add("Workout", 7, {"workoutActivityType": "HKWorkoutActivityTypeRunning"})
        writer.close(complete=True)
    try:
        files = list(spool._folder.iterdir())
        assert len(files) == 2 and {mode(f) for f in files} == {0o600}
        assert mode(spool._folder) == 0o700
        assert [payload for _, payload in spool.read("export.zip", "0" * 64, "Workout")] == [
            {"workoutActivityType": "HKWorkoutActivityTypeRunning"}
        ]
    finally:
        spool.close()
