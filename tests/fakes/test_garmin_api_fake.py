"""The fake Garmin Connect API must behave like the service it stands in for.

Everything goes over real HTTP with urllib, the way a client would see it.
"""

from __future__ import annotations

import base64
import http.client
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.fakes.garmin_api import TOKEN_PATH, FakeGarmin

ROOT = Path(__file__).resolve().parents[2]
ACTIVITIES = "/activitylist-service/activities/search/activities"


def call(fake, path, token=None, method="GET", form=None, basic="GARMIN_CONNECT_MOBILE_ANDROID_DI"):
    """(status, headers, parsed JSON body or None); HTTP errors are answers too, not exceptions."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + base64.b64encode(f"{basic}:".encode()).decode(),
        }
    request = urllib.request.Request(fake.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, head, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, dict(error.headers), error.read()
    return status, head, json.loads(raw) if raw else None


def refresh(fake, refresh_token):
    return call(
        fake,
        TOKEN_PATH,
        method="POST",
        form={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": "GARMIN_CONNECT_MOBILE_ANDROID_DI",
        },
    )


@pytest.fixture
def fake():
    with FakeGarmin(days=7) as server:
        yield server


def test_data_needs_a_bearer_token(fake):
    day = fake.days_list[0]
    status, _, body = call(fake, f"/wellness-service/wellness/dailyStress/{day}")
    assert status == 401 and body["error"] == "Unauthorized"
    assert call(fake, f"/wellness-service/wellness/dailyStress/{day}", "wrong")[0] == 401
    assert call(fake, f"/wellness-service/wellness/dailyStress/{day}", fake.access_token)[0] == 200
    assert call(fake, "/no/such/thing", fake.access_token)[0] == 404
    logged = json.dumps(fake.requests)
    assert fake.access_token not in logged and "Bearer" not in logged
    assert [r["status"] for r in fake.requests] == [401, 401, 200, 404]


def test_sleep_payload_shape_and_the_unworn_night(fake):
    day = fake.days_list[-1]
    status, _, body = call(
        fake,
        f"/wellness-service/wellness/dailySleepData/{fake.display_name}?date={day}&nonSleepBufferMinutes=60",
        fake.access_token,
    )
    assert status == 200
    dto = body["dailySleepDTO"]
    assert dto["calendarDate"] == day.isoformat()
    assert 6 * 3600 <= dto["sleepTimeSeconds"] <= 9 * 3600
    assert dto["sleepTimeSeconds"] == dto["deepSleepSeconds"] + dto["lightSleepSeconds"] + dto["remSleepSeconds"]
    assert (
        isinstance(dto["sleepStartTimestampGMT"], int) and dto["sleepEndTimestampGMT"] > dto["sleepStartTimestampGMT"]
    )
    assert dto["sleepStartTimestampLocal"] - dto["sleepStartTimestampGMT"] == 3_600_000  # UTC+1
    assert isinstance(dto["sleepScores"]["overall"]["value"], int)
    assert body["sleepMovement"][0]["startGMT"].endswith(".0") and 48 <= body["restingHeartRate"] <= 62
    assert body == fake.sleep_payload(day)

    night = fake.no_sleep_day
    assert night in fake.days_list[1:-1]
    sparse = fake.sleep_payload(night)
    assert sparse["dailySleepDTO"]["id"] is None and sparse["dailySleepDTO"]["sleepTimeSeconds"] is None
    assert sparse["sleepMovement"] == []
    assert call(fake, f"/hrv-service/hrv/{night}", fake.access_token)[::2] == (204, None)
    assert call(fake, f"/hrv-service/hrv/{day}", fake.access_token)[0] == 200


def test_activities_are_newest_first_and_paging_ends_empty():
    with FakeGarmin(days=20, activities_per_day=1.0) as fake:
        pages, start = [], 0
        while True:
            _, _, page = call(fake, f"{ACTIVITIES}?start={start}&limit=7", fake.access_token)
            pages.append(page)
            if not page:
                break
            start += len(page)
        everything = [a for page in pages for a in page]
        assert [len(p) for p in pages] == [7, 7, 6, 0]
        assert everything == fake.activities()
        begins = [a["beginTimestamp"] for a in everything]
        assert begins == sorted(begins, reverse=True) and len(set(begins)) == 20
        assert all(len(str(a["activityId"])) == 11 for a in everything)

        first, last = fake.days_list[3], fake.days_list[5]
        _, _, window = call(fake, f"{ACTIVITIES}?start=0&limit=50&startDate={first}&endDate={last}", fake.access_token)
        assert [a["startTimeLocal"][:10] for a in window] == [str(last), str(fake.days_list[4]), str(first)]


def test_refresh_rotates_tokens_and_expiry_forces_it(fake):
    old_access, old_refresh = fake.access_token, fake.refresh_token
    stress = f"/wellness-service/wellness/dailyStress/{fake.days_list[0]}"
    fake.expire_access_token()
    assert call(fake, stress, old_access)[0] == 401

    status, _, tokens = refresh(fake, old_refresh)
    assert status == 200 and fake.refresh_count == 1
    assert (tokens["access_token"], tokens["refresh_token"]) == ("fake-access-1", "fake-refresh-1")
    assert (fake.access_token, fake.refresh_token) == ("fake-access-1", "fake-refresh-1")
    assert tokens["expires_in"] == 3600 and tokens["token_type"] == "Bearer"
    assert call(fake, stress, tokens["access_token"])[0] == 200
    assert call(fake, stress, old_access)[0] == 401
    assert refresh(fake, old_refresh)[0] == 400  # the rotated-out refresh token is spent
    assert fake.data_requests() == [r for r in fake.requests if r["path"] == stress]
    assert "fake-refresh" not in json.dumps(fake.requests)

    fake.revoke()
    assert call(fake, stress, fake.access_token)[0] == 401
    status, _, body = refresh(fake, fake.refresh_token)
    assert status == 400 and body["error"] == "invalid_grant"


def test_fail_next_answers_429_with_retry_after_once(fake):
    fake.fail_next(429, path_contains="dailyStress", headers={"Retry-After": "1"})
    summary = f"/usersummary-service/usersummary/daily/{fake.display_name}?calendarDate={fake.days_list[0]}"
    assert call(fake, summary, fake.access_token)[0] == 200  # other paths are untouched
    stress = f"/wellness-service/wellness/dailyStress/{fake.days_list[0]}"
    status, headers, _ = call(fake, stress, fake.access_token)
    assert status == 429 and headers["Retry-After"] == "1"
    assert call(fake, stress, fake.access_token)[0] == 200
    assert [r["status"] for r in fake.requests] == [200, 429, 200]


def test_die_after_closes_connections_unanswered(fake):
    stress = f"/wellness-service/wellness/dailyStress/{fake.days_list[0]}"
    fake.die_after(2)
    assert call(fake, stress, fake.access_token)[0] == 200
    assert call(fake, stress, fake.access_token)[0] == 200
    for path in (stress, TOKEN_PATH):  # a dead server answers nothing, token service included
        with pytest.raises((OSError, http.client.HTTPException)) as dropped:
            call(fake, path, fake.access_token)
        assert not isinstance(dropped.value, urllib.error.HTTPError)
    fake.die_after(None)
    assert call(fake, stress, fake.access_token)[0] == 200


def test_same_arguments_same_data_over_http():
    one, two = FakeGarmin(days=5, seed=3), FakeGarmin(days=5, seed=3)
    with one, two:
        for path in (
            f"/wellness-service/wellness/dailyHeartRate/{one.display_name}?date={one.days_list[2]}",
            f"/wellness-service/wellness/bodyBattery/reports/daily"
            f"?startDate={one.days_list[0]}&endDate={one.days_list[-1]}",
            f"{ACTIVITIES}?start=0&limit=100",
        ):
            assert call(one, path, one.access_token)[2] == call(two, path, two.access_token)[2]
    hr = one.heart_rate_payload(one.days_list[1])
    assert len(hr["heartRateValues"]) == 720 and 48 <= hr["restingHeartRate"] <= 62
    assert len(one.body_battery_payload(one.days_list[0])["bodyBatteryValuesArray"]) > 0
    assert one.sleep_payload(one.days_list[1]) != FakeGarmin(days=5, seed=4).sleep_payload(one.days_list[1])


def test_runs_as_a_script_for_the_demo():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.garmin_api", "--port", "0", "--days", "3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("fake garmin listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        with urllib.request.urlopen(url + "/userprofile-service/socialProfile", timeout=5) as response:
            pytest.fail(f"unauthenticated profile answered {response.status}")
    except urllib.error.HTTPError as error:
        assert error.code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.stderr.read() == ""
