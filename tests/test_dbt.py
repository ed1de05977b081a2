"""The dbt transform layer (transform/) run by Meltano's dbt-postgres transformer.

Bronze rows come from real `meltano run`s of the taps (sample files, the fake
Garmin API); silver and marts from real `dbt run`s through Meltano; expected
values are recomputed here from the bronze rows' own `raw_data`, never taken
from the models.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import yaml

from tests import tap_runner
from tests.fakes.apple_health_export import write_export
from tests.fakes.fitabase_export import write_drop
from tests.fakes.garmin_api import FakeGarmin

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: The bronze tables dbt reads, as transform/models/sources.yml declares them.
BRONZE_SOURCES = [
    table["name"]
    for source in yaml.safe_load((ROOT / "transform" / "models" / "sources.yml").read_text())["sources"]
    for table in source["tables"]
]


def dbt(meltano, *args, check=True):
    """`meltano invoke dbt-postgres <args>`: dbt in the test's own database."""
    return meltano.run("invoke", "dbt-postgres", *args, check=check, timeout=600)


def latest_valid(meltano, table):
    """{raw_id: raw_data} of the newest valid version of each record, read straight from bronze."""
    rows = meltano.query(
        f"SELECT DISTINCT ON (raw_id) raw_id, raw_data FROM bronze.{table} "
        "WHERE validation_status IN ('valid', 'warning') "
        "ORDER BY raw_id, ingested_at DESC, raw_hash DESC"
    )
    return dict(rows)


def us_date(text: str) -> dt.date:
    """Fitbit's M/D/YYYY[ time] as the calendar date it writes."""
    month, day, year = re.match(r"(\d{1,2})/(\d{1,2})/(\d{4})", text).groups()
    return dt.date(int(year), int(month), int(day))


def relation_exists(meltano, name):
    return meltano.query("SELECT to_regclass(%s) IS NOT NULL", name)[0][0]


def freshness(meltano, check=True):
    """`meltano invoke dbt-postgres:freshness`: (exit code, {table: dbt's verdict}, tables left out)."""
    result = meltano.run("invoke", "dbt-postgres:freshness", check=check, timeout=600)
    output = result.stdout + result.stderr
    found = re.findall(r"\b(PASS|WARN|ERROR STALE|ERROR) freshness of bronze\.(\w+)", output)
    verdicts = {table: verdict for verdict, table in found}
    left_out = re.search(r"leaves out what this database does not hold: (.*)", output)
    return result.returncode, verdicts, left_out.group(1).split(", ") if left_out else []


def bronze_sources_here(meltano):
    """The declared bronze sources whose tables this database holds."""
    return [t for t in BRONZE_SOURCES if relation_exists(meltano, f"bronze.{t}")]


