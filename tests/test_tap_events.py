"""tap-events as its own process on a spool the collector filled over HTTP: raw_ids and times."""

from __future__ import annotations

import copy

from tests.collector_runner import ROOT, TOKEN, collector
from tests.fakes import pushed_apps as apps
from tests.fakes.pushed_apps import bearer, post
from tests.tap_runner import records, run_tap


def test_the_same_moment_in_another_zone_is_the_same_raw_id_and_state_is_the_spool_position(tmp_path):
    c = collector(tmp_path).start()
    try:
        body = apps.hae_body(days=1)
        assert post(c.url + "/health-auto-export", body, headers=bearer(TOKEN))[0] == 200
        # The phone travelled: the "previous 7 days" resend writes the first sample at +01:00.
        moved = copy.deepcopy(body)
        moved["data"]["metrics"][0]["data"][0]["date"] = "2026-11-30 08:00:00 +0100"  # = 07:00Z
        assert post(c.url + "/health-auto-export", moved, headers=bearer(TOKEN))[0] == 200
        feature = apps.overland_feature(0)
        later = copy.deepcopy(feature)
        later["properties"]["timestamp"] = "2026-11-30T08:00:00+01:00"  # the same instant as 07:00Z
        assert post(f"{c.url}/overland?token={TOKEN}", {"locations": [feature, later]}) == (200, {"result": "ok"})
    finally:
        c.stop()
    config = {"spool_path": str(c.spool), "contracts_dir": str(ROOT / "schemas" / "events")}
    done, messages, state = run_tap("tap-events", config, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [r for r in records(messages, "health_auto_export__metrics") if r["raw_data"]["name"] == "step_count"]
    assert len(steps) == 6
    first_ids = {r["raw_id"] for r in steps[:3]}
    assert steps[3]["raw_id"] == steps[0]["raw_id"] == "step_count|iPhone|2026-11-30T07:00:00+00:00"
    assert {r["raw_id"] for r in steps[3:]} == first_ids
    assert steps[3]["raw_hash"] != steps[0]["raw_hash"]  # spelled differently: a second version, as bronze keeps
    points = records(messages, "overland__locations")
    assert [p["raw_id"] for p in points] == ["iphone-overland|2026-11-30T07:00:00+00:00"] * 2
    assert [p["source_timestamp"] for p in points] == ["2026-11-30T07:00:00+00:00"] * 2
    assert state["bookmarks"]["overland__locations"] == {"seq": 2 * 11 + 2}  # 11 items a day of HAE
    # Nothing new since: nothing read, the position kept.
    done, messages, again = run_tap("tap-events", config, tmp_path, state=state)
    assert done.returncode == 0 and not [m for m in messages if m["type"] == "RECORD"]
    assert again["bookmarks"] == state["bookmarks"]
