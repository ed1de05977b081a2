"""Writes a realistic, deterministic Garmin Connect data export (folder or zip).

The layout and field names follow the export Garmin sends (account, data
management, export your data): a ``DI_CONNECT/`` tree, here nested under a
UUID-named folder as real exports often are, with file names that embed dates
and an account id. Two daily-summary files overlap by three days, with the
overlapping days identical, as in real exports. Unrelated files are included
so readers must pick theirs by pattern. Each array item sits on its own line so
that line numbers in error messages mean something.

Everything is derived from (seed, day), never from the clock, so the bundled
sample and the zips are byte-identical from run to run:

    python3 -m tests.fakes.garmin_export samples/garmin-export --days 14
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import uuid
import zipfile
from pathlib import Path

UTC = dt.UTC
LOCAL_OFFSET = dt.timedelta(hours=1)  # the user's zone is UTC+1
DEFAULT_END = dt.date(2024, 5, 20)  # fixed, so the bundled sample never changes
ZIP_TIME = (2024, 5, 21, 8, 0, 0)  # fixed member time: identical zip bytes
ROOT_FOLDER = "3f1c2a9e-5b7d-4e61-9a0c-2d8e4b6f7a10"
OVERLAP_DAYS = 3
DEVICE_ID = 3442978399
USER_NAME = "fake.user@example.com"
# activityType -> (sportType, speed range in m/s, heart-rate range, kcal per minute, has steps)
SPORTS = {
    "running": ("RUNNING", (2.5, 3.6), (140, 165), 11, True),
    "cycling": ("CYCLING", (5.0, 8.0), (120, 150), 9, False),
    "walking": ("GENERIC", (1.2, 1.6), (95, 115), 4, True),
}


def _days(days: int, end_date: dt.date) -> list[dt.date]:
    """The covered calendar days, oldest first."""
    return [end_date - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]


def _rng(seed: int, day: dt.date, salt: int) -> random.Random:
    """A generator per (seed, day, kind): one day's values never depend on the range asked for."""
    return random.Random(seed * 7919 + day.toordinal() * 13 + salt)


def _uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (uuid.uuid4() would break determinism)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(moment: dt.datetime) -> str:
    """Garmin's zone-less export timestamp text, e.g. ``2024-05-13T22:41:04.0``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0")


def _epoch_ms(moment: dt.datetime) -> float:
    """Epoch milliseconds as a float, as the activities file stores instants."""
    return float(int(moment.replace(tzinfo=UTC).timestamp()) * 1000)


def _local_midnight_gmt(day: dt.date) -> dt.datetime:
    """The GMT instant (naive) at which ``day`` starts for the user."""
    return dt.datetime(day.year, day.month, day.day) - LOCAL_OFFSET


def sleep_night(day: dt.date, seed: int, account_id: int, empty: bool = False) -> dict:
    """One item of ``*_sleepData.json``; ``calendarDate`` is the wake date.

    ``empty`` mimics a night the watch was not worn: Garmin still lists the day,
    with almost no fields, and readers must cope.
    """
    if empty:
        return {"calendarDate": day.isoformat(), "sleepWindowConfirmationType": "UNCONFIRMED", "retro": False}
    rng = _rng(seed, day, 1)
    start = _local_midnight_gmt(day) + dt.timedelta(minutes=rng.randint(-105, 30), seconds=rng.randint(0, 59))
    total = rng.randint(6 * 60, 9 * 60) * 60  # 6 to 9 hours in bed
    deep, rem, awake = (
        int(total * rng.uniform(0.13, 0.22)),
        int(total * rng.uniform(0.18, 0.25)),
        int(total * rng.uniform(0.02, 0.07)),
    )
    light = total - deep - rem - awake
    end = start + dt.timedelta(seconds=total)
    respiration = round(rng.uniform(12.5, 16.5), 1)
    overall = rng.randint(55, 95)
    night = {
        "calendarDate": day.isoformat(),
        "sleepStartTimestampGMT": _iso(start),
        "sleepEndTimestampGMT": _iso(end),
        "sleepWindowConfirmationType": "ENHANCED_CONFIRMED_FINAL",
        "deepSleepSeconds": deep,
        "lightSleepSeconds": light,
        "remSleepSeconds": rem,
        "awakeSleepSeconds": awake,
        "unmeasurableSeconds": 0,
        "averageRespiration": respiration,
        "lowestRespiration": round(respiration - rng.uniform(2, 4), 1),
        "highestRespiration": round(respiration + rng.uniform(3, 6), 1),
        "awakeCount": rng.randint(0, 4),
        "avgSleepStress": round(rng.uniform(8, 25), 2),
        "restlessMomentCount": rng.randint(10, 60),
        "sleepScores": _sleep_scores(rng, overall),
        "spo2SleepSummary": {
            "userProfilePk": account_id,
            "deviceId": DEVICE_ID,
            "sleepMeasurementStartGMT": _iso(start),
            "sleepMeasurementEndGMT": _iso(end),
            "alertThresholdValue": None,
            "numberOfEventsBelowThreshold": None,
            "durationOfEventsBelowThreshold": None,
            "averageSPO2": rng.randint(93, 98),
            "averageSpO2HR": rng.randint(48, 60),
            "lowestSPO2": rng.randint(85, 92),
        },
        "retro": False,
    }
    if rng.random() < 0.3:
        night["napList"] = []  # present but empty on some nights, as in real files
    return night


def _sleep_scores(rng: random.Random, overall: int) -> dict:
    """The ``sleepScores`` object: sub-scores near the overall one, plus Garmin's feedback codes."""
    scores = {
        name: max(0, min(100, overall + rng.randint(-20, 15)))
        for name in (
            "qualityScore",
            "durationScore",
            "recoveryScore",
            "deepScore",
            "remScore",
            "lightScore",
            "awakeningsCountScore",
            "awakeTimeScore",
            "combinedAwakeScore",
            "restfulnessScore",
            "interruptionsScore",
        )
    }
    feedback = (
        "POSITIVE_LONG_AND_DEEP"
        if overall >= 80
        else "NEGATIVE_LONG_BUT_LIGHT"
        if overall >= 65
        else "NEGATIVE_SHORT_AND_POOR"
    )
    return {
        "overallScore": overall,
        **scores,
        "feedback": feedback,
        "insight": rng.choice(["NONE", "POSITIVE_EXERCISE", "NEGATIVE_LATE_BED_TIME"]),
    }


