"""`make demo`: every source end to end into PostgreSQL, then the bronze row counts.

No internet is needed or used: each pipeline of sources.yml is fed as its
`demo` entry says, either by a local fake server of the tests (tests/fakes/,
payloads shaped like the real API) or by a bundled sample in samples/. The
demo loads into its own database (`<PG_DB>_demo`) and its own Meltano
environment (`demo`), so it never mixes with real data or real bookmarks, and
it always runs as a full refresh, so it lands the whole demo data set whatever
was run before (re-running it lands no duplicates).
"""

from __future__ import annotations

import contextlib
import fcntl
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
import registry  # noqa: E402

MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
LOADER = "target-postgres"

DEMO_LOG = ROOT / ".meltano" / "logs" / "demo.log"
DEMO_LOCK = ROOT / ".meltano" / "run" / "demo.lock"
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


def plan(pipelines: list[registry.Pipeline]) -> list[str]:
    """The `meltano run` arguments: every pipeline into the loader, in sources.yml's order."""
    return [word for p in pipelines for word in (p.name, LOADER)]


def fakes_of(pipelines: list[registry.Pipeline]) -> list[str]:
    """The fake servers (tests/fakes/serve.py) the pipelines' demo entries name, each once."""
    return list(dict.fromkeys(p.demo.fake for p in pipelines if p.demo.fake))


def start_fakes(names: list[str]) -> tuple[subprocess.Popen, dict[str, tuple[str, list[str]]]]:
    """Start the fake APIs on free ports; return the process and each fake's URL and announced ids."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.serve", *names], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    fakes: dict[str, tuple[str, list[str]]] = {}
    for line in proc.stdout:
        if line.strip() == "ready":
            return proc, fakes
        name, url, *extra = line.split()
        fakes[name] = (url, extra[0].split(",") if extra else [])
    proc.kill()
    raise SystemExit("demo: the fake API servers did not start")


def demo_env(
    pipelines: list[registry.Pipeline], fakes: dict[str, tuple[str, list[str]]], root: Path = ROOT
) -> dict[str, str]:
    """The settings pointing every pipeline at its fake or sample (sources.yml `demo.env`)."""
    env: dict[str, str] = {}
    for p in pipelines:
        url, ids = fakes.get(p.demo.fake, (None, None)) if p.demo.fake else (None, None)
        env.update(p.demo.settings(root, url=url, ids=ids))
    return env


def run_feeds(pipelines: list[registry.Pipeline], root: Path = ROOT) -> None:
    """Run each pipeline's demo feed command (sources.yml `demo.command`), e.g. posting
    the bundled pushed-data samples to a local collector, before anything is loaded."""
    for p in pipelines:
        if command := p.demo.feed_command(root, sys.executable):
            subprocess.run(command, cwd=root, check=True)


def describe(pipelines: list[registry.Pipeline], fakes: dict[str, tuple[str, list[str]]]) -> list[str]:
    """One line per pipeline: what feeds it in the demo."""
    width = max(len(p.name) for p in pipelines)
    return [
        f"  {p.name:{width}}  {p.demo.about}"
        + (f", from a local fake server ({fakes[p.demo.fake][0]})" if p.demo.fake else "")
        for p in pipelines
    ]


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
    process = subprocess.Popen(
        [MELTANO, "--log-format=json", "--log-level=info", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
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
                print(
                    f"  {source or '?':18} {verdict}: {rows} records ({invalid} invalid) in "
                    f"{time.monotonic() - started:.1f} s",
                    flush=True,
                )
            elif entry.get("level") in ("warning", "error", "critical"):
                print(f"    {entry.get('name') or 'meltano'}: {event}", flush=True)
    return process.wait()


@contextlib.contextmanager
def only_demo_running():
    """Hold the project's demo lock, or stop: two demos would load one database at once.

    Holding it also proves that no earlier demo is still running, so Meltano's own
    "already running" check may be skipped (``--force``): a demo killed before its end
    leaves its pipelines marked running in Meltano's system database until their
    heartbeat goes stale (about five minutes), which would refuse the next demo.
    """
    DEMO_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(DEMO_LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit("demo: another make demo is running in this project; wait for it to end") from None
        yield


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
    with only_demo_running():
        demo()


def demo() -> None:
    database = dbctl.settings()["PG_DB"] + "_demo"
    dbctl.create_database(database)
    url = demo_database_url(database)
    chosen = list(registry.pipelines())
    fakes, served = start_fakes(fakes_of(chosen))
    try:
        print("Sources in this demo (nothing here reaches the internet):")
        print("\n".join(describe(chosen, served)))
        run_feeds(chosen)
        print(f"Loading into database {database!r} (Meltano environment 'demo').\n", flush=True)
        env = {**os.environ, **demo_env(chosen, served), "DATABASE_URL": url}
        code = run_with_progress(["--environment=demo", "run", "--full-refresh", "--force", *plan(chosen)], env)
        if code != 0:
            raise SystemExit(f"demo: meltano run failed (exit {code}); the whole log is in {DEMO_LOG}")
    finally:
        fakes.terminate()
        fakes.wait(timeout=10)
    print_counts(url)
    print("\nFreshness (make status, for the demo database):", flush=True)
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "status.py")],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "MELTANO_ENVIRONMENT": "demo"},
    )
    # Silver and marts over what just landed (dbt through Meltano), then a week of daily health.
    from demo_transform import build_and_show

    build_and_show(url)
    # The same as `make report`, for the demo database: one offline HTML page of charts.
    report = ROOT / "reports" / "demo.html"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "report.py"), "--output", str(report)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "MELTANO_ENVIRONMENT": "demo"},
        check=True,
    )
    print(f"\nOpen the report in a browser: {report}")


if __name__ == "__main__":
    main()
