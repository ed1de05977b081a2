"""Start, stop and locate the project's PostgreSQL.

Connection settings come from the environment first, then `.env`. With
DATABASE_URL or PG_HOST set the server is *external* (your own, or the
docker compose one) and is never started or stopped here. Otherwise it is
*embedded*: the PostgreSQL 16 binaries shipped in the `pgserver` wheel, data
in `.pgdata/` (or PGDATA_DIR), listening on 127.0.0.1 only, PG_PORT (55432),
user postgres, trust auth for local connections, server log in <data>/log.

PostgreSQL refuses to run as root, so as root the server runs as a dedicated
system user (`pgserver`, created on first use) that owns the data directory.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import socket
import stat
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
try:
    from bronze_core.pgsettings import DEFAULTS, connection_settings
except ModuleNotFoundError:  # run with a Python that lacks the project's editable installs
    sys.path.insert(0, str(ROOT / "taps" / "bronze-core"))
    from bronze_core.pgsettings import DEFAULTS, connection_settings

SERVICE_USER = "pgserver"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes; PostgreSQL refuses to start beyond it
# pgserver's import asks platformdirs for a runtime dir it never uses here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class DbctlError(RuntimeError):
    """A failure whose message is enough for the user (no traceback)."""


# --- settings ----------------------------------------------------------------------
def settings() -> dict:
    """Effective PG_* settings, `embedded` and `url`: the one rule shared with the loader."""
    s = connection_settings(dotenv=ROOT / ".env")
    # Accept postgres:// and postgresql+driver:// in DATABASE_URL; libpq wants postgresql://.
    s["url"] = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", s["url"])
    return s


def data_dir() -> Path:
    return Path(os.environ.get("PGDATA_DIR") or ROOT / ".pgdata").resolve()


def _where(s: dict) -> str:
    """host:port/db for messages; never the password."""
    return f"{s['PG_HOST']}:{s['PG_PORT']}/{s['PG_DB']}"


# --- connections -------------------------------------------------------------------
def connect(dbname: str | None = None, timeout: int = 10):
    """An autocommit psycopg connection to the effective server (another database if given)."""
    import psycopg

    url = settings()["url"]
    if dbname:  # same server and options, another database
        parts = urlsplit(url)
        url = urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))
    return psycopg.connect(url, autocommit=True, connect_timeout=timeout)


def _connect_error(timeout: int) -> str | None:
    """Why the server cannot be reached, or None (embedded: via `postgres`, PG_DB may not exist yet)."""
    try:
        with connect("postgres" if settings()["embedded"] else None, timeout=timeout):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return " ".join(str(exc).split()) or type(exc).__name__  # libpq's message, on one line


def is_reachable(timeout: int = 3) -> bool:
    return _connect_error(timeout) is None


def _checked_name(name: str) -> str:
    """Refuse anything but a plain identifier, before any connection is made."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a plain database name ([a-z_][a-z0-9_]{{0,62}}): {name!r}")
    return name


