"""tap-airtable against the fake Airtable API: standard tests, paging, modes, names, errors."""

from __future__ import annotations

import atexit
import re

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_airtable.streams import stream_name
from tap_airtable.tap import TapAirtable
from tests import tap_runner
from tests.fakes.airtable_api import BASE_ID, FakeAirtable

TABLES = [{"name": "Inventory", "last_modified_field": "Last modified"}, "Body measurements"]

_FAKE = FakeAirtable(rows=12).start()
atexit.register(_FAKE.stop)
TestTapAirtable = get_tap_test_class(
    tap_class=TapAirtable,
    config={
        "api_token": _FAKE.token,
        "base_id": BASE_ID,
        "api_url": _FAKE.url + "/v0",
        "tables": TABLES,
        "requests_per_second": 100,
    },
)


@pytest.fixture
def fake():
    with FakeAirtable(rows=150) as server:
        yield server


def run_tap(fake, tmp_path, state=None, **overrides):
    config = {
        "api_token": fake.token,
        "base_id": BASE_ID,
        "api_url": fake.url + "/v0",
        "tables": TABLES,
        "backoff_base_ms": 10,
        "max_retries": 2,
        "rate_limit_wait_seconds": 1,
        **overrides,
    }
    return tap_runner.run_tap("tap-airtable", config, tmp_path, state)


def ids(messages, stream):
    return {m["record"]["raw_id"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream}


def test_hostile_table_names_become_safe_stream_names():
    assert stream_name("Body measurements") == "airtable__body_measurements"
    assert stream_name('x"; DROP TABLE bronze.garmin__sleep; --') == "airtable__x_drop_table_bronze_garmin_sleep"
    # Nothing ASCII to go by: a name still, safe and the label's own (tests/test_names.py).
    assert re.fullmatch(r"airtable__u__[0-9a-f]{10}", stream_name("ü😀"))


def test_both_modes_and_paging(fake, tmp_path):
    result, messages, state = run_tap(fake, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ids(messages, "airtable__inventory") == {r["id"] for r in fake.tables["Inventory"]}
    assert ids(messages, "airtable__body_measurements") == {r["id"] for r in fake.tables["Body measurements"]}
    assert [r["query"].get("offset", "")[:6] for r in fake.requests if "Inventory" in r["path"]] == ["", "itr100"]
    assert "cursor" in state["bookmarks"]["airtable__inventory"]

    fake.reset_log()
    edited = fake.edit("Inventory", 20, Quantity=99)
    result, messages, _ = run_tap(fake, tmp_path, state=state)
    inventory = ids(messages, "airtable__inventory")
    assert edited["id"] in inventory and len(inventory) < 5  # only changed records
    formulas = [r["query"].get("filterByFormula") for r in fake.requests if "Inventory" in r["path"]]
    assert formulas and formulas[0].startswith("NOT(IS_BEFORE({Last modified}, '")
    # the table without a last-modified field is read whole every time
    assert ids(messages, "airtable__body_measurements") == {r["id"] for r in fake.tables["Body measurements"]}


def test_429_waits_the_documented_pause(fake, tmp_path):
    fake.fail_next(429, path_contains="Inventory", body='{"errors":[{"error":"RATE_LIMIT_REACHED"}]}')
    result, _, _ = run_tap(fake, tmp_path, rate_limit_wait_seconds=2)
    assert result.returncode == 0
    first, second = [r for r in fake.requests if "Inventory" in r["path"]][:2]
    assert first["status"] == 429 and second["at"] - first["at"] >= 1.9


def test_bad_token_and_unknown_table_fail_clearly(fake, tmp_path):
    result, _, _ = run_tap(fake, tmp_path, api_token="patWRONG.secret9999")
    assert result.returncode != 0 and "api_token" in result.stderr
    assert "patWRONG.secret9999" not in result.stderr
    result, _, _ = run_tap(fake, tmp_path, tables=["Nope"])
    assert result.returncode != 0 and "404" in result.stderr
