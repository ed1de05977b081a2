"""Shared fixtures: a real PostgreSQL, a fresh database per test, meltano runs.

The project's PostgreSQL is started through scripts/dbctl.py (embedded, or
the server .env points at). Every test that loads data gets its own database
and its own Meltano system database, so bookmarks never leak between tests.
"""

from __future__ import annotations

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
    """The project's PostgreSQL, started if it is the embedded one."""
    dbctl.up()
    return dbctl.settings()


@dataclass
class Meltano:
    """Runs meltano in the project with an isolated database and system DB."""

    database_url: str = field(repr=False)  # carries the server's password: never in test output
    system_db: Path
    env: dict = field(repr=False)

    def run(self, *args: str, check: bool = True, extra_env: dict | None = None,
            timeout: int = 300) -> subprocess.CompletedProcess:
        env = {**os.environ, **self.env, **(extra_env or {})}
        result = subprocess.run([MELTANO, *args], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"meltano {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
        return result

    def state(self, state_id: str) -> dict:
        out = self.run("state", "get", state_id).stdout
        return json.loads(out[out.index("{"):])

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
