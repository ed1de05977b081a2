"""tap-wearable-csv end to end: real `meltano run` into real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import zipfile

from tests.fakes.fitabase_export import write_drop

STATE_ID = "dev:tap-wearable-csv-to-target-postgres"


def run(meltano, folder, check=True):
    return meltano.run(
        "run", "tap-wearable-csv", "target-postgres", check=check, extra_env={"TAP_WEARABLE_CSV_DATA_DIR": str(folder)}
    )


def counts(meltano):
    tables = meltano.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'bronze' AND table_name LIKE %s",
        "wearable\\_\\_%",
    )
    return {name.split("__")[1]: meltano.query(f'SELECT count(*) FROM bronze."{name}"')[0][0] for (name,) in tables}


def test_lands_once_then_unchanged_files_land_nothing(meltano, tmp_path):
    expected = write_drop(tmp_path / "drop")
    first = run(meltano, tmp_path / "drop")
    assert counts(meltano) == expected  # the sleepDay duplicates landed once
    assert "notes_from_my_doctor.csv is not a known export file" in first.stderr
    (invalid,) = meltano.query("SELECT count(*) FROM bronze.wearable__sleep_day WHERE validation_status <> 'valid'")[0]
    assert invalid == 0
    (meta,) = meltano.query(
        "SELECT metadata FROM bronze.wearable__heartrate_seconds ORDER BY (metadata->>'line')::int LIMIT 1"
    )[0]
    assert meta["file"].endswith("heartrate_seconds_merged.csv") and meta["line"] == 2

    before = meltano.query("SELECT max(ingested_at) FROM bronze.wearable__heartrate_seconds")
    second = run(meltano, tmp_path / "drop")
    assert counts(meltano) == expected
    assert second.stderr.count("unchanged, skipped") == sum(1 for _ in (tmp_path / "drop").rglob("*_merged.csv"))
    assert "records (0 invalid" in second.stderr and " reading " not in second.stderr
    assert meltano.query("SELECT max(ingested_at) FROM bronze.wearable__heartrate_seconds") == before


def test_appended_rows_land_alone_read_from_where_the_file_ended(meltano, tmp_path):
    expected = write_drop(tmp_path / "drop")
    run(meltano, tmp_path / "drop")
    (path,) = (tmp_path / "drop").rglob("heartrate_seconds_merged.csv")
    lines = path.read_bytes().count(b"\n")
    with open(path, "ab") as handle:
        handle.write(b"4020332650,5/12/2016 11:59:50 PM,61\r\n4020332650,5/12/2016 11:59:55 PM,62\r\n")
    result = run(meltano, tmp_path / "drop")
    assert f"from line {lines + 1} (appended)" in result.stderr
    assert "wearable__heartrate_seconds: 2 records" in result.stderr
    assert counts(meltano)["heartrate_seconds"] == expected["heartrate_seconds"] + 2
    new = meltano.query(
        "SELECT raw_id, metadata->>'line' FROM bronze.wearable__heartrate_seconds WHERE raw_id LIKE %s ORDER BY 2",
        "4020332650|2016-05-12T23:59:5%",
    )
    assert [line for _, line in new] == [str(lines + 1), str(lines + 2)]


def test_edited_row_lands_as_new_version_and_the_rest_are_no_ops(meltano, tmp_path):
    expected = write_drop(tmp_path / "drop")
    run(meltano, tmp_path / "drop")
    (path,) = (tmp_path / "drop").rglob("dailyActivity_merged.csv")
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[1].split(",")
    fields[2] = "12345"  # TotalSteps corrected by hand
    lines[1] = ",".join(fields)
    path.write_text("".join(lines))
    run(meltano, tmp_path / "drop")
    assert counts(meltano)["daily_activity"] == expected["daily_activity"] + 1
    versions = meltano.query(
        "SELECT raw_data->>'TotalSteps' FROM bronze.wearable__daily_activity WHERE raw_id = %s ORDER BY ingested_at",
        f"{fields[0]}|{dt.datetime.strptime(fields[1], '%m/%d/%Y'):%Y-%m-%d}",
    )
    assert len(versions) == 2 and versions[-1][0] == "12345"


def test_broken_zip_and_bad_rows_are_reported_while_the_rest_lands(meltano, tmp_path):
    drop = tmp_path / "drop"
    expected = write_drop(drop / "unpacked")
    good = tmp_path / "more.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "export/dailySteps_merged.csv",
            "Id,ActivityDay,StepTotal\r\n8877689391,5/13/2016,23014\r\n8877689391,5/14/2016,1,2\r\n",
        )
    (drop / "more.zip").write_bytes(good.read_bytes())
    (drop / "older.zip").write_bytes(good.read_bytes()[:-40])  # truncated: no central directory

    result = run(meltano, drop, check=False)
    assert result.returncode != 0, "a broken file must fail the run"
    assert f"{drop / 'older.zip'}: not a zip archive (or a truncated one)" in result.stderr
    landed = counts(meltano)
    assert landed["daily_activity"] == expected["daily_activity"]
    assert landed["daily_steps"] == expected["daily_steps"] + 2
    ((status, reason),) = meltano.query(
        "SELECT validation_status, error_message FROM bronze.wearable__daily_steps "
        "WHERE raw_id = '8877689391|2016-05-14'"
    )
    assert status == "invalid" and reason.startswith(  # named inside the drop folder, not the machine
        "more.zip!/export/dailySteps_merged.csv, line 3: 4 fields, the header has 3"
    )

    (drop / "older.zip").unlink()
    run(meltano, drop)  # fixed: the next ordinary run passes and lands nothing twice
    assert counts(meltano) == landed


def test_rows_travel_in_batch_files_that_are_gone_once_loaded(meltano, tmp_path):
    """meltano.yml sends this tap's rows as BATCH files; stale files of a failed run are dropped."""
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / ".meltano" / "run" / "batches"
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / "bronze-batch-tap-wearable-csv--wearable__heartrate_seconds-dead-1.jsonl"
    stale.write_text(
        json.dumps(
            {"raw_id": "stale", "raw_hash": "x", "source": "wearable", "raw_data": {}, "validation_status": "valid"}
        )
        + "\n"
    )
    bystander = folder / "bronze-batch-tap-manual--manual__x-dead-1.jsonl"
    bystander.write_text("{}\n")
    try:
        expected = write_drop(tmp_path / "drop")
        small = json.dumps(
            {
                "encoding": {"format": "jsonl", "compression": "none"},
                "storage": {"root": folder.as_uri()},
                "batch_size": 50,
            }
        )
        result = meltano.run(
            "run",
            "tap-wearable-csv",
            "target-postgres",
            extra_env={"TAP_WEARABLE_CSV_DATA_DIR": str(tmp_path / "drop"), "TAP_WEARABLE_CSV_BATCH_CONFIG": small},
        )
        assert counts(meltano) == expected
        assert "removed 1 batch file(s) an earlier run left unloaded" in result.stderr
        assert (
            meltano.query("SELECT count(*) FROM bronze.wearable__heartrate_seconds WHERE raw_id = 'stale'")[0][0] == 0
        )
        batches = [
            json.loads(line.split("METRIC: ", 1)[1].rstrip("\x1b[0m").strip())
            for line in result.stderr.splitlines()
            if '"metric":"batch_count"' in line
        ]
        by_stream = {m["tags"]["stream"]: m["value"] for m in batches}
        assert by_stream["wearable__heartrate_seconds"] == -(-expected["heartrate_seconds"] // 50)
        assert '"type":"RECORD"' not in result.stdout
        assert sorted(p.name for p in folder.glob("bronze-batch-tap-wearable-csv--*")) == []
        assert bystander.exists()  # another tap's file is not this run's to remove
    finally:
        bystander.unlink(missing_ok=True)


def test_a_day_first_resave_and_the_original_land_as_one_row_per_day(meltano, tmp_path):
    """The public set as downloaded (month-first) and a copy re-saved by a day-first
    spreadsheet (``01/04/2016`` .. ``14/04/2016``): the same days, the same raw_ids."""
    header = (
        "Id,ActivityDate,TotalSteps,TotalDistance,TrackerDistance,LoggedActivitiesDistance,"
        "VeryActiveDistance,ModeratelyActiveDistance,LightActiveDistance,"
        "SedentaryActiveDistance,VeryActiveMinutes,FairlyActiveMinutes,"
        "LightlyActiveMinutes,SedentaryMinutes,Calories"
    )
    days = [dt.date(2016, 4, 1) + dt.timedelta(n) for n in range(14)]
    for folder, spell in (
        ("kaggle", lambda d: f"{d.month}/{d.day}/{d.year}"),
        ("resaved", lambda d: d.strftime("%d/%m/%Y")),
    ):
        path = tmp_path / "drop" / folder / "dailyActivity_merged.csv"
        path.parent.mkdir(parents=True)
        path.write_text(
            "\r\n".join(
                [header]
                + [f"1503960366,{spell(d)},{1000 + d.day},8.5,8.5,0,1.88,0.55,6.06,0,25,13,328,728,1985" for d in days]
            )
            + "\r\n"
        )
    result = run(meltano, tmp_path / "drop")
    assert "are day-first (line 2 (01/04/2016)" not in result.stderr  # 01/04 proves nothing
    assert "are day-first (line 14 (13/04/2016))" in result.stderr
    landed = meltano.query(
        "SELECT raw_id, count(*), count(DISTINCT source_timestamp), "
        "min(source_timestamp)::date::text, string_agg(DISTINCT validation_status, ',') "
        "FROM bronze.wearable__daily_activity GROUP BY raw_id ORDER BY raw_id"
    )
    assert landed == [(f"1503960366|{d.isoformat()}", 2, 1, d.isoformat(), "valid") for d in days]
    again = run(meltano, tmp_path / "drop")
    assert again.stderr.count("unchanged, skipped") == 2
