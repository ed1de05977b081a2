"""tap-manual end to end: real `meltano run` into real PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "manual"


def run(meltano, folder, check=True):
    return meltano.run(
        "run", "tap-manual", "target-postgres", check=check, extra_env={"TAP_MANUAL_MANUAL_DIR": str(folder)}
    )


def rows(meltano, table):
    return meltano.query(
        f"SELECT raw_id, raw_hash, validation_status, ingested_at FROM bronze.{table} ORDER BY raw_id, ingested_at"
    )


def test_edits_land_as_versions_appends_alone_and_nothing_twice(meltano, tmp_path):
    logs = tmp_path / "manual"
    shutil.copytree(SAMPLE, logs)
    run(meltano, logs)
    water, body = rows(meltano, "manual__water_intake"), rows(meltano, "manual__body_measurements")
    assert (len(water), len(body)) == (4, 2)
    assert {status for *_, status, _ in water + body} == {"valid"}

    second = run(meltano, logs)
    assert second.stderr.count("unchanged, skipped") == 2
    assert rows(meltano, "manual__water_intake") == water

    # An appended glass (and a typo'd one) land alone; the file is read from where it ended.
    with open(logs / "water_intake" / "2024-11.csv", "a") as handle:
        handle.write("2024-11-03 08:00,250,water,\n2024-11-03 09:00,a lot,water,\n")
    third = run(meltano, logs)
    assert "from line 6 (appended)" in third.stderr
    after = rows(meltano, "manual__water_intake")
    assert len(after) == 6 and set(water) <= set(after)
    assert sorted(status for *_, status, _ in set(after) - set(water)) == ["invalid", "valid"]

    # A corrected measurement lands as a new version of its id; the other line is a no-op.
    log = logs / "body_measurements" / "log.jsonl"
    log.write_text(log.read_text().replace('"waist_cm": 84.0', '"waist_cm": 83.9'))
    run(meltano, logs)
    versions = rows(meltano, "manual__body_measurements")
    assert [raw_id for raw_id, *_ in versions] == ["m-2024-11-01", "m-2024-11-08", "m-2024-11-08"]
    assert versions[0] == body[0]


def test_a_repeated_column_lands_both_values_marked_invalid(meltano, tmp_path):
    logs = tmp_path / "manual"
    shutil.copytree(SAMPLE, logs)
    (logs / "water_intake" / "2024-12.csv").write_text(
        "time,amount_ml,amount_ml,drink,note\n2024-12-01 08:00,250,330,water,\n"
    )
    run(meltano, logs)
    ((data, status, reason),) = meltano.query(
        "SELECT raw_data, validation_status, error_message FROM bronze.manual__water_intake "
        "WHERE metadata->>'file' LIKE %s",
        "%2024-12.csv",
    )
    assert (data["amount_ml"], data["amount_ml__2"]) == ("250", "330")
    assert status == "invalid" and "the header repeats 'amount_ml' (columns 2, 3)" in reason
