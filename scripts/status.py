"""`make status`: is my data fresh? One row per bronze table, exit 1 if not.

For every bronze table: rows, newest `source_timestamp`, last `ingested_at`,
invalid and warning counts (from the `bronze.status` view in sql/), the last
Meltano run of its source (from Meltano's run history: `.meltano/meltano.db`,
or `MELTANO_DATABASE_URI`), and a verdict:

- `fresh`: the source's last successful run is within its expected interval;
- `stale`: it is older (or there is none, and the newest row is older);
- `failed`: the source's last run failed.

Expected intervals (hours) default to twice each schedule's cadence and can
be set with `FRESHNESS_<SOURCE>_HOURS`, e.g. `FRESHNESS_GARMIN_HOURS=12`.
Exits 1 when any table is stale or failed, so cron or a monitor can alert.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import dbctl  # noqa: E402

DEFAULT_HOURS = {"garmin": 12, "toggl": 48, "openmeteo": 48, "hubspot": 48, "hidrate": 48,
                 "notion": 24 * 14, "airtable": 24 * 14, "apple_health": 48}
FALLBACK_HOURS = 48
UTC = dt.timezone.utc


def expected_hours(source: str) -> float:
    return float(os.environ.get(f"FRESHNESS_{source.upper()}_HOURS") or DEFAULT_HOURS.get(source, FALLBACK_HOURS))


def table_stats() -> list[dict]:
    with dbctl.connect() as conn:
        with conn.cursor() as cursor:
            for path in sorted((ROOT / "sql").glob("*.sql")):  # idempotent; makes the view exist
                cursor.execute(path.read_text(encoding="utf-8"))
            cursor.execute("SELECT * FROM bronze.status ORDER BY table_name")
            names = [c.name for c in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]


def last_runs() -> dict[str, dict]:
    """Latest Meltano run per state id (``env:tap-x-to-target-y``).

    Read where Meltano writes them: MELTANO_DATABASE_URI (environment, then .env),
    else the project's database, schema ``meltano`` (meltano.yml's database_uri).
    """
    import sqlalchemy

    uri = dbctl.pgsettings.system_database_uri(ROOT)
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return {}
    engine = sqlalchemy.create_engine(uri)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text(
                "SELECT job_name, state, started_at, ended_at FROM runs ORDER BY started_at")).fetchall()
    except sqlalchemy.exc.SQLAlchemyError:
        return {}
    finally:
        engine.dispose()
    return {job: {"state": state, "started_at": _utc(started), "ended_at": _utc(ended)}
            for job, state, started, ended in rows}


def _utc(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def runs_of(source: str, runs: dict[str, dict]) -> list[dict]:
    """Runs of any tap of the source (tap-garmin, tap-garmin-export...), newest first."""
    tap = "tap-" + source.replace("_", "-")  # source apple_health is run by tap-apple-health
    mine = [r for job, r in runs.items() if f":{tap}-to-" in job or f":{tap}-" in job]
    return sorted(mine, key=lambda r: r["started_at"] or dt.datetime.min.replace(tzinfo=UTC), reverse=True)


def verdict(row: dict, runs: list[dict], now: dt.datetime) -> tuple[str, dict | None]:
    last = runs[0] if runs else None
    if last and last["state"] == "FAILED":
        return "failed", last
    succeeded = [r["ended_at"] for r in runs if r["state"] == "SUCCESS" and r["ended_at"]]
    seen = max(succeeded) if succeeded else row["last_ingested_at"]
    fresh = seen is not None and now - seen <= dt.timedelta(hours=expected_hours(row["source"]))
    return ("fresh" if fresh else "stale"), last


def report(now: dt.datetime | None = None) -> list[dict]:
    now = now or dt.datetime.now(UTC)
    runs = last_runs()
    out = []
    for row in table_stats():
        state, last = verdict(row, runs_of(row["source"], runs), now)
        out.append({**row, "verdict": state, "expected_hours": expected_hours(row["source"]),
                    "last_run_state": last["state"] if last else None,
                    "last_run_at": (last["ended_at"] or last["started_at"]) if last else None})
    return out


def _text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return "-" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)
    rows = report()
    if args.format == "json":
        print(json.dumps(rows, default=lambda v: v.isoformat() if isinstance(v, dt.datetime) else str(v), indent=2))
    else:
        columns = ("table_name", "row_count", "newest_source_timestamp", "last_ingested_at", "invalid_count",
                   "warning_count", "last_run_state", "last_run_at", "verdict")
        widths = [max(len(c), *(len(_text(r[c])) for r in rows)) if rows else len(c) for c in columns]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
        for r in rows:
            print("  ".join(_text(r[c]).ljust(w) for c, w in zip(columns, widths)))
        if not rows:
            print("no bronze tables yet: run a tap first (make demo, or meltano run tap-x target-postgres)")
    return 1 if any(r["verdict"] != "fresh" for r in rows) or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
