"""tap-hubspot against the fake HubSpot CRM: standard tests, the 10,000-result limit, limits."""

from __future__ import annotations

import atexit
import datetime as dt

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_hubspot.tap import TapHubspot
from tests import tap_runner
from tests.fakes.hubspot_api import FakeHubspot

_FAKE = FakeHubspot(per_type=5).start()
atexit.register(_FAKE.stop)
TestTapHubspot = get_tap_test_class(
    tap_class=TapHubspot,
    config={"api_token": _FAKE.token, "api_url": _FAKE.url, "requests_per_second": 1000},
)


@pytest.fixture
def fake():
    with FakeHubspot(per_type=60) as server:
        yield server


def run_tap(fake, tmp_path, state=None, **overrides):
    config = {
        "api_token": fake.token,
        "api_url": fake.url,
        "requests_per_second": 1000,
        "backoff_base_ms": 10,
        "max_retries": 2,
        **overrides,
    }
    return tap_runner.run_tap("tap-hubspot", config, tmp_path, state)


def ids(messages, object_type):
    return [r["raw_id"] for r in tap_runner.records(messages, f"hubspot__{object_type}")]


def test_a_burst_beyond_the_search_limit_is_read_whole_and_ends(fake, tmp_path):
    burst_at = fake.now - dt.timedelta(days=2)
    fake.add_burst("contacts", 10_250, burst_at)
    fake.edit("contacts", 0, email="later@example.com")  # one object after the burst
    result, messages, state = run_tap(fake, tmp_path, objects=["contacts"])
    assert result.returncode == 0, result.stderr[-3000:]
    got = ids(messages, "contacts")
    assert set(got) == {r["id"] for r in fake.objects["contacts"]}  # nothing skipped
    searches = [r for r in fake.requests if r["path"].endswith("/search")]
    assert len(searches) < 400, "the walk must end, not loop"
    assert all(r["status"] == 200 for r in searches), "never page past the 10,000-result limit"
    assert state["bookmarks"]["hubspot__contacts"]["cursor"] > burst_at.isoformat()


def test_second_run_asks_only_for_changes(fake, tmp_path):
    _, messages, state = run_tap(fake, tmp_path, objects=["contacts", "notes"])
    assert len(ids(messages, "notes")) == 60
    changed = fake.edit("notes", 7, hs_note_body="edited")
    _, messages, _ = run_tap(fake, tmp_path, state=state, objects=["contacts", "notes"])
    assert changed["id"] in ids(messages, "notes") and len(ids(messages, "notes")) <= 2
    assert len(ids(messages, "contacts")) <= 1  # the newest one again, at the cursor instant


def test_configured_properties_are_requested(fake, tmp_path):
    _, messages, _ = run_tap(fake, tmp_path, objects=["contacts"], properties={"contacts": ["email"]})
    row = tap_runner.records(messages, "hubspot__contacts")[0]["raw_data"]
    assert set(row["properties"]) == {"email", "lastmodifieddate", "hs_object_id"}
    assert not any("/properties/" in r["path"] for r in fake.requests)


def test_rate_limits(fake, tmp_path):
    fake.fail_next(
        429,
        path_contains="/search",
        body='{"status":"error","message":"You have reached your secondly limit.",'
        '"errorType":"RATE_LIMIT","policyName":"SECONDLY"}',
    )
    result, messages, _ = run_tap(fake, tmp_path, objects=["companies"])
    assert result.returncode == 0 and len(ids(messages, "companies")) == 60

    fake.fail_next(
        429,
        path_contains="/search",
        times=5,
        body='{"status":"error","message":"You have reached your daily limit.",'
        '"errorType":"RATE_LIMIT","policyName":"DAILY"}',
    )
    result, _, state = run_tap(fake, tmp_path, objects=["companies"])
    assert result.returncode != 0 and "daily request limit" in result.stderr
    assert state is not None


def test_bad_token_and_unknown_object(fake, tmp_path):
    result, _, _ = run_tap(fake, tmp_path, api_token="pat-na1-wrong-token-0000")
    assert result.returncode != 0 and "api_token" in result.stderr
    assert "pat-na1-wrong-token-0000" not in result.stderr
    result, _, _ = run_tap(fake, tmp_path, objects=["deals; drop"])
    assert result.returncode != 0 and "unknown object type" in result.stderr