def test_fitabase_only_database_builds_and_tests(meltano, tmp_path):
    """Only Fitabase CSVs loaded: run and test pass, other sources' models exist and are empty,
    and the research marts equal what the raw rows say (median of the first 14 active days)."""
    write_drop(tmp_path / "drop", people=3, days=20)
    (daily,) = (tmp_path / "drop").rglob("dailyActivity_merged.csv")
    someone = daily.read_text().splitlines()[1].split(",")[0]
    with open(daily, "a", newline="") as handle:  # a malformed row: lands invalid, never in silver
        handle.write(f"{someone},5/30/2016,12O45,1,1,0,0,0,0,0,1,1,1,1,1\r\n")
    started = time.time()
    meltano.run(
        "run",
        "tap-wearable-csv",
        "target-postgres",
        "dbt-postgres:run",
        extra_env={"TAP_WEARABLE_CSV_DATA_DIR": str(tmp_path / "drop")},
        timeout=600,
    )
    assert not relation_exists(meltano, "bronze.garmin__sleep")
    tested = dbt(meltano, "test")
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0", tested.stdout + tested.stderr)
    # Freshness as a user runs it: the bronze sources that exist here pass (just landed),
    # the absent ones are named as left out, not reported as errors.
    present = bronze_sources_here(meltano)
    assert {"wearable__daily_activity", "wearable__sleep_day"} <= set(present)
    code, verdicts, left_out = freshness(meltano)
    assert (code, verdicts) == (0, dict.fromkeys(present, "PASS"))
    assert sorted(left_out) == sorted(f"bronze.{t}" for t in set(BRONZE_SOURCES) - set(present))
    password = urlsplit(meltano.database_url).password
    written = [
        p
        for folder in ("logs", "target")
        for p in (ROOT / "transform" / folder).rglob("*")
        if p.is_file() and p.stat().st_mtime >= started
    ]
    assert written and all(p.stat().st_mode & 0o077 == 0 for p in written)  # owner-only
    if password:
        assert password not in tested.stdout + tested.stderr
        assert not [p for p in written if password.encode() in p.read_bytes()]

    for empty in (
        "silver.stg_garmin__sleep",
        "silver.stg_apple_health__records",
        "silver.stg_toggl__time_entries",
        "mart.time_by_project_weekly",
        "mart.habits_daily",
        "mart.crm_weekly",
    ):
        assert meltano.query(f"SELECT count(*) FROM {empty}") == [(0,)], empty
    (rejected,) = meltano.query("SELECT table_name, raw_id, reason FROM silver.rejected_rows")
    assert rejected[:2] == ("wearable__daily_activity", f"{someone}|2016-05-30") and "TotalSteps" in rejected[2]
    assert meltano.query(
        "SELECT count(*) FROM silver.stg_wearable__daily_activity WHERE activity_date = '2016-05-30'"
    ) == [(0,)]
    # Three participants and no fitabase_user_id: no single person's daily health.
    assert meltano.query("SELECT count(*) FROM mart.daily_health") == [(0,)]

    days = {}
    for raw in latest_valid(meltano, "wearable__daily_activity").values():
        days[(raw["Id"], us_date(raw["ActivityDate"]))] = int(raw["TotalSteps"])
    mart = {
        (user, day): steps
        for user, day, steps in meltano.query(
            "SELECT user_id, activity_date, total_steps FROM mart.user_daily_activity"
        )
    }
    assert mart == days

    baselines = {
        user: (steps, start, end)
        for user, steps, start, end in meltano.query(
            "SELECT user_id, baseline_steps, baseline_start_date, baseline_end_date FROM mart.user_baseline_activity"
        )
    }
    for user in {u for u, _ in days}:
        active = sorted((day, steps) for (u, day), steps in days.items() if u == user and steps > 0)[:14]
        steps, start, end = baselines[user]
        assert float(steps) == statistics.median(s for _, s in active)
        assert (start, end) == (active[0][0], active[-1][0])

    for user, day, pct, delta, window in meltano.query(
        "SELECT user_id, activity_date, steps_pct_of_baseline, steps_delta_from_baseline, "
        "is_baseline_window FROM mart.user_activity_deviation"
    ):
        base, start, end = baselines[user]
        assert float(delta) == days[(user, day)] - float(base)
        assert float(pct) == round(100 * days[(user, day)] / float(base), 1)
        assert window == (start <= day <= end)

    # Naming one participant puts their days into mart.daily_health, from Fitabase.
    person = min(user for user, _ in days)
    dbt(meltano, "run", "--select", "daily_health_by_source+", "--vars", json.dumps({"fitabase_user_id": person}))
    assert sorted(meltano.query("SELECT day, steps, steps_source FROM mart.daily_health")) == sorted(
        (day, steps, "fitabase") for (user, day), steps in days.items() if user == person
    )

    # The README's three questions run as written; the Fitabase one gives
    # the days the raw rows say are below half the participant's baseline.
    *_, question = queries = re.findall(r"```sql\n(.*?)```", README.read_text(), re.DOTALL)
    assert len(queries) == 3
    for query in queries:
        meltano.query(query)
    expected = sorted(
        (user, day)
        for (user, day), steps in days.items()
        if not baselines[user][1] <= day <= baselines[user][2]
        and round(100 * steps / float(baselines[user][0]), 1) < 50
    )
    assert expected, "the drop has no day below half its baseline"
    assert [row[:2] for row in meltano.query(question)] == expected


