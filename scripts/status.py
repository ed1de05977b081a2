"""`make status`: is my data fresh? One row per bronze table and pipeline, exit 1 if not.

For every bronze table: rows, newest `source_timestamp`, last `ingested_at`,
invalid and warning counts (the `bronze.status` view in sql/), the pipeline
that writes it (sources.yml: the pipeline of the table's source, or where a
source has two, the one whose `streams` prefix the table's stream has), that
pipeline's last Meltano run in the active environment
(`MELTANO_ENVIRONMENT`, else meltano.yml's default; from Meltano's runs table,
schema `meltano` of the project database, or `MELTANO_DATABASE_URI`), and a verdict:

- `failed`: the pipeline's last run failed, however recent its data;
- `never`: the pipeline is configured (its required settings are set) but has
  never succeeded and has no data (a row with table `-`);
- `stale`: its last successful run is older than its expected interval (with
  no run recorded at all: its newest row is older);
- `warning`: fresh, but the table holds invalid rows that were not dealt with
  (see below);
- `fresh`: otherwise.

Expected intervals (hours) default to each pipeline's `fresh_hours` in
sources.yml (twice its schedule's cadence) and can be set per pipeline or per
source: `FRESHNESS_<PIPELINE>_HOURS=72` (the pipeline's name without `tap-`, in
capitals, `-` as `_`), `FRESHNESS_<SOURCE>_HOURS=12` (used by every pipeline of
the source that has no value of its own).

Invalid rows are dealt with when someone looked at them: bronze rows are
immutable, so "dealt with" means acknowledged, with
`scripts/status.py --ack <table>` (or `--ack all`; `make status ACK=<table>`).
It records the moment in `bronze.status_acknowledged`; only invalid rows that
landed after the table's last acknowledgement count. A threshold allows some:
`STATUS_MAX_INVALID=<n>` for every table, `STATUS_MAX_INVALID_<TABLE>=<n>`
for one (e.g. `STATUS_MAX_INVALID_<SOURCE>__<STREAM>=5`); default 0.

Exit status: 1 when anything is stale, failed or never (or there is nothing
at all), so cron or a monitor can alert; warnings alone exit 0 (they are
listed, and `make metrics` exports the counts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import uuid
from pathlib import Path

from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import dbctl  # noqa: E402
import pipelines  # noqa: E402
import registry  # noqa: E402

FALLBACK_HOURS = 48  # a pipeline sources.yml does not know (one dropped from it)
UTC = dt.UTC
#: Meltano's run states (meltano/core/job/job.py ``State``) that end a run.
SUCCESS, FAIL, DEAD = "SUCCESS", "FAIL", "DEAD"
FINISHED = (SUCCESS, FAIL, DEAD)
BAD_VERDICTS = ("stale", "failed", "never")


def _env_name(text: str) -> str:
    return text.upper().replace("-", "_")


def expected_hours(tap: str) -> float:
    """``FRESHNESS_<PIPELINE>_HOURS``, else ``FRESHNESS_<SOURCE>_HOURS``, else sources.yml's `fresh_hours`."""
    name = tap.removeprefix("tap-")
    entry = registry.by_name().get(tap)
    source = entry.source if entry else name.split("-")[0]
    for key in (f"FRESHNESS_{_env_name(name)}_HOURS", f"FRESHNESS_{_env_name(source)}_HOURS"):
        if os.environ.get(key):
            return float(os.environ[key])
    return entry.fresh_hours if entry else float(FALLBACK_HOURS)


def max_invalid(table: str) -> int:
    """Invalid rows a table may hold unacknowledged: ``STATUS_MAX_INVALID[_<TABLE>]``, default 0."""
    value = os.environ.get(f"STATUS_MAX_INVALID_{_env_name(table)}") or os.environ.get("STATUS_MAX_INVALID")
    return int(value) if value else 0


