"""tap-garmin end to end: real `meltano run`, real tap and loader processes, real PostgreSQL.

Only Garmin is faked (tests/fakes/garmin_api.py). Each test has its own
database and Meltano system database.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bronze_core.hashing import payload_hash
from tests.fakes.garmin_api import FakeGarmin

DAYS = 10
STATE_ID = "dev:tap-garmin-to-target-postgres"
DAILY_TABLES = {
    "garmin__sleep": "sleep_payload",
    "garmin__daily_summary": "daily_summary_payload",
    "garmin__heart_rate": "heart_rate_payload",
    "garmin__stress": "stress_payload",
}


@pytest.fixture
def fake():
    with FakeGarmin(days=DAYS) as server:
        yield server


def garmin_env(fake, **extra):
    first = fake.days_list[0]
    return {
        "TAP_GARMIN_API_URL": fake.url,
        "TAP_GARMIN_AUTH_URL": fake.url + "/di-oauth2-service/oauth/token",
        "TAP_GARMIN_ACCESS_TOKEN": fake.access_token,
        "TAP_GARMIN_REFRESH_TOKEN": fake.refresh_token,
        "TAP_GARMIN_START_DATE": first.isoformat(),
        "TAP_GARMIN_END_DATE": fake.days_list[-1].isoformat(),
        "TAP_GARMIN_BACKOFF_BASE_MS": "10",
        "TAP_GARMIN_MAX_RETRIES": "2",
        **extra,
    }


def run_garmin(meltano, fake, *flags, check=True, **extra):
    return meltano.run("run", *flags, "tap-garmin", "target-postgres", check=check, extra_env=garmin_env(fake, **extra))


def table_rows(meltano, table):
    return meltano.query(f"SELECT raw_id, raw_hash, raw_data, validation_status FROM bronze.{table}")


def counts(meltano):
    tables = [
        t
        for (t,) in meltano.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'bronze' ORDER BY 1"
        )
    ]
    return {t: meltano.query(f"SELECT count(*) FROM bronze.{t}")[0][0] for t in tables}


def test_rows_land_as_the_api_sent_them(meltano, fake):
    run_garmin(meltano, fake)

    for table, payload_of in DAILY_TABLES.items():
        rows = {raw_id: (raw_hash, raw_data) for raw_id, raw_hash, raw_data, _ in table_rows(meltano, table)}
        assert sorted(rows) == [d.isoformat() for d in fake.days_list], table
        for day in fake.days_list:
            expected = getattr(fake, payload_of)(day)
            raw_hash, raw_data = rows[day.isoformat()]
            assert raw_data == expected, f"{table} {day} differs from what the API sent"
            assert raw_hash == payload_hash(expected)

    activities = {r[0]: r[2] for r in table_rows(meltano, "garmin__activities")}
    assert activities == {str(a["activityId"]): a for a in fake.activities()}

    # Time columns are timestamptz and hold UTC instants.
    types = dict(
        meltano.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'bronze' AND table_name = 'garmin__sleep'"
        )
    )
    assert types["source_timestamp"] == "timestamp with time zone"
    assert types["ingested_at"] == "timestamp with time zone"
    (meta,) = meltano.query("SELECT metadata FROM bronze.garmin__sleep LIMIT 1")[0]
    assert meta["endpoint"].startswith("/wellness-service/wellness/dailySleepData/")
    assert meta["http_status"] == 200 and meta["run_id"] and meta["tap_version"]
    assert "Authorization" not in json.dumps(meta) and fake.access_token not in json.dumps(meta)


def test_second_run_is_incremental_and_lands_nothing(meltano, fake):
    run_garmin(meltano, fake)
    before = counts(meltano)
    state = meltano.state(STATE_ID)
    bookmark = state["singer_state"]["bookmarks"]["garmin__sleep"]["cursor"]
    assert bookmark.startswith((fake.days_list[-2].isoformat(), fake.days_list[-1].isoformat()))

    fake.reset_log()
    run_garmin(meltano, fake)
    assert counts(meltano) == before

    lookback_start = fake.days_list[-1] - dt.timedelta(days=3 + 1)
    sleep_dates = sorted(r["query"]["date"] for r in fake.data_requests() if "dailySleepData" in r["path"])
    assert sleep_dates, "the second run asked for no sleep days"
    assert dt.date.fromisoformat(sleep_dates[0]) >= lookback_start, sleep_dates
    assert len(sleep_dates) <= 5


def test_rescored_night_lands_as_a_new_version(meltano, fake):
    run_garmin(meltano, fake)
    night = fake.days_list[-1]
    first = meltano.query("SELECT raw_hash, ingested_at FROM bronze.garmin__sleep WHERE raw_id = %s", night.isoformat())
    fake.set_sleep_override(night, {"sleepScores": {"overall": {"value": 42, "qualifierKey": "POOR"}}})
    run_garmin(meltano, fake)
    versions = meltano.query(
        "SELECT raw_hash, raw_data, ingested_at FROM bronze.garmin__sleep WHERE raw_id = %s ORDER BY ingested_at",
        night.isoformat(),
    )
    assert len(versions) == 2
    assert versions[0][0] == first[0][0] and versions[0][2] == first[0][1]  # the old row is untouched
    assert versions[1][1]["dailySleepDTO"]["sleepScores"]["overall"]["value"] == 42


def test_full_refresh_refetches_everything_without_duplicates(meltano, fake):
    run_garmin(meltano, fake)
    before = counts(meltano)
    fake.reset_log()
    run_garmin(meltano, fake, "--full-refresh")
    assert counts(meltano) == before
    sleep_days = {r["query"]["date"] for r in fake.data_requests() if "dailySleepData" in r["path"]}
    assert sleep_days == {d.isoformat() for d in fake.days_list}


def test_failed_run_resumes_without_gaps_or_duplicates(meltano, fake):
    fake.die_after(25)  # the server dies part-way through the first run
    result = run_garmin(meltano, fake, check=False)
    assert result.returncode != 0
    fake.die_after(None)
    run_garmin(meltano, fake)

    with FakeGarmin(days=DAYS) as reference:
        pass
    for table, payload_of in DAILY_TABLES.items():
        rows = table_rows(meltano, table)
        ids = [r[0] for r in rows]
        assert sorted(ids) == [d.isoformat() for d in fake.days_list], table  # no gap, no double
        for raw_id, _, raw_data, _ in rows:
            assert raw_data == getattr(reference, payload_of)(dt.date.fromisoformat(raw_id))


def test_expired_token_is_refreshed_and_run_completes(meltano, fake, tmp_path):
    token_file = tmp_path / "garmin_tokens.json"
    token_file.write_text(json.dumps({"access_token": fake.access_token, "refresh_token": fake.refresh_token}))
    fake.expire_access_token()
    result = run_garmin(
        meltano, fake, TAP_GARMIN_TOKEN_FILE=str(token_file), TAP_GARMIN_ACCESS_TOKEN="", TAP_GARMIN_REFRESH_TOKEN=""
    )
    assert fake.refresh_count == 1
    saved = json.loads(token_file.read_text())
    assert saved["access_token"] == fake.access_token  # the new pair was kept
    assert counts(meltano)["garmin__sleep"] == DAYS
    assert fake.access_token not in result.stdout + result.stderr


def test_revoked_token_fails_clearly_without_leaking_it(meltano, fake):
    fake.revoke()
    result = run_garmin(meltano, fake, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "refresh" in output and "token_file" in output
    assert "fake-access" not in output and "fake-refresh" not in output
