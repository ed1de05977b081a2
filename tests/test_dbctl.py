"""scripts/dbctl.py: settings precedence, the CLI, and a real embedded start/stop."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

import dbctl


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project root: no .env, no PG_* in the environment."""
    monkeypatch.setattr(dbctl, "ROOT", tmp_path)
    for key in ("DATABASE_URL", "PG_HOST", "PG_PORT", "PG_DB", "PG_USER", "PG_PASS", "PGDATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


def test_defaults_mean_embedded(project):
    s = dbctl.settings()
    assert s["embedded"] is True
    assert s["url"] == "postgresql://postgres@127.0.0.1:55432/bronze"


def test_dotenv_then_environment(project, monkeypatch):
    (project / ".env").write_text('# comment\nPG_PORT=6000\nexport PG_DB="mine"\nPG_USER=\'me\'\n')
    s = dbctl.settings()
    assert (s["PG_PORT"], s["PG_DB"], s["PG_USER"], s["embedded"]) == ("6000", "mine", "me", True)
    monkeypatch.setenv("PG_PORT", "7000")
    assert dbctl.settings()["PG_PORT"] == "7000"
    monkeypatch.setenv("PG_HOST", "db.example")
    assert dbctl.settings()["embedded"] is False


def test_database_url_means_external(project, monkeypatch, capsys):
    (project / ".env").write_text("PG_PORT=6000\nDATABASE_URL=postgresql://bob:s%40cret@db.example:5433/life\n")
    s = dbctl.settings()
    assert s["embedded"] is False
    assert (s["PG_HOST"], s["PG_PORT"], s["PG_DB"], s["PG_USER"], s["PG_PASS"]) == (
        "db.example", "5433", "life", "bob", "s@cret")
    assert s["url"] == "postgresql://bob:s%40cret@db.example:5433/life"
    assert dbctl.main(["env"]) == 0
    assert capsys.readouterr().out.split() == [
        "PG_HOST=db.example", "PG_PORT=5433", "PG_DB=life", "PG_USER=bob", "PG_PASS=s@cret"]
    monkeypatch.setenv("DATABASE_URL", "postgres://ann@other:5432/x")  # environment wins
    assert dbctl.main(["url", "--sqlalchemy"]) == 0
    assert capsys.readouterr().out.strip() == "postgresql+psycopg://ann@other:5432/x"
    dbctl.down()  # external: never stopped
    assert "does not stop it" in capsys.readouterr().out


def test_database_names_are_checked(project, capsys):
    with pytest.raises(ValueError):
        dbctl.create_database('x"; DROP DATABASE bronze; --')
    assert dbctl.main(["dropdb", "Bad-Name"]) == 2
    assert "not a plain database name" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stale_pid_file(pgdata) -> subprocess.Popen:
    """A postmaster.pid naming a live non-postgres process of the server's user (PID reuse)."""
    as_user = {"user": dbctl.SERVICE_USER} if os.geteuid() == 0 else {}
    sleeper = subprocess.Popen(["sleep", "60"], cwd="/", **as_user)
    (pgdata / "postmaster.pid").write_text(f"{sleeper.pid}\n{pgdata}\n")
    return sleeper


def test_embedded_up_down_up(project, monkeypatch, capsys):
    port = _free_port()
    pgdata = project / "pgdata"
    monkeypatch.setenv("PG_PORT", str(port))
    monkeypatch.setenv("PGDATA_DIR", str(pgdata))
    try:
        dbctl.up()
        assert f"started at 127.0.0.1:{port}/bronze (database created)" in capsys.readouterr().out
        dbctl.up()
        assert "already running" in capsys.readouterr().out
        assert dbctl.main(["status"]) == 0
        dbctl.create_database("t_dbctl")
        with dbctl.connect("t_dbctl") as conn:
            assert conn.execute("SELECT 1, current_database()").fetchone() == (1, "t_dbctl")
        dbctl.drop_database("t_dbctl")
        dbctl.down()
        assert not dbctl.is_reachable()
        assert dbctl.main(["status"]) == 1
        dbctl.down()
        assert "not running" in capsys.readouterr().out
        sleeper = _stale_pid_file(pgdata)
        try:
            dbctl.up()
        finally:
            sleeper.kill()
        assert dbctl.is_reachable()
        with dbctl.connect() as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("bronze",)
    finally:
        dbctl.down()
    assert not dbctl.is_reachable()
