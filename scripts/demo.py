"""`make demo`: every source end to end into PostgreSQL, then the bronze row counts.

No internet is needed or used: the Garmin, Toggl, Notion, Airtable, Open-Meteo, HidrateSpark and HubSpot APIs are replaced by the
local fake servers of the tests (tests/fakes/, payloads shaped like the real
APIs), and the Garmin export mode reads the bundled sample export in
samples/garmin-export and the Apple Health tap the bundled sample
samples/apple-health/export.zip (made by tests/fakes/apple_health_export.py). The demo loads into its own database (`<PG_DB>_demo`)
and its own Meltano environment (`demo`), so it never mixes with real data or
real bookmarks, and it always runs as a full refresh, so it lands the whole
demo data set whatever was run before (re-running it lands no duplicates).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import dbctl  # noqa: E402

MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
DEMO_RUN = ["tap-garmin", "target-postgres", "tap-garmin-export", "target-postgres",
            "tap-toggl", "target-postgres", "tap-notion", "target-postgres",
            "tap-airtable", "target-postgres", "tap-openmeteo", "target-postgres",
            "tap-hidrate", "target-postgres", "tap-hubspot", "target-postgres",
            "tap-wearable-csv", "target-postgres", "tap-manual", "target-postgres",
            "tap-apple-health", "target-postgres"]
FAKES = ("garmin", "toggl", "notion", "airtable", "openmeteo", "hidrate", "hubspot")
DEMO_PLACES = [{"name": "home", "latitude": 52.52, "longitude": 13.41},
               {"name": "cabin", "latitude": 61.2, "longitude": 7.1}]
AIRTABLE_TABLES = [{"name": "Inventory", "last_modified_field": "Last modified"}, "Body measurements"]
GARMIN_DAYS = 21  # as served by tests/fakes/serve.py

DEMO_LOG = ROOT / ".meltano" / "logs" / "demo.log"
STARTED = re.compile(r"Running job with name '[^':]*:(?P<tap>.+?)-to-")
RECORDS = re.compile(r": (?P<rows>\d+) records \((?P<invalid>\d+) invalid, \d+ warning\)")

# Bronze tables are the ones holding bronze rows (the project's own bookkeeping,
# such as bronze.status_acknowledged, has no raw_id).
COUNTS_SQL = """
SELECT table_name FROM information_schema.tables t JOIN information_schema.columns c
USING (table_schema, table_name)
WHERE table_schema = 'bronze' AND table_type = 'BASE TABLE' AND column_name = 'raw_id'
ORDER BY table_name
"""


def start_fakes() -> tuple[subprocess.Popen, dict[str, str]]:
    """Start the fake APIs on free ports; return the process and each fake's URL."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.serve", *FAKES],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    urls: dict[str, str] = {}
    for line in proc.stdout:
        if line.strip() == "ready":
            return proc, urls
        name, url, *extra = line.split()
        urls[name] = url
        if extra:
            urls[name + "_ids"] = extra[0]
    proc.kill()
    raise SystemExit("demo: the fake API servers did not start")


def _parse(line: str) -> dict:
    """One line of Meltano's JSON log (a plain line becomes its ``event``)."""
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    return entry if isinstance(entry, dict) else {"event": line.rstrip("\n")}


