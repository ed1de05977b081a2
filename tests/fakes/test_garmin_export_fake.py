"""Quick checks of the Garmin export generator the export-mode tests and the demo rely on."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import zipfile
from pathlib import Path

import pytest

from tests.fakes.garmin_export import DEFAULT_END, expected_counts, write_export

PATTERNS = {
    "sleep": "*DI-Connect-Wellness/*_sleepData.json",
    "daily_summary": "*DI-Connect-Aggregator/UDSFile_*.json",
    "activities": "*DI-Connect-Fitness/*_summarizedActivities.json",
}
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "garmin-export"


def folder_files(root: Path) -> dict[str, str]:
    """Relative posix path -> text of every file under ``root``."""
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def zip_files(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def by_kind(files: dict[str, str]) -> dict[str, list[str]]:
    return {kind: sorted(n for n in files if fnmatch.fnmatch(n, pattern)) for kind, pattern in PATTERNS.items()}


def items(files: dict[str, str], kind: str) -> list[dict]:
    """Every item of that kind, the activities unwrapped from their one-element outer array."""
    found = []
    for name in by_kind(files)[kind]:
        data = json.loads(files[name])
        found += data[0]["summarizedActivitiesExport"] if kind == "activities" else data
    return found


@pytest.mark.parametrize("as_zip", [False, True])
def test_layout_has_the_three_kinds_and_unrelated_files(tmp_path, as_zip):
    dest = tmp_path / ("garmin.zip" if as_zip else "export")
    written = write_export(dest, days=14, as_zip=as_zip)
    assert written == dest
    files = zip_files(written) if as_zip else folder_files(written)
    kinds = by_kind(files)
    assert [len(kinds[k]) for k in PATTERNS] == [1, 2, 1]
    assert all(n.split("/")[1] == "DI_CONNECT" for n in files), "nested under the UUID folder"
    assert kinds["sleep"][0].endswith("DI-Connect-Wellness/2024-05-07_2024-05-20_90817263_sleepData.json")
    assert any(n.endswith("DI-Connect-User/user_profile.json") for n in files)
    matched = {n for names in kinds.values() for n in names}
    assert len(set(files) - matched) >= 3, "files the tap must ignore"


def test_unnested_layout_starts_at_di_connect(tmp_path):
    files = folder_files(write_export(tmp_path / "export", days=3, nested_uuid_folder=False))
    assert all(n.startswith("DI_CONNECT/") for n in files)


def test_zip_is_byte_identical_across_runs(tmp_path):
    a = write_export(tmp_path / "a.zip", as_zip=True)
    b = write_export(tmp_path / "b.zip", as_zip=True)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2024, 5, 21, 8, 0, 0)}
    assert zip_files(a) == folder_files(write_export(tmp_path / "f")), "zip and folder hold the same files"


def test_overlapping_daily_summaries_are_byte_identical(tmp_path):
    files = folder_files(write_export(tmp_path / "export", days=14))
    first, second = (
        {json.loads(line.rstrip(","))["calendarDate"]: line.rstrip(",") for line in files[name].splitlines()[1:-1]}
        for name in by_kind(files)["daily_summary"]
    )
    overlap = set(first) & set(second)
    assert sorted(overlap) == ["2024-05-14", "2024-05-15", "2024-05-16"]
    assert all(first[day] == second[day] for day in overlap)
    assert set(first) | set(second) == {str(DEFAULT_END - dt.timedelta(days=n)) for n in range(14)}


@pytest.mark.parametrize("days,seed", [(14, 11), (10, 11), (30, 5), (3, 2)])
def test_expected_counts_match_the_content(tmp_path, days, seed):
    files = zip_files(write_export(tmp_path / "g.zip", days=days, seed=seed, as_zip=True))
    distinct = {
        "sleep": {n["calendarDate"] for n in items(files, "sleep")},
        "daily_summary": {json.dumps(d, sort_keys=True) for d in items(files, "daily_summary")},
        "activities": {a["activityId"] for a in items(files, "activities")},
    }
    assert {kind: len(found) for kind, found in distinct.items()} == expected_counts(days=days, seed=seed)
    assert len(items(files, "activities")) == len(distinct["activities"])


def test_one_item_per_line_and_plausible_values(tmp_path):
    files = folder_files(write_export(tmp_path / "export", days=14))
    text = files[by_kind(files)["sleep"][0]]
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 16
    nights = items(files, "sleep")
    assert any(set(n) == {"calendarDate", "sleepWindowConfirmationType", "retro"} for n in nights)
    for night in (n for n in nights if "deepSleepSeconds" in n):
        hours = (
            sum(night[k] for k in ("deepSleepSeconds", "lightSleepSeconds", "remSleepSeconds", "awakeSleepSeconds"))
            / 3600
        )
        assert 6 <= hours <= 9 and "combinedAwakeScore" in night["sleepScores"]
        assert night["spo2SleepSummary"]["userProfilePk"] == 90817263
    for day in items(files, "daily_summary"):
        assert 48 <= day["restingHeartRate"] <= 62 and 3000 <= day["totalSteps"] <= 18000
    for act in items(files, "activities"):
        assert isinstance(act["startTimeGmt"], float) and len(str(act["activityId"])) == 11
        assert act["startTimeLocal"] - act["startTimeGmt"] == 3_600_000.0


def test_bundled_sample_is_the_generator_output(tmp_path):
    assert folder_files(SAMPLE) == folder_files(write_export(tmp_path / "export", days=14))
    assert sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()) < 1_000_000
