"""Start, stop and locate the project's PostgreSQL.

Connection settings come from the environment first, then `.env`. With
DATABASE_URL or PG_HOST set the server is *external* (your own, or the
docker compose one) and is never started or stopped here. Otherwise it is
*embedded*: the PostgreSQL 16 binaries shipped in the `pgserver` wheel, data
in `.pgdata/` (or PGDATA_DIR), listening on 127.0.0.1 only, PG_PORT (55432),
user postgres, server log in <data>/log. It is closed: password authentication
(scram-sha-256, TCP and socket) with a password generated on first `up` and
kept in `.pgdata.secret` (<data dir>.secret, mode 0600), which every project
command reads (bronze_loader.pgsettings). A cluster made by an older checkout
with `trust` is closed the same way on its next `up`.

`backup` writes one pg_dump (custom format, owner-only) of the database: the
bronze rows and Meltano's state (schema `meltano`) together; `restore` loads
one into an empty database.

PostgreSQL refuses to run as root, so as root the server runs as a dedicated
system user (`pgserver`, created on first use) that owns the data directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
try:
    from bronze_loader import pgsettings
except ModuleNotFoundError:  # run with a Python that lacks the project's editable installs
    sys.path.insert(0, str(ROOT / "taps" / "bronze-loader"))
    from bronze_loader import pgsettings
DEFAULTS = pgsettings.DEFAULTS

SERVICE_USER = "pgserver"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes; PostgreSQL refuses to start beyond it
AUTH_METHOD = "scram-sha-256"
TRUST = re.compile(r"(?<![\w-])trust(?![\w-])")
# pgserver's import asks platformdirs for a runtime dir it never uses here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class DbctlError(RuntimeError):
    """A failure whose message is enough for the user (no traceback)."""


# --- settings ----------------------------------------------------------------------
def settings() -> dict:
    """Effective PG_* settings, `embedded` and `url`: the one rule shared with the loader."""
    s = pgsettings.connection_settings(dotenv=ROOT / ".env")
    # Accept postgres:// and postgresql+driver:// in DATABASE_URL; libpq wants postgresql://.
    s["url"] = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", s["url"])
    return s


def data_dir() -> Path:
    return pgsettings.embedded_data_dir(ROOT, dotenv=ROOT / ".env")


def secret_file() -> Path:
    """The embedded server's password file (next to the data dir, owner-only)."""
    return pgsettings.secret_path(data_dir())


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


def _run_pg(binary: str, args: list[str], user, timeout: int = 60, stdin: str | None = None) -> tuple[int, str]:
    """Run a bundled PostgreSQL program (as `user` if given); return code and output.

    Output goes to a file, not a pipe the postmaster could inherit and hold open (as pgserver does).
    """
    from pgserver._commands import POSTGRES_BIN_PATH

    as_user = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[]) if user else {}
    feed = dict(input=stdin) if stdin is not None else dict(stdin=subprocess.DEVNULL)
    with tempfile.TemporaryFile("w+") as out:
        try:
            done = subprocess.run(
                [str(POSTGRES_BIN_PATH / binary), *args],
                **feed,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                cwd="/",
                timeout=timeout,
                **as_user,
            )
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


# --- the password ------------------------------------------------------------------
def _write_private(path: Path, text: str) -> None:
    """Create `path` owner-only (0600 from the first byte, whatever the umask); never overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _ensure_secret(pgdata: Path) -> bool:
    """Generate the embedded server's password file unless it exists; True if it was made.

    An existing file is tightened to 0600 if a copy or an editor loosened it.
    """
    path = pgsettings.secret_path(pgdata)
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
            print(f"dbctl: {path} was readable by others; now owner-only (0600)")
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, secrets.token_urlsafe(32) + "\n")
    return True


def _scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores (RFC 7677), computed here.

    ALTER ROLE ... PASSWORD '<verifier>' sets the password without its plain text
    ever reaching the server (or a statement log).
    """
    import base64
    import hashlib
    import hmac

    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(hashlib.sha256(client_key).digest())}:{b64(server_key)}"


