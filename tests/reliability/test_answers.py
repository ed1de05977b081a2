"""Answers that say nothing, streams that fail alone, slow bodies: real `meltano run`s.

- A 200 with an empty body, ``null`` or the wrong JSON container is not "no
  data": it is retried like a 5xx, and if it persists the stream fails
  without moving its bookmark, so a clean re-run lands exactly the source
  (no gap, no duplicate).
- One API stream failing (a 404 on one Garmin endpoint) does not stop the
  others: they land and save their state, the tap exits non-zero naming the
  failed stream, and the next run is exact.
  Partitions too: one Notion database or data source failing leaves the rest.
- A bookmark never passes what a walk skipped: an Open-Meteo answer missing
  days of its window is retried; an object edited while HidrateSpark or
  HubSpot pages are read no longer shifts an offset past another object.
- ``request_timeout`` is a deadline for the whole answer: a trickling body is
  abandoned after it. ``Retry-After: nan`` waits the normal backoff.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from tests.fakes.garmin_api import FakeGarmin
from tests.fakes.http_fake import Request
from tests.fakes.hubspot_api import FakeHubspot
from tests.fakes.notion_api import FakeNotion
from tests.reliability.cases import API_TAPS
from tests.reliability.helpers import assert_exact, output, run

TAPS = {tap.name: tap for tap in API_TAPS}

#: Per tap: the stream whose request gets the bad answers, how many of its requests pass
#: first (a window or day that holds data, so losing it would show), and settings.
GAP_CASES = {
    "tap-openmeteo": ("openmeteo__weather", 1, {}),  # the second 10-day window
    "tap-toggl": ("toggl__time_entries", 2, {}),  # the backfill window holding the entries
    # Without a lookback the re-run starts at the bookmark: a day the bookmark wrongly
    # passed would never be asked for again.
    "tap-garmin": ("garmin__sleep", 2, {"lookback_days": 0}),
}

BAD_ANSWERS = [{"kind": "empty200"}, {"kind": "null200"}, {"kind": "wrong_shape"}]


@pytest.mark.parametrize("name", list(GAP_CASES))
@pytest.mark.parametrize("kind", ["empty200", "wrong_shape"])
def test_bad_answer_that_persists_fails_the_stream_and_moves_no_bookmark(meltano, name, kind):
    tap = TAPS[name]
    stream, skip, settings = GAP_CASES[name]
    with tap.make_fake() as fake:
        fake.inject(kind, times=2, path_contains=tap.fault_path, skip=skip)  # the try and its one retry
        first = run(meltano, tap, fake, max_retries=1, **settings)
        assert fake.pending_faults() == 0
        assert first.returncode != 0, f"{name}: an answer without data passed as 'no data'"
        assert f"stream {stream}" in output(first) and "failed" in output(first), output(first)[-3000:]
        second = run(meltano, tap, fake, **settings)
        assert second.returncode == 0, output(second)[-3000:]
        assert_exact(meltano, tap, fake)


@pytest.mark.parametrize("tap", API_TAPS, ids=lambda t: t.name)
def test_empty_null_and_wrong_container_are_retried_and_the_run_is_exact(meltano, tap):
    with tap.make_fake() as fake:
        for fault in BAD_ANSWERS:
            fake.inject(path_contains=tap.fault_path, skip=tap.fault_skip, **fault)
        result = run(meltano, tap, fake)
        assert fake.pending_faults() == 0, "not every bad answer was served"
        assert result.returncode == 0, f"{tap.name} did not retry the bad answers:\n{output(result)[-3000:]}"
        assert output(result).count("HTTP 200") >= len(BAD_ANSWERS)  # each one logged as a retry
        assert_exact(meltano, tap, fake)


def test_an_open_meteo_answer_missing_days_of_its_window_is_retried(meltano):
    """Right container, wrong content: a window's answer holding one day instead of ten."""
    tap = TAPS["tap-openmeteo"]
    with tap.make_fake() as fake:
        query = {
            "latitude": "52.52",
            "longitude": "13.41",
            "start_date": "2024-01-01",
            "end_date": "2024-01-01",
            "hourly": "temperature_2m",
            "daily": "temperature_2m_max",
        }
        status, one_day, _ = fake.answer(Request("GET", "/v1/archive", query, {}, b""))
        assert status == 200
        fake.inject("wrong_shape", path_contains=tap.fault_path, skip=1, body=json.dumps(one_day))
        result = run(meltano, tap, fake)
        assert fake.pending_faults() == 0
        assert result.returncode == 0, output(result)[-3000:]
        assert "without 10 of the days asked for" in output(result)
        assert_exact(meltano, tap, fake)


