"""Start, stop and locate the project's PostgreSQL.

Connection settings come from the environment first, then `.env`. With
DATABASE_URL or PG_HOST set the server is *external* (your own, or the
docker compose one) and is never started or stopped here. Otherwise it is
*embedded*: the PostgreSQL binaries shipped in the `pgserver` wheel, data in
`.pgdata/`, listening on 127.0.0.1 only, trust auth for local connections.

A system `postgres` refuses to run as root, so as root the server runs as a
dedicated system user (`pgserver`, created by pgserver's helper).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bronze_core.pgsettings import DEFAULTS, connection_settings

ROOT = Path(__file__).resolve().parent.parent
SERVICE_USER = "pgserver"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# pgserver's import asks platformdirs for a runtime dir it never uses here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


# --- settings ------------------------------------------------------------------
def settings() -> dict:
    """Effective PG_* settings, whether they are embedded, and the URL."""
    return connection_settings(dotenv=ROOT / ".env")


def data_dir() -> Path:
    return Path(os.environ.get("PGDATA_DIR") or ROOT / ".pgdata").resolve()


# --- connections -------------------------------------------------------------------
def connect(dbname: str | None = None, timeout: int = 10):
    """An autocommit psycopg connection to the effective server."""
    import psycopg

    url = settings()["url"]
    if dbname:  # same server and options, another database
        parts = urlsplit(url)
        url = urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))
    return psycopg.connect(url, autocommit=True, connect_timeout=timeout)


def is_reachable(timeout: int = 3) -> bool:
    try:
        with connect("postgres" if settings()["embedded"] else None, timeout=timeout):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def _checked_name(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name


def create_database(name: str) -> None:
    """CREATE DATABASE name, unless it exists."""
    from psycopg import sql

    name = _checked_name(name)
    with connect("postgres") as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    from psycopg import sql

    name = _checked_name(name)
    with connect("postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- the embedded server -------------------------------------------------------------
def _as_service_user() -> str | None:
    """The system user to run postgres as (None when not root)."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists(SERVICE_USER)
    return SERVICE_USER


def _run_pg(binary: str, args: list[str], user: str | None, timeout: int = 60) -> subprocess.CompletedProcess:
    from pgserver._commands import POSTGRES_BIN_PATH

    command = [str(POSTGRES_BIN_PATH / binary), *args]
    if user:
        command = ["su", "-s", "/bin/sh", user, "-c", " ".join(f"'{a}'" for a in command)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def _prepare_dirs(pgdata: Path, user: str | None) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    if user:
        import pwd

        from pgserver._commands import POSTGRES_BIN_PATH
        from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

        ensure_prefix_permissions(pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    os.chmod(pgdata, 0o700)


def _log_tail(pgdata: Path, lines: int = 20) -> str:
    log = pgdata / "server.log"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def _fail(message: str) -> None:
    raise SystemExit(f"dbctl: {message}")


def up() -> dict:
    """Make sure the server answers; start the embedded one if needed."""
    s = settings()
    where = f"{s['PG_HOST']}:{s['PG_PORT']}/{s['PG_DB']}"
    if not s["embedded"]:
        if not is_reachable(timeout=10):
            _fail(f"the configured PostgreSQL at {where} does not answer (check .env)")
        print(f"dbctl: using the configured PostgreSQL at {where}")
        return s
    pgdata = data_dir()
    user = _as_service_user()
    if not is_reachable():
        _prepare_dirs(pgdata, user)
        if not (pgdata / "PG_VERSION").exists():
            done = _run_pg("initdb", ["-D", str(pgdata), "-U", "postgres", "--auth=trust",
                                      "--encoding=UTF8", "--locale=C"], user)
            if done.returncode != 0:
                _fail(f"initdb failed:\n{done.stderr[-2000:]}")
        if not _server_running(pgdata):
            (pgdata / "postmaster.pid").unlink(missing_ok=True)  # left by a killed server
        options = f"-h 127.0.0.1 -p {s['PG_PORT']} -k {pgdata}"
        done = _run_pg("pg_ctl", ["-D", str(pgdata), "-l", str(pgdata / "server.log"),
                                  "-o", options, "-w", "-t", "60", "start"], user, timeout=90)
        if done.returncode != 0 or not is_reachable(timeout=10):
            _fail(f"the embedded PostgreSQL did not start:\n{done.stderr[-1000:]}\n{_log_tail(pgdata)}")
        print(f"dbctl: started the embedded PostgreSQL at {where} (data in {pgdata})")
    else:
        print(f"dbctl: the embedded PostgreSQL is running at {where}")
    create_database(s["PG_DB"])
    return s


def _server_running(pgdata: Path) -> bool:
    """True if postmaster.pid names a live process (a stale file must not block a start)."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
        return True
    except (FileNotFoundError, ValueError, IndexError, ProcessLookupError, PermissionError):
        return False


def down() -> None:
    s = settings()
    if not s["embedded"]:
        print("dbctl: the configured PostgreSQL is external; not stopping it")
        return
    pgdata = data_dir()
    if not _server_running(pgdata):
        print("dbctl: the embedded PostgreSQL is not running")
        return
    done = _run_pg("pg_ctl", ["-D", str(pgdata), "-m", "fast", "-w", "stop"], _as_service_user())
    if done.returncode != 0:
        _fail(f"pg_ctl stop failed:\n{done.stderr[-1000:]}")
    print("dbctl: stopped the embedded PostgreSQL")


# --- command line --------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dbctl.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the embedded server (or check the configured one), create the database")
    sub.add_parser("down", help="stop the embedded server")
    sub.add_parser("status", help="say which server is used and whether it answers (exit 1 if not)")
    url = sub.add_parser("url", help="print the connection URL (includes the password, for scripts)")
    url.add_argument("--sqlalchemy", action="store_true", help="postgresql+psycopg:// form")
    sub.add_parser("env", help="print the effective PG_* settings as KEY=VALUE lines")
    for name in ("createdb", "dropdb"):
        sub.add_parser(name, help=f"{name[:-2]} a database on the server").add_argument("name")
    args = parser.parse_args(argv)
    s = settings()
    if args.command == "up":
        up()
    elif args.command == "down":
        down()
    elif args.command == "status":
        ok = is_reachable()
        kind = "embedded" if s["embedded"] else "external"
        print(f"{kind} PostgreSQL at {s['PG_HOST']}:{s['PG_PORT']}/{s['PG_DB']}: "
              f"{'accepting connections' if ok else 'not reachable'}")
        return 0 if ok else 1
    elif args.command == "url":
        print(s["url"].replace("postgresql://", "postgresql+psycopg://") if args.sqlalchemy else s["url"])
    elif args.command == "env":
        for key in DEFAULTS:
            if key != "PG_PASS" or s[key]:
                print(f"{key}={s[key]}")
    elif args.command == "createdb":
        create_database(args.name)
    elif args.command == "dropdb":
        drop_database(args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