def _initdb(pgdata: Path, password: str, user) -> None:
    """A new cluster that asks every connection for the password (TCP and socket)."""
    # initdb runs as the service user when we are root: hand it a private copy it can read,
    # in a folder it can reach (the data dir's parent, made traversable), removed at once.
    fd, pwfile = tempfile.mkstemp(prefix=".initdb-", dir=pgdata.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(password + "\n")
        if user:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        code, out = _run_pg(
            "initdb",
            [
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                f"--auth-host={AUTH_METHOD}",
                f"--auth-local={AUTH_METHOD}",
                "--encoding=UTF8",
                "--locale=C",
            ],
            user,
        )
    finally:
        os.unlink(pwfile)
    if code != 0:
        raise DbctlError(f"initdb failed in {pgdata}:\n{out[-2000:]}")


def _trusting_lines(pgdata: Path) -> list[str]:
    """pg_hba.conf rules (comments aside) that let a connection in without a password."""
    hba = pgdata / "pg_hba.conf"
    if not hba.exists():
        return []
    rules = (line.split("#", 1)[0].strip() for line in hba.read_text().splitlines())
    return [rule for rule in rules if TRUST.search(rule)]


def _close_trust(pgdata: Path, password: str) -> None:
    """Close a running cluster that an older checkout made with `trust`.

    Sets the postgres password (sent as a SCRAM verifier, so the plain text never
    reaches the server or its log), turns every `trust` rule into scram-sha-256,
    reloads, and proves that a wrong password is now refused.
    """
    import psycopg
    from psycopg import sql

    s = settings()
    with connect("postgres") as conn:  # still trust: the password is not asked for yet
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(s["PG_USER"]), sql.Literal(_scram_verifier(password))
            )
        )
        hba = pgdata / "pg_hba.conf"
        lines = hba.read_text().splitlines(keepends=True)
        with open(hba, "w", encoding="utf-8") as handle:  # in place: owner and mode are kept
            for line in lines:
                rule, hash_, comment = line.partition("#")
                handle.write(TRUST.sub(AUTH_METHOD, rule) + hash_ + comment)
        errors = conn.execute("SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL").fetchall()
        if errors:
            raise DbctlError(f"{hba} has errors after closing it, not reloaded: {errors}")
        conn.execute("SELECT pg_reload_conf()")
    wrong = {**{k: s[k] for k in ("PG_HOST", "PG_PORT", "PG_USER")}, "PG_PASS": "not-" + password}
    for _ in range(100):  # the postmaster reloads asynchronously
        try:
            psycopg.connect(pgsettings.url_for(wrong, "postgres"), connect_timeout=5).close()
        except psycopg.OperationalError:
            print(
                f"dbctl: the embedded PostgreSQL in {pgdata} trusted every local connection "
                f"(made by an older checkout); it now asks for the password in "
                f"{pgsettings.secret_path(pgdata)} ({AUTH_METHOD})"
            )
            return
        time.sleep(0.1)
    raise DbctlError(
        f"the embedded PostgreSQL in {pgdata} still accepts a wrong password after {hba} was rewritten; check that file"
    )


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


def _start(pgdata: Path, port: str, password: str, user) -> None:
    """initdb if needed, clear a stale postmaster.pid, pg_ctl start -w."""
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DbctlError(f"PG_PORT must be a TCP port number, not {port!r}")
    _prepare_dirs(pgdata, user)
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata, password, user)
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
    code, out = _run_pg(
        "pg_ctl",
        ["-D", str(pgdata), "-l", str(pgdata / "log"), "-o", options, "-w", "-t", "60", "start"],
        user,
        timeout=90,
    )
    if code != 0:
        log = pgdata / "log"
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""
        raise DbctlError(f"the embedded PostgreSQL did not start:\n{out[-1000:]}\n--- last lines of {log}:\n{tail}")


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
        _hint_old_bookmarks()
        return s
    pgdata = data_dir()
    existed = (pgdata / "PG_VERSION").exists()
    trusting = _trusting_lines(pgdata)
    if s.get("password_file") and _ensure_secret(pgdata) and existed and not trusting:
        pgsettings.secret_path(pgdata).unlink()  # a new password would not open this cluster
        raise DbctlError(
            f"the embedded PostgreSQL in {pgdata} asks for a password, but its password file "
            f"{pgsettings.secret_path(pgdata)} is missing. Put the file back (mode 0600), or set "
            "PG_PASS to the password, or `dbctl.py down` and `dbctl.py reset-password` "
            "(generates a new one), or move the data dir away to start empty."
        )
    s = settings()  # now with the password
    if _postmaster_pid(pgdata):
        state = "already running"
    else:
        _start(pgdata, s["PG_PORT"], s["PG_PASS"], _service_user())
        state = "started"
    if trusting:
        _close_trust(pgdata, s["PG_PASS"])
    error = _connect_error(timeout=10)
    if error:
        raise DbctlError(
            f"the embedded PostgreSQL in {pgdata} runs but does not answer at "
            f"{_where(s)}: {error}\n(started with another PG_PORT? "
            "`dbctl.py down` then `up`)"
        )
    created = create_database(s["PG_DB"])
    s["started"] = state == "started"  # so a caller (the test suite) stops only what it started
    print(
        f"dbctl: embedded PostgreSQL {state} at {_where(s)}{' (database created)' if created else ''}, data in {pgdata}"
    )
    _hint_old_bookmarks()
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
    code, out = _run_pg(
        "pg_ctl", ["-D", str(pgdata), "-m", "fast", "-w", "-t", "60", "stop"], _service_user(), timeout=90
    )
    if code != 0:
        raise DbctlError(f"pg_ctl stop failed:\n{out[-1000:]}")
    print("dbctl: embedded PostgreSQL stopped")


