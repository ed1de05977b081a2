"""The Makefile and the crontab lines: owner-only files whatever the caller's umask, a full `make help`.

Run with a caller's umask of 022 (the usual default), as a user would start them.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import crontab

UMASK_022 = {"umask": 0o022}


def make(*args: str, cwd=ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        **UMASK_022,
    )


def test_every_recipe_runs_under_umask_077(tmp_path):
    """A probe target added to the project's Makefile sees umask 077 in its shell and children."""
    probe = tmp_path / "probe.mk"
    probe.write_text(
        f"include {ROOT / 'Makefile'}\n"
        "probe:\n"
        "\tumask\n"  # no shell syntax: make may exec it without a shell
        f"\t{sys.executable} -c 'import os; print(oct(os.umask(0)))'\n"
        f"\ttouch {tmp_path / 'made'}\n"
    )
    result = make("-s", "-f", str(probe), "probe")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0077", "0o77"]
    assert stat.S_IMODE((tmp_path / "made").stat().st_mode) == 0o600


def test_help_lists_every_documented_target():
    documented = re.findall(r"^([A-Za-z0-9_-]+):.*## ", (ROOT / "Makefile").read_text(), re.MULTILINE)
    listed = re.findall(r"^  make (\S+)", make("help").stdout, re.MULTILINE)
    assert "db-status" in documented
    assert listed == documented


def test_make_env_creates_an_owner_only_env_and_never_overwrites(tmp_path):
    shutil.copy(ROOT / ".env.template", tmp_path / ".env.template")
    makefile = str(ROOT / "Makefile")
    first = make("-f", makefile, "env", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    env = tmp_path / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert env.read_text() == (ROOT / ".env.template").read_text()
    env.write_text("TAP_TOGGL_API_TOKEN=mine\n")
    again = make("-f", makefile, "env", cwd=tmp_path)
    assert again.returncode != 0 and ".env exists" in again.stderr
    assert env.read_text() == "TAP_TOGGL_API_TOKEN=mine\n"


def test_a_crontab_line_runs_its_schedule_under_umask_077(meltano, tmp_path):
    """One line of `make crontab`, run by sh under umask 022 as cron would: its log is owner-only."""
    listing = meltano.run("schedule", "list", "--format=json").stdout
    lines = crontab.cron_lines(crontab.schedules(listing))[1:]
    assert lines and all(" umask 077 && cd " in line for line in lines)
    line = next(line for line in lines if "schedule run manual-hourly " in line)
    command = line.split(" ", 5)[5]  # after the five cron fields
    log = ROOT / ".meltano" / "logs" / "cron" / "manual-hourly.log"
    kept = tmp_path / "kept.log"
    if log.exists():  # a real cron log of this project: set aside, put back afterwards
        shutil.move(log, kept)
    env = {**os.environ, **meltano.env, "TAP_MANUAL_MANUAL_DIR": str(ROOT / "samples" / "manual")}
    try:
        done = subprocess.run(["sh", "-c", command], env=env, timeout=300, **UMASK_022)
        assert done.returncode == 0, log.read_text()[-3000:]
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
    finally:
        log.unlink(missing_ok=True)
        if kept.exists():
            shutil.move(kept, log)
    assert (
        meltano.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze' AND table_name LIKE %s",
            "manual%",
        )[0][0]
        > 0
    )