def land_earlier(meltano, table, days):
    """As if every row of a bronze table had landed `days` earlier. Bronze rows are immutable
    (a trigger drops every UPDATE), so the shift runs with triggers off (replica role)."""
    with psycopg.connect(meltano.database_url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(f"UPDATE bronze.{table} SET ingested_at = ingested_at - make_interval(days => %s)", (days,))
    age = meltano.query(f"SELECT extract(day FROM now() - max(ingested_at)) FROM bronze.{table}")[0][0]
    assert age >= days


def test_freshness_warns_and_fails_on_stale_sources_and_leaves_absent_ones_out(meltano, tmp_path):
    """Only Fitabase loaded, its sleep rows last landed 4 days ago and its daily activity 15:
    source freshness warns on the first and fails on the second, as sources.yml says (warn
    after 3 days, error after 14), passes the fresh ones and leaves the absent sources out."""
    write_drop(tmp_path / "drop", people=1, days=3)
    meltano.run(
        "run",
        "tap-wearable-csv",
        "target-postgres",
        extra_env={"TAP_WEARABLE_CSV_DATA_DIR": str(tmp_path / "drop")},
        timeout=600,
    )
    land_earlier(meltano, "wearable__sleep_day", 4)
    land_earlier(meltano, "wearable__daily_activity", 15)
    code, verdicts, left_out = freshness(meltano, check=False)
    present = bronze_sources_here(meltano)
    assert code == 1  # an error-stale source fails the command (and a scheduled job)
    assert verdicts == {
        **dict.fromkeys(present, "PASS"),
        "wearable__sleep_day": "WARN",
        "wearable__daily_activity": "ERROR STALE",
    }
    assert "bronze.garmin__sleep" in left_out and not set(left_out) & {f"bronze.{t}" for t in present}


def test_a_database_without_bronze_builds_tests_and_checks_freshness(meltano):
    """No source loaded yet: dbt run, dbt test and source freshness all succeed, every model
    exists and is empty, and freshness has nothing to check."""
    assert not relation_exists(meltano, "bronze.status")
    result = meltano.run("run", "dbt-postgres:run", "dbt-postgres:test", "dbt-postgres:freshness", timeout=900)
    output = result.stdout + result.stderr
    assert len(re.findall(r"Done\. PASS=[1-9]\d* WARN=0 ERROR=0", output)) == 2  # run, test
    assert "freshness of bronze." not in output and "Nothing to do" in output
    for relation in ("silver.rejected_rows", "silver.stg_garmin__daily_summary", "mart.daily_health"):
        assert meltano.query(f"SELECT count(*) FROM {relation}") == [(0,)], relation


def heartrate_table(meltano):
    return sorted(
        meltano.query(
            "SELECT raw_id, source_timestamp, user_id, measured_local, day, bpm "
            "FROM silver.stg_wearable__heartrate_seconds"
        )
    )


def records_table(meltano):
    return sorted(
        meltano.query(
            "SELECT raw_id, source_timestamp, record_type, unit, value, value_text, start_at, end_at, day "
            "FROM silver.stg_apple_health__records"
        )
    )


def inserted(output: str, model: str) -> int:
    """Rows an incremental model inserted, from dbt's `OK created ... [INSERT 0 N ...]` line."""
    return int(re.search(rf"silver\.{model} \.*\s*\[INSERT 0 (\d+)", output).group(1))


def test_incremental_after_new_bronze_rows_equals_a_full_rebuild(meltano, tmp_path):
    """New and changed bronze rows (an appended heart-rate line, a later reading of the same
    second, a grown Apple Health export) reach the incremental models alone, and the result
    equals a rebuild from scratch."""
    drop = tmp_path / "drop"
    write_drop(drop, people=2, days=2, heartrate_rows_count=300)
    export = write_export(tmp_path / "export.zip", records=400, seed=3)
    env = {"TAP_WEARABLE_CSV_DATA_DIR": str(drop), "TAP_APPLE_HEALTH_EXPORT_PATH": str(export)}
    meltano.run(
        "run", "tap-wearable-csv", "target-postgres", "tap-apple-health", "target-postgres", extra_env=env, timeout=600
    )
    no_margin = ("--vars", "{incremental_margin_minutes: 0}")  # everything here lands within a minute
    dbt(meltano, "run", *no_margin)

    (path,) = drop.rglob("heartrate_seconds_merged.csv")
    first_line = path.read_text().splitlines()[1]
    person, when, bpm = first_line.split(",")
    with open(path, "a", newline="") as handle:
        handle.write(f"{person},5/12/2016 11:59:50 PM,61\r\n")
        handle.write(f"{person},{when},{int(bpm) + 7}\r\n")  # the same second again, rescored
    write_export(export, records=700, seed=3)
    meltano.run(
        "run", "tap-wearable-csv", "target-postgres", "tap-apple-health", "target-postgres", extra_env=env, timeout=600
    )
    landed = meltano.query(
        "SELECT count(*) FROM bronze.apple_health__records "
        "WHERE ingested_at = (SELECT max(ingested_at) FROM bronze.apple_health__records)"
    )[0][0]
    assert landed > 0

    run = dbt(meltano, "run", *no_margin)
    output = run.stdout + run.stderr
    assert inserted(output, "stg_wearable__heartrate_seconds") == 2
    assert inserted(output, "stg_apple_health__records") == landed
    incremental = heartrate_table(meltano), records_table(meltano)
    rescored = [row for row in incremental[0] if row[0].startswith(person + "|") and row[5] == int(bpm) + 7]
    assert rescored, "the later version of the reading did not replace the first"

    dbt(meltano, "run", "--full-refresh", "--select", "stg_wearable__heartrate_seconds stg_apple_health__records")
    assert (heartrate_table(meltano), records_table(meltano)) == incremental
    counts = meltano.query(
        "SELECT (SELECT count(DISTINCT raw_id) FROM bronze.wearable__heartrate_seconds), "
        "(SELECT count(*) FROM silver.stg_wearable__heartrate_seconds)"
    )[0]
    assert counts[0] == counts[1]


HEALTH_BRONZE = {  # mart.daily_health metric -> (source, bronze table, value from raw_data)
    "steps": ("garmin", "garmin__daily_summary", lambda r: r["totalSteps"]),
    "resting_heart_rate": ("garmin", "garmin__daily_summary", lambda r: r["restingHeartRate"]),
    "average_stress": ("garmin", "garmin__daily_summary", lambda r: r["averageStressLevel"]),
    "sleep_minutes": ("garmin", "garmin__sleep", lambda r: r["dailySleepDTO"]["sleepTimeSeconds"] / 60),
    "sleep_score": ("garmin", "garmin__sleep", lambda r: r["dailySleepDTO"]["sleepScores"]["overall"]["value"]),
    "hrv_ms": ("garmin", "garmin__hrv", lambda r: r["hrvSummary"]["lastNightAvg"]),
    "body_battery_high": ("garmin", "garmin__body_battery", lambda r: max(v[1] for v in r["bodyBatteryValuesArray"])),
}


def garmin_day(table, raw):
    """The calendar day Garmin files the payload under (its own calendarDate)."""
    if table == "garmin__sleep":
        return raw["dailySleepDTO"]["calendarDate"]
    if table == "garmin__hrv":
        return raw["hrvSummary"]["calendarDate"]
    return raw.get("calendarDate") or raw.get("date")


def apple_steps_by_day(meltano):
    """Apple Health steps per calendar date as the export writes it (startDate's own date)."""
    totals: dict[str, float] = {}
    for raw in latest_valid(meltano, "apple_health__records").values():
        if raw["type"] == "HKQuantityTypeIdentifierStepCount":
            totals[raw["startDate"][:10]] = totals.get(raw["startDate"][:10], 0) + float(raw["value"])
    return totals


def test_daily_health_values_are_the_bronze_values_of_the_sources_own_day(meltano, tmp_path):
    """Garmin (API, with a rescored night) and Apple Health on the same days: each value of
    mart.daily_health equals the parsed raw_data of its source's bronze row for that day, the
    precedence var decides which source wins, and a rescored night shows its new score."""
    export = write_export(tmp_path / "export.zip", records=1500, seed=5)
    with FakeGarmin(days=3, end_date=dt.date(2018, 1, 3)) as fake:
        env = {
            **tap_runner.meltano_env("tap-garmin", tap_runner.garmin_config(fake)),
            "TAP_APPLE_HEALTH_EXPORT_PATH": str(export),
        }
        meltano.run(
            "run", "tap-garmin", "target-postgres", "tap-apple-health", "target-postgres", extra_env=env, timeout=600
        )
        rescored = next(d for d in reversed(fake.days_list) if d != fake.no_sleep_day)
        fake.set_sleep_override(rescored, {"sleepScores": {"overall": {"value": 42, "qualifierKey": "POOR"}}})
        # The jobs of meltano.yml: load Garmin, then `transform` (dbt run, then dbt test).
        loaded = meltano.run("run", "garmin", "transform", extra_env=env, timeout=600)
    output = loaded.stdout + loaded.stderr
    assert re.search(r"Finished running .*\d+ view models", output)  # dbt run
    assert re.search(r"Finished running \d+ data tests", output)  # then dbt test
    assert "ERROR=0" in output and not re.search(r"ERROR=[1-9]", output)

    columns = ", ".join(f"{m}, {m}_source" for m in HEALTH_BRONZE)
    mart = {row[0].isoformat(): row[1:] for row in meltano.query(f"SELECT day, {columns} FROM mart.daily_health")}
    checked = 0
    for index, (metric, (source, table, value)) in enumerate(HEALTH_BRONZE.items()):
        for raw in latest_valid(meltano, table).values():
            expected = value(raw) if raw.get("dailySleepDTO", {}).get("sleepTimeSeconds", 1) else None
            if expected is None:
                continue
            got, got_source = mart[garmin_day(table, raw)][2 * index : 2 * index + 2]
            assert (got_source, float(got)) == (source, round(float(expected), 1)), (metric, raw)
            checked += 1
    assert checked >= 3 * 5
    assert mart[rescored.isoformat()][list(HEALTH_BRONZE).index("sleep_score") * 2] == 42

    # Days only Apple Health knows take its steps; with apple_health first it wins everywhere.
    apple = apple_steps_by_day(meltano)
    garmin_days = {
        garmin_day("garmin__daily_summary", r)
        for r in latest_valid(meltano, "garmin__daily_summary").values()
        if r.get("totalSteps") is not None
    }
    assert set(apple) - garmin_days, "the sample export has no day without Garmin steps"
    for day in set(apple) - garmin_days:
        assert (float(mart[day][0]), mart[day][1]) == (round(apple[day]), "apple_health")
    dbt(
        meltano,
        "run",
        "--select",
        "daily_health",
        "--vars",
        json.dumps({"health_precedence": ["apple_health", "garmin"]}),
    )
    for day, steps, source in meltano.query(
        "SELECT day, steps, steps_source FROM mart.daily_health WHERE steps IS NOT NULL"
    ):
        if day.isoformat() in apple:
            assert (steps, source) == (round(apple[day.isoformat()]), "apple_health")
        else:
            assert source == "garmin"