def table_stats() -> list[dict]:
    """The `bronze.status` view, plus per table the invalid rows newer than its last acknowledgement."""
    with dbctl.connect() as conn:
        with conn.cursor() as cursor:
            for path in sorted((ROOT / "sql").glob("*.sql")):  # idempotent; makes the view exist
                cursor.execute(path.read_text(encoding="utf-8"))
            cursor.execute("SELECT * FROM bronze.status ORDER BY table_name")
            names = [c.name for c in cursor.description]
            rows = [dict(zip(names, row)) for row in cursor.fetchall()]
            cursor.execute(
                "SELECT table_name, max(acknowledged_at) FROM bronze.status_acknowledged GROUP BY table_name"
            )
            acks = dict(cursor.fetchall())
            for row in rows:
                row["acknowledged_at"] = acks.get(row["table_name"])
                row["open_invalid_count"] = row["invalid_count"]
                if row["invalid_count"] and row["acknowledged_at"]:
                    cursor.execute(
                        sql.SQL(
                            "SELECT count(*) FROM bronze.{} WHERE validation_status = 'invalid' AND ingested_at > %s"
                        ).format(sql.Identifier(row["table_name"])),
                        (row["acknowledged_at"],),
                    )
                    row["open_invalid_count"] = cursor.fetchone()[0]
            return rows


def acknowledge(tables: list[str]) -> list[str]:
    """Mark the invalid rows of ``tables`` (``all``: every table with some) as dealt with, now."""
    with dbctl.connect() as conn:
        with conn.cursor() as cursor:
            for path in sorted((ROOT / "sql").glob("*.sql")):
                cursor.execute(path.read_text(encoding="utf-8"))
            cursor.execute("SELECT table_name FROM bronze.status WHERE invalid_count > 0")
            with_invalid = [name for (name,) in cursor.fetchall()]
            chosen = with_invalid if tables == ["all"] else tables
            unknown = sorted(set(chosen) - set(with_invalid))
            if unknown:
                raise SystemExit(f"status: no invalid rows to acknowledge in {', '.join(unknown)}")
            for name in chosen:
                cursor.execute("INSERT INTO bronze.status_acknowledged (table_name) VALUES (%s)", (name,))
        conn.commit()
    return chosen


def meltano_database_uri() -> str:
    """Where Meltano keeps its system database (state and the runs table): the ONE place to look it up.

    MELTANO_DATABASE_URI (environment, then .env), else the project's database,
    schema ``meltano`` (meltano.yml's database_uri).
    """
    return dbctl.pgsettings.system_database_uri(ROOT)


def last_runs() -> dict[str, list[dict]]:
    """Meltano's runs per state id (``env:tap-x-to-target-y``), newest first.

    Each run: ``run_id``, ``state`` (Meltano's ``SUCCESS``, ``FAIL``, ``RUNNING``,
    ``DEAD``), ``started_at``, ``ended_at``. `meltano state set/clear` rows
    (``STATE_EDIT``) are not runs and are left out.
    """
    import sqlalchemy

    uri = meltano_database_uri()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return {}
    engine = sqlalchemy.create_engine(uri)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sqlalchemy.text(
                    "SELECT job_name, run_id, state, started_at, ended_at FROM runs "
                    "WHERE state <> 'STATE_EDIT' ORDER BY started_at DESC, id DESC"
                )
            ).fetchall()
    except sqlalchemy.exc.SQLAlchemyError:
        return {}
    finally:
        engine.dispose()
    out: dict[str, list[dict]] = {}
    for job, run_id, state, started, ended in rows:
        out.setdefault(job, []).append(
            {
                "run_id": str(uuid.UUID(str(run_id))),
                "state": state,
                "started_at": _utc(started),
                "ended_at": _utc(ended),
            }
        )
    return out


