"""`make demo`: every source end to end into PostgreSQL, then the bronze row counts.

No internet is needed or used: the Garmin web API is replaced by the local
fake server of the tests (tests/fakes/garmin_api.py, payloads shaped like the
real API), and the Garmin export mode reads the bundled sample export in
samples/garmin-export. The demo loads into its own database (`<PG_DB>_demo`)
and its own Meltano environment (`demo`), so it never mixes with real data or
real bookmarks.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import dbctl  # noqa: E402

MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
DEMO_RUN = ["tap-garmin", "target-postgres", "tap-garmin-export", "target-postgres"]
FAKE_DAYS = 21

COUNTS_SQL = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = 'bronze' AND table_type = 'BASE TABLE' ORDER BY table_name
"""


def start_fake_garmin() -> tuple[subprocess.Popen, str]:
    """Start the fake Garmin API on a free port; return the process and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.garmin_api", "--port", "0", "--days", str(FAKE_DAYS)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline().strip()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"demo: the fake Garmin server did not start (said: {line!r})")
    return proc, line[line.index("http://"):].split()[0]


def demo_database_url(name: str) -> str:
    """The effective server's URL, pointing at the demo database."""
    parts = urlsplit(dbctl.settings()["url"])
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def print_counts(url: str) -> None:
    """One line per bronze table: rows, and how many are valid / invalid / warning."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute(COUNTS_SQL)]
        print(f"\n{'bronze table':36} {'rows':>6} {'valid':>6} {'invalid':>8} {'warning':>8}")
        for table in tables:
            query = sql.SQL(
                "SELECT count(*), count(*) FILTER (WHERE validation_status = 'valid'),"
                " count(*) FILTER (WHERE validation_status = 'invalid'),"
                " count(*) FILTER (WHERE validation_status = 'warning') FROM bronze.{}"
            ).format(sql.Identifier(table))
            rows, valid, invalid, warning = conn.execute(query).fetchone()
            print(f"bronze.{table:29} {rows:>6} {valid:>6} {invalid:>8} {warning:>8}")
        if not tables:
            raise SystemExit("demo: no bronze tables were created")


def main() -> None:
    database = dbctl.settings()["PG_DB"] + "_demo"
    dbctl.create_database(database)
    url = demo_database_url(database)
    fake, fake_url = start_fake_garmin()
    try:
        print("Sources in this demo:")
        print(f"  garmin         replays payloads shaped like the Garmin Connect API from a local "
              f"fake server ({fake_url}), {FAKE_DAYS} days")
        print("  garmin export  reads the bundled sample export samples/garmin-export")
        print(f"Loading into database {database!r} (Meltano environment 'demo').\n", flush=True)
        start = (dt.date.today() - dt.timedelta(days=FAKE_DAYS - 1)).isoformat()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TAP_GARMIN_API_URL": fake_url,
            "TAP_GARMIN_AUTH_URL": fake_url + "/di-oauth2-service/oauth/token",
            "TAP_GARMIN_ACCESS_TOKEN": "fake-access-0",
            "TAP_GARMIN_REFRESH_TOKEN": "fake-refresh-0",
            "TAP_GARMIN_START_DATE": start,
        }
        result = subprocess.run([MELTANO, "--environment=demo", "--log-level=warning", "run", *DEMO_RUN], cwd=ROOT, env=env)
        if result.returncode != 0:
            raise SystemExit(f"demo: meltano run failed (exit {result.returncode})")
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    print_counts(url)


if __name__ == "__main__":
    main()
