"""tap-toggl end to end through `meltano run` into PostgreSQL."""

from __future__ import annotations

import pytest

from tests import tap_runner
from tests.fakes.toggl_api import FakeToggl

STATE_ID = "dev:tap-toggl-to-target-postgres"


@pytest.fixture
def fake():
    with FakeToggl(days=60) as server:
        yield server


def entry_rows(meltano):
    return meltano.query("SELECT raw_id, raw_hash, raw_data FROM bronze.toggl__time_entries")


def test_lands_then_only_changes(meltano, fake):
    tap_runner.run_toggl(meltano, fake)
    rows = entry_rows(meltano)
    assert {int(r[0]) for r in rows} == {e["id"] for e in fake.visible_entries()}
    assert {int(r[0]): r[2] for r in rows} == {e["id"]: e for e in fake.visible_entries()}
    for table, expected in (("workspaces", 1), ("projects", 4), ("clients", 2), ("tags", 3)):
        assert meltano.query(f"SELECT count(*) FROM bronze.toggl__{table}")[0][0] == expected

    fake.reset_log()
    tap_runner.run_toggl(meltano, fake)
    assert len(entry_rows(meltano)) == len(rows)  # nothing new, nothing doubled
    asked = [r["query"] for r in fake.requests if r["path"].endswith("/me/time_entries")]
    assert [set(q) for q in asked] == [{"since"}]

    edited = fake.edit_entry(3, description="renamed")
    new = fake.add_entry("fresh")
    tap_runner.run_toggl(meltano, fake)
    versions = meltano.query(
        "SELECT raw_data->>'description' FROM bronze.toggl__time_entries WHERE raw_id = %s ORDER BY ingested_at",
        str(edited["id"]),
    )
    assert [v[0] for v in versions][-1] == "renamed" and len(versions) == 2
    assert meltano.query("SELECT count(*) FROM bronze.toggl__time_entries WHERE raw_id = %s", str(new["id"]))[0][0] == 1


def test_quota_mid_backfill_then_resume_without_gaps(meltano, fake):
    fake.fail_next(402, times=1, path_contains="time_entries", headers={"X-Toggl-Quota-Resets-In": "60"})
    # The first window is refused: the run fails loudly but keeps what it had.
    failed = tap_runner.run_toggl(meltano, fake, check=False)
    assert failed.returncode != 0 and "HTTP 402" in failed.stderr
    tap_runner.run_toggl(meltano, fake)
    rows = entry_rows(meltano)
    ids = [int(r[0]) for r in rows]
    assert sorted(ids) == sorted(e["id"] for e in fake.visible_entries())


def test_budget_spreads_a_backfill_over_runs(meltano, fake):
    for _ in range(3):
        tap_runner.run_toggl(meltano, fake, TAP_TOGGL_MAX_REQUESTS_PER_RUN="2")
    rows = entry_rows(meltano)
    assert sorted(int(r[0]) for r in rows) == sorted(e["id"] for e in fake.visible_entries())
    state = meltano.state(STATE_ID)["singer_state"]["bookmarks"]["toggl__time_entries"]
    assert "cursor" in state and "backfill_through" not in state
