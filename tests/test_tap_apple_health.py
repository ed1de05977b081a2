"""tap-apple-health as its own process: rows, ids, lineage, state, broken and hostile exports."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path

from singer_sdk.testing import get_tap_test_class

from tap_apple_health.client import element_payload
from tap_apple_health.streams import utc_text
from tap_apple_health.tap import TapAppleHealth
from tests.fakes.apple_health_export import expected_counts, write_export
from tests.tap_runner import records, run_tap

STREAMS = {
    "records": "apple_health__records",
    "workouts": "apple_health__workouts",
    "activity_summaries": "apple_health__activity_summaries",
}
MEMBER = "apple_health_export/export.xml"

# The standard test class is built at import time from a config, so its export
# is written then (small: a few days of data with workouts and summaries).
_DIR = Path(tempfile.mkdtemp(prefix="apple-health-std-"))
atexit.register(shutil.rmtree, _DIR, True)
TestTapAppleHealth = get_tap_test_class(
    tap_class=TapAppleHealth,
    config={"export_path": str(write_export(_DIR / "export.zip", records=2500, seed=3))},
)


def run(path, workdir, state=None, env=None):
    return run_tap("tap-apple-health", {"export_path": str(path)}, workdir, state, env=env)


def by_stream(messages) -> dict[str, list[dict]]:
    return {kind: records(messages, stream) for kind, stream in STREAMS.items()}


def test_zip_lands_every_element_with_ids_times_and_lineage(tmp_path):
    archive = write_export(tmp_path / "export.zip", records=3000, seed=5)
    result, messages, state = run(archive, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = by_stream(messages)
    assert {k: len(v) for k, v in rows.items()} == expected_counts(3000, seed=5)
    assert all(r["validation_status"] == "valid" for v in rows.values() for r in v)
    for kind, found in rows.items():
        assert len({r["raw_id"] for r in found}) == len(found), f"{kind}: raw_ids must be distinct"

    with zipfile.ZipFile(archive) as zf:
        text = zf.read(MEMBER)
    digest = hashlib.sha256(text).hexdigest()
    lines = text.decode().splitlines()
    hrv = next(r for r in rows["records"] if "HeartRateVariabilityMetadataList" in r["raw_data"])
    raw = hrv["raw_data"]
    # type|source|start|end|value|unit|created, times in UTC (Apple writes the export zone's)
    utc = [utc_text(raw[k]) for k in ("startDate", "endDate", "creationDate")]
    assert hrv["raw_id"] == "|".join([raw["type"], raw["sourceName"], *utc[:2], raw["value"], raw["unit"], utc[2]])
    assert utc[0].endswith("Z") and utc[0][11:13] != raw["startDate"][11:13]
    assert hrv["source"] == "apple_health"
    meta = hrv["metadata"]
    assert (meta["file"], meta["archive"], meta["file_sha256"]) == (MEMBER, "export.zip", digest)
    assert lines[meta["line"] - 1].lstrip().startswith(f'<Record type="{raw["type"]}"')
    assert f'startDate="{raw["startDate"]}"' in lines[meta["line"] - 1]
    beats = raw["HeartRateVariabilityMetadataList"][0]["InstantaneousBeatsPerMinute"]
    assert len(beats) >= 5 and set(beats[0]) == {"bpm", "time"}
    # "2018-01-01 04:20:21 +0100" -> UTC
    day, clock, offset = raw["startDate"].split()
    assert offset == "+0100" and hrv["source_timestamp"].endswith("+00:00")
    assert hrv["source_timestamp"][:10] <= day

    heart = next(r for r in rows["records"] if r["raw_data"]["type"] == "HKQuantityTypeIdentifierHeartRate")
    assert heart["raw_data"]["MetadataEntry"] == [
        {"key": "HKMetadataKeyHeartRateMotionContext", "value": heart["raw_data"]["MetadataEntry"][0]["value"]}
    ]
    assert isinstance(heart["raw_data"]["value"], str), "attribute text is kept as the XML wrote it"
    assert {r["raw_data"]["type"] for r in rows["records"]} >= {
        "HKQuantityTypeIdentifierStepCount",
        "HKQuantityTypeIdentifierHeartRate",
        "HKCategoryTypeIdentifierSleepAnalysis",
        "HKQuantityTypeIdentifierDietaryWater",
        "HKQuantityTypeIdentifierBodyMass",
        "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
    }

    workout = rows["workouts"][0]
    raw = workout["raw_data"]
    assert workout["raw_id"] == "|".join(
        [raw["workoutActivityType"], raw["sourceName"], utc_text(raw["startDate"]), utc_text(raw["endDate"])]
    )
    assert {"WorkoutStatistics", "WorkoutEvent", "MetadataEntry"} <= set(raw)
    summary = rows["activity_summaries"][0]
    assert summary["raw_id"] == summary["raw_data"]["dateComponents"] == "2018-01-01"
    assert summary["source_timestamp"] == "2018-01-01T00:00:00+00:00"

    assert {k: v["files"][MEMBER]["sha256"] for k, v in state["bookmarks"].items()} == dict.fromkeys(
        STREAMS.values(), digest
    )


def test_every_attribute_and_child_is_kept():
    import xml.etree.ElementTree as ET

    element = ET.fromstring(
        '<Workout workoutActivityType="W" startDate="s" endDate="e" sourceName="n">'
        '<MetadataEntry key="a" value="1"/><MetadataEntry key="a" value="2"/>'
        '<WorkoutRoute sourceName="n"><FileReference path="/r.gpx"/></WorkoutRoute>'
        "<Note>free text</Note></Workout>"
    )
    assert element_payload(element) == {
        "workoutActivityType": "W",
        "startDate": "s",
        "endDate": "e",
        "sourceName": "n",
        "MetadataEntry": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}],
        "WorkoutRoute": [{"sourceName": "n", "FileReference": [{"path": "/r.gpx"}]}],
        "Note": [{"#text": "free text"}],
    }


def test_folder_and_bare_xml_land_the_same_rows_as_the_zip(tmp_path):
    archive = write_export(tmp_path / "export.zip", records=600)
    folder = write_export(tmp_path / "unpacked", records=600, as_zip=False)
    got = []
    for path in (archive, folder, folder / MEMBER):
        result, messages, _ = run(path, tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        got.append({k: sorted((r["raw_id"], r["raw_hash"]) for r in v) for k, v in by_stream(messages).items()})
    assert got[0] == got[1] == got[2]
    assert len(got[0]["records"]) == 600


def test_unchanged_export_is_skipped_by_checksum(tmp_path):
    archive = write_export(tmp_path / "export.zip", records=400)
    _, _, state = run(archive, tmp_path)
    result, messages, again = run(archive, tmp_path, state=state)
    assert result.returncode == 0
    assert records(messages, STREAMS["records"]) == []
    assert result.stderr.count("unchanged, skipped") == 3
    assert again == state


def test_malformed_xml_reports_path_and_line_and_keeps_what_came_before(tmp_path):
    folder = write_export(tmp_path / "unpacked", records=800, as_zip=False)
    xml = folder / MEMBER
    lines = xml.read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if 'HKQuantityTypeIdentifierHeartRate"' in line) + 40
    complete = [line.strip() for line in lines[:cut]]  # records closed before the cut
    before = sum(1 for line in complete if line == "</Record>" or (line.startswith("<Record ") and line.endswith("/>")))
    xml.write_text("".join(lines[:cut]) + lines[cut][:60])  # cut mid-element

    result, messages, state = run(xml, tmp_path)
    assert result.returncode != 0, "a broken file must fail the run (after the rest landed)"
    assert f"{xml}, line {cut + 1}" in result.stderr, result.stderr[-3000:]
    assert len(records(messages, STREAMS["records"])) == before
    assert not (state or {}).get("bookmarks", {}).get(STREAMS["records"], {}).get("files"), (
        "a broken file is not marked done"
    )

    again, _, _ = run(xml, tmp_path, state=state)  # read (and reported) again next time
    assert again.returncode != 0 and str(xml) in again.stderr


def test_truncated_zip_lands_what_it_holds_and_reports_path_and_line(tmp_path):
    archive = write_export(tmp_path / "export.zip", records=3000)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])  # a download cut short
    result, messages, state = run(archive, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, "a broken export is a reported problem, not a crash"
    assert f"{archive}: truncated zip archive" in result.stderr
    assert f"{archive}!{MEMBER}, line " in result.stderr
    rows = records(messages, STREAMS["records"])
    assert 0 < len(rows) < 3000
    assert not any(b.get("files") for b in (state or {}).get("bookmarks", {}).values())


def test_zip_without_its_central_directory_lands_everything_but_still_fails(tmp_path):
    archive = write_export(tmp_path / "export.zip", records=700)
    archive.write_bytes(archive.read_bytes()[:-100])
    result, messages, _ = run(archive, tmp_path)
    assert result.returncode != 0 and f"{archive}: truncated zip archive" in result.stderr
    assert {k: len(v) for k, v in by_stream(messages).items()} == expected_counts(700)


def test_a_file_that_is_no_export_is_reported(tmp_path):
    bogus = tmp_path / "export.zip"
    bogus.write_text("not a zip at all")
    result, _, _ = run(bogus, tmp_path)
    assert result.returncode != 0 and f"{bogus}: not a zip archive" in result.stderr
    assert "Traceback" not in result.stderr


def test_hostile_member_names_are_read_in_place_never_written(tmp_path):
    source = write_export(tmp_path / "src" / "export.zip", records=300)
    with zipfile.ZipFile(source) as zf:
        text = zf.read(MEMBER)
    archive = tmp_path / "box" / "evil.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escaped/export.xml", text)
        zf.writestr("/abs/apple_health_export/export.xml", text)
    scratch = tmp_path / "temp"  # the tap's temp folder: reading in place leaves it empty
    scratch.mkdir()
    before = set(tmp_path.rglob("*"))
    result, messages, state = run(archive, tmp_path / "box", env={"TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr[-3000:]
    after = set(tmp_path.rglob("*")) - before
    assert after <= {tmp_path / "box" / "config.json"}, f"written while reading the zip: {after}"
    for base in (tmp_path.parent, tmp_path.parent.parent, Path.cwd().parent):
        assert not (base / "escaped").exists()
    assert not Path("/abs").exists()
    rows = records(messages, STREAMS["records"])
    assert len({r["raw_id"] for r in rows}) == 300  # both members read in place, same rows
    assert {r["metadata"]["file"] for r in rows} == {"../../escaped/export.xml", "/abs/apple_health_export/export.xml"}


def test_entity_declarations_are_refused(tmp_path):
    xml = tmp_path / "export.xml"
    xml.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n<!ENTITY a "aaaaaaaaaa">\n'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n<HealthData>\n'
        ' <Record type="t" sourceName="s" startDate="x" endDate="y" value="&b;"/>\n</HealthData>\n'
    )
    result, messages, _ = run(xml, tmp_path)
    assert result.returncode != 0
    assert f"{xml}, line 3" in result.stderr and "entity" in result.stderr
    assert records(messages, STREAMS["records"]) == []


def test_missing_export_path_is_a_clear_error(tmp_path):
    result, _, _ = run_tap("tap-apple-health", {}, tmp_path)
    assert result.returncode != 0 and "export_path is not set" in result.stderr
    result, _, _ = run(tmp_path / "nope.zip", tmp_path)
    assert result.returncode != 0 and f"export_path {tmp_path / 'nope.zip'} does not exist" in result.stderr


def test_one_parse_serves_all_streams_and_gives_the_rows_separate_parses_give(tmp_path):
    import json
    import subprocess

    from tests.tap_runner import BIN

    archive = write_export(tmp_path / "export.zip", records=2000, seed=11)
    shared, messages, _ = run(archive, tmp_path)
    assert shared.returncode == 0, shared.stderr[-3000:]
    assert shared.stderr.count("elements taken from the records pass") == 2
    together = by_stream(messages)

    # The same export with the records stream deselected: each stream parses it alone.
    discovered = subprocess.run(
        [str(BIN / "tap-apple-health"), "--config", str(tmp_path / "config.json"), "--discover"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    catalog = json.loads(discovered)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] != STREAMS["records"]
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    alone = subprocess.run(
        [
            str(BIN / "tap-apple-health"),
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert alone.returncode == 0, alone.stderr[-3000:]
    assert "taken from the records pass" not in alone.stderr
    separate = by_stream([json.loads(line) for line in alone.stdout.splitlines() if line.strip()])
    assert separate["records"] == []

    def comparable(rows):
        return [{**r, "metadata": {k: v for k, v in r["metadata"].items() if k != "run_id"}} for r in rows]

    for kind in ("workouts", "activity_summaries"):
        assert together[kind], kind
        assert comparable(together[kind]) == comparable(separate[kind]), kind
