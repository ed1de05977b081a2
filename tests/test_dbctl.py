"""scripts/dbctl.py: settings precedence, the CLI, and a real embedded start/stop."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

import dbctl

NO_PASSFILE = "/nonexistent-bronze-tests/pgpass"  # libpq: a missing password file supplies nothing


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
    (project / ".env").write_text("# comment\nPG_PORT=6000\nexport PG_DB=\"mine\"\nPG_USER='me'\n")
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
        "db.example",
        "5433",
        "life",
        "bob",
        "s@cret",
    )
    assert s["url"] == "postgresql://bob:s%40cret@db.example:5433/life"
    assert dbctl.main(["env"]) == 0
    assert capsys.readouterr().out.split() == [
        "PG_HOST=db.example",
        "PG_PORT=5433",
        "PG_DB=life",
        "PG_USER=bob",
        "PG_PASS=s@cret",
    ]
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


def test_embedded_up_down_up(project, server_home, monkeypatch, capsys):
    port = _free_port()
    pgdata = server_home / "pgdata"
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


# --- the embedded server is closed (issue 18) ---------------------------------------
@pytest.fixture
def server_home():
    """A folder for a data dir that the server's user can always reach.

    Not under pytest's tmp_path: as root the server runs as `pgserver`, and every
    pytest session that starts (other suites, other checkouts) chmods
    /tmp/pytest-of-root back to 0700, locking that user out mid-test.
    """
    home = Path(tempfile.mkdtemp(prefix="dbctl-test-"))
    home.chmod(0o711)
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def embedded(project, server_home, monkeypatch):
    """An embedded server of its own (port, data dir, password file)."""
    monkeypatch.setenv("PG_PORT", str(_free_port()))
    monkeypatch.setenv("PGDATA_DIR", str(server_home / "pgdata"))
    yield server_home / "pgdata"
    dbctl.down()


def _refused(**params) -> str:
    """libpq's reason for refusing a connection with exactly these parameters."""
    import psycopg

    # PGPASSWORD / ~/.pgpass must not answer for us: the point is what the server asks.
    params = {"passfile": NO_PASSFILE, "connect_timeout": 10, "dbname": "postgres", "user": "postgres", **params}
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(**params).close()
    return str(refused.value)


def _password_file(pgdata):
    path = pgdata.with_name(pgdata.name + ".secret")
    return path, path.read_text().strip()


def test_embedded_server_asks_every_connection_for_the_password(embedded, capsys):
    """Without the password (or with a wrong one), over TCP or the socket: refused."""
    dbctl.up()
    port = dbctl.settings()["PG_PORT"]
    path, password = _password_file(embedded)
    assert path.stat().st_mode & 0o777 == 0o600 and path.stat().st_uid == os.geteuid()
    assert len(password) >= 32
    assert "no password supplied" in _refused(host="127.0.0.1", port=port)
    assert "password authentication failed" in _refused(host="127.0.0.1", port=port, password="guess")
    assert "no password supplied" in _refused(host=str(embedded), port=port)  # the unix socket
    assert "password authentication failed" in _refused(host="127.0.0.1", port=port, password=password, user="pgserver")
    rules = [
        line.split()
        for line in (embedded / "pg_hba.conf").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules and {rule[-1] for rule in rules} == {"scram-sha-256"}
    # Every project command finds the password itself: the settings carry it.
    assert dbctl.settings()["url"].startswith(f"postgresql://postgres:{password}@127.0.0.1:{port}/")
    with dbctl.connect() as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    assert password not in capsys.readouterr().out
    assert password not in (embedded / "log").read_text()
    dbctl.down()
    path.chmod(0o644)  # a copy or an editor loosened it
    dbctl.up()  # the same password opens it again, and the file is owner-only again
    assert _password_file(embedded)[1] == password and dbctl.is_reachable()
    assert path.stat().st_mode & 0o777 == 0o600 and "now owner-only" in capsys.readouterr().out


def _old_trust_cluster(pgdata, port: str) -> None:
    """A cluster made the way `make up` made it before issue 18: initdb --auth=trust."""
    user = dbctl._service_user()
    dbctl._prepare_dirs(pgdata, user)
    code, out = dbctl._run_pg(
        "initdb", ["-D", str(pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"], user
    )
    assert code == 0, out
    code, out = dbctl._run_pg(
        "pg_ctl",
        ["-D", str(pgdata), "-l", str(pgdata / "log"), "-w", "start", "-o", f"-h 127.0.0.1 -p {port} -k {pgdata}"],
        user,
    )
    assert code == 0, out
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", passfile=NO_PASSFILE, autocommit=True
    ) as conn:  # open to anyone
        conn.execute("CREATE DATABASE bronze")
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="bronze", passfile=NO_PASSFILE, autocommit=True
    ) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('landed before the upgrade')")


@pytest.mark.parametrize("running", [True, False], ids=["running", "stopped"])
def test_trust_cluster_of_an_older_checkout_is_closed_on_up(embedded, capsys, running):
    port = dbctl.settings()["PG_PORT"]
    _old_trust_cluster(embedded, port)
    if not running:
        dbctl.down()
    assert not embedded.with_name("pgdata.secret").exists()
    dbctl.up()
    out = capsys.readouterr().out
    assert "trusted every local connection" in out and "now asks for the password" in out
    path, password = _password_file(embedded)
    assert path.stat().st_mode & 0o777 == 0o600
    assert "no password supplied" in _refused(host="127.0.0.1", port=port)
    assert "password authentication failed" in _refused(host="127.0.0.1", port=port, password="x")
    assert "no password supplied" in _refused(host=str(embedded), port=port)
    with dbctl.connect() as conn:  # the data survived, reached with the generated password
        assert conn.execute("SELECT note FROM kept").fetchall() == [("landed before the upgrade",)]
    assert password not in out and password not in (embedded / "log").read_text()
    dbctl.down()
    dbctl.up()  # stays closed, and is not "migrated" twice
    assert "trusted" not in capsys.readouterr().out
    assert "no password supplied" in _refused(host="127.0.0.1", port=port)


def test_lost_password_file_is_refused_clearly_then_reset(embedded, capsys):
    dbctl.up()
    dbctl.down()
    path, old = _password_file(embedded)
    path.unlink()
    with pytest.raises(dbctl.DbctlError, match=r"password file .* is missing"):
        dbctl.up()
    assert not path.exists()  # no new password that would not open the cluster
    assert dbctl.main(["reset-password"]) == 0
    new = _password_file(embedded)[1]
    assert new != old and path.stat().st_mode & 0o777 == 0o600
    assert new not in capsys.readouterr().out
    dbctl.up()
    assert dbctl.is_reachable()
    assert "password authentication failed" in _refused(
        host="127.0.0.1", port=dbctl.settings()["PG_PORT"], password=old
    )