def create_database(name: str) -> bool:
    """CREATE DATABASE name unless it exists; True if it was created."""
    from psycopg import sql

    name = _checked_name(name)
    with connect("postgres") as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(name: str) -> None:
    """DROP DATABASE IF EXISTS, forcing out leftover sessions (tests drop their own)."""
    from psycopg import sql

    name = _checked_name(name)
    with connect("postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- the embedded server -----------------------------------------------------------
def _service_user():
    """pwd entry of the user postgres runs as when we are root (None otherwise)."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    return ensure_user_exists(SERVICE_USER)


def _run_pg(binary: str, args: list[str], user, timeout: int = 60) -> tuple[int, str]:
    """Run a bundled PostgreSQL program (as `user` if given); return code and output.

    Output goes to a file, not a pipe the postmaster could inherit and hold open (as pgserver does).
    """
    from pgserver._commands import POSTGRES_BIN_PATH

    as_user = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[]) if user else {}
    with tempfile.TemporaryFile("w+") as out:
        try:
            done = subprocess.run([str(POSTGRES_BIN_PATH / binary), *args], stdin=subprocess.DEVNULL,
                                  stdout=out, stderr=subprocess.STDOUT, text=True, cwd="/",
                                  timeout=timeout, **as_user)
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = -1
            out.write(f"\n{binary} did not finish within {timeout} s")
        out.seek(0)
        return code, out.read().strip()


def _make_traversable(path: Path) -> None:
    """o+x on every parent so the service user can reach `path` (no read access granted)."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _prepare_dirs(pgdata: Path, user) -> None:
    """Create the data dir; as root hand it to the service user and open the way to it."""
    pgdata.mkdir(parents=True, exist_ok=True)
    if user:
        from pgserver._commands import POSTGRES_BIN_PATH
        from pgserver.utils import ensure_folder_permissions

        _make_traversable(pgdata)
        _make_traversable(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent, 0o444)  # binaries, lib, share
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
        os.chown(pgdata, user.pw_uid, user.pw_gid)
    os.chmod(pgdata, 0o700)


def _postmaster_pid(pgdata: Path) -> int | None:
    """PID of the server running on `pgdata`, or None.

    postmaster.pid alone is not proof: after a kill or a reboot its PID may be
    dead or reused by another program (even another postgres), which would block
    a start. The postmaster's working directory is its data directory, so check that.
    """
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
        return pid if Path(process.cwd()).resolve() == pgdata else None
    except (OSError, ValueError, IndexError, psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:  # cannot tell; assume it is ours rather than start a second server
        return pid


def _start(pgdata: Path, port: str, user) -> None:
    """initdb if needed, clear a stale postmaster.pid, pg_ctl start -w."""
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DbctlError(f"PG_PORT must be a TCP port number, not {port!r}")
    _prepare_dirs(pgdata, user)
    if not (pgdata / "PG_VERSION").exists():
        code, out = _run_pg("initdb", ["-D", str(pgdata), "-U", "postgres", "--auth=trust",
                                       "--encoding=UTF8", "--locale=C"], user)
        if code != 0:
            raise DbctlError(f"initdb failed in {pgdata}:\n{out[-2000:]}")
    with socket.socket() as probe:  # a clear message instead of a bind error in the log
        if probe.connect_ex(("127.0.0.1", int(port))) == 0:
            raise DbctlError(f"port {port} on 127.0.0.1 is taken by another program; stop it or set PG_PORT")
    # Stale after a kill: _postmaster_pid said no server runs here. The socket lock
    # names the dead PID too, and a reused or not yet reaped PID would block the start.
    for stale in [pgdata / "postmaster.pid", *pgdata.glob(".s.PGSQL.*.lock")]:
        stale.unlink(missing_ok=True)
    fits = len(str(pgdata / f".s.PGSQL.{port}")) <= SOCKET_PATH_MAX
    socket_dir = str(pgdata) if fits else ""  # a deep data dir gets TCP only rather than no server
    options = shlex.join(["-h", "127.0.0.1", "-p", port, "-k", socket_dir])
    code, out = _run_pg("pg_ctl", ["-D", str(pgdata), "-l", str(pgdata / "log"), "-o", options,
                                   "-w", "-t", "60", "start"], user, timeout=90)
    if code != 0:
        log = pgdata / "log"
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""
        raise DbctlError(f"the embedded PostgreSQL did not start:\n{out[-1000:]}\n"
                         f"--- last lines of {log}:\n{tail}")


def up() -> dict:
    """Make sure the server answers (starting the embedded one), and PG_DB exists.

    Returns the settings, with ``started``: whether this call started the server.
    """
    s = settings()
    if not s["embedded"]:
        error = _connect_error(timeout=10)
        if error:
            raise DbctlError(f"the external PostgreSQL at {_where(s)} does not answer: {error}")
        print(f"dbctl: external PostgreSQL at {_where(s)} accepts connections (not managed here)")
        return s
    pgdata = data_dir()
    if _postmaster_pid(pgdata):
        state = "already running"
    else:
        _start(pgdata, s["PG_PORT"], _service_user())
        state = "started"
    error = _connect_error(timeout=10)
    if error:
        raise DbctlError(f"the embedded PostgreSQL in {pgdata} runs but does not answer at "
                         f"{_where(s)}: {error}\n(started with another PG_PORT? "
                         "`dbctl.py down` then `up`)")
    created = create_database(s["PG_DB"])
    s["started"] = state == "started"  # so a caller (the test suite) stops only what it started
    print(f"dbctl: embedded PostgreSQL {state} at {_where(s)}"
          f"{' (database created)' if created else ''}, data in {pgdata}")
    return s


def down() -> None:
    """Stop the embedded server (fast: sessions are cut, nothing is lost)."""
    s = settings()
    if not s["embedded"]:
        print(f"dbctl: {_where(s)} is an external PostgreSQL; dbctl does not stop it")
        return
    pgdata = data_dir()
    if not _postmaster_pid(pgdata):
        print(f"dbctl: embedded PostgreSQL is not running (data in {pgdata})")
        return
    code, out = _run_pg("pg_ctl", ["-D", str(pgdata), "-m", "fast", "-w", "-t", "60", "stop"],
                        _service_user(), timeout=90)
    if code != 0:
        raise DbctlError(f"pg_ctl stop failed:\n{out[-1000:]}")
    print("dbctl: embedded PostgreSQL stopped")


def status() -> int:
    """One line: which server, where, and whether it answers; 0 if it does."""
    s = settings()
    ok = is_reachable()
    if not s["embedded"]:
        print(f"external PostgreSQL at {_where(s)}: {'accepting connections' if ok else 'not reachable'}")
        return 0 if ok else 1
    running = _postmaster_pid(data_dir()) is not None
    state = ("accepting connections" if running and ok else "running but not answering" if running
             else f"not running (port {s['PG_PORT']} is used by another server)" if ok else "not running")
    print(f"embedded PostgreSQL at {_where(s)} (data in {data_dir()}): {state}")
    return 0 if running and ok else 1


# --- command line ------------------------------------------------------------------
COMMANDS = {
    "up": "Embedded: initdb if needed, start the server (idempotent) and create PG_DB if "
          "missing. External: only check that it accepts connections.",
    "down": "Stop the embedded server (pg_ctl stop -m fast). External servers are left alone.",
    "status": "Say embedded or external, host:port/db, and whether it accepts connections "
              "(exit 0 if it does, 1 if not).",
    "url": "Print the connection URL postgresql://user[:password]@host:port/db. "
           "NOTE: includes the password when one is set, because scripts consume it.",
    "env": "Print the effective PG_HOST, PG_PORT, PG_DB, PG_USER (and PG_PASS if set) as "
           "KEY=VALUE lines, parsed from DATABASE_URL when that is what was given (for the Makefile; "
           "NOTE: includes the password when one is set).",
    "createdb": "Create database NAME on the effective server if it does not exist.",
    "dropdb": "Drop database NAME on the effective server if it exists (forcing out sessions).",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dbctl.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = {name: sub.add_parser(name, help=text, description=text) for name, text in COMMANDS.items()}
    commands["url"].add_argument("--sqlalchemy", action="store_true",
                                 help="print the SQLAlchemy form postgresql+psycopg://...")
    for name in ("createdb", "dropdb"):
        commands[name].add_argument("name", metavar="NAME", help="a plain name: [a-z_][a-z0-9_]{0,62}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    s = settings()
    try:
        if args.command == "up":
            up()
        elif args.command == "down":
            down()
        elif args.command == "status":
            return status()
        elif args.command == "url":
            print(re.sub("^postgresql://", "postgresql+psycopg://", s["url"]) if args.sqlalchemy else s["url"])
        elif args.command == "env":
            for key in DEFAULTS:
                if key != "PG_PASS" or s[key]:
                    print(f"{key}={s[key]}")
        elif args.command == "createdb":
            done = "created" if create_database(args.name) else "already exists"
            print(f"dbctl: database {args.name} {done} on {_where(s)}")
        elif args.command == "dropdb":
            drop_database(args.name)
            print(f"dbctl: database {args.name} dropped (if it existed) on {_where(s)}")
    except (DbctlError, ValueError) as exc:
        print(f"dbctl: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    except Exception as exc:  # noqa: BLE001 - psycopg errors: say it in one line, not a traceback
        print(f"dbctl: {args.command} failed on {_where(s)}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
