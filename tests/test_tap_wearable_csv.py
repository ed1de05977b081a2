"""tap-wearable-csv as a process: streams by file name, keys, times, quirks, bad rows."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_wearable_csv.tap import TapWearableCsv
from tests import tap_runner
from tests.fakes.fitabase_export import write_drop

_STANDARD_DIR = Path(tempfile.mkdtemp(prefix="wearable-std-"))
atexit.register(shutil.rmtree, _STANDARD_DIR, True)
write_drop(_STANDARD_DIR, people=2, days=2, heartrate_rows_count=20)

TestTapWearableCsv = get_tap_test_class(tap_class=TapWearableCsv, config={"data_dir": str(_STANDARD_DIR)})


def run(folder, tmp_path, state=None, **config):
    return tap_runner.run_tap("tap-wearable-csv", {"data_dir": str(folder), **config}, tmp_path, state)


def by_stream(messages):
    return Counter(m["stream"].split("__")[1] for m in messages if m["type"] == "RECORD")


def test_file_names_pick_streams_and_unknown_files_are_reported(tmp_path):
    expected = write_drop(tmp_path / "drop")
    result, messages, state = run(tmp_path / "drop", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    emitted = by_stream(messages)
    # sleepDay has three exact duplicate rows: emitted, but with the same key and hash.
    assert emitted == {**expected, "sleep_day": expected["sleep_day"] + 3}
    sleep = tap_runner.records(messages, "wearable__sleep_day")
    assert len({(r["raw_id"], r["raw_hash"]) for r in sleep}) == expected["sleep_day"]
    assert "notes_from_my_doctor.csv is not a known export file; skipped" in result.stderr
    assert not any("notes_from_my_doctor" in m.get("stream", "") for m in messages)
    assert len(state["bookmarks"]["wearable__hourly_steps"]["files"]) == 2  # both date-range folders


def test_ids_beyond_int32_and_zone_less_dates(tmp_path):
    write_drop(tmp_path / "drop")
    _, messages, _ = run(tmp_path / "drop", tmp_path, timezone="America/Chicago")
    record = tap_runner.records(messages, "wearable__heartrate_seconds")[0]
    person, when = record["raw_data"]["Id"], record["raw_data"]["Time"]
    assert when == "4/12/2016 12:00:05 AM" or when.startswith("4/12/2016 12:00:")
    # raw_id holds the time in ISO form (wall clock, as written), not the file's spelling.
    assert int(person) > 2**31 and record["raw_id"] == f"{person}|2016-04-12T00:00:{when[-5:-3]}"
    # 12:00:xx AM in Chicago (CDT, UTC-5) is 05:00:xx UTC; the text stays untouched.
    assert record["source_timestamp"].startswith("2016-04-12T05:00:")
    day = tap_runner.records(messages, "wearable__daily_activity")[0]
    assert day["raw_data"]["ActivityDate"] == "4/12/2016"
    assert day["source_timestamp"] == "2016-04-12T05:00:00+00:00"
    assert day["validation_status"] == "valid" and day["metadata"]["line"] == 2


def test_bad_rows_are_kept_invalid_with_path_and_line(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "sleepDay_merged.csv").write_bytes(
        b"Id,SleepDay,TotalSleepRecords,TotalMinutesAsleep,TotalTimeInBed\r\n"
        b"1503960366,4/12/2016 12:00:00 AM,1,327,346\r\n"
        b"1503960366,4/13/2016 12:00:00 AM,2,384\r\n"  # a column short
        b"1503960366,4/14/2016 12:00:00 AM,1,41\xff2,442\r\n"  # invalid UTF-8
        b"1503960366,4/15/2016 12:00:00 AM,1,3\x0040,367\r\n"  # NUL byte
        b"1503960366,yesterday,1,400,410\r\n"  # breaks the schema
        b"1503960366,4/17/2016 12:00:00 AM,1,700,712\r\n"
    )
    result, messages, _ = run(folder, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = tap_runner.records(messages, "wearable__sleep_day")
    assert [r["metadata"]["line"] for r in rows] == [2, 3, 4, 5, 6, 7]
    status = {r["metadata"]["line"]: (r["validation_status"], r["error_message"]) for r in rows}
    assert status[2] == ("valid", None) and status[7] == ("valid", None)
    path = str(folder / "sleepDay_merged.csv")  # rows name it relative to the folder, the log in full
    assert status[3] == ("invalid", "sleepDay_merged.csv, line 3: 4 fields, the header has 5")
    assert status[4][0] == "invalid" and status[4][1].startswith("sleepDay_merged.csv, line 4: invalid UTF-8")
    assert status[5][0] == "invalid" and status[5][1].startswith("sleepDay_merged.csv, line 5: NUL byte")
    assert status[6][0] == "invalid" and "SleepDay" in status[6][1]
    assert f"{path}, line 4: invalid UTF-8" in result.stderr  # reported in the log too


def test_missing_folder_and_bad_zone_are_clear_errors(tmp_path):
    result, _, _ = run(tmp_path / "nowhere", tmp_path)
    assert result.returncode != 0 and "data_dir" in result.stderr and "does not exist" in result.stderr
    (tmp_path / "drop").mkdir()
    result, _, _ = run(tmp_path / "drop", tmp_path, timezone="Mars/Olympus")
    assert result.returncode != 0 and "'Mars/Olympus' is not an IANA time zone" in result.stderr


def test_zip_export_is_read_in_place(tmp_path):
    import zipfile

    write_drop(tmp_path / "drop")
    archive = tmp_path / "fitbit.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (tmp_path / "drop").rglob("*.csv"):
            zf.write(path, path.relative_to(tmp_path / "drop").as_posix())
        zf.writestr("../../evil/sleepDay_merged.csv", "Id,SleepDay\n1,4/12/2016\n")
    scratch = tmp_path / "temp"  # the tap's temp folder: reading in place leaves it empty
    scratch.mkdir()
    before = set(tmp_path.rglob("*"))
    result, messages, _ = tap_runner.run_tap(
        "tap-wearable-csv", {"data_dir": str(archive)}, tmp_path, env={"TMPDIR": str(scratch)}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert by_stream(messages)["daily_activity"] == 12
    assert set(tmp_path.rglob("*")) - before == {tmp_path / "config.json"}, "the tap wrote beside the zip"
    assert not any(scratch.iterdir()), "the tap extracted into a temp folder"
    for base in (tmp_path, tmp_path.parent, tmp_path.parent.parent, Path.cwd(), Path.cwd().parent):
        assert not (base / "evil").exists()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("4/12/2016", (2016, 4, 12, 0, 0, 0)),
        ("4/12/2016 12:00:00 AM", (2016, 4, 12, 0, 0, 0)),
        ("4/12/2016 12:30:05 PM", (2016, 4, 12, 12, 30, 5)),
        ("12/31/2016 11:59:59 PM", (2016, 12, 31, 23, 59, 59)),
        ("5/1/2016 7:21:00 AM", (2016, 5, 1, 7, 21, 0)),
    ],
)
def test_fitabase_times_read_as_strptime_would(text, expected):
    import datetime as dt

    from tap_wearable_csv.dates import FITABASE_FORMATS, parse_fitabase_time

    parsed = parse_fitabase_time(text, dt.UTC)
    assert parsed.timetuple()[:6] == expected
    fmt = FITABASE_FORMATS[0] if " " in text else FITABASE_FORMATS[1]
    assert parsed == dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["yesterday", "4/12/2016 13:00:00 PM", "4/31/2016", "2016-04-12", ""])
def test_unreadable_fitabase_times_raise(text):
    import datetime as dt

    from tap_wearable_csv.dates import parse_fitabase_time

    with pytest.raises(ValueError):
        parse_fitabase_time(text, dt.UTC)
