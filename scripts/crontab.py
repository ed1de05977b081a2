"""Print crontab lines that run this project's Meltano schedules.

For a single machine without an orchestrator. The lines come from Meltano's
own schedule list (`meltano schedule list --format=json`), so `meltano.yml`
stays the one place schedules are defined:

    .venv/bin/python scripts/crontab.py            # review the lines
    .venv/bin/python scripts/crontab.py | crontab -  # install them (replaces your crontab!)
    (crontab -l; .venv/bin/python scripts/crontab.py) | crontab -  # append instead

Each line runs `meltano schedule run <name>` from the project directory under
`umask 077` (the logs, batch files and Meltano's run files hold personal data
and secrets: owner-only) and appends its output to `.meltano/logs/cron/<name>.log`.
Schedules that would start in the same minute are named on stderr (`clashes`):
give each its own minute in meltano.yml, so runs start apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MELTANO = ROOT / ".venv" / "bin" / "meltano"


def schedules(listing: str) -> list[dict]:
    """Schedules from `meltano schedule list --format=json` output (job and ELT schedules)."""
    data = json.loads(listing[listing.index("{") :])
    data = data.get("schedules", data)
    return [*data.get("job", []), *data.get("elt", [])]


def cron_lines(items: list[dict], root: Path = ROOT) -> list[str]:
    lines = [f"# bronze personal-data schedules ({root}), from meltano.yml"]
    for item in sorted(items, key=lambda s: s["name"]):
        interval = item.get("cron_interval") or item.get("interval")
        if not interval:
            continue
        log = root / ".meltano" / "logs" / "cron" / f"{item['name']}.log"
        command = (
            f"umask 077 && cd {shlex.quote(str(root))} && mkdir -p {shlex.quote(str(log.parent))} && "
            f"{shlex.quote(str(root / '.venv/bin/meltano'))} schedule run {shlex.quote(item['name'])} "
            f">> {shlex.quote(str(log))} 2>&1"
        )
        lines.append(f"{interval} {command}")
    return lines


MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
#: (lowest, highest) of each cron field: minute, hour, day of month, month, day of week.
FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def cron_field(text: str, low: int, high: int) -> set[int]:
    """The values one cron field allows (``*``, ``5``, ``1-5``, ``*/6``, ``0,30``)."""
    values: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        first, last = (low, high) if span == "*" else (int(span.split("-")[0]), int(span.split("-")[-1]))
        values.update(range(first, last + 1, int(step or 1)))
    return values


def start_times(cron: str, year: int = 2028) -> set[dt.datetime]:
    """Every minute of ``year`` at which the cron expression starts a run (cron's day rules)."""
    fields = MACROS.get(cron, cron).split()
    minutes, hours, days, months, weekdays = (cron_field(text, *bounds) for text, bounds in zip(fields, FIELDS))
    weekdays = {day % 7 for day in weekdays}
    either = fields[2] != "*" and fields[4] != "*"  # both day fields set: cron runs on either
    found = set()
    day = dt.date(year, 1, 1)
    while day.year == year:
        in_month, in_week = day.day in days, (day.weekday() + 1) % 7 in weekdays
        if day.month in months and ((in_month or in_week) if either else (in_month and in_week)):
            found.update(dt.datetime.combine(day, dt.time(h, m)) for h in hours for m in minutes)
        day += dt.timedelta(days=1)
    return found


def clashes(items: list[dict]) -> list[tuple[str, str]]:
    """Pairs of schedules that start a run in the same minute at least once a year."""
    times = {
        item["name"]: start_times(item.get("cron_interval") or item["interval"])
        for item in items
        if item.get("cron_interval") or item.get("interval")
    }
    return [(a, b) for a, b in itertools.combinations(sorted(times), 2) if times[a] & times[b]]


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    # Listing reads meltano.yml only: a throwaway system DB, so no PostgreSQL must be up for it.
    with tempfile.TemporaryDirectory() as scratch:
        listing = subprocess.run(
            [str(MELTANO), "schedule", "list", "--format=json"],
            cwd=ROOT,
            env={**os.environ, "MELTANO_DATABASE_URI": f"sqlite:///{scratch}/list.db"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    items = schedules(listing)
    for first, second in clashes(items):
        print(
            f"crontab.py: schedules {first} and {second} start in the same minute; "
            "give each its own minute in meltano.yml",
            file=sys.stderr,
        )
    print("\n".join(cron_lines(items)))


if __name__ == "__main__":
    sys.exit(main())
