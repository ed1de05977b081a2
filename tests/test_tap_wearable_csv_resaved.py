"""tap-wearable-csv on public Fitabase files as people actually have them: re-saved by a
spreadsheet (day-first dates, 24-hour or seconds-less times, TRUE/FALSE, 1.46223E+12,
``ActivityDate`` for ``ActivityDay``), files that contradict themselves, repeated headers,
and a header or field over the CSV field limit. Each test runs the tap as a process."""

from __future__ import annotations

import datetime as dt

from tests import tap_runner

DAILY_HEADER = (
    "Id,ActivityDate,TotalSteps,TotalDistance,TrackerDistance,LoggedActivitiesDistance,"
    "VeryActiveDistance,ModeratelyActiveDistance,LightActiveDistance,"
    "SedentaryActiveDistance,VeryActiveMinutes,FairlyActiveMinutes,"
    "LightlyActiveMinutes,SedentaryMinutes,Calories"
)
PERSON = "1503960366"  # the first participant of the public set


def daily_row(day: str, steps: int = 13162) -> str:
    return f"{PERSON},{day},{steps},8.5,8.5,0,1.88,0.55,6.06,0,25,13,328,728,1985"


def write(folder, name, lines, sub="Fitabase Data 3.12.16-4.11.16"):
    path = folder / sub / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(lines) + "\r\n")  # the export ends lines with CRLF
    return path


def run(folder, tmp_path, state=None, **config):
    return tap_runner.run_tap("tap-wearable-csv", {"data_dir": str(folder), **config}, tmp_path, state)


def rows_of(messages, stream):
    return {r["metadata"]["line"]: r for r in tap_runner.records(messages, f"wearable__{stream}")}


def days(start: dt.date, count: int, fmt: str) -> list[str]:
    return [(start + dt.timedelta(d)).strftime(fmt) for d in range(count)]