def garmin_rows(meltano, table: str) -> dict:
    return dict(meltano.query(f"SELECT raw_id, raw_data FROM bronze.{table}"))


def test_a_404_on_one_garmin_endpoint_leaves_the_other_streams_and_the_next_run_exact(meltano):
    tap = TAPS["tap-garmin"]
    with FakeGarmin(
        days=8, access_token="GARMINACCESS-s3cr3t-0", refresh_token="GARMINREFRESH-s3cr3t-0", activities_per_day=1.0
    ) as fake:
        # The endpoint answers 404 (a 404 is not retried: the stream stops at its first request)
        fake.inject("status", times=1, path_contains="/hrv-service/", status=404)
        # and the second page of the (newest first) activity list: a stream that fails part-way
        fake.inject("status", times=1, path_contains="/activitylist-service/", skip=1, status=404)
        first = run(meltano, tap, fake, activities_page_size=3)
        text = output(first)
        assert fake.pending_faults() == 0
        assert first.returncode != 0
        assert "stream garmin__hrv failed" in text and "stream garmin__activities failed" in text, text[-3000:]
        # The streams read after the failed ones landed in full...
        assert len(garmin_rows(meltano, "garmin__stress")) == len(fake.days_list)
        assert len(garmin_rows(meltano, "garmin__body_battery")) == len(fake.days_list)
        # ...and saved their bookmarks; the failed streams saved none past what they read.
        state = meltano.state("dev:tap-garmin-to-target-postgres")["singer_state"]["bookmarks"]
        for stream in ("garmin__sleep", "garmin__stress", "garmin__body_battery"):
            assert state[stream].get("cursor"), stream
        for stream in ("garmin__hrv", "garmin__activities"):
            assert not state.get(stream, {}).get("cursor"), f"{stream}: {state.get(stream)}"

        fake.reset_log()
        second = run(meltano, tap, fake, activities_page_size=3)
        assert second.returncode == 0, output(second)[-3000:]
        assert_exact(meltano, tap, fake)
        hrv = {d.isoformat(): fake.hrv_payload(d) for d in fake.days_list if fake.hrv_payload(d)}
        assert garmin_rows(meltano, "garmin__hrv") == hrv
        stress = garmin_rows(meltano, "garmin__stress")
        assert stress == {d.isoformat(): fake.stress_payload(d) for d in fake.days_list}


def test_one_failing_notion_database_or_data_source_leaves_the_others(meltano):
    """Partitions are independent too: a database not shared with the integration (404) and a
    data source whose query keeps failing do not stop the other databases and data sources."""
    tap = TAPS["tap-notion"]
    with FakeNotion(token="ntn_NOTIONTOKEN_s3cr3t_77", pages_per_source=30) as fake:
        habits, journal = fake.database_ids()
        source_2025, source_2026 = (s["id"] for s in fake.databases[habits]["data_sources"])
        [journal_source] = (s["id"] for s in fake.databases[journal]["data_sources"])
        fake.inject(
            "status",
            path_contains=f"/databases/{journal}",
            status=404,
            body=json.dumps({"object": "error", "status": 404, "code": "object_not_found"}),
        )
        fake.inject("status", times=2, path_contains=f"/data_sources/{source_2025}/", status=500)
        first = run(meltano, tap, fake, max_retries=1)
        assert fake.pending_faults() == 0
        text = output(first)
        assert first.returncode != 0
        assert f"stream notion__databases {{'database_id': '{journal}'}} failed" in text, text[-3000:]
        assert f"'data_source_id': '{source_2025}'" in text and "notion__pages" in text
        landed = {
            row[0] for row in meltano.query("SELECT raw_data->'parent'->>'data_source_id' FROM bronze.notion__pages")
        }
        assert landed == {source_2026}
        cursors = meltano.state("dev:tap-notion-to-target-postgres")["singer_state"]["bookmarks"]["notion__pages"]
        assert set(cursors["cursors"]) == {source_2026}, cursors

        second = run(meltano, tap, fake)
        assert second.returncode == 0, output(second)[-3000:]
        assert_exact(meltano, tap, fake)
        assert {p for (p,) in meltano.query("SELECT raw_id FROM bronze.notion__pages")} == {
            p["id"] for p in fake.pages[source_2025] + fake.pages[source_2026] + fake.pages[journal_source]
        }


def edit_before_page_two_then_run_again(meltano, tap, fake, path: str, edit):
    """A real run whose second page of ``path`` waits while ``edit`` changes the source (as a
    user editing in the app mid-walk would), then an ordinary second run: both results."""
    fake.inject("hold", path_contains=path, skip=1)
    results = {}
    runner = threading.Thread(target=lambda: results.update(first=run(meltano, tap, fake)))
    runner.start()
    assert fake.held.wait(120)
    with fake._lock:
        edit()
    fake.release()
    runner.join(300)
    return results["first"], run(meltano, tap, fake)


