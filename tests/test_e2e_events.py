"""Pushed data end to end: real collector process, real HTTP posts in each app's shape,
real `meltano run tap-events target-postgres` into real PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.collector_runner import ROOT, TOKEN, collector, free_port
from tests.fakes import pushed_apps as apps
from tests.fakes.pushed_apps import bearer, post

TABLES = (
    "overland__locations",
    "owntracks__locations",
    "owntracks__messages",
    "health_auto_export__metrics",
    "health_auto_export__workouts",
    "health_auto_export__state_of_mind",
    "events__mood_logged",
    "events__never_declared",
)


def load(meltano, c, check=True, **env):
    return meltano.run(
        "run", "tap-events", "target-postgres", check=check, extra_env={"TAP_EVENTS_SPOOL_PATH": str(c.spool), **env}
    )


def counts(meltano) -> dict[str, int]:
    found = {}
    for table in TABLES:
        exists = meltano.query("SELECT to_regclass(%s)", f"bronze.{table}")[0][0]
        found[table] = meltano.query(f"SELECT count(*) FROM bronze.{table}")[0][0] if exists else 0
    return found


def summary(run) -> str:
    """The tap's closing line (bronze_core.tap.BronzeTap.run_summary)."""
    return [line for line in run.stderr.splitlines() if "BRONZE SUMMARY" in line][-1]


def post_one_of_each(c, events_expected=(3, 1)) -> None:
    auth = bearer(TOKEN)
    assert post(f"{c.url}/overland?token={TOKEN}", apps.overland_batch(0, 50)) == (200, {"result": "ok"})
    owntracks = apps.owntracks_headers(TOKEN, "anna", "iphone")
    for message in (
        apps.owntracks_location(1796022000),
        apps.owntracks_location(1796022060),
        apps.owntracks_transition(1796022100),
        apps.owntracks_card(),
    ):
        assert post(c.url + "/owntracks", message, headers=owntracks) == (200, [])
    assert post(c.url + "/health-auto-export", apps.hae_body(days=2), headers=auth)[0] == 200
    status, answer = post(
        c.url + "/events",
        [
            apps.event("e-1"),
            apps.event("e-2", score=99),
            apps.event("e-3", event_type="never_declared"),
            apps.event("e-1"),
        ],
        headers=auth,
    )
    assert (status, answer["accepted"], answer["duplicate"]) == (200, *events_expected)


@pytest.fixture
def running(tmp_path):
    c = collector(tmp_path).start()
    yield c
    c.stop()


def test_each_app_lands_once_and_resends_land_nothing_new(meltano, running):
    post_one_of_each(running)
    load(meltano, running)
    first = counts(meltano)
    assert first == {
        "overland__locations": 50,
        "owntracks__locations": 2,
        "owntracks__messages": 2,
        "health_auto_export__metrics": 6 + 6 + 1 + 2,
        "health_auto_export__workouts": 1,
        "health_auto_export__state_of_mind": 1,
        "events__mood_logged": 2,
        "events__never_declared": 1,
    }
    statuses = dict(
        meltano.query(
            "SELECT raw_id, validation_status || ':' || coalesce(error_message, '') FROM bronze.events__mood_logged"
        )
    )
    assert statuses["e-1"] == "valid:"
    assert statuses["e-2"].startswith("invalid:") and "greater than the maximum of 10" in statuses["e-2"]
    assert meltano.query("SELECT validation_status, error_message FROM bronze.events__never_declared") == [
        ("invalid", "no contract for this event_type (never_declared.json in contracts_dir)")
    ]
    heart = meltano.query(
        "SELECT raw_id, raw_data, source_timestamp::text, metadata->>'endpoint' "
        "FROM bronze.health_auto_export__metrics WHERE raw_data->>'name' = 'heart_rate' "
        "ORDER BY raw_id LIMIT 1"
    )[0]
    assert heart[0] == "heart_rate|Apple Watch|2026-11-30T07:00:00+00:00"
    assert heart[1]["data"][0] == {
        "date": "2026-11-30 02:00:00 -0500",
        "Min": 55,
        "Avg": 63.5,
        "Max": 88,
        "source": "Apple Watch",
    }
    assert (heart[2], heart[3]) == ("2026-11-30 07:00:00+00", "/health-auto-export")
    assert meltano.query("SELECT raw_id FROM bronze.owntracks__locations ORDER BY raw_id") == [
        ("anna/iphone|1796022000",),
        ("anna/iphone|1796022060",),
    ]
    assert meltano.query(
        "SELECT count(*) FROM bronze.overland__locations "
        "WHERE raw_id LIKE 'iphone-overland|2026-11-30T07:%%' AND validation_status = 'valid'"
    ) == [(50,)]

    # The apps send it all again (Overland missed the answer, "previous 7 days", a retried event):
    post_one_of_each(running, events_expected=(0, 4))  # the collector knows these event_ids
    second = load(meltano, running)
    assert counts(meltano) == first
    assert "tap-events: 71 records sent" in summary(second), summary(second)  # read again, landed as no-ops
    state = meltano.state("dev:tap-events-to-target-postgres")
    with sqlite3.connect(running.spool) as conn:
        last = conn.execute("SELECT max(seq) FROM items WHERE stream = 'overland__locations'").fetchone()[0]
    assert state["singer_state"]["bookmarks"]["overland__locations"] == {"seq": last}
    # Nothing new: nothing read.
    assert "tap-events: 0 records sent" in summary(load(meltano, running))