def _utc(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def finished_runs(tap: str, runs: dict[str, list[dict]]) -> list[dict]:
    """The pipeline's finished runs in the active environment, newest first (a running one is not judged)."""
    return [r for r in runs.get(pipelines.state_id(tap), []) if r["state"] in FINISHED]


def last_success(history: list[dict]) -> dt.datetime | None:
    done = [r["ended_at"] for r in history if r["state"] == SUCCESS and r["ended_at"]]
    return max(done) if done else None


def verdict(tap: str, history: list[dict], row: dict | None, now: dt.datetime) -> str:
    """The verdict of one table (``row``) or of a pipeline without tables (``row`` None)."""
    if history and history[0]["state"] != SUCCESS:
        return "failed"
    seen = last_success(history)
    if seen is None and not history and row is not None:
        seen = row["last_ingested_at"]  # no run recorded here (another system database): the data's age
    if seen is None:
        return "never"
    if now - seen > dt.timedelta(hours=expected_hours(tap)):
        return "stale"
    if row is not None and row["open_invalid_count"] > max_invalid(row["table_name"]):
        return "warning"
    return "fresh"


def report(now: dt.datetime | None = None, configured: dict[str, list[str]] | None = None) -> list[dict]:
    """One row per bronze table, plus one per pipeline without tables that is configured or has run."""
    now = now or dt.datetime.now(UTC)
    runs = last_runs()
    if configured is None:
        configured = pipelines.configuration()
    out = []
    with_tables = set()
    for row in table_stats():
        tap = pipelines.pipeline_of_table(row["table_name"])
        with_tables.add(tap)
        out.append(_row(tap, row, finished_runs(tap, runs), now))
    for tap in pipelines.pipelines():
        history = finished_runs(tap, runs)
        if tap in with_tables or not (history or configured.get(tap) == []):
            continue
        out.append(_row(tap, None, history, now))
    return out


def _row(tap: str, row: dict | None, history: list[dict], now: dt.datetime) -> dict:
    last = history[0] if history else None
    empty = {
        "table_name": None,
        "source": None,
        "stream": None,
        "row_count": 0,
        "newest_source_timestamp": None,
        "last_ingested_at": None,
        "invalid_count": 0,
        "warning_count": 0,
        "open_invalid_count": 0,
        "acknowledged_at": None,
    }
    return {
        **(row or empty),
        "pipeline": tap,
        "state_id": pipelines.state_id(tap),
        "verdict": verdict(tap, history, row, now),
        "expected_hours": expected_hours(tap),
        "last_run_state": last["state"] if last else None,
        "last_run_at": (last["ended_at"] or last["started_at"]) if last else None,
        "last_success_at": last_success(history),
    }


def _text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return "-" if value is None else str(value)


COLUMNS = (
    "table_name",
    "pipeline",
    "row_count",
    "newest_source_timestamp",
    "last_ingested_at",
    "invalid_count",
    "open_invalid_count",
    "warning_count",
    "last_run_state",
    "last_run_at",
    "verdict",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--ack",
        nargs="+",
        metavar="TABLE",
        help="acknowledge the invalid rows of these tables (or `all`) as dealt with",
    )
    args = parser.parse_args(argv)
    if args.ack:
        for name in acknowledge(args.ack):
            print(f"acknowledged the invalid rows of {name} up to now")
    rows = report()
    if args.format == "json":
        print(json.dumps(rows, default=lambda v: v.isoformat() if isinstance(v, dt.datetime) else str(v), indent=2))
    else:
        widths = [max(len(c), *(len(_text(r[c])) for r in rows)) if rows else len(c) for c in COLUMNS]
        print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)))
        for r in rows:
            print("  ".join(_text(r[c]).ljust(w) for c, w in zip(COLUMNS, widths)))
        if not rows:
            print("no bronze tables and no configured pipeline yet: configure a source (.env) and run it")
        elif any(r["verdict"] == "warning" for r in rows):
            print("warning: invalid rows (see error_message); once dealt with: make status ACK=<table>")
    return 1 if any(r["verdict"] in BAD_VERDICTS for r in rows) or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