def run_with_progress(args: list[str], env: dict) -> int:
    """``meltano <args>`` with one line as each source starts and one as it ends.

    The end line gives the records the source delivered (from each bronze
    stream's summary line; a record seen twice lands once), how many were
    invalid, and the time taken.
    Warnings and errors are printed as they come; Meltano's whole log goes to
    ``DEMO_LOG`` (owner-only). Returns Meltano's exit code.
    """
    from bronze_core.owner_only import open_private, private_dir

    private_dir(DEMO_LOG.parent)
    process = subprocess.Popen([MELTANO, "--log-format=json", "--log-level=info", *args], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    source, rows, invalid, started = None, 0, 0, time.monotonic()
    with open_private(DEMO_LOG, "w") as log:
        for line in process.stderr:
            log.write(line)
            entry = _parse(line)
            event = str(entry.get("event", ""))
            if match := STARTED.search(event):
                source, rows, invalid, started = match["tap"], 0, 0, time.monotonic()
                print(f"  {source:18} started", flush=True)
            elif match := RECORDS.search(event):
                rows, invalid = rows + int(match["rows"]), invalid + int(match["invalid"])
            elif event == "Block run completed":
                verdict = "done" if entry.get("success") else "FAILED"
                print(f"  {source or '?':18} {verdict}: {rows} records ({invalid} invalid) in "
                      f"{time.monotonic() - started:.1f} s", flush=True)
            elif entry.get("level") in ("warning", "error", "critical"):
                print(f"    {entry.get('name') or 'meltano'}: {event}", flush=True)
    return process.wait()


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
    fakes, urls = start_fakes()
    try:
        print("Sources in this demo (nothing here reaches the internet):")
        print(f"  garmin         payloads shaped like the Garmin Connect API, from a local fake "
              f"server ({urls['garmin']}), {GARMIN_DAYS} days")
        print("  garmin export  the bundled sample export in samples/garmin-export")
        print(f"  toggl          payloads shaped like the Toggl Track API v9, from a local fake "
              f"server ({urls['toggl']})")
        print(f"  notion         pages shaped like the Notion API (2025-09-03), from a local fake "
              f"server ({urls['notion']})")
        print(f"  airtable       records shaped like the Airtable Web API, from a local fake "
              f"server ({urls['airtable']})")
        print(f"  openmeteo      weather shaped like the Open-Meteo archive API, from a local fake "
              f"server ({urls['openmeteo']})")
        print(f"  hidrate        objects shaped like HidrateSpark's Parse server, from a local fake "
              f"server ({urls['hidrate']})")
        print(f"  hubspot        CRM objects shaped like HubSpot's v3 search API, from a local fake "
              f"server ({urls['hubspot']})")
        print("  wearable csv   the bundled Fitabase-format sample in samples/wearable-csv")
        print("  manual         the template logs in samples/manual")
        print("  apple health   the bundled sample export samples/apple-health/export.zip "
              "(synthetic, from tests/fakes/apple_health_export.py)")
        print(f"Loading into database {database!r} (Meltano environment 'demo').\n", flush=True)
        start = (dt.date.today() - dt.timedelta(days=GARMIN_DAYS - 1)).isoformat()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TAP_GARMIN_API_URL": urls["garmin"],
            "TAP_GARMIN_AUTH_URL": urls["garmin"] + "/di-oauth2-service/oauth/token",
            "TAP_GARMIN_ACCESS_TOKEN": "fake-access-0",
            "TAP_GARMIN_REFRESH_TOKEN": "fake-refresh-0",
            "TAP_GARMIN_START_DATE": start,
            "TAP_TOGGL_API_URL": urls["toggl"] + "/api/v9",
            "TAP_TOGGL_API_TOKEN": "fake-toggl-token-1234",
            "TAP_NOTION_API_URL": urls["notion"] + "/v1",
            "TAP_NOTION_API_TOKEN": "ntn_fake_integration_token",
            "TAP_NOTION_DATABASE_IDS": json.dumps(urls["notion_ids"].split(",")),
            "TAP_AIRTABLE_API_URL": urls["airtable"] + "/v0",
            "TAP_AIRTABLE_API_TOKEN": "patFAKE.token0123456789",
            "TAP_AIRTABLE_BASE_ID": "appFAKEbase00001",
            "TAP_AIRTABLE_TABLES": json.dumps(AIRTABLE_TABLES),
            "TAP_OPENMETEO_API_URL": urls["openmeteo"] + "/v1",
            "TAP_OPENMETEO_LOCATIONS": json.dumps(DEMO_PLACES),
            "TAP_HIDRATE_API_URL": urls["hidrate"] + "/parse",
            "TAP_HIDRATE_USERNAME": "me@example.com",
            "TAP_HIDRATE_PASSWORD": "fake-pass-word-42",
            "TAP_HIDRATE_APP_ID": "fake-hidrate-app-id",
            "TAP_HIDRATE_CLIENT_KEY": "fake-hidrate-client-key",
            "TAP_HUBSPOT_API_URL": urls["hubspot"],
            "TAP_HUBSPOT_API_TOKEN": "pat-na1-fake-hubspot-token",
            "TAP_WEARABLE_CSV_DATA_DIR": str(ROOT / "samples" / "wearable-csv"),
            "TAP_MANUAL_MANUAL_DIR": str(ROOT / "samples" / "manual"),
        }
        code = run_with_progress(["--environment=demo", "run", "--full-refresh", *DEMO_RUN], env)
        if code != 0:
            raise SystemExit(f"demo: meltano run failed (exit {code}); the whole log is in {DEMO_LOG}")
    finally:
        fakes.terminate()
        fakes.wait(timeout=10)
    print_counts(url)
    print("\nFreshness (make status, for the demo database):", flush=True)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "status.py")], cwd=ROOT,
                   env={**os.environ, "DATABASE_URL": url, "MELTANO_ENVIRONMENT": "demo"})
    # Silver and marts over what just landed (dbt through Meltano), then a week of daily health.
    from demo_transform import build_and_show
    build_and_show(url)


if __name__ == "__main__":
    main()