def test_kill_9_during_concurrent_load_loses_nothing_acknowledged(meltano, running):
    acked: list[str] = []
    attempted: list[list[dict]] = []
    lock, stop = threading.Lock(), threading.Event()

    def client(n: int) -> None:
        batch_no = 0
        while not stop.is_set():
            batch = [apps.event(f"c{n}-b{batch_no}-{i}", score=1 + i % 10) for i in range(20)]
            batch_no += 1
            with lock:
                attempted.append(batch)
            try:
                status, answer = post(running.url + "/events", batch, headers=bearer(TOKEN), timeout=10)
            except OSError:
                return  # the collector died mid-request: not acknowledged
            if status == 200 and answer["accepted"] == 20:
                with lock:
                    acked.extend(e["event_id"] for e in batch)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acked) < 400 and time.monotonic() < deadline:
        time.sleep(0.02)
    running.kill9()  # right after answers went out, with requests in flight
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acked) >= 400
    running.start()  # same spool
    load(meltano, running)
    landed = meltano.query("SELECT raw_id, count(*) FROM bronze.events__mood_logged GROUP BY raw_id")
    per_id = dict(landed)
    assert set(acked) <= set(per_id)
    assert set(per_id.values()) == {1}
    # Clients resend what they are not sure of: nothing lands twice.
    for batch in attempted:
        assert post(running.url + "/events", batch, headers=bearer(TOKEN))[0] == 200
    load(meltano, running)
    after = dict(meltano.query("SELECT raw_id, count(*) FROM bronze.events__mood_logged GROUP BY raw_id"))
    assert set(after) == {e["event_id"] for batch in attempted for e in batch}
    assert set(after.values()) == {1}


def test_postgres_down_collector_keeps_accepting_next_load_lands_everything(meltano, running):
    post_one_of_each(running)
    dead = f"postgresql://nobody:nothing@127.0.0.1:{free_port()}/bronze"
    failed = load(meltano, running, check=False, DATABASE_URL=dead)
    assert failed.returncode != 0
    # The collector never needed the database: it still takes everything.
    assert post(f"{running.url}/overland?token={TOKEN}", apps.overland_batch(50, 10)) == (200, {"result": "ok"})
    load(meltano, running)
    assert counts(meltano)["overland__locations"] == 60
    assert counts(meltano)["events__mood_logged"] == 2


def test_loaded_items_are_compacted_after_retention_and_loading_goes_on(meltano, running):
    post(f"{running.url}/overland?token={TOKEN}", apps.overland_batch(0, 20))
    load(meltano, running, TAP_EVENTS_RETENTION_DAYS="0")
    post(f"{running.url}/overland?token={TOKEN}", apps.overland_batch(20, 5))
    second = load(meltano, running, TAP_EVENTS_RETENTION_DAYS="0")
    assert "overland__locations: compacted 20 loaded spool items" in second.stderr
    assert counts(meltano)["overland__locations"] == 25
    with sqlite3.connect(running.spool) as conn:
        left = conn.execute("SELECT count(*) FROM items WHERE stream = 'overland__locations'").fetchone()[0]
    assert left == 5  # the 20 loaded before the run are gone; the 5 just loaded wait for the next run
    # The default retention (7 days) keeps what was just loaded.
    third = load(meltano, running)
    assert "compacted" not in third.stderr and counts(meltano)["overland__locations"] == 25


