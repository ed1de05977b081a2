"""tap-apple-health end to end: real `meltano run` into real PostgreSQL."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.fakes.apple_health_export import expected_counts, write_export

STATE_ID = "dev:tap-apple-health-to-target-postgres"
TABLES = {
    "records": "apple_health__records",
    "workouts": "apple_health__workouts",
    "activity_summaries": "apple_health__activity_summaries",
}
MEMBER = "apple_health_export/export.xml"


def run_export(meltano, path, check=True):
    return meltano.run(
        "run", "tap-apple-health", "target-postgres", check=check, extra_env={"TAP_APPLE_HEALTH_EXPORT_PATH": str(path)}
    )


def counts(meltano):
    return {kind: meltano.query(f"SELECT count(*) FROM bronze.{table}")[0][0] for kind, table in TABLES.items()}


def snapshot(meltano, table="apple_health__records"):
    return set(meltano.query(f"SELECT raw_id, raw_hash, ingested_at FROM bronze.{table}"))


def test_export_lands_exactly_and_an_unchanged_export_lands_nothing(meltano, tmp_path):
    archive = write_export(tmp_path / "export.zip", records=2000, seed=11)
    run_export(meltano, archive)
    assert counts(meltano) == expected_counts(2000, seed=11)

    rows = meltano.query(
        "SELECT raw_data, source_timestamp, validation_status, metadata, source "
        "FROM bronze.apple_health__records WHERE raw_data->>'type' = "
        "'HKQuantityTypeIdentifierBodyMass' ORDER BY source_timestamp LIMIT 1"
    )
    raw, when, status, meta, source = rows[0]
    assert (status, source) == ("valid", "apple_health")
    assert raw["MetadataEntry"] == [{"key": "HKWasUserEntered", "value": "1"}]
    assert when.utcoffset().total_seconds() == 0
    assert when.strftime("%Y-%m-%d %H:%M:%S") != raw["startDate"][:19], "+0100 is converted to UTC"
    assert meta["file"] == MEMBER and meta["archive"] == archive.name and meta["line"] > 0
    assert len(meta["file_sha256"]) == 64
    (invalid,) = meltano.query("SELECT count(*) FROM bronze.apple_health__records WHERE validation_status <> 'valid'")[
        0
    ]
    assert invalid == 0

    bookmarks = meltano.state(STATE_ID)["singer_state"]["bookmarks"]
    assert {stream: list(b["files"]) for stream, b in bookmarks.items()} == {t: [MEMBER] for t in TABLES.values()}

    before = {table: snapshot(meltano, table) for table in TABLES.values()}
    second = run_export(meltano, archive)
    assert second.stderr.count("unchanged, skipped") == 3
    assert {table: snapshot(meltano, table) for table in TABLES.values()} == before


def test_a_newer_export_lands_only_what_is_new(meltano, tmp_path):
    run_export(meltano, write_export(tmp_path / "old" / "export.zip", records=1500))
    before = snapshot(meltano)
    old_summaries = snapshot(meltano, "apple_health__activity_summaries")

    newer = write_export(tmp_path / "new" / "export.zip", records=2600)  # same history, more days
    result = run_export(meltano, newer)
    assert "unchanged, skipped" not in result.stderr
    assert counts(meltano) == expected_counts(2600)
    after = snapshot(meltano)
    assert before <= after, "old rows are untouched (same key, same ingested_at)"
    assert len(after - before) == 2600 - 1500
    assert min(r[2] for r in after - before) > max(r[2] for r in before)
    assert old_summaries <= snapshot(meltano, "apple_health__activity_summaries")


def test_malformed_xml_is_reported_with_path_and_line_and_the_rest_lands(meltano, tmp_path):
    folder = write_export(tmp_path / "unpacked", records=900, as_zip=False)
    xml = folder / MEMBER
    text = xml.read_text()
    lines = text.splitlines(keepends=True)
    summary_lines = [i for i, line in enumerate(lines) if "<ActivitySummary " in line]
    cut = summary_lines[1]  # inside the second activity summary: records and workouts are whole
    xml.write_text("".join(lines[:cut]) + lines[cut][:25])

    result = run_export(meltano, folder, check=False)
    assert result.returncode != 0, "a broken file must fail the run (after the rest landed)"
    assert f"{xml}, line {cut + 1}" in result.stderr, result.stderr[-3000:]
    expected = expected_counts(900)
    got = counts(meltano)
    assert got["records"] == 900 and got["workouts"] == expected["workouts"]
    summaries_before_cut = sum(1 for line in lines[:cut] if "<ActivitySummary " in line)
    assert got["activity_summaries"] == summaries_before_cut < expected["activity_summaries"]

    xml.write_text(text)  # the user fixes the file: it was not marked done, so it is read again
    run_export(meltano, folder)
    assert counts(meltano) == expected


def test_truncated_zip_lands_what_it_holds_and_is_reported(meltano, tmp_path):
    archive = write_export(tmp_path / "export.zip", records=3000)
    whole = archive.read_bytes()
    archive.write_bytes(whole[: len(whole) * 2 // 3])  # an interrupted download
    result = run_export(meltano, archive, check=False)
    assert result.returncode != 0
    assert f"{archive}: truncated zip archive" in result.stderr
    assert f"{archive}!{MEMBER}, line " in result.stderr
    landed = counts(meltano)["records"]
    assert 0 < landed < 3000

    archive.write_bytes(whole)  # the complete download: the rest lands, nothing twice
    run_export(meltano, archive)
    assert counts(meltano) == expected_counts(3000)


def test_zip_entries_with_hostile_paths_are_never_written(meltano, tmp_path):
    source = write_export(tmp_path / "src" / "export.zip", records=300)
    with zipfile.ZipFile(source) as zf:
        text = zf.read(MEMBER)
    archive = tmp_path / "box" / "evil.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../../escaped/export.xml", text)
        zf.writestr("/tmp/abs-apple-health/export.xml", text)
    watched = [tmp_path.parent, archive.parent]
    before = {p for root in watched for p in root.rglob("*")}
    run_export(meltano, archive)
    after = {p for root in watched for p in root.rglob("*")}
    assert {p for p in after - before if p.name == "export.xml" or "escaped" in p.parts} == set()
    assert not Path("/tmp/abs-apple-health").exists()
    assert counts(meltano)["records"] == 300  # read in place; the two copies are the same rows