def reset_password() -> None:
    """Give the stopped embedded cluster a new generated password (a lost password file).

    Single-user mode: no network and no `trust`, so there is no moment in which the
    cluster is open. The new password file replaces the old one atomically.
    """
    s = settings()
    pgdata = data_dir()
    if not s["embedded"]:
        raise DbctlError(f"{_where(s)} is an external PostgreSQL; dbctl does not manage its passwords")
    if not (pgdata / "PG_VERSION").exists():
        raise DbctlError(f"no embedded cluster in {pgdata}; `dbctl.py up` makes one with a password")
    if _postmaster_pid(pgdata):
        raise DbctlError("the embedded PostgreSQL is running; `dbctl.py down` first")
    password = secrets.token_urlsafe(32)
    statement = f"ALTER ROLE \"postgres\" PASSWORD '{_scram_verifier(password)}';\n"
    code, out = _run_pg("postgres", ["--single", "-D", str(pgdata), "postgres"], _service_user(), stdin=statement)
    if code != 0 or "ERROR" in out:
        raise DbctlError(f"could not set the password in single-user mode:\n{out[-1000:]}")
    path = secret_file()
    staged = path.with_name(path.name + ".new")
    staged.unlink(missing_ok=True)
    _write_private(staged, password + "\n")
    os.replace(staged, path)
    print(f"dbctl: new password for the embedded PostgreSQL in {pgdata} written to {path} (0600)")


def status() -> int:
    """One line: which server, where, and whether it answers; 0 if it does."""
    s = settings()
    ok = is_reachable()
    if not s["embedded"]:
        print(f"external PostgreSQL at {_where(s)}: {'accepting connections' if ok else 'not reachable'}")
        return 0 if ok else 1
    running = _postmaster_pid(data_dir()) is not None
    state = (
        "accepting connections"
        if running and ok
        else "running but not answering"
        if running
        else f"not running (port {s['PG_PORT']} is used by another server)"
        if ok
        else "not running"
    )
    print(f"embedded PostgreSQL at {_where(s)} (data in {data_dir()}): {state}")
    return 0 if running and ok else 1


# --- backups -----------------------------------------------------------------------
def _client_env(s: dict) -> tuple[str, dict]:
    """A libpq URL without the password, and an environment carrying it (not in `ps`)."""
    parts = urlsplit(s["url"])
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    env = {**os.environ, "PGPASSWORD": s["PG_PASS"]} if s["PG_PASS"] else dict(os.environ)
    env.pop("PGSERVICE", None)
    return url, env


def _major(text: str) -> int:
    """16 of `pg_dump (PostgreSQL) 16.4` or of server_version_num 160004."""
    number = re.search(r"(\d+)(?:\.\d+)?", text)
    value = int(number.group(1)) if number else 0
    return value // 10000 if value >= 10000 else value


def _client(binary: str, server_major: int) -> str:
    """pg_dump / pg_restore able to talk to this server: the pgserver wheel's (16), else PATH's.

    pg_dump refuses servers newer than itself; the wheel's binaries cover the
    embedded server and external ones up to 16 with nothing else installed.
    """
    from pgserver._commands import POSTGRES_BIN_PATH

    candidates = [str(POSTGRES_BIN_PATH / binary), shutil.which(binary)]
    found = []
    for path in filter(None, candidates):
        version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
        found.append(f"{path} ({version.strip() or '?'})")
        if _major(version) >= server_major:
            return path
    raise DbctlError(
        f"no {binary} for PostgreSQL {server_major}: found {', '.join(found) or 'none'}. "
        f"Install the PostgreSQL {server_major} client tools (e.g. postgresql-client-"
        f"{server_major}) so that {binary} {server_major}+ is on PATH."
    )


def _server_major() -> int:
    with connect() as conn:
        return _major(str(conn.execute("SHOW server_version_num").fetchone()[0]))