def test_the_demo_feed_posts_one_batch_per_app_and_tap_events_lands_them(meltano, tmp_path):
    spool = tmp_path / "demo" / "spool.sqlite3"
    fed = subprocess.run(
        [sys.executable, "-m", "collector.demo_feed", "--spool", str(spool)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fed.returncode == 0, fed.stdout + fed.stderr
    assert fed.stdout.count("  posted samples/collector/") == 5
    meltano.run(
        "--environment=demo",
        "run",
        "--full-refresh",
        "tap-events",
        "target-postgres",
        extra_env={"TAP_EVENTS_SPOOL_PATH": str(spool)},
    )
    tables = meltano.query(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'bronze' AND column_name = 'raw_id'"
    )
    landed = {name: meltano.query(f'SELECT count(*) FROM bronze."{name}"')[0][0] for (name,) in tables}
    assert {table: n for table, n in landed.items() if n} == {
        "overland__locations": 20,
        "owntracks__locations": 1,
        "owntracks__messages": 1,
        "health_auto_export__metrics": 15,
        "health_auto_export__workouts": 1,
        "health_auto_export__state_of_mind": 1,
        "events__mood_logged": 3,
        "events__page_view": 1,
    }


def spooled_event_ids(c) -> list[str]:
    """The dedupe records the spool holds (what it answers ``duplicate`` for)."""
    with sqlite3.connect(c.spool) as conn:
        return [row[0] for row in conn.execute("SELECT event_id FROM event_ids ORDER BY event_id")]


def test_dedupe_records_go_with_compacted_items_and_a_late_resend_lands_nothing_new(meltano, running):
    auth = bearer(TOKEN)
    first = [apps.event("r-1"), apps.event("r-2", score=99)]
    assert post(running.url + "/events", first, headers=auth)[1]["accepted"] == 2
    load(meltano, running)
    assert post(running.url + "/events", apps.event("r-3"), headers=auth)[1]["accepted"] == 1
    # Retention 0: this run compacts what the first run loaded (r-1, r-2) and their dedupe
    # records; r-3, loaded by this run, stays in the spool with its record until the next.
    second = load(meltano, running, TAP_EVENTS_RETENTION_DAYS="0")
    assert "events__mood_logged: compacted 2 loaded spool items" in second.stderr
    assert spooled_event_ids(running) == ["r-3"]
    # The app resends all three after the retention: r-3 is still known, r-1 and r-2 are taken again...
    status, answer = post(running.url + "/events", [*first, apps.event("r-3")], headers=auth)
    assert (status, answer["accepted"], answer["duplicate"]) == (200, 2, 1)
    assert spooled_event_ids(running) == ["r-1", "r-2", "r-3"]
    # ...and land nothing new: bronze's (raw_id, raw_hash) key holds them already.
    third = load(meltano, running)
    assert "tap-events: 2 records sent" in summary(third), summary(third)
    assert meltano.query(
        "SELECT raw_id, validation_status, count(*) FROM bronze.events__mood_logged GROUP BY 1, 2 ORDER BY 1"
    ) == [("r-1", "valid", 1), ("r-2", "invalid", 1), ("r-3", "valid", 1)]


def test_a_full_disk_answers_503_keeps_running_and_loses_nothing_acknowledged(meltano, tmp_path):
    auth = bearer(TOKEN)
    c = collector(tmp_path)
    # Every file the collector writes stops growing at 512 KiB: the spool's write-ahead log fills up.
    c.start(file_size_limit=512 * 1024)
    acked: list[str] = []
    try:
        refused = None
        for n in range(100):
            batch = [apps.event(f"d-{n}-{i}", score=1 + i % 10) for i in range(50)]
            status, answer = post(c.url + "/events", batch, headers=auth)
            if status != 200:
                refused = (status, answer, batch)
                break
            assert answer["accepted"] == 50
            acked += [e["event_id"] for e in batch]
        assert refused is not None and acked, "the spool never filled up"
        status, answer, batch = refused
        assert status == 503, (status, answer)
        assert answer["error"].startswith("could not store the request: the spool is not writable ("), answer
        with pytest.raises(urllib.error.HTTPError) as health:
            urllib.request.urlopen(c.url + "/health", timeout=10)
        report = json.loads(health.value.read())
        assert health.value.code == 503 and report["spool_writable"] is False, report
        assert report["status"].startswith("spool not writable ("), report
        # Nothing of the refused batch was half-accepted, everything acknowledged is there.
        assert sorted(p["event_id"] for _, p, _ in c.spooled()) == sorted(acked)
        # It keeps running and keeps refusing clearly (Overland is never told "ok").
        overland = post(f"{c.url}/overland?token={TOKEN}", apps.overland_batch(0, 200))
        assert overland[0] == 503 and overland[1] != {"result": "ok"}, overland
        assert c.proc.poll() is None
        # Room again: /health's own probe write sees it within seconds, without a restart or a post.
        c.lift_file_size_limit()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(c.url + "/health", timeout=10) as answer:
                    assert json.loads(answer.read())["spool_writable"] is True
                    break
            except urllib.error.HTTPError:
                time.sleep(0.5)
        else:
            raise AssertionError("/health still says the spool is not writable")
        assert post(c.url + "/events", apps.event("d-after"), headers=auth)[1]["accepted"] == 1
        acked.append("d-after")
    finally:
        c.stop()
    c.start()  # and after a restart
    assert sorted(p["event_id"] for _, p, _ in c.spooled()) == sorted(acked)
    with urllib.request.urlopen(c.url + "/health", timeout=10) as answer:
        assert json.loads(answer.read())["spool_writable"] is True
    # The refused batch, sent again, is new to the collector: none of it had been kept.
    status, answer = post(c.url + "/events", batch, headers=auth)
    assert (status, answer["accepted"], answer["duplicate"]) == (200, 50, 0)
    try:
        load(meltano, c)
    finally:
        c.stop()
    landed = dict(meltano.query("SELECT raw_id, count(*) FROM bronze.events__mood_logged GROUP BY raw_id"))
    assert set(landed) == set(acked) | {e["event_id"] for e in batch}
    assert set(landed.values()) == {1}
