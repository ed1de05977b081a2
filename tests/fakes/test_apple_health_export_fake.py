"""Checks of the Apple Health export generator that the tap tests, the demo and the benchmarks rely on."""

from __future__ import annotations

import tracemalloc
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.apple_health_export import expected_counts, write_export

MEMBER = "apple_health_export/export.xml"
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "apple-health" / "export.zip"


def export_text(archive: Path) -> str:
    with zipfile.ZipFile(archive) as zf:
        return zf.read(MEMBER).decode()


def top_level(text: str) -> dict[str, list[ET.Element]]:
    root = ET.fromstring(text.encode())
    found: dict[str, list[ET.Element]] = {}
    for child in root:
        found.setdefault(child.tag, []).append(child)
    return found


def ids(elements: dict[str, list[ET.Element]]) -> dict[str, set]:
    return {
        "records": {
            tuple(r.get(k) for k in ("type", "sourceName", "startDate", "endDate")) for r in elements.get("Record", [])
        },
        "workouts": {
            tuple(w.get(k) for k in ("workoutActivityType", "sourceName", "startDate", "endDate"))
            for w in elements.get("Workout", [])
        },
        "activity_summaries": {a.get("dateComponents") for a in elements.get("ActivitySummary", [])},
    }


@pytest.mark.parametrize("records,seed", [(1, 7), (500, 7), (2500, 3), (6000, 11)])
def test_expected_counts_match_the_content(tmp_path, records, seed):
    elements = top_level(export_text(write_export(tmp_path / "e.zip", records=records, seed=seed)))
    assert len(elements["Record"]) == records
    assert {kind: len(found) for kind, found in ids(elements).items()} == expected_counts(records, seed)


def test_real_structure(tmp_path):
    text = export_text(write_export(tmp_path / "e.zip", records=4000))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [\n')
    assert "<!ATTLIST Record" in text and "]>\n<HealthData locale=" in text
    elements = top_level(text)
    assert list(elements)[:2] == ["ExportDate", "Me"]
    assert list(elements)[2:] == ["Record", "Workout", "ActivitySummary"]  # in this order, grouped
    types = Counter(r.get("type") for r in elements["Record"])
    assert set(types) == {
        "HKQuantityTypeIdentifierStepCount",
        "HKQuantityTypeIdentifierHeartRate",
        "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
        "HKCategoryTypeIdentifierSleepAnalysis",
        "HKQuantityTypeIdentifierDietaryWater",
        "HKQuantityTypeIdentifierBodyMass",
    }
    assert {r.get("sourceName") for r in elements["Record"]} >= {"iPhone", "Apple Watch"}
    heart = next(r for r in elements["Record"] if r.get("type") == "HKQuantityTypeIdentifierHeartRate")
    assert heart.get("startDate").endswith(" +0100") and heart.find("MetadataEntry") is not None
    assert heart.get("device").startswith("<<HKDevice:")
    hrv = next(r for r in elements["Record"] if r.get("type").endswith("SDNN"))
    assert len(hrv.find("HeartRateVariabilityMetadataList")) >= 5
    workout = elements["Workout"][0]
    assert {c.tag for c in workout} >= {"MetadataEntry", "WorkoutEvent", "WorkoutStatistics"}
    with zipfile.ZipFile(tmp_path / "e.zip") as zf:
        names = zf.namelist()
    assert "apple_health_export/export_cda.xml" in names
    assert any(n.startswith("apple_health_export/workout-routes/") for n in names)
    assert any(n.startswith("apple_health_export/electrocardiograms/") for n in names)


def test_a_bigger_export_holds_the_smaller_one_unchanged(tmp_path):
    small = top_level(export_text(write_export(tmp_path / "a.zip", records=1700, seed=5)))
    big = top_level(export_text(write_export(tmp_path / "b.zip", records=3100, seed=5)))
    for element in (e for found in (*small.values(), *big.values()) for e in found):
        element.tail = None  # the whitespace after the last element differs, not the element
    as_text = {tag: {ET.tostring(e) for e in found} for tag, found in small.items()}
    bigger = {tag: {ET.tostring(e) for e in found} for tag, found in big.items()}
    for tag in ("Record", "Workout", "ActivitySummary"):
        assert as_text[tag] <= bigger[tag], tag
    assert len(bigger["Record"] - as_text["Record"]) == 3100 - 1700


def test_zip_is_byte_identical_across_runs_and_matches_the_folder(tmp_path):
    a = write_export(tmp_path / "a.zip", records=900)
    b = write_export(tmp_path / "b.zip", records=900)
    assert a.read_bytes() == b.read_bytes()
    folder = write_export(tmp_path / "f", records=900, as_zip=False)
    with zipfile.ZipFile(a) as zf:
        in_zip = {n: zf.read(n) for n in zf.namelist()}
    on_disk = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert in_zip == on_disk


@pytest.mark.slow  # writes a 60,000-record export under tracemalloc: ~30 s
def test_memory_stays_flat_as_the_export_grows(tmp_path):
    peaks = []
    for records in (2_000, 60_000):
        tracemalloc.start()
        write_export(tmp_path / f"{records}.zip", records=records)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] + 2_000_000, f"peak grew with the size: {peaks}"


def test_bundled_sample_is_the_generator_output(tmp_path):
    assert SAMPLE.read_bytes() == write_export(tmp_path / "export.zip", records=3000, seed=7).read_bytes()
    assert SAMPLE.stat().st_size < 200_000
