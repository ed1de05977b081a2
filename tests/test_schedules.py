"""Schedules and jobs in meltano.yml, and the crontab lines made from them."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import subprocess
import tempfile
from pathlib import Path

import crontab
import registry

ROOT = Path(__file__).resolve().parent.parent
#: schedule -> cron interval: the cadences agreed for each source (sources.yml), each in a minute of its own.
EXPECTED = {p.schedule.name: p.schedule.interval for p in registry.pipelines()}
#: schedule -> hours after which its data is stale (sources.yml fresh_hours).
FRESH_HOURS = {p.schedule.name: p.fresh_hours for p in registry.pipelines()}
#: A pipeline is stale after missing at least one run, and at most eleven (a collector
#: loaded every 5 minutes is not stale after 10: phones post when they can).
RUNS_PER_FRESHNESS = (2, 12)
HOURS_IN_LEAP_YEAR = 366 * 24  # crontab.start_times counts in 2028


# Listing needs no bookmarks: a throwaway system DB, so no PostgreSQL must be up.
SCRATCH = tempfile.TemporaryDirectory(prefix="schedules-")  # removed when the session ends
NO_STATE = {**os.environ, "MELTANO_DATABASE_URI": f"sqlite:///{SCRATCH.name}/list.db"}


def listing() -> str:
    return subprocess.run(
        [str(ROOT / ".venv/bin/meltano"), "schedule", "list", "--format=json"],
        cwd=ROOT,
        env=NO_STATE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_schedules_parse_with_the_agreed_cadences():
    found = {s["name"]: s["cron_interval"] for s in crontab.schedules(listing())}
    assert found == EXPECTED
    for name, cron in found.items():
        # Runs a fixed period apart, across the turn of the year too, its freshness two to twelve periods.
        starts = sorted(crontab.start_times(cron) | crontab.start_times(cron, year=2029))
        gaps = {later - earlier for earlier, later in itertools.pairwise(starts)}
        assert len(gaps) == 1, (name, sorted(gaps)[:3])
        period = gaps.pop() / dt.timedelta(hours=1)
        low, high = RUNS_PER_FRESHNESS
        assert low * period <= FRESH_HOURS[name] <= high * period, (name, period, FRESH_HOURS[name])
        runs = HOURS_IN_LEAP_YEAR / period
        assert len(crontab.start_times(cron)) in (math.floor(runs), math.ceil(runs)), name


def test_no_two_schedules_ever_start_in_the_same_minute():
    """On main seven daily schedules (and the hourly, 6-hourly and weekly ones) all started at 00:00."""
    items = crontab.schedules(listing())
    assert crontab.clashes(items) == []
    starts = [moment for item in items for moment in crontab.start_times(item["cron_interval"])]
    assert len(starts) == len(set(starts))


def test_clashes_are_found_in_any_spelling():
    assert crontab.clashes(
        [
            {"name": "a", "cron_interval": "@daily"},
            {"name": "b", "interval": "0 */6 * * *"},
            {"name": "c", "cron_interval": "5 * * * *"},
        ]
    ) == [("a", "b")]
    assert crontab.clashes(
        [{"name": "a", "cron_interval": "0 0 1 * *"}, {"name": "b", "cron_interval": "0 0 * * 1"}]
    ) == [("a", "b")]  # some 1st is a Monday
    assert crontab.clashes(
        [{"name": "a", "cron_interval": "0 0 * * 0"}, {"name": "b", "cron_interval": "0 0 * * 7"}]
    ) == [("a", "b")]  # both Sunday
    assert (
        crontab.clashes(
            [{"name": "a", "cron_interval": "0,30 9-17 * * 1-5"}, {"name": "b", "cron_interval": "15 9 * * *"}]
        )
        == []
    )


def test_every_tap_is_in_the_all_job():
    jobs = subprocess.run(
        [str(ROOT / ".venv/bin/meltano"), "job", "list", "--format=json"],
        cwd=ROOT,
        env=NO_STATE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '"all"' in jobs
    for tap in registry.by_name():
        assert f"{tap} target-postgres" in jobs


def test_crontab_lines():
    items = [
        {"name": "garmin-every-6h", "interval": "0 */6 * * *", "cron_interval": "0 */6 * * *"},
        {"name": "notion-weekly", "interval": "@weekly", "cron_interval": "0 0 * * 0"},
    ]
    lines = crontab.cron_lines(items, Path("/home/me/my lake"))
    assert lines[0].startswith("#")
    assert lines[1] == (
        "0 */6 * * * umask 077 && cd '/home/me/my lake' && mkdir -p '/home/me/my lake/.meltano/logs/cron' && "
        "'/home/me/my lake/.venv/bin/meltano' schedule run garmin-every-6h "
        ">> '/home/me/my lake/.meltano/logs/cron/garmin-every-6h.log' 2>&1"
    )
    assert lines[2].startswith("0 0 * * 0 umask 077 && cd ")


def test_the_operations_guide_says_only_what_meltano_schedules():
    """docs/operations.md's schedule table is read by people deciding when to expect data: every
    row must be a schedule Meltano has, with its job and cron. (A new source need not add a row:
    its four places are enough; `meltano schedule list` prints them all.)"""
    text = (ROOT / "docs" / "operations.md").read_text()
    table = {}
    for line in text.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            table[cells[0]] = (cells[1].split()[0].strip("`"), cells[2])
    listed = {s["name"]: (s["job"]["name"], s["cron_interval"]) for s in crontab.schedules(listing())}
    assert table, "no schedule table found in docs/operations.md"
    assert {name: listed.get(name) for name in table} == table
