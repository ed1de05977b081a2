"""A `dbt run` with nothing new leaves silver views and mart tables alone (transform/macros/unchanged.sql).

Bronze rows come from real `meltano run`s of tap-wearable-csv over a Fitabase-shaped
drop; dbt runs through Meltano. A relation left alone keeps its oid; one built again
gets a new one (dbt builds under a temporary name and swaps). Whatever is skipped,
the marts must equal a rebuild from scratch.
"""

from __future__ import annotations

import re

from tests.fakes.fitabase_export import write_drop
from tests.test_dbt import dbt

NO_MARGIN = ("--vars", "{incremental_margin_minutes: 0}")  # everything here lands within a minute
MARTS = (
    "user_daily_activity",
    "user_baseline_activity",
    "user_activity_deviation",
    "daily_health",
    "time_by_project_weekly",
    "habits_daily",
    "crm_weekly",
)
#: Marts that read no Fitabase table: new Fitabase rows leave them alone.
NOT_FITABASE = {"mart.time_by_project_weekly", "mart.habits_daily", "mart.crm_weekly"}


def relations(meltano) -> dict[str, int]:
    """{schema.name: oid} of every view and table dbt built."""
    return dict(
        meltano.query(
            "SELECT n.nspname || '.' || c.relname, c.oid::bigint FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('silver', 'mart') AND c.relkind IN ('r', 'v')"
        )
    )


def marts(meltano) -> dict[str, list]:
    return {name: sorted(map(repr, meltano.query(f"SELECT * FROM mart.{name}"))) for name in MARTS}


def load(meltano, drop):
    meltano.run("run", "tap-wearable-csv", "target-postgres", extra_env={"TAP_WEARABLE_CSV_DATA_DIR": str(drop)})


def load_and_build(meltano, drop, people: int, days: int) -> dict[str, int]:
    """A Fitabase drop landed by a real `meltano run`, then one `dbt run`: the relations built."""
    write_drop(drop, people=people, days=days, heartrate_rows_count=50 * people)
    load(meltano, drop)
    dbt(meltano, "run", *NO_MARGIN)
    return relations(meltano)


def test_nothing_new_changes_nothing_and_new_rows_rebuild_what_reads_them(meltano, tmp_path):
    drop = tmp_path / "drop"
    built = load_and_build(meltano, drop, people=2, days=20)
    assert {f"mart.{name}" for name in MARTS} <= set(built)
    before = marts(meltano)

    # Nothing new: no view created again, no mart rebuilt, and dbt's output says so.
    said = dbt(meltano, "run", *NO_MARGIN)
    assert relations(meltano) == built
    left_alone = set(re.findall(r"(\S+) unchanged since its last build: left as it is", said.stdout + said.stderr))
    assert left_alone >= {f"mart.{name}" for name in MARTS}, (said.stdout + said.stderr)[-3000:]
    assert marts(meltano) == before

    # A new Fitabase day: the marts that read it are rebuilt, the silver views stay.
    (daily,) = drop.rglob("dailyActivity_merged.csv")
    someone = daily.read_text().splitlines()[1].split(",")[0]
    with open(daily, "a", newline="") as handle:
        handle.write(f"{someone},5/30/2016,12045,1,1,0,0,0,0,0,1,1,1,1,1\r\n")
    load(meltano, drop)
    dbt(meltano, "run", *NO_MARGIN)
    after = relations(meltano)
    rebuilt = {name for name, oid in after.items() if built[name] != oid}
    assert {"mart.user_daily_activity", "mart.user_baseline_activity", "mart.user_activity_deviation"} <= rebuilt
    assert not rebuilt & NOT_FITABASE
    assert not {name for name in rebuilt if name.startswith("silver.")}
    grown = marts(meltano)
    assert grown != before
    assert re.search(r"12045", repr(grown["user_daily_activity"]))

    # The new day erased on purpose (bronze.erase): no row landed, yet the marts over it
    # are rebuilt and are what they were before it came.
    meltano.query("SELECT bronze.erase('bronze.wearable__daily_activity', %s)", f"raw_id = '{someone}|2016-05-30'")
    dbt(meltano, "run", *NO_MARGIN)
    assert marts(meltano) == before

    # Replacing an incremental model drops the views over it (CASCADE): the next run
    # creates them again, and every mart equals a rebuild from scratch.
    dbt(meltano, "run", "--full-refresh", "--select", "stg_apple_health__records", *NO_MARGIN)
    assert meltano.query("SELECT to_regclass('silver.daily_health_by_source')") == [(None,)]
    dbt(meltano, "run", *NO_MARGIN)
    assert meltano.query("SELECT to_regclass('silver.daily_health_by_source') IS NOT NULL") == [(True,)]
    assert marts(meltano) == before
    dbt(meltano, "run", "--full-refresh", *NO_MARGIN)
    assert marts(meltano) == before


def test_a_changed_variable_rebuilds_the_models_it_changes(meltano, tmp_path):
    built = load_and_build(meltano, tmp_path / "drop", people=1, days=5)
    precedence = "[manual, fitabase, garmin, garmin_export, apple_health, hidrate]"
    dbt(meltano, "run", "--vars", f"{{incremental_margin_minutes: 0, health_precedence: {precedence}}}")
    rebuilt = {name for name, oid in relations(meltano).items() if built[name] != oid}
    assert rebuilt == {"mart.daily_health"}
