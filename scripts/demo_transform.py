"""The end of `make demo`: build silver and marts with dbt (through Meltano), test them,
and print a week of mart.daily_health.

dbt runs as Meltano's `dbt-postgres` transformer in the demo environment, against
the demo database, as `meltano invoke dbt-postgres:run-full-refresh` (then `:test`
and `:freshness`) would for a user.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
SUMMARY = re.compile(r"Done\. PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+.*")
# dbt's line per source: "PASS|WARN|ERROR STALE|ERROR freshness of bronze.<table>".
FRESHNESS_VERDICT = re.compile(r"\b(PASS|WARN|ERROR STALE|ERROR) freshness of ")
WEEK_SQL = """
SELECT day, steps, round(sleep_minutes / 60.0, 1), sleep_score, resting_heart_rate, hrv_ms,
       average_stress, body_battery_high, body_battery_low, weight_kg, water_ml,
       temperature_max_c, temperature_min_c, hours_tracked, steps_source, sleep_minutes_source
FROM mart.daily_health
WHERE day <= current_date
ORDER BY day DESC
LIMIT 7
"""
HEADER = (
    "day",
    "steps",
    "sleep h",
    "score",
    "rhr",
    "hrv",
    "stress",
    "bb hi",
    "bb lo",
    "kg",
    "water ml",
    "t max",
    "t min",
    "tracked h",
    "steps from",
    "sleep from",
)


def dbt(command: str, database_url: str) -> str:
    """`meltano invoke dbt-postgres:<command>` on the demo database; its summary line.

    On failure, the end of dbt's output is printed and the demo stops.
    """
    env = {**os.environ, "DATABASE_URL": database_url, "MELTANO_ENVIRONMENT": "demo"}
    result = subprocess.run(
        [MELTANO, "invoke", f"dbt-postgres:{command}"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        print("\n".join(output.splitlines()[-40:]), file=sys.stderr)
        raise SystemExit(f"demo: dbt {command} failed (exit {result.returncode})")
    if command == "freshness":  # dbt prints no summary line for it: count its verdicts
        verdicts = [v.split()[0] for v in FRESHNESS_VERDICT.findall(output)]
        return "Done. " + " ".join(f"{v}={verdicts.count(v)}" for v in ("PASS", "WARN", "ERROR"))
    found = SUMMARY.findall(output)
    return found[-1] if found else "done"


def cell(value) -> str:
    return "-" if value is None else str(value)


def build_and_show(database_url: str) -> None:
    """dbt run, dbt test, source freshness, then the last seven days of mart.daily_health as a table."""
    print("\nTransform (dbt through Meltano: silver and mart schemas):", flush=True)
    # A full rebuild, like the demo's loads: a demo database kept from an older checkout
    # may hold incremental tables of another shape.
    print(f"  dbt run   {dbt('run-full-refresh', database_url)}", flush=True)
    print(f"  dbt test  {dbt('test', database_url)}", flush=True)
    # When each bronze source last landed rows (dbt source freshness; just loaded: fresh).
    print(f"  dbt freshness  {dbt('freshness', database_url)}", flush=True)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(WEEK_SQL).fetchall()
    print("\nA week of mart.daily_health (newest first; '-' where no source knew):")
    table = [HEADER, *([cell(v) for v in row] for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    for line in table:
        print("  " + "  ".join(text.rjust(width) for text, width in zip(line, widths)))
    print("Questions to ask the marts: docs/using-your-data.md")
