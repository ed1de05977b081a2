"""Schedules and jobs in meltano.yml, and the crontab lines made from them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import crontab

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {  # schedule -> cron interval, per the cadences agreed for each source
    "garmin-every-6h": "0 */6 * * *", "garmin-export-daily": "0 0 * * *", "toggl-daily": "0 0 * * *",
    "weather-daily": "0 0 * * *", "hubspot-daily": "0 0 * * *", "hidrate-daily": "0 0 * * *",
    "notion-weekly": "0 0 * * 0", "airtable-weekly": "0 0 * * 0",
    "apple-health-daily": "0 0 * * *", "wearable-csv-daily": "0 0 * * *", "manual-hourly": "0 * * * *",
}


def listing() -> str:
    return subprocess.run([str(ROOT / ".venv/bin/meltano"), "schedule", "list", "--format=json"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


def test_schedules_parse_with_the_agreed_cadences():
    found = {s["name"]: s["cron_interval"] for s in crontab.schedules(listing())}
    assert found == EXPECTED


def test_every_tap_is_in_the_all_job():
    jobs = subprocess.run([str(ROOT / ".venv/bin/meltano"), "job", "list", "--format=json"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    assert '"all"' in jobs
    for tap in ("tap-garmin", "tap-garmin-export", "tap-toggl", "tap-notion", "tap-airtable",
                "tap-openmeteo", "tap-hidrate", "tap-hubspot", "tap-apple-health"):
        assert f"{tap} target-postgres" in jobs


def test_crontab_lines():
    items = [{"name": "garmin-every-6h", "interval": "0 */6 * * *", "cron_interval": "0 */6 * * *"},
             {"name": "notion-weekly", "interval": "@weekly", "cron_interval": "0 0 * * 0"}]
    lines = crontab.cron_lines(items, Path("/home/me/my lake"))
    assert lines[0].startswith("#")
    assert lines[1] == ("0 */6 * * * umask 077 && cd '/home/me/my lake' && mkdir -p '/home/me/my lake/.meltano/logs/cron' && "
                        "'/home/me/my lake/.venv/bin/meltano' schedule run garmin-every-6h "
                        ">> '/home/me/my lake/.meltano/logs/cron/garmin-every-6h.log' 2>&1")
    assert lines[2].startswith("0 0 * * 0 umask 077 && cd ")