def _stress_part(rng: random.Random, kind: str, seconds: int) -> dict:
    """One ``aggregatorList`` entry whose durations add up to ``seconds``."""
    low, medium, high = rng.randint(600, 5400), rng.randint(0, 2400), rng.randint(0, 900)
    activity_s = rng.randint(0, 5400) if kind == "AWAKE" else 0
    uncategorized = rng.randint(0, 1800)
    return {
        "type": kind,
        "averageStressLevel": rng.randint(15, 45),
        "maxStressLevel": rng.randint(50, 99),
        "stressDuration": low + medium + high,
        "restDuration": seconds - low - medium - high - activity_s - uncategorized,
        "activityDuration": activity_s,
        "uncategorizedDuration": uncategorized,
        "totalDuration": seconds,
        "lowDuration": low,
        "mediumDuration": medium,
        "highDuration": high,
    }


def _stress(rng: random.Random, day: dt.date) -> dict:
    """``allDayStress``: AWAKE and ASLEEP split the day's seconds; TOTAL is their sum."""
    asleep_s = rng.randint(6, 9) * 3600
    asleep, awake = _stress_part(rng, "ASLEEP", asleep_s), _stress_part(rng, "AWAKE", 86400 - asleep_s)
    total = {key: (awake[key] + asleep[key] if key.endswith("Duration") else awake[key]) for key in awake}
    total.update(
        type="TOTAL",
        averageStressLevel=rng.randint(15, 45),
        maxStressLevel=max(awake["maxStressLevel"], asleep["maxStressLevel"]),
    )
    return {"calendarDate": day.isoformat(), "aggregatorList": [total, awake, asleep]}


