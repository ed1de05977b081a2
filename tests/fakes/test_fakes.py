"""The fakes themselves must behave like the real things they stand for."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import zipfile

import pytest

from tests.fakes.garmin_api import FakeGarmin
from tests.fakes.garmin_export import export_files, write_export


def get(url, token=None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read() or b"null")


def test_fake_api_requires_the_current_token():
    with FakeGarmin(days=3) as fake:
        url = f"{fake.url}/wellness-service/wellness/dailyStress/{fake.days_list[0]}"
        with pytest.raises(urllib.error.HTTPError) as denied:
            get(url)
        assert denied.value.code == 401
        assert get(url, fake.access_token)[0] == 200
        old = fake.access_token
        fake.expire_access_token()
        with pytest.raises(urllib.error.HTTPError):
            get(url, old)


def test_fake_activities_are_newest_first_and_paging_ends_empty():
    with FakeGarmin(days=20, activities_per_day=1.0) as fake:
        base = f"{fake.url}/activitylist-service/activities/search/activities"
        _, first = get(f"{base}?start=0&limit=15", fake.access_token)
        _, second = get(f"{base}?start=15&limit=15", fake.access_token)
        _, third = get(f"{base}?start=30&limit=15", fake.access_token)
        everything = first + second
        assert len(everything) == 20 and third == []
        starts = [a["beginTimestamp"] for a in everything]
        assert starts == sorted(starts, reverse=True)


def test_fake_api_is_deterministic():
    one, two = FakeGarmin(days=5, seed=3), FakeGarmin(days=5, seed=3)
    day = one.days_list[1]  # not the no-sleep night in the middle
    assert one.sleep_payload(day) == two.sleep_payload(day)
    assert one.activities() == two.activities()
    assert one.sleep_payload(day) != FakeGarmin(days=5, seed=4).sleep_payload(day)


def test_export_zip_is_byte_identical_and_overlaps_agree(tmp_path):
    a = write_export(tmp_path / "a.zip", as_zip=True)
    b = write_export(tmp_path / "b.zip", as_zip=True)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        uds = [json.loads(zf.read(n)) for n in zf.namelist() if "UDSFile_" in n]
    assert len(uds) == 2
    first, second = ({d["calendarDate"]: d for d in part} for part in uds)
    overlap = set(first) & set(second)
    assert len(overlap) == 3 and all(first[d] == second[d] for d in overlap)


def test_export_layout_matches_garmin(tmp_path):
    names = set(export_files(nested_uuid_folder=True))
    assert any(n.endswith("_sleepData.json") and "/DI_CONNECT/DI-Connect-Wellness/" in n for n in names)
    assert any("/DI-Connect-Fitness/" in n and n.endswith("_summarizedActivities.json") for n in names)
