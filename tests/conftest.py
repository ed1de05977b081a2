"""Shared fixtures: a real PostgreSQL, a fresh database per test, meltano runs.

The project's PostgreSQL is started through scripts/dbctl.py (embedded, or
the server .env points at). Every test that loads data gets its own database
and its own Meltano system database, so bookmarks never leak between tests.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))  # dbctl, status, metrics, crontab

import dbctl  # noqa: E402

MELTANO = str(ROOT / ".venv" / "bin" / "meltano")


@pytest.fixture(scope="session")
def pg_server():
    """The project's PostgreSQL, started if it is the embedded one.

    Stopped at the end only if the suite started it: a server the user had
    running (`make up`) stays up.
    """
    started = dbctl.up().get("started", False)
    yield dbctl.settings()
    if started:
        dbctl.down()


@dataclass
class Meltano:
    """Runs meltano in the project with an isolated database and system DB."""

    database_url: str = field(repr=False)  # carries the server's password: never in test output
    system_db: Path
    env: dict = field(repr=False)

    def run(
        self, *args: str, check: bool = True, extra_env: dict | None = None, timeout: int = 300
    ) -> subprocess.CompletedProcess:
        env = {**os.environ, **self.env, **(extra_env or {})}
        result = subprocess.run([MELTANO, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"meltano {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
            )
        return result

    def state(self, state_id: str) -> dict:
        out = self.run("state", "get", state_id).stdout
        return json.loads(out[out.index("{") :])

    def query(self, sql: str, *params):
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture
def fresh_db(pg_server):
    """A new empty database on the project's server, dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:12]
    dbctl.create_database(name)
    base = pg_server["url"]
    url = base[: base.rindex("/") + 1] + name
    yield url
    dbctl.drop_database(name)


@pytest.fixture
def meltano(fresh_db, tmp_path):
    return Meltano(
        database_url=fresh_db,
        system_db=tmp_path / "meltano.db",
        env={
            "DATABASE_URL": fresh_db,
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "COLUMNS": "1000",  # Meltano's error panels wrap at the terminal width; keep paths whole
        },
    )


# Markers (registered in pytest.ini), set here from what a test uses rather than by hand,
# so a new test is classified without anyone remembering to: `make test-fast` runs
# `-m "not slow"`, `make test` runs everything.
DB_FIXTURES = {"pg_server", "fresh_db", "meltano"}
SPAWNING = {"subprocess", "multiprocessing", "tests.tap_runner", "tests.reliability.processes", "tests.browser"}
SPAWNING_CALLS = {"dbctl": {"up", "_run_pg"}}  # a module's functions that start a server


def _starts_processes(func, seen: set) -> bool:
    """Whether `func`, or a function of the suite it names (transitively), starts a process.

    Reads the names each code object refers to: a spawning module or a function from one
    (subprocess, tap_runner.run_tap, processes.start) counts; the suite's own helpers are followed.
    """
    func = getattr(func, "__func__", func)
    if not inspect.isfunction(func) or func in seen:
        return False
    seen.add(func)
    codes = [func.__code__]
    while codes:
        code = codes.pop()
        codes.extend(const for const in code.co_consts if inspect.iscode(const))
        for name in code.co_names:
            obj = func.__globals__.get(name)
            module = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", None)
            if module in SPAWNING or SPAWNING_CALLS.get(module, set()) & set(code.co_names):
                return True
            if inspect.isfunction(obj) and str(module).startswith("tests") and _starts_processes(obj, seen):
                return True
    return False


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(items):
    """db: needs the project's PostgreSQL; e2e: runs meltano, a tap or another process; slow: either."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        db = bool(fixtures & DB_FIXTURES)
        fixture_defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        fixture_funcs = [
            d.func
            for defs in fixture_defs.values()
            for d in defs
            if str(getattr(d.func, "__module__", "")).startswith("tests")
        ]
        seen: set = set()
        e2e = "meltano" in fixtures or any(
            _starts_processes(f, seen) for f in [getattr(item, "function", None), *fixture_funcs]
        )
        for marker, applies in (("db", db), ("e2e", e2e), ("slow", db or e2e)):
            if applies:
                item.add_marker(marker)