def daily_summary(day: dt.date, seed: int, account_id: int) -> dict:
    """One item of ``UDSFile_*.json``: a pure function of (day, seed), so overlapping files agree."""
    rng = _rng(seed, day, 2)
    start = _local_midnight_gmt(day)
    steps, resting = rng.randint(3000, 18000), rng.randint(48, 62)
    bmr, active = 1750.0, float(rng.randint(150, 1100))
    low, high = rng.randint(5, 30), rng.randint(60, 100)
    return {
        "userProfilePK": account_id,
        "calendarDate": day.isoformat(),
        "uuid": _uuid(rng),
        "durationInMilliseconds": 86400000,
        "totalSteps": steps,
        "dailyStepGoal": 8000,
        "totalKilocalories": bmr + active,
        "activeKilocalories": active,
        "bmrKilocalories": bmr,
        "wellnessKilocalories": bmr + active,
        "totalDistanceMeters": int(steps * 0.76),
        "restingHeartRate": resting,
        "currentDayRestingHeartRate": resting,
        "minHeartRate": resting - rng.randint(2, 6),
        "maxHeartRate": rng.randint(110, 182),
        "moderateIntensityMinutes": rng.randint(0, 60),
        "vigorousIntensityMinutes": rng.randint(0, 40),
        "floorsAscendedInMeters": round(rng.uniform(0, 60), 3),
        "wellnessStartTimeGmt": _iso(start),
        "wellnessEndTimeGmt": _iso(start + dt.timedelta(days=1)),
        "wellnessStartTimeLocal": _iso(start + LOCAL_OFFSET),
        "wellnessEndTimeLocal": _iso(start + LOCAL_OFFSET + dt.timedelta(days=1)),
        "source": "GARMIN",
        "includesWellnessData": True,
        "includesActivityData": True,
        "allDayStress": _stress(rng, day),
        "bodyBattery": {
            "chargedValue": rng.randint(30, 80),
            "drainedValue": rng.randint(30, 80),
            "bodyBatteryStatList": [
                {"bodyBatteryStatType": "HIGHEST", "statsValue": high},
                {"bodyBatteryStatType": "LOWEST", "statsValue": low},
                {"bodyBatteryStatType": "ENDOFDAY", "statsValue": rng.randint(low, high)},
            ],
        },
        "respiration": {
            "userProfilePK": account_id,
            "calendarDate": day.isoformat(),
            "avgWakingRespirationValue": round(rng.uniform(13, 17), 1),
            "highestRespirationValue": round(rng.uniform(19, 24), 1),
            "lowestRespirationValue": round(rng.uniform(8, 11), 1),
        },
    }


