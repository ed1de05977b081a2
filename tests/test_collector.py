"""The collector as a real uvicorn process: auth, bad bodies, each app's documented shape, the spool."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import urllib.request

import pytest

from tests.collector_runner import ROOT, TOKEN, collector
from tests.fakes import pushed_apps as apps
from tests.fakes.pushed_apps import basic, bearer, post


@pytest.fixture
def running(tmp_path):
    c = collector(tmp_path).start()
    yield c
    c.stop()


def test_refuses_to_start_without_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    for token, expected in ((None, "COLLECTOR_TOKEN is not set"), ("short", "shorter than 16")):
        run_env = {**env, "COLLECTOR_SPOOL": str(tmp_path / "s.sqlite3"), "COLLECTOR_PORT": "1"}
        if token:
            run_env["COLLECTOR_TOKEN"] = token
        done = subprocess.run(
            [sys.executable, "-m", "collector"],
            cwd=tmp_path,
            env={**run_env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0 and expected in done.stderr
        assert not (tmp_path / "s.sqlite3").exists()


def test_token_three_ways_constant_answer_otherwise_401_and_never_logged(running):
    body = apps.owntracks_location(1764486000)
    for headers, url in (
        ({}, "/owntracks"),
        (bearer("wrong-token-0123456789"), "/owntracks"),
        (basic("me", "wrong"), "/owntracks"),
        ({}, "/owntracks?token=wrong"),
        ({"Authorization": "Basic !!notbase64"}, "/owntracks"),
        ({"Authorization": f"Token {TOKEN}"}, "/owntracks"),
    ):
        status, answer = post(running.url + url, body, headers=headers)
        assert status == 401, (headers, url)
        assert answer == {"error": "missing or wrong token"}
    assert running.spooled() == []
    for headers, url in (
        (bearer(TOKEN), "/owntracks"),
        (basic("me", TOKEN), "/owntracks"),
        ({}, f"/owntracks?token={TOKEN}"),
    ):
        assert post(running.url + url, body, headers=headers) == (200, [])
    assert len(running.spooled("owntracks__locations")) == 3
    running.stop()
    assert TOKEN not in running.log.read_text()
    assert "POST /owntracks 401" in running.log.read_text()


def test_bad_bodies_get_400_413_415_and_store_nothing(tmp_path):
    c = collector(tmp_path, COLLECTOR_MAX_BODY_BYTES="2000").start()
    try:
        url, auth = c.url, bearer(TOKEN)
        status, answer = post(url + "/events", None, raw=b"{not json", headers=auth)
        assert status == 400 and "not JSON" in answer["error"]
        assert post(url + "/events", None, raw=b"{}", headers=auth, content_type="text/plain")[0] == 415
        assert post(url + "/events", None, raw=b"{}", headers=auth, content_type="")[0] == 415
        status, answer = post(url + "/overland", apps.overland_batch(0, 50), headers=auth)
        assert status == 413 and "COLLECTOR_MAX_BODY_BYTES" in answer["error"]
        # A body longer than it says it is (chunked, no Content-Length) is cut while read, too.
        request = urllib.request.Request(
            url + "/overland",
            data=iter([b'{"locations": [' + b" " * 3000 + b"]}"]),
            method="POST",
            headers={**auth, "Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        assert err.value.code == 413
        status, answer = post(url + "/overland", {"points": []}, headers=auth)
        assert status == 400 and '{"locations"' in answer["error"]
        assert post(url + "/owntracks", [apps.owntracks_location(1)], headers=auth)[0] == 400
        assert post(url + "/health-auto-export", {"metrics": []}, headers=auth)[0] == 400
        assert post(url + "/events", "just text", headers=auth)[0] == 400
        assert c.spooled() == []
    finally:
        c.stop()


def test_overland_batch_is_ok_only_once_stored_and_resends_are_stored_again(running):
    batch = apps.overland_batch(0, 50)
    batch["locations"].append(
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {"speed": 3}}
    )  # no timestamp: kept, lands invalid
    url = f"{running.url}/overland?token={TOKEN}"
    assert post(url, batch) == (200, {"result": "ok"})
    assert post(url, batch) == (200, {"result": "ok"})  # the app resends when it missed the answer
    spooled = running.spooled("overland__locations")
    assert len(spooled) == 102
    assert [p for _, p, _ in spooled[:51]] == batch["locations"]
    assert spooled[0][2]["endpoint"] == "/overland" and "token" not in json.dumps(spooled[0][2])


def test_owntracks_messages_user_and_device(running):
    headers = apps.owntracks_headers(TOKEN, "anna", "iphone")
    for message in (
        apps.owntracks_location(1764486000),
        apps.owntracks_transition(1764486100),
        apps.owntracks_card(),
        {"_type": "lwt", "tst": 1764486200},
    ):
        assert post(running.url + "/owntracks", message, headers=headers) == (200, [])
    assert [p["_type"] for _, p, _ in running.spooled("owntracks__messages")] == ["transition", "card", "lwt"]
    ((_, location, context),) = running.spooled("owntracks__locations")
    assert location == apps.owntracks_location(1764486000)
    assert (context["user"], context["device"]) == ("anna", "iphone")


def test_health_auto_export_points_workouts_sections_and_rejections(running):
    body = apps.hae_body(days=2)
    body["data"]["metrics"][0]["data"].append({"qty": 5})  # no date: cannot be keyed
    status, answer = post(running.url + "/health-auto-export", body, headers=bearer(TOKEN))
    assert status == 200
    # 2 days x 3 hours of steps and heart rate, 1 sleep day, 2 stages; 1 workout; 1 state of mind.
    assert answer["received"] == 6 + 6 + 1 + 2 + 1 + 1 + 1
    assert (answer["accepted"], answer["rejected"], answer["invalid"]) == (17, 1, 0)
    assert answer["problems"] == [
        {"index": 6, "outcome": "rejected", "reason": "data.metrics[0] (step_count) point 6 has no readable date"}
    ]
    metrics = running.spooled("health_auto_export__metrics")
    assert len(metrics) == 15
    heart = next(p for _, p, _ in metrics if p["name"] == "heart_rate")
    assert heart == {"name": "heart_rate", "units": "count/min", "data": [body["data"]["metrics"][1]["data"][0]]}
    assert len(running.spooled("health_auto_export__workouts")) == 1
    assert len(running.spooled("health_auto_export__state_of_mind")) == 1


def test_events_accepted_duplicate_invalid_rejected_with_reasons(running):
    url, auth = running.url + "/events", bearer(TOKEN)
    first = [
        apps.event("e-1"),
        apps.event("e-2", score=99),  # 99 breaks the contract (max 10)
        apps.event("e-3", event_type="never_declared"),
        {"event_type": "mood_logged", "event_time": "2026-11-30T08:00:00Z"},
        {"event_id": "e-5", "event_type": "Bad Type!", "event_time": "2026-11-30T08:00:00Z"},
        {"event_id": "e-6", "event_type": "mood_logged", "event_time": "yesterday"},
        apps.event("e-1"),
    ]
    status, answer = post(url, first, headers=auth)
    assert status == 200
    assert {k: answer[k] for k in ("received", "accepted", "invalid", "duplicate", "rejected")} == {
        "received": 7,
        "accepted": 3,
        "invalid": 2,
        "duplicate": 1,
        "rejected": 3,
    }
    reasons = {p["index"]: (p["outcome"], p["reason"]) for p in answer["problems"]}
    assert reasons[1][0] == "invalid" and "99 is greater than the maximum of 10" in reasons[1][1]
    assert reasons[2] == (
        "invalid",
        "no contract for event_type 'never_declared' (never_declared.json in the contracts folder)",
    )
    assert reasons[3][0] == "rejected" and "no event_id" in reasons[3][1]
    assert reasons[4][0] == "rejected" and "event_type must match" in reasons[4][1]
    assert reasons[5][0] == "rejected" and "event_time" in reasons[5][1]
    assert reasons[6] == ("duplicate", "event_id already received")
    # One object works too; a resend is a duplicate; all-rejected is 422.
    status, answer = post(url, apps.event("e-2", score=99), headers=auth)
    assert (status, answer["duplicate"]) == (200, 1)
    status, answer = post(url, {"event_type": "mood_logged"}, headers=auth)
    assert (status, answer["rejected"]) == (422, 1)
    assert [p["event_id"] for _, p, _ in running.spooled()] == ["e-1", "e-2", "e-3"]


def test_health_and_metrics(running):
    with urllib.request.urlopen(running.url + "/health", timeout=5) as answer:
        assert json.loads(answer.read()) == {"status": "ok", "spool_writable": True, "waiting_to_load": 0}
    post(running.url + "/events", [apps.event("m-1"), apps.event("m-1"), {"x": 1}], headers=bearer(TOKEN))
    post(running.url + "/events", "{", headers=bearer(TOKEN))
    with urllib.request.urlopen(running.url + "/health", timeout=5) as answer:
        assert json.loads(answer.read())["waiting_to_load"] == 1
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(running.url + "/metrics", timeout=5)
    assert err.value.code == 401
    request = urllib.request.Request(running.url + "/metrics", headers=bearer(TOKEN))
    with urllib.request.urlopen(request, timeout=5) as answer:
        text = answer.read().decode()
    for line in (
        'collector_items_total{endpoint="/events",outcome="received"} 3.0',
        'collector_items_total{endpoint="/events",outcome="accepted"} 1.0',
        'collector_items_total{endpoint="/events",outcome="duplicate"} 1.0',
        'collector_items_total{endpoint="/events",outcome="rejected"} 1.0',
        'collector_requests_total{endpoint="/events",status="200"} 1.0',
        'collector_requests_total{endpoint="/events",status="400"} 1.0',
        "collector_spool_backlog 1.0",
    ):
        assert line in text, line
    assert 'collector_request_seconds_bucket{endpoint="/events",le="0.05"}' in text


def test_spool_is_owner_only(running):
    post(running.url + "/events", apps.event("p-1"), headers=bearer(TOKEN))
    assert stat.S_IMODE(running.spool.stat().st_mode) == 0o600
    assert stat.S_IMODE(running.spool.parent.stat().st_mode) == 0o700
    for extra in ("-wal", "-shm"):
        path = running.spool.with_name(running.spool.name + extra)
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_a_spool_written_before_dedupe_records_had_a_seq_is_upgraded_in_place(tmp_path):
    c = collector(tmp_path).start()
    numbered = {**apps.event("ignored"), "event_id": 7}  # an integer id is keyed as "7"
    try:
        posted = post(c.url + "/events", [apps.event("u-1"), apps.event(" u-2 "), numbered], headers=bearer(TOKEN))
        assert posted[1]["accepted"] == 3
    finally:
        c.stop()
    # The layout the collector wrote before: event_ids (event_id) only. A compaction of
    # those days had deleted u-1's item (loaded, past retention) and kept its record.
    with sqlite3.connect(c.spool) as conn:
        conn.executescript(
            """
            DROP INDEX event_ids_seq;
            DROP TABLE write_probe;
            CREATE TABLE old_ids (event_id TEXT PRIMARY KEY) WITHOUT ROWID;
            INSERT INTO old_ids SELECT event_id FROM event_ids;
            DROP TABLE event_ids;
            ALTER TABLE old_ids RENAME TO event_ids;
            DELETE FROM items WHERE json_extract(payload, '$.event_id') = 'u-1';
            """
        )
        held = dict(conn.execute("SELECT json_extract(payload, '$.event_id'), seq FROM items"))
    c.start()
    try:
        with sqlite3.connect(c.spool) as conn:
            records = dict(conn.execute("SELECT event_id, seq FROM event_ids"))
        assert records == {"u-2": held[" u-2 "], "7": held[7]}  # each with its item; u-1's went with it
        again = post(c.url + "/events", [apps.event("u-1"), apps.event("u-2"), numbered], headers=bearer(TOKEN))
        assert (again[1]["accepted"], again[1]["duplicate"]) == (1, 2)
    finally:
        c.stop()
