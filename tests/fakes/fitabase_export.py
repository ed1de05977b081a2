"""Synthetic Fitabase/Fitbit CSV exports, seeded, with the real set's quirks.

The quirks: 10-digit ``Id``s, zone-less US dates (``4/12/2016`` and
``4/12/2016 7:21:00 AM``), exact duplicate rows in ``sleepDay_merged.csv``,
and two date-range folders holding files of the same names. Files are
written row by row, so a 2.5-million-row heart-rate file costs no memory:

    python -m tests.fakes.fitabase_export --heartrate-rows 2500000 data/
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

START = dt.datetime(2016, 4, 12)
FOLDERS = ("Fitabase Data 3.12.16-4.11.16", "Fitabase Data 4.12.16-5.12.16")


def fitabase_day(day: dt.datetime) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def fitabase_time(moment: dt.datetime) -> str:
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d}:{moment.second:02d} {half}"


def person_ids(count: int, rng: random.Random) -> list[str]:
    return [str(rng.randrange(1_000_000_000, 9_999_999_999)) for _ in range(count)]


def write_rows(path: Path, header: list[str], rows) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(header) + "\r\n")  # the real files end lines with CRLF
        for row in rows:
            out.write(",".join(row) + "\r\n")
            count += 1
    return count


def heartrate_rows(ids: list[str], rows: int, rng: random.Random, start: dt.datetime = START):
    """``rows`` readings spread over the people, every 5 to 15 seconds each."""
    per_person = max(1, rows // len(ids))
    written = 0
    for person in ids:
        moment = start
        for _ in range(per_person if person != ids[-1] else rows - written):
            moment += dt.timedelta(seconds=rng.choice((5, 5, 10, 15)))
            written += 1
            yield [person, fitabase_time(moment), str(rng.randint(55, 150))]


def write_drop(
    root: Path, *, people: int = 3, days: int = 4, heartrate_rows_count: int = 200, seed: int = 7
) -> dict[str, int]:
    """A small two-folder export below ``root``; returns the distinct rows per stream."""
    rng = random.Random(seed)
    ids = person_ids(people, rng)
    first, second = (root / name for name in FOLDERS)
    expected: dict[str, int] = {}

    daily = [
        [
            p,
            fitabase_day(START + dt.timedelta(d)),
            str(rng.randint(0, 20000)),
            f"{rng.uniform(0, 12):.2f}",
            f"{rng.uniform(0, 12):.9f}",
            "0",
            "1.5",
            "0.5",
            "3.2",
            "0",
            str(rng.randint(0, 60)),
            "13",
            str(rng.randint(100, 300)),
            "728",
            str(rng.randint(1500, 3500)),
        ]
        for p in ids
        for d in range(days)
    ]
    write_rows(
        second / "dailyActivity_merged.csv",
        [
            "Id",
            "ActivityDate",
            "TotalSteps",
            "TotalDistance",
            "TrackerDistance",
            "LoggedActivitiesDistance",
            "VeryActiveDistance",
            "ModeratelyActiveDistance",
            "LightActiveDistance",
            "SedentaryActiveDistance",
            "VeryActiveMinutes",
            "FairlyActiveMinutes",
            "LightlyActiveMinutes",
            "SedentaryMinutes",
            "Calories",
        ],
        daily,
    )
    expected["daily_activity"] = len(daily)

    nights = [
        [p, fitabase_time(START + dt.timedelta(d)), "1", str(rng.randint(300, 500)), str(rng.randint(320, 540))]
        for p in ids
        for d in range(days)
    ]
    write_rows(
        second / "sleepDay_merged.csv",
        ["Id", "SleepDay", "TotalSleepRecords", "TotalMinutesAsleep", "TotalTimeInBed"],
        nights + nights[:3],
    )  # exact duplicates, as in the real file
    expected["sleep_day"] = len(nights)

    hours = [
        [p, fitabase_time(START + dt.timedelta(hours=h)), str(rng.randint(0, 900))]
        for p in ids
        for h in range(days * 24)
    ]
    half = len(hours) // 2
    write_rows(first / "hourlySteps_merged.csv", ["Id", "ActivityHour", "StepTotal"], hours[:half])
    write_rows(second / "hourlySteps_merged.csv", ["Id", "ActivityHour", "StepTotal"], hours[half:])
    expected["hourly_steps"] = len(hours)

    minutes = [
        [ids[0], fitabase_time(START + dt.timedelta(hours=23, minutes=m)), str(rng.choice((1, 1, 2, 3))), "11380564589"]
        for m in range(60)
    ]
    write_rows(second / "minuteSleep_merged.csv", ["Id", "date", "value", "logId"], minutes)
    expected["minute_sleep"] = len(minutes)

    weights = [
        [
            ids[0],
            fitabase_time(START + dt.timedelta(days=d, hours=23, minutes=59, seconds=59)),
            "52.599998474121",
            "115.963147153",
            "",
            "22.6499996185303",
            "True",
            str(1460505599000 + d),
        ]
        for d in range(2)
    ]
    write_rows(
        second / "weightLogInfo_merged.csv",
        ["Id", "Date", "WeightKg", "WeightPounds", "Fat", "BMI", "IsManualReport", "LogId"],
        weights,
    )
    expected["weight_log_info"] = len(weights)

    expected["heartrate_seconds"] = write_rows(
        second / "heartrate_seconds_merged.csv", ["Id", "Time", "Value"], heartrate_rows(ids, heartrate_rows_count, rng)
    )

    for file_name, stream, header, moments in (
        ("dailyCalories_merged.csv", "daily_calories", ["ActivityDay", "Calories"], "day"),
        (
            "dailyIntensities_merged.csv",
            "daily_intensities",
            [
                "ActivityDay",
                "SedentaryMinutes",
                "LightlyActiveMinutes",
                "FairlyActiveMinutes",
                "VeryActiveMinutes",
                "SedentaryActiveDistance",
                "LightActiveDistance",
                "ModeratelyActiveDistance",
                "VeryActiveDistance",
            ],
            "day",
        ),
        ("dailySteps_merged.csv", "daily_steps", ["ActivityDay", "StepTotal"], "day"),
        ("hourlyCalories_merged.csv", "hourly_calories", ["ActivityHour", "Calories"], "hour"),
        (
            "hourlyIntensities_merged.csv",
            "hourly_intensities",
            ["ActivityHour", "TotalIntensity", "AverageIntensity"],
            "hour",
        ),
        ("minuteCaloriesNarrow_merged.csv", "minute_calories_narrow", ["ActivityMinute", "Calories"], "minute"),
        (
            "minuteCaloriesWide_merged.csv",
            "minute_calories_wide",
            ["ActivityHour"] + [f"Calories{m:02d}" for m in range(60)],
            "hour",
        ),
        ("minuteIntensitiesNarrow_merged.csv", "minute_intensities_narrow", ["ActivityMinute", "Intensity"], "minute"),
        (
            "minuteIntensitiesWide_merged.csv",
            "minute_intensities_wide",
            ["ActivityHour"] + [f"Intensity{m:02d}" for m in range(60)],
            "hour",
        ),
        ("minuteMETsNarrow_merged.csv", "minute_mets_narrow", ["ActivityMinute", "METs"], "minute"),
        ("minuteStepsNarrow_merged.csv", "minute_steps_narrow", ["ActivityMinute", "Steps"], "minute"),
        (
            "minuteStepsWide_merged.csv",
            "minute_steps_wide",
            ["ActivityHour"] + [f"Steps{m:02d}" for m in range(60)],
            "hour",
        ),
    ):
        if moments == "day":
            times = [fitabase_day(START + dt.timedelta(d)) for d in range(days)]
        elif moments == "hour":
            times = [fitabase_time(START + dt.timedelta(hours=h)) for h in range(3)]
        else:
            times = [fitabase_time(START + dt.timedelta(minutes=m)) for m in range(5)]
        rows = [[p, t] + [str(rng.randint(0, 99)) for _ in header[1:]] for p in ids for t in times]
        expected[stream] = write_rows(second / file_name, ["Id", *header], rows)

    (second / "notes_from_my_doctor.csv").write_text("a,b\n1,2\n")  # not an export file
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--heartrate-rows", type=int, default=2_500_000)
    parser.add_argument("--people", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    count = write_rows(
        args.folder / "heartrate_seconds_merged.csv",
        ["Id", "Time", "Value"],
        heartrate_rows(person_ids(args.people, rng), args.heartrate_rows, rng),
    )
    print(f"{count} rows in {args.folder / 'heartrate_seconds_merged.csv'}")


if __name__ == "__main__":
    main()
