"""Writes a realistic, deterministic Garmin Connect data export (folder or zip).

The layout and field names follow the export Garmin sends (account, data
management, export your data): a ``DI_CONNECT/`` tree, here nested under a
UUID-named folder as real exports often are, with file names that embed dates
and an account id. Two daily-summary files overlap by three days, with the
overlapping days identical, as in real exports. Unrelated files are included
so readers must pick theirs by pattern. Each array item sits on its own line so
that line numbers in error messages mean something.

    python -m tests.fakes.garmin_export samples/garmin-export --days 14
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import zipfile
from pathlib import Path

UTC = dt.timezone.utc
LOCAL_OFFSET = dt.timedelta(hours=1)
DEFAULT_END = dt.date(2024, 5, 20)
ZIP_TIME = (2024, 5, 21, 8, 0, 0)
ROOT_FOLDER = "3f1c2a9e-5b7d-4e61-9a0c-2d8e4b6f7a10"
OVERLAP_DAYS = 3


def _days(days: int, end_date: dt.date) -> list[dt.date]:
    return [end_date - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]


def _rng(seed: int, day: dt.date, salt: int) -> random.Random:
    return random.Random(seed * 7919 + day.toordinal() * 13 + salt)


def _gmt(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0")


def _midnight_gmt(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day) - LOCAL_OFFSET


def sleep_night(day: dt.date, seed: int, empty: bool) -> dict:
    """One item of ``*_sleepData.json``; ``empty`` mimics a night the watch was off."""
    if empty:
        return {"calendarDate": day.isoformat(), "sleepWindowConfirmationType": "UNCONFIRMED", "retro": False}
    rng = _rng(seed, day, 1)
    start = _midnight_gmt(day) - dt.timedelta(minutes=rng.randint(45, 150))
    deep, light, rem, awake = (rng.randint(50, 110) * 60, rng.randint(180, 260) * 60,
                               rng.randint(60, 120) * 60, rng.randint(5, 40) * 60)
    end = start + dt.timedelta(seconds=deep + light + rem + awake)
    overall = rng.randint(55, 95)
    return {
        "calendarDate": day.isoformat(),
        "sleepStartTimestampGMT": _gmt(start), "sleepEndTimestampGMT": _gmt(end),
        "sleepWindowConfirmationType": "ENHANCED_CONFIRMED_FINAL",
        "deepSleepSeconds": deep, "lightSleepSeconds": light, "remSleepSeconds": rem,
        "awakeSleepSeconds": awake, "unmeasurableSeconds": 0,
        "averageRespiration": round(rng.uniform(12.5, 16.5), 1), "lowestRespiration": 9.0,
        "highestRespiration": 21.0, "awakeCount": rng.randint(0, 4),
        "avgSleepStress": round(rng.uniform(8, 25), 2), "restlessMomentCount": rng.randint(10, 60),
        "sleepScores": {"overallScore": overall, "qualityScore": rng.randint(50, 95),
                        "durationScore": rng.randint(50, 100), "recoveryScore": rng.randint(50, 100),
                        "deepScore": rng.randint(50, 100), "remScore": rng.randint(50, 100),
                        "lightScore": rng.randint(50, 100), "awakeningsCountScore": rng.randint(50, 100),
                        "awakeTimeScore": rng.randint(50, 100), "restfulnessScore": rng.randint(50, 100),
                        "interruptionsScore": rng.randint(50, 100),
                        "feedback": "POSITIVE_LONG_AND_DEEP" if overall > 80 else "NEGATIVE_LONG_BUT_LIGHT",
                        "insight": "POSITIVE_EXERCISE"},
        "spo2SleepSummary": {"userProfilePk": 90817263, "deviceId": 3442978399,
                             "sleepMeasurementStartGMT": _gmt(start), "sleepMeasurementEndGMT": _gmt(end),
                             "alertThresholdValue": None, "numberOfEventsBelowThreshold": None,
                             "durationOfEventsBelowThreshold": None, "averageSPO2": rng.randint(92, 98),
                             "averageSpO2HR": rng.randint(48, 60), "lowestSPO2": rng.randint(85, 92)},
        "retro": False,
    }


def daily_summary(day: dt.date, seed: int, account_id: int) -> dict:
    """One item of ``UDSFile_*.json``."""
    rng = _rng(seed, day, 2)
    start = _midnight_gmt(day)
    steps = rng.randint(3000, 18000)
    resting = rng.randint(48, 62)
    return {
        "userProfilePK": account_id, "calendarDate": day.isoformat(),
        "uuid": f"{rng.getrandbits(128):032x}", "durationInMilliseconds": 86400000,
        "totalSteps": steps, "dailyStepGoal": 8000, "totalDistanceMeters": int(steps * 0.78),
        "totalKilocalories": float(rng.randint(1900, 3200)), "activeKilocalories": float(rng.randint(200, 1100)),
        "bmrKilocalories": 1750.0, "wellnessKilocalories": float(rng.randint(1900, 3200)),
        "restingHeartRate": resting, "currentDayRestingHeartRate": resting,
        "minHeartRate": resting - 3, "maxHeartRate": rng.randint(120, 182),
        "moderateIntensityMinutes": rng.randint(0, 60), "vigorousIntensityMinutes": rng.randint(0, 40),
        "floorsAscendedInMeters": round(rng.uniform(0, 60), 2),
        "wellnessStartTimeGmt": _gmt(start), "wellnessEndTimeGmt": _gmt(start + dt.timedelta(days=1)),
        "wellnessStartTimeLocal": _gmt(start + LOCAL_OFFSET),
        "wellnessEndTimeLocal": _gmt(start + LOCAL_OFFSET + dt.timedelta(days=1)),
        "allDayStress": {"aggregatorList": [
            {"type": kind, "averageStressLevel": rng.randint(15, 45), "maxStressLevel": rng.randint(50, 99),
             "stressDuration": rng.randint(3000, 30000), "restDuration": rng.randint(3000, 30000)}
            for kind in ("TOTAL", "AWAKE", "ASLEEP")]},
        "bodyBattery": {"chargedValue": rng.randint(30, 80), "drainedValue": rng.randint(30, 80),
                        "bodyBatteryStatList": [{"bodyBatteryStatType": "HIGHEST",
                                                 "statsValue": rng.randint(70, 100)}]},
        "respiration": {"avgWakingRespirationValue": 14.0, "highestRespirationValue": 21.0,
                        "lowestRespirationValue": 9.0},
    }


def activities(days: list[dt.date], seed: int) -> list[dict]:
    """Items of ``*_summarizedActivities.json`` (about one activity every two days)."""
    found = []
    for day in days:
        rng = _rng(seed, day, 3)
        if rng.random() >= 0.5:
            continue
        kind = rng.choice(["running", "cycling", "walking"])
        start = _midnight_gmt(day).replace(tzinfo=UTC) + dt.timedelta(hours=rng.randint(6, 19))
        start_ms = float(int(start.timestamp()) * 1000)
        duration = float(rng.randint(20, 90) * 60 * 1000)
        found.append({
            "activityId": 14_000_000_000 + day.toordinal(), "uuid": f"{rng.getrandbits(128):032x}",
            "name": kind.title(), "activityType": kind, "sportType": kind.upper(),
            "startTimeGmt": start_ms, "startTimeLocal": start_ms + LOCAL_OFFSET.total_seconds() * 1000,
            "beginTimestamp": start_ms, "duration": duration, "elapsedDuration": duration + 31000.0,
            "movingDuration": duration - 12000.0, "distance": round(duration / 1000 * rng.uniform(120, 650), 1),
            "avgSpeed": round(rng.uniform(0.12, 0.65), 4), "maxSpeed": round(rng.uniform(0.3, 1.2), 4),
            "avgHr": float(rng.randint(105, 160)), "maxHr": float(rng.randint(150, 185)), "minHr": 80.0,
            "calories": float(rng.randint(150, 900)), "steps": rng.randint(2000, 12000),
            "elevationGain": float(rng.randint(0, 30000)), "elevationLoss": float(rng.randint(0, 30000)),
            "lapCount": rng.randint(1, 12), "deviceId": 3442978399, "manufacturer": "GARMIN",
            "timeZoneId": 124,
        })
    return found


def _json_lines(items: list) -> str:
    return "[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]\n"


def export_files(days: int = 14, end_date: dt.date = DEFAULT_END, seed: int = 11,
                 nested_uuid_folder: bool = True, account_id: int = 90817263) -> dict[str, str]:
    """Relative path -> file text of the whole export."""
    all_days = _days(days, end_date)
    first, last = all_days[0], all_days[-1]
    empty_night = all_days[len(all_days) // 3]
    split = len(all_days) // 2
    part_one, part_two = all_days[: split + OVERLAP_DAYS], all_days[split:]
    base = (f"{ROOT_FOLDER}/" if nested_uuid_folder else "") + "DI_CONNECT/"
    files = {
        f"DI-Connect-Wellness/{first}_{last}_{account_id}_sleepData.json":
            _json_lines([sleep_night(d, seed, d == empty_night) for d in all_days]),
        f"DI-Connect-Aggregator/UDSFile_{part_one[0]}_{part_one[-1]}.json":
            _json_lines([daily_summary(d, seed, account_id) for d in part_one]),
        f"DI-Connect-Aggregator/UDSFile_{part_two[0]}_{part_two[-1]}.json":
            _json_lines([daily_summary(d, seed, account_id) for d in part_two]),
        "DI-Connect-Fitness/fake.user@example.com_0_summarizedActivities.json":
            _json_lines([{"summarizedActivitiesExport": activities(all_days, seed)}]),
        # Files the Garmin tap does not read:
        "DI-Connect-User/user_profile.json": json.dumps({"userName": "fake.user@example.com"}) + "\n",
        f"DI-Connect-Aggregator/HydrationLogFile_{first}_{last}.json": _json_lines([]),
        f"DI-Connect-Wellness/{account_id}_healthStatusData.json": _json_lines([]),
    }
    return {base + path: text for path, text in files.items()}


def write_export(dest: Path, *, days: int = 14, end_date: dt.date = DEFAULT_END, seed: int = 11,
                 as_zip: bool = False, nested_uuid_folder: bool = True, account_id: int = 90817263) -> Path:
    """Write the export under ``dest`` (a folder) or as the zip ``dest``."""
    dest = Path(dest)
    files = export_files(days, end_date, seed, nested_uuid_folder, account_id)
    if as_zip:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, text in sorted(files.items()):
                archive.writestr(zipfile.ZipInfo(path, ZIP_TIME), text)
        return dest
    for path, text in files.items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return dest


def expected_counts(days: int = 14, end_date: dt.date = DEFAULT_END, seed: int = 11, **_) -> dict[str, int]:
    """Distinct items per kind (the overlapping summary days count once)."""
    return {"sleep": days, "daily_summary": days, "activities": len(activities(_days(days, end_date), seed))}


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic Garmin Connect data export.")
    parser.add_argument("dest", type=Path, help="folder to write, or a .zip path with --zip")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--zip", action="store_true", help="write one zip file instead of a folder")
    args = parser.parse_args()
    written = write_export(args.dest, days=args.days, seed=args.seed, as_zip=args.zip)
    print(f"wrote {written}")


if __name__ == "__main__":
    main()
