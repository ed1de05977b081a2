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
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MELTANO = ROOT / ".venv" / "bin" / "meltano"


def schedules(listing: str) -> list[dict]:
    """Schedules from `meltano schedule list --format=json` output (job and ELT schedules)."""
    data = json.loads(listing[listing.index("{"):])
    data = data.get("schedules", data)
    return [*data.get("job", []), *data.get("elt", [])]


def cron_lines(items: list[dict], root: Path = ROOT) -> list[str]:
    lines = [f"# bronze personal-data schedules ({root}), from meltano.yml"]
    for item in sorted(items, key=lambda s: s["name"]):
        interval = item.get("cron_interval") or item.get("interval")
        if not interval:
            continue
        log = root / ".meltano" / "logs" / "cron" / f"{item['name']}.log"
        command = (f"umask 077 && cd {shlex.quote(str(root))} && mkdir -p {shlex.quote(str(log.parent))} && "
                   f"{shlex.quote(str(root / '.venv/bin/meltano'))} schedule run {shlex.quote(item['name'])} "
                   f">> {shlex.quote(str(log))} 2>&1")
        lines.append(f"{interval} {command}")
    return lines


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    listing = subprocess.run([str(MELTANO), "schedule", "list", "--format=json"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    print("\n".join(cron_lines(schedules(listing))))


if __name__ == "__main__":
    sys.exit(main())
