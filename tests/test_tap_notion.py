"""tap-notion against the fake Notion API: SDK standard tests, paging, cursors, errors."""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_notion.tap import TapNotion
from tests import tap_runner
from tests.fakes.notion_api import FakeNotion
from tests.tap_runner import records

_FAKE = FakeNotion(pages_per_source=5).start()
atexit.register(_FAKE.stop)
TestTapNotion = get_tap_test_class(
    tap_class=TapNotion,
    config={"api_token": _FAKE.token, "database_ids": _FAKE.database_ids(), "api_url": _FAKE.url + "/v1"},
)


@pytest.fixture
def fake():
    with FakeNotion(pages_per_source=130) as server:
        yield server


def run_tap(fake, tmp_path, state=None, **overrides):
    config = {
        "api_token": fake.token,
        "database_ids": fake.database_ids(),
        "api_url": fake.url + "/v1",
        "backoff_base_ms": 10,
        "max_retries": 2,
        **overrides,
    }
    result, messages, state = tap_runner.run_tap("tap-notion", config, tmp_path, state)
    return result, records(messages, "notion__pages"), state


def queries(fake):
    return [r for r in fake.requests if r["path"].endswith("/query")]


def test_pages_are_paged_and_resumed_from_their_cursor(fake, tmp_path):
    result, pages, state = run_tap(fake, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert {p["raw_id"] for p in pages} == {p["id"] for p in fake.all_pages()}
    assert len(queries(fake)) == 6  # 3 data sources x 2 pages of 100
    cursors = state["bookmarks"]["notion__pages"]["cursors"]
    assert len(cursors) == 3  # one per data source
    assert pages[0]["metadata"]["params"] == {} and '"page_size": 100' in pages[0]["metadata"]["query"]

    fake.reset_log()
    edited = fake.edit_page(0, 3, Minutes={"id": "e%3Ef", "type": "number", "number": 999})
    result, pages, _ = run_tap(fake, tmp_path, state=state)
    assert len(queries(fake)) == 3  # one short page per data source
    ids = {p["raw_id"] for p in pages}
    assert edited["id"] in ids
    assert len(ids) < 10  # only the edited page and those in the cursor's own minute


def test_429_retry_after_and_529_overload_are_retried(fake, tmp_path):
    fake.fail_next(
        429,
        path_contains="/query",
        headers={"Retry-After": "1"},
        body='{"object":"error","status":429,"code":"rate_limited","message":"slow down"}',
    )
    fake.fail_next(
        529, path_contains="/query", body='{"object":"error","status":529,"code":"service_overload","message":"busy"}'
    )
    result, pages, _ = run_tap(fake, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(pages) == 3 * 130
    statuses = [r["status"] for r in queries(fake)]
    assert statuses[:3] == [429, 529, 200]


def test_unshared_database_and_bad_token_fail_clearly(fake, tmp_path):
    result, _, _ = run_tap(fake, tmp_path, database_ids=["00000000-0000-0000-0000-000000000000"])
    assert result.returncode != 0 and "shared with the integration" in result.stderr
    result, _, _ = run_tap(fake, tmp_path, api_token="ntn_wrong_token_value")
    assert result.returncode != 0 and "api_token" in result.stderr
    assert "ntn_wrong_token_value" not in result.stderr