def activity(day: dt.date, seed: int) -> dict | None:
    """The day's activity in ``*_summarizedActivities.json``, or None (about every second day).

    Units are the export's: instants and durations in (float) ms, distance and
    elevation in centimetres, speeds in cm/ms (a tenth of the m/s value).
    """
    rng = _rng(seed, day, 3)
    if rng.random() >= 0.5:
        return None
    kind = rng.choice(sorted(SPORTS))
    sport, speeds, heart, kcal_per_min, has_steps = SPORTS[kind]
    start = _local_midnight_gmt(day) + dt.timedelta(
        hours=rng.randint(6, 19), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59)
    )
    minutes = rng.randint(20, 90)
    moving_ms = float(minutes * 60_000)
    speed = rng.uniform(*speeds)  # m/s
    distance_cm = round(speed * moving_ms / 10, 1)
    avg_hr = rng.randint(*heart)
    climb_cm = float(rng.randint(0, 30000))  # loops: roughly as much down as up
    found = {
        "activityId": 14_000_000_000 + int(_epoch_ms(start)) // 100_000,  # 11 digits, grows with time
        "uuid": _uuid(rng),
        "name": f"London {kind.title()}",
        "activityType": kind,
        "sportType": sport,
        "startTimeGmt": _epoch_ms(start),
        "startTimeLocal": _epoch_ms(start + LOCAL_OFFSET),
        "beginTimestamp": _epoch_ms(start),
        "duration": moving_ms + 12_000.0,
        "elapsedDuration": moving_ms + 43_000.0,
        "movingDuration": moving_ms,
        "distance": distance_cm,
        "avgSpeed": round(speed / 10, 4),
        "maxSpeed": round(speed * rng.uniform(1.2, 1.6) / 10, 4),
        "avgHr": float(avg_hr),
        "maxHr": float(avg_hr + rng.randint(10, 25)),
        "minHr": float(rng.randint(70, 95)),
        "calories": float(minutes * kcal_per_min + rng.randint(0, 60)),
        "elevationGain": climb_cm,
        "elevationLoss": round(climb_cm * rng.uniform(0.9, 1.1), 1),
        "lapCount": max(1, int(distance_cm // 100_000)),
        "deviceId": DEVICE_ID,
        "manufacturer": "GARMIN",
        "timeZoneId": 124,
        "favorite": False,
        "pr": False,
        "manualActivity": False,
    }
    if has_steps:
        found["steps"] = int(minutes * rng.randint(110, 170))
    return found


def activities(days: list[dt.date], seed: int) -> list[dict]:
    """All activities of ``days``, oldest first."""
    return [a for a in (activity(day, seed) for day in days) if a is not None]


def _json_lines(items: list) -> str:
    """A JSON array with one item per line, so a line number points at one item."""
    if not items:
        return "[]\n"
    return "[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]\n"


def _uds_ranges(all_days: list[dt.date]) -> tuple[list[dt.date], list[dt.date]]:
    """Two date ranges covering ``all_days`` that overlap by up to OVERLAP_DAYS days."""
    split = len(all_days) // 2
    return all_days[: split + OVERLAP_DAYS], all_days[split:]


def export_files(
    days: int = 14,
    end_date: dt.date = DEFAULT_END,
    seed: int = 11,
    nested_uuid_folder: bool = True,
    account_id: int = 90817263,
) -> dict[str, str]:
    """Relative path -> file text of the whole export (the single source of both layouts)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    all_days = _days(days, end_date)
    first, last = all_days[0], all_days[-1]
    empty_night = all_days[len(all_days) // 3]
    part_one, part_two = _uds_ranges(all_days)
    files = {
        f"DI-Connect-Wellness/{first}_{last}_{account_id}_sleepData.json": _json_lines(
            [sleep_night(d, seed, account_id, d == empty_night) for d in all_days]
        ),
        f"DI-Connect-Aggregator/UDSFile_{part_one[0]}_{part_one[-1]}.json": _json_lines(
            [daily_summary(d, seed, account_id) for d in part_one]
        ),
        f"DI-Connect-Aggregator/UDSFile_{part_two[0]}_{part_two[-1]}.json": _json_lines(
            [daily_summary(d, seed, account_id) for d in part_two]
        ),
        f"DI-Connect-Fitness/{USER_NAME}_0_summarizedActivities.json": _json_lines(
            [{"summarizedActivitiesExport": activities(all_days, seed)}]
        ),
        # Files a reader of the three kinds above must ignore:
        "DI-Connect-User/user_profile.json": json.dumps(
            {"userName": USER_NAME, "emailAddress": USER_NAME, "locale": "en_GB"}
        )
        + "\n",
        f"DI-Connect-Aggregator/HydrationLogFile_{first}_{last}.json": _json_lines([]),
        f"DI-Connect-Wellness/{account_id}_healthStatusData.json": _json_lines([]),
        f"DI-Connect-Fitness/{USER_NAME}_personalRecord.json": _json_lines([]),
    }
    base = (f"{ROOT_FOLDER}/" if nested_uuid_folder else "") + "DI_CONNECT/"
    return {base + path: text for path, text in files.items()}


def write_export(
    dest: Path,
    *,
    days: int = 14,
    end_date: dt.date = DEFAULT_END,
    seed: int = 11,
    as_zip: bool = False,
    nested_uuid_folder: bool = True,
    account_id: int = 90817263,
) -> Path:
    """Write the export under the folder ``dest``, or as the zip ``dest``; return what was written."""
    dest = Path(dest)
    files = export_files(days, end_date, seed, nested_uuid_folder, account_id)
    if as_zip:
        if dest.suffix != ".zip":
            raise ValueError(f"{dest}: a zip export must end with .zip")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest, "w") as archive:
            for path, text in sorted(files.items()):
                member = zipfile.ZipInfo(path, ZIP_TIME)  # fixed time: same bytes every run
                member.compress_type = zipfile.ZIP_DEFLATED
                member.external_attr = 0o644 << 16
                archive.writestr(member, text)
        return dest
    for path, text in files.items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return dest


def expected_counts(days: int = 14, end_date: dt.date = DEFAULT_END, seed: int = 11, **_layout) -> dict[str, int]:
    """Distinct items per kind in the export (overlapping summary days count once).

    Accepts write_export's keyword arguments; the layout ones do not change counts.
    """
    return {"sleep": days, "daily_summary": days, "activities": len(activities(_days(days, end_date), seed))}


def main(argv: list[str] | None = None) -> None:
    """``python3 -m tests.fakes.garmin_export DEST [--days N] [--zip] [--seed S]``."""
    parser = argparse.ArgumentParser(description="Write a synthetic Garmin Connect data export.")
    parser.add_argument("dest", type=Path, help="folder to write, or a .zip path with --zip")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--zip", action="store_true", help="write one zip file instead of a folder")
    args = parser.parse_args(argv)
    written = write_export(args.dest, days=args.days, seed=args.seed, as_zip=args.zip)
    print(f"wrote {written}")


if __name__ == "__main__":
    main()