def _backup_name(folder: Path, database: str) -> Path:
    """<db>-2026-12-01T101500Z.dump, UTC; -2, -3... if a backup already has that second."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    path, n = folder / f"{database}-{stamp}.dump", 1
    while path.exists():
        n += 1
        path = folder / f"{database}-{stamp}-{n}.dump"
    return path


def backup(folder: Path | None = None) -> Path:
    """pg_dump -Fc of PG_DB: the bronze rows and Meltano's state (schema meltano) in one file.

    Written owner-only under a temporary name and renamed when pg_dump succeeded,
    so a failed or killed dump never looks like a backup.
    """
    s = settings()
    configured = os.environ.get("BACKUP_DIR") or pgsettings.read_dotenv(ROOT / ".env").get("BACKUP_DIR")
    folder = ROOT / Path(folder or configured or "backups").expanduser()  # relative: to the project
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    pg_dump = _client("pg_dump", _server_major())
    with connect() as conn:
        has_state = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f"{pgsettings.SYSTEM_SCHEMA}.state",)
        ).fetchone()[0]
    final = _backup_name(folder, s["PG_DB"])
    partial = final.with_name("." + final.name + ".partial")
    url, env = _client_env(s)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            done = subprocess.run(
                [pg_dump, "--format=custom", "--no-password", "--dbname", url],
                stdout=out,
                stderr=subprocess.PIPE,
                text=False,
                env=env,
            )
        if done.returncode != 0:
            raise DbctlError(f"pg_dump of {_where(s)} failed:\n{done.stderr.decode(errors='replace')[-2000:]}")
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    print(f"dbctl: backup of {_where(s)} written to {final} ({_size(final.stat().st_size)}, owner-only)")
    if os.environ.get("MELTANO_DATABASE_URI") or pgsettings.read_dotenv(ROOT / ".env").get("MELTANO_DATABASE_URI"):
        print(
            "dbctl: note: MELTANO_DATABASE_URI is set, so Meltano's state is kept there; "
            "this backup holds it only if that is this database's schema meltano"
        )
    elif not has_state:
        print("dbctl: note: no Meltano state in this database yet (schema meltano)")
    return final


def _size(count: int) -> str:
    return next(
        f"{count / 1024**i:.1f} {unit}"
        for i, unit in enumerate(("B", "KiB", "MiB", "GiB", "TiB"))
        if count < 1024 ** (i + 1) or unit == "TiB"
    )


def _contents(conn) -> dict[str, int]:
    """Schemas of the current database that hold anything, with their object counts."""
    rows = conn.execute("""
        SELECT n.nspname, count(c.oid) + (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid)
        FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
        GROUP BY n.oid, n.nspname ORDER BY n.nspname""").fetchall()
    return {name: count for name, count in rows if name != "public" or count}


def restore(path: Path) -> None:
    """pg_restore a `backup` into PG_DB, which must be empty (created if missing).

    One transaction: a restore that fails leaves the database empty, never half loaded.
    """
    s = settings()
    path = Path(path)
    if not path.is_file():
        raise DbctlError(f"no backup file {path}")
    create_database(s["PG_DB"])
    with connect() as conn:
        contents = _contents(conn)
    if contents:
        listed = ", ".join(f"{name} ({count} objects)" for name, count in contents.items())
        raise DbctlError(
            f"database {s['PG_DB']} at {_where(s)} is not empty ({listed}); a restore goes into an "
            f"empty database only. Restore into another one (PG_DB=<new name> make restore FILE=...), "
            f"or drop this one first if you are sure (`dbctl.py dropdb {s['PG_DB']}` deletes its rows "
            "and bookmarks)."
        )
    pg_restore = _client("pg_restore", _server_major())
    url, env = _client_env(s)
    done = subprocess.run(
        [
            pg_restore,
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-password",
            "--dbname",
            url,
            str(path),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise DbctlError(f"pg_restore of {path} into {_where(s)} failed (nothing was loaded):\n{done.stderr[-2000:]}")
    with connect() as conn:
        loaded = ", ".join(f"{name} ({count} objects)" for name, count in _contents(conn).items())
    print(f"dbctl: {path} restored into {_where(s)}: {loaded or 'it was an empty database'}")


# --- bookmarks of older checkouts ------------------------------------------------------
OLD_SYSTEM_DB = ".meltano/meltano.db"  # where Meltano kept them before issue 18


def _sqlite_bookmarks(path: Path) -> list[tuple]:
    """(state_id, partial_state, completed_state, updated_at) rows of a Meltano SQLite system DB."""
    import sqlite3

    if not path.is_file():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            return conn.execute("SELECT state_id, partial_state, completed_state, updated_at FROM state").fetchall()
        except sqlite3.DatabaseError:
            return []


def _state_override() -> str | None:
    return os.environ.get("MELTANO_DATABASE_URI") or pgsettings.read_dotenv(ROOT / ".env").get("MELTANO_DATABASE_URI")


def import_state(path: Path) -> None:
    """Copy the bookmarks an older checkout kept in .meltano/meltano.db into the database.

    Without them the first runs after the upgrade would fetch everything again (no
    duplicates, but hours of API calls). A bookmark the database already has wins.
    """
    import psycopg

    path = Path(path)
    rows = _sqlite_bookmarks(path)
    if not rows:
        raise DbctlError(f"no Meltano bookmarks in {path}")
    if _state_override():
        raise DbctlError(
            "MELTANO_DATABASE_URI is set, so Meltano keeps bookmarks there, not in the "
            "database; unset it to import them"
        )
    env = {k: v for k, v in os.environ.items() if k != "MELTANO_DATABASE_URI"}
    migrated = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "meltano"), "state", "list"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )  # creates its tables
    if migrated.returncode != 0:
        raise DbctlError(f"meltano could not open its tables in {_where(settings())}:\n{migrated.stderr[-1500:]}")
    with connect() as conn, conn.transaction():
        added = []
        for row in rows:
            try:
                with conn.transaction():
                    cursor = conn.execute(
                        f"INSERT INTO {pgsettings.SYSTEM_SCHEMA}.state "
                        "(state_id, partial_state, completed_state, updated_at) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (state_id) DO NOTHING",
                        row,
                    )
            except psycopg.errors.Error as exc:
                raise DbctlError(f"bookmark {row[0]} not imported: {exc}") from exc
            if cursor.rowcount:
                added.append(row[0])
    kept = len(rows) - len(added)
    print(
        f"dbctl: {len(added)} bookmarks imported from {path} into {_where(settings())} "
        f"(schema {pgsettings.SYSTEM_SCHEMA}){f'; {kept} already there were kept' if kept else ''}: "
        f"{', '.join(added) or '-'}"
    )


def _hint_old_bookmarks() -> None:
    """Say so once the database holds no bookmarks while .meltano/meltano.db still does."""
    old = ROOT / OLD_SYSTEM_DB
    if _state_override() or not _sqlite_bookmarks(old):
        return
    try:
        with connect() as conn:
            table = f"{pgsettings.SYSTEM_SCHEMA}.state"
            if (
                conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]
                and conn.execute(f"SELECT EXISTS (SELECT FROM {table})").fetchone()[0]
            ):
                return
    except Exception:  # noqa: BLE001 - a hint never fails `up` (e.g. PG_DB not created on an external server)
        return
    print(
        f"dbctl: Meltano's bookmarks now live in the database (schema {pgsettings.SYSTEM_SCHEMA}); "
        f"those of an older checkout are still in {old}. Carry them over with "
        f"`.venv/bin/python scripts/dbctl.py import-state` (else the next runs fetch everything again)"
    )


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
    "backup": "Write one pg_dump (custom format, mode 0600) of PG_DB, bronze rows and Meltano's "
    "state together, to backups/<db>-<UTC time>.dump (or --dir / BACKUP_DIR).",
    "restore": "Load FILE (a `backup`) into PG_DB, which must be empty; created if missing.",
    "reset-password": "Embedded, stopped: set a new generated password and write it to the "
    "password file (when that file was lost).",
    "import-state": "Copy the Meltano bookmarks an older checkout kept in .meltano/meltano.db "
    "(or FILE) into the database, schema meltano (existing ones win).",
    "createdb": "Create database NAME on the effective server if it does not exist.",
    "dropdb": "Drop database NAME on the effective server if it exists (forcing out sessions).",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dbctl.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = {name: sub.add_parser(name, help=text, description=text) for name, text in COMMANDS.items()}
    commands["url"].add_argument(
        "--sqlalchemy", action="store_true", help="print the SQLAlchemy form postgresql+psycopg://..."
    )
    commands["backup"].add_argument("--dir", type=Path, help="folder for the dump (default backups/)")
    commands["restore"].add_argument("file", metavar="FILE", type=Path, help="a dump made by `backup`")
    commands["import-state"].add_argument(
        "file", metavar="FILE", type=Path, nargs="?", default=ROOT / OLD_SYSTEM_DB, help=f"default {OLD_SYSTEM_DB}"
    )
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
        elif args.command == "backup":
            backup(args.dir.resolve() if args.dir else None)
        elif args.command == "restore":
            restore(args.file)
        elif args.command == "import-state":
            import_state(args.file)
        elif args.command == "reset-password":
            reset_password()
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