def test_an_object_updated_while_hidrate_pages_are_read_skips_nothing(meltano):
    """Same class as an empty answer: a bookmark (the newest ``updatedAt`` seen) must not pass
    an object the walk skipped. With ``skip`` offsets, an object of page 1 updated before page 2
    is asked moves to the end and the object that slides into its place is never read."""
    tap = TAPS["tap-hidrate"]
    with tap.make_fake() as fake:
        sips = fake.classes["Sip"]
        assert len(sips) > 100  # at least three pages of 50

        def correct_the_first_sip():  # the user corrected that sip in the app
            first_read = min(sips, key=lambda o: (o["updatedAt"], o["objectId"]))
            now = dt.datetime.now(dt.UTC)
            first_read["updatedAt"] = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
            first_read["amount"] += 1

        first, second = edit_before_page_two_then_run_again(meltano, tap, fake, "/classes/Sip", correct_the_first_sip)
        assert first.returncode == 0, output(first)[-3000:]
        assert second.returncode == 0, output(second)[-3000:]
        rows = meltano.query(
            "SELECT DISTINCT ON (raw_id) raw_id, raw_data FROM bronze.hidrate__sips "
            "ORDER BY raw_id, (raw_data->>'updatedAt') DESC"
        )
        assert dict(rows) == {o["objectId"]: o for o in sips}, "a sip was skipped for good"


def test_an_object_edited_while_hubspot_pages_are_read_skips_nothing(meltano):
    """The same with HubSpot's ``after`` offsets: a contact of page 1 edited before page 2."""
    tap = TAPS["tap-hubspot"]
    with FakeHubspot(token="pat-na1-HUBSPOTTOKEN-s3cr3t", per_type=250) as fake:
        contacts = fake.objects["contacts"]

        def correct_the_first_contact():  # the first contact read is now the newest
            stamps = sorted(c["properties"]["lastmodifieddate"] for c in contacts)
            newest = dt.datetime.fromisoformat(stamps[-1].replace("Z", "+00:00")) + dt.timedelta(minutes=1)
            oldest = next(c for c in contacts if c["properties"]["lastmodifieddate"] == stamps[0])
            oldest["properties"]["email"] = "corrected@example.com"
            oldest["properties"]["lastmodifieddate"] = oldest["updatedAt"] = newest.strftime("%Y-%m-%dT%H:%M:%S.000Z")

        first, second = edit_before_page_two_then_run_again(
            meltano, tap, fake, "/contacts/search", correct_the_first_contact
        )
        assert first.returncode == 0, output(first)[-3000:]
        assert second.returncode == 0, output(second)[-3000:]
        rows = meltano.query(
            "SELECT DISTINCT ON (raw_id) raw_id, raw_data FROM bronze.hubspot__contacts "
            "ORDER BY raw_id, (raw_data->>'updatedAt') DESC"
        )
        assert {raw_id for raw_id, _ in rows} == {c["id"] for c in contacts}, "a contact was skipped for good"


def test_a_trickling_body_is_abandoned_at_the_request_timeout(meltano):
    tap = TAPS["tap-openmeteo"]
    with tap.make_fake() as fake:
        fake.inject("trickle", path_contains=tap.fault_path, skip=1, seconds=15)
        result = run(meltano, tap, fake, request_timeout=2)
        assert result.returncode == 0, output(result)[-3000:]
        assert_exact(meltano, tap, fake)
        [trickle] = fake.trickles
        assert trickle["client_hung_up"], f"the client waited for the whole trickle: {trickle}"
        assert trickle["seconds"] < 2 + 1.5, f"a request outlived request_timeout=2: {trickle}"


def test_retry_after_nan_waits_the_backoff(meltano):
    tap = TAPS["tap-openmeteo"]
    with tap.make_fake() as fake:
        fake.inject("status", path_contains=tap.fault_path, skip=1, status=429, headers={"Retry-After": "nan"})
        result = run(meltano, tap, fake, backoff_base_ms=1500)
        assert result.returncode == 0, output(result)[-3000:]
        asked = [r for r in fake.requests if tap.fault_path in r["path"]]
        limited = next(i for i, r in enumerate(asked) if r["status"] == 429)
        waited = asked[limited + 1]["at"] - asked[limited]["at"]
        assert waited >= 1500 / 1000 * 0.75 - 0.05, f"retried after {waited:.3f} s: Retry-After nan skipped the backoff"
        assert_exact(meltano, tap, fake)