def test_a_day_first_resave_is_read_day_first_on_both_sides_of_day_12(tmp_path):
    # 25/03/2016 .. 14/04/2016, as a spreadsheet in a day-first locale writes them.
    written = days(dt.date(2016, 3, 25), 21, "%d/%m/%Y")
    write(tmp_path / "drop", "dailyActivity_merged.csv", [DAILY_HEADER] + [daily_row(d) for d in written])
    result, messages, state = run(tmp_path / "drop", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = rows_of(messages, "daily_activity")
    assert len(rows) == 21 and {r["validation_status"] for r in rows.values()} == {"valid"}
    april_12 = rows[2 + written.index("12/04/2016")]
    assert april_12["raw_data"]["ActivityDate"] == "12/04/2016"  # kept as written
    assert april_12["source_timestamp"] == "2016-04-12T00:00:00+00:00"  # not 4 December
    assert april_12["raw_id"] == f"{PERSON}|2016-04-12"
    assert rows[2 + written.index("04/04/2016")]["source_timestamp"] == "2016-04-04T00:00:00+00:00"
    assert "are day-first (line 2 (25/03/2016))" in result.stderr
    (entry,) = state["bookmarks"]["wearable__daily_activity"]["date_orders"].values()
    assert entry["order"] == "day-first"


def test_a_file_that_never_shows_the_order_uses_date_order_and_says_so(tmp_path):
    written = days(dt.date(2016, 4, 1), 12, "%d/%m/%Y")  # 01/04/2016 .. 12/04/2016: all ambiguous
    write(tmp_path / "drop", "dailyActivity_merged.csv", [DAILY_HEADER] + [daily_row(d) for d in written])
    result, messages, _ = run(tmp_path / "drop", tmp_path, date_order="day-first")
    assert result.returncode == 0, result.stderr[-3000:]
    last = rows_of(messages, "daily_activity")[13]
    assert last["raw_data"]["ActivityDate"] == "12/04/2016" and last["validation_status"] == "valid"
    assert last["source_timestamp"] == "2016-04-12T00:00:00+00:00"
    assert "all are 12 or less); read as day-first (setting date_order)" in result.stderr

    result, messages, _ = run(tmp_path / "drop", tmp_path / "drop")  # the default: as Fitabase writes
    assert rows_of(messages, "daily_activity")[13]["source_timestamp"] == "2016-12-04T00:00:00+00:00"
    assert "read as month-first (setting date_order)" in result.stderr

    result, _, _ = run(tmp_path / "drop", tmp_path, date_order="yesterday")
    assert result.returncode != 0 and "date_order" in result.stderr


def test_a_file_whose_rows_contradict_each_other_never_lands_a_guess_valid(tmp_path):
    write(
        tmp_path / "drop",
        "dailyActivity_merged.csv",
        [
            DAILY_HEADER,
            daily_row("4/4/2016"),  # the same day either way
            daily_row("5/4/2016"),  # 5 April or 4 May?
            daily_row("25/03/2016"),  # only day-first reads this
            daily_row("4/25/2016"),  # only month-first reads this
            daily_row("6/4/2016"),
        ],
    )
    result, messages, _ = run(tmp_path / "drop", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = rows_of(messages, "daily_activity")
    status = {line: (r["validation_status"], r["source_timestamp"], r["raw_id"]) for line, r in rows.items()}
    assert status[2] == ("valid", "2016-04-04T00:00:00+00:00", f"{PERSON}|2016-04-04")
    assert status[4] == ("valid", "2016-03-25T00:00:00+00:00", f"{PERSON}|2016-03-25")
    assert status[5] == ("valid", "2016-04-25T00:00:00+00:00", f"{PERSON}|2016-04-25")
    assert status[3] == ("invalid", None, f"{PERSON}|2016-04-05 or 2016-05-04")
    assert status[6] == ("invalid", None, f"{PERSON}|2016-04-06 or 2016-06-04")
    assert (
        "'5/4/2016' could be 2016-04-05 or 2016-05-04, and this file has dates of both orders "
        "(line 4 (25/03/2016) is day-first, line 5 (4/25/2016) month-first)" in rows[3]["error_message"]
    )
    assert "mixes date orders" in result.stderr


def test_spreadsheet_variants_are_valid_and_keep_their_text(tmp_path):
    drop = tmp_path / "drop"
    write(
        drop,
        "hourlySteps_merged.csv",
        [
            "Id,ActivityHour,StepTotal",
            f"{PERSON},4/12/2016 0:00,373",
            f"{PERSON},4/12/2016 13:00,160",
            f"{PERSON},4/13/2016 1:00,0",
        ],
    )
    write(
        drop,
        "sleepDay_merged.csv",
        [
            "Id,SleepDay,TotalSleepRecords,TotalMinutesAsleep,TotalTimeInBed",
            f"{PERSON},12/04/2016 12:00 AM,1,327,346",
            f"{PERSON},13/04/2016 12:00 AM,2,384,407",
        ],
    )
    write(
        drop,
        "weightLogInfo_merged.csv",
        [
            "Id,Date,WeightKg,WeightPounds,Fat,BMI,IsManualReport,LogId",
            f"{PERSON},5/2/2016 23:59,52.59999847,115.9631472,22,22.64999962,TRUE,1.46223E+12",
            f"{PERSON},5/3/2016 23:59,52.59999847,115.9631472,,22.64999962,FALSE,1.46232E+12",
            f"{PERSON},5/13/2016 23:59,52.59999847,115.9631472,,22.64999962,TRUE,1463183999000",
        ],
    )
    write(
        drop,
        "dailyCalories_merged.csv",
        ["Id,ActivityDate,Calories", f"{PERSON},4/12/2016,1985", f"{PERSON},4/13/2016,1797"],
    )
    result, messages, _ = run(drop, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    everything = [
        r
        for m in ("hourly_steps", "sleep_day", "weight_log_info", "daily_calories")
        for r in rows_of(messages, m).values()
    ]
    assert {(r["validation_status"], r["error_message"]) for r in everything} == {("valid", None)}

    hours = rows_of(messages, "hourly_steps")
    assert (hours[2]["raw_id"], hours[2]["source_timestamp"]) == (
        f"{PERSON}|2016-04-12T00:00:00",
        "2016-04-12T00:00:00+00:00",
    )
    assert hours[3]["source_timestamp"] == "2016-04-12T13:00:00+00:00"
    nights = rows_of(messages, "sleep_day")
    assert nights[2]["raw_id"] == f"{PERSON}|2016-04-12"
    assert nights[2]["raw_data"]["SleepDay"] == "12/04/2016 12:00 AM"
    weights = rows_of(messages, "weight_log_info")
    assert weights[2]["raw_data"]["LogId"] == "1.46223E+12" and weights[2]["raw_data"]["IsManualReport"] == "TRUE"
    # A shortened log id no longer tells logs apart: the row is keyed by its time as well.
    assert weights[2]["raw_id"] == f"{PERSON}|1.46223E+12|2016-05-02T23:59:00"
    assert weights[4]["raw_id"] == f"{PERSON}|1463183999000"
    assert "ids a spreadsheet shortened" in result.stderr
    calories = rows_of(messages, "daily_calories")
    assert (calories[2]["raw_id"], calories[2]["source_timestamp"]) == (
        f"{PERSON}|2016-04-12",
        "2016-04-12T00:00:00+00:00",
    )


def test_one_row_spelled_two_ways_has_one_raw_id(tmp_path):
    drop = tmp_path / "drop"
    write(
        drop,
        "dailySteps_merged.csv",
        ["Id,ActivityDay,StepTotal", f"{PERSON},4/12/2016,13162", f"{PERSON},4/13/2016,10735"],
        sub="kaggle",
    )
    write(
        drop,
        "dailySteps_merged.csv",
        ["Id,ActivityDay,StepTotal", f" {PERSON} ,04/12/2016,13162", f"{PERSON},04/13/2016 12:00:00 AM,10735"],
        sub="resaved",
    )
    write(
        drop,
        "hourlySteps_merged.csv",
        ["Id,ActivityHour,StepTotal", f"{PERSON},4/12/2016 1:00:00 PM,160", f"{PERSON},4/13/2016 12:00:00 AM,0"],
        sub="kaggle",
    )
    write(
        drop,
        "hourlySteps_merged.csv",
        ["Id,ActivityHour,StepTotal", f"{PERSON},4/12/2016 13:00,160", f"{PERSON},4/13/2016 0:00,0"],
        sub="resaved",
    )
    result, messages, _ = run(drop, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    steps = tap_runner.records(messages, "wearable__daily_steps")
    assert sorted(r["raw_id"] for r in steps) == [f"{PERSON}|2016-04-12"] * 2 + [f"{PERSON}|2016-04-13"] * 2
    hours = tap_runner.records(messages, "wearable__hourly_steps")
    assert (
        sorted(r["raw_id"] for r in hours)
        == [f"{PERSON}|2016-04-12T13:00:00"] * 2 + [f"{PERSON}|2016-04-13T00:00:00"] * 2
    )


def test_appended_rows_are_read_in_the_order_remembered_for_the_file(tmp_path):
    drop = tmp_path / "drop"
    path = write(drop, "dailyActivity_merged.csv", [DAILY_HEADER, daily_row("30/04/2016"), daily_row("01/05/2016")])
    result, _, state = run(drop, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(path, "a", newline="") as handle:
        handle.write(daily_row("06/05/2016") + "\r\n")  # ambiguous on its own
    result, messages, _ = run(drop, tmp_path, state=state)
    assert "from line 4 (appended)" in result.stderr, result.stderr[-3000:]
    (row,) = tap_runner.records(messages, "wearable__daily_activity")
    assert (row["raw_id"], row["source_timestamp"]) == (f"{PERSON}|2016-05-06", "2016-05-06T00:00:00+00:00")


def test_appended_rows_that_prove_the_setting_wrong_reread_the_file(tmp_path):
    drop = tmp_path / "drop"
    path = write(drop, "dailyActivity_merged.csv", [DAILY_HEADER, daily_row("11/04/2016"), daily_row("12/04/2016")])
    _, first, state = run(drop, tmp_path)  # undecidable: read month-first, as the setting says
    assert rows_of(first, "daily_activity")[3]["source_timestamp"] == "2016-12-04T00:00:00+00:00"
    with open(path, "a", newline="") as handle:
        handle.write(daily_row("13/04/2016") + "\r\n")
    result, messages, _ = run(drop, tmp_path, state=state)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        "prove day-first dates (line 4 (13/04/2016)) but its earlier rows were read month-first"
        " (setting date_order); the whole file is read again" in result.stderr
    )
    rows = rows_of(messages, "daily_activity")
    assert [rows[n]["source_timestamp"][:10] for n in (2, 3, 4)] == ["2016-04-11", "2016-04-12", "2016-04-13"]


def test_a_repeated_header_keeps_both_values_and_marks_the_rows(tmp_path):
    write(
        tmp_path / "drop",
        "dailyActivity_merged.csv",
        ["Id,ActivityDate,TotalSteps,TotalSteps", f"{PERSON},4/12/2016,13162,999"],
    )
    result, messages, _ = run(tmp_path / "drop", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (row,) = tap_runner.records(messages, "wearable__daily_activity")
    assert row["raw_data"] == {"Id": PERSON, "ActivityDate": "4/12/2016", "TotalSteps": "13162", "TotalSteps__2": "999"}
    assert row["validation_status"] == "invalid"
    assert "the header repeats 'TotalSteps' (columns 3, 4)" in row["error_message"]


def test_a_header_or_field_over_the_csv_limit_costs_only_itself(tmp_path):
    drop = tmp_path / "drop"
    huge = "X" * (16 * 1024 * 1024 + 10)  # past the reader's field limit (16 MiB)
    write(drop, "dailyCalories_merged.csv", [f"Id,ActivityDay,Calories,{huge}", f"{PERSON},4/12/2016,1985,"])
    write(
        drop,
        "dailySteps_merged.csv",
        [
            "Id,ActivityDay,StepTotal",
            f"{PERSON},4/12/2016,13162",
            f"{PERSON},4/13/2016,{huge}",
            f"{PERSON},4/14/2016,9762",
        ],
    )
    write(drop, "hourlySteps_merged.csv", ["Id,ActivityHour,StepTotal", f"{PERSON},4/12/2016 1:00:00 PM,160"])
    result, messages, state = run(drop, tmp_path)
    assert result.returncode != 0, "a file that cannot be read fails the run"
    path = drop / "Fitabase Data 3.12.16-4.11.16" / "dailyCalories_merged.csv"
    assert f"{path}, line 1: unreadable CSV header (field larger than field limit" in result.stderr
    assert not tap_runner.records(messages, "wearable__daily_calories")
    steps = rows_of(messages, "daily_steps")
    assert [steps[n]["validation_status"] for n in (2, 3, 4)] == ["valid", "invalid", "valid"]
    assert len(steps[3]["raw_data"]["StepTotal"]) == len(huge)  # kept whole
    assert "line 3: field larger than field limit (16777216) in 'StepTotal'" in steps[3]["error_message"]
    assert len(tap_runner.records(messages, "wearable__hourly_steps")) == 1
    bookmarks = state["bookmarks"]
    assert "files" in bookmarks["wearable__daily_steps"]
    assert not bookmarks.get("wearable__daily_calories", {}).get("files")  # read again next run
