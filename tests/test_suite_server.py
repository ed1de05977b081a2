"""`make test` stops the embedded PostgreSQL it started, and only that one.

A pytest session is run in a subprocess, with the suite's own conftest, on
its own embedded cluster (a fresh PGDATA_DIR and a free port), once with no
server running beforehand and once with one the user had started.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import dbctl

PROBE = """
def test_uses_the_server(fresh_db):
    assert fresh_db
"""


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


@pytest.fixture
def own_cluster(monkeypatch):
    """Environment for an embedded cluster of this test only.

    Not under pytest's tmp_path: the inner pytest session makes its base
    folder 0700 again, which the server's service user (as root) cannot cross.
    """
    if not dbctl.settings()["embedded"]:
        pytest.skip("the project uses an external PostgreSQL; the suite never starts or stops it")
    folder = Path(tempfile.mkdtemp(prefix="bronze-suite-pg-"))
    env = {"PGDATA_DIR": str(folder / "pgdata"), "PG_PORT": free_port()}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        yield env
    finally:
        dbctl.down()  # whatever the test left running
        shutil.rmtree(folder, ignore_errors=True)


def run_suite(tmp_path) -> subprocess.CompletedProcess:
    (tmp_path / "test_probe.py").write_text(PROBE)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.conftest",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_probe.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def running() -> bool:
    return dbctl._postmaster_pid(dbctl.data_dir()) is not None


def test_a_server_the_suite_started_is_stopped_at_the_end(own_cluster, tmp_path):
    assert not running()
    result = run_suite(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert not running(), "the suite left the embedded PostgreSQL it started running"


def test_a_server_the_user_had_running_stays_up(own_cluster, tmp_path):
    dbctl.up()
    result = run_suite(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert running() and dbctl.is_reachable()
