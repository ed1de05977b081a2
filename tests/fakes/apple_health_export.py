"""Writes a realistic, deterministic Apple Health export of any size, in constant memory.

The structure follows what the Health app shares (Profile, Export All Health
Data): ``export.zip`` holding ``apple_health_export/export.xml`` with its
DOCTYPE and internal DTD, ``ExportDate``, ``Me``, then the ``Record`` elements
grouped by type (steps from the phone and the watch, heart rate with motion
context, sleep stages, HRV with its beat list, water, body mass), then
``Workout`` elements (statistics, events, metadata, a route reference) and one
``ActivitySummary`` per day. Next to it: ``export_cda.xml``, GPX routes and an
ECG CSV, which readers must leave alone.

Sizes are given in records. The records are a fixed endless sequence, day by
day from ``START``; ``records=N`` takes its first N. Each (day, type) has its
own random generator, so a bigger export with the same seed holds the smaller
one's records unchanged plus newer ones (what re-exporting a month later
looks like), and ``expected_counts`` can tell exact row counts cheaply.
Everything is derived from the seed, never from the clock; zips are
byte-identical from run to run:

    python -m tests.fakes.apple_health_export --records 1000000 --seed 7 /tmp/export.zip
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import quoteattr

START = dt.date(2018, 1, 1)
OFFSET = dt.timezone(dt.timedelta(hours=1))  # the user's zone, as Apple writes it: +0100
ZIP_TIME = (2024, 1, 4, 12, 0, 0)
FOLDER = "apple_health_export"
PHONE = (
    "iPhone",
    "17.2",
    "&lt;&lt;HKDevice: 0x2831c4a50&gt;, name:iPhone, manufacturer:Apple Inc., "
    "model:iPhone, hardware:iPhone15,2, software:17.2&gt;",
)
WATCH = (
    "Apple Watch",
    "10.2",
    "&lt;&lt;HKDevice: 0x2831c5e00&gt;, name:Apple Watch, manufacturer:Apple Inc., "
    "model:Watch, hardware:Watch6,1, software:10.2&gt;",
)
#: Record types in the order they appear in export.xml (real exports group by type).
TYPES = ("steps_phone", "steps_watch", "heart_rate", "hrv", "sleep", "water", "body_mass")
SLEEP_STAGES = (
    "HKCategoryValueSleepAnalysisAsleepCore",
    "HKCategoryValueSleepAnalysisAsleepDeep",
    "HKCategoryValueSleepAnalysisAsleepREM",
    "HKCategoryValueSleepAnalysisAwake",
)
WORKOUTS = {  # activity type -> (minutes range, kcal per minute, km per minute or None, has route)
    "HKWorkoutActivityTypeRunning": ((25, 60), 11.0, 0.17, True),
    "HKWorkoutActivityTypeWalking": ((20, 70), 4.5, 0.09, True),
    "HKWorkoutActivityTypeTraditionalStrengthTraining": ((30, 60), 6.0, None, False),
}

DTD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth                   CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex                 CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType                     CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType           CDATA #REQUIRED
  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse   CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  totalDistance         CDATA #IMPLIED
  totalDistanceUnit     CDATA #IMPLIED
  totalEnergyBurned     CDATA #IMPLIED
  totalEnergyBurnedUnit CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutEvent EMPTY>
<!ELEMENT WorkoutStatistics EMPTY>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ELEMENT FileReference EMPTY>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
<!ELEMENT ActivitySummary EMPTY>
<!ATTLIST ActivitySummary
  dateComponents           CDATA #IMPLIED
  activeEnergyBurned       CDATA #IMPLIED
  activeEnergyBurnedGoal   CDATA #IMPLIED
  activeEnergyBurnedUnit   CDATA #IMPLIED
  appleMoveTime            CDATA #IMPLIED
  appleMoveTimeGoal        CDATA #IMPLIED
  appleExerciseTime        CDATA #IMPLIED
  appleExerciseTimeGoal    CDATA #IMPLIED
  appleStandHours          CDATA #IMPLIED
  appleStandHoursGoal      CDATA #IMPLIED
>
]>
"""

ME = (
    '<Me HKCharacteristicTypeIdentifierDateOfBirth="1988-03-14" '
    'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" '
    'HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" '
    'HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" '
    'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>'
)


def _rng(seed: int, day: dt.date, salt: int) -> random.Random:
    """One generator per (seed, day, kind): a day's values never depend on the size asked for."""
    return random.Random(seed * 1_000_003 + day.toordinal() * 101 + salt)


def apple_time(moment: dt.datetime) -> str:
    """Apple's export timestamp text, e.g. ``2024-01-04 12:00:00 +0100``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")


def _at(day: dt.date, minutes: float) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=OFFSET) + dt.timedelta(minutes=minutes)


def _day(index: int) -> dt.date:
    return START + dt.timedelta(days=index)


def _record(
    kind: str, source: tuple, unit: str | None, start: dt.datetime, end: dt.datetime, value: str, children: str = ""
) -> str:
    name, version, device = source
    attrs = (
        f'type="{kind}" sourceName="{name}" sourceVersion="{version}"'
        + (f' device="{device}"' if device else "")
        + (f' unit="{unit}"' if unit else "")
        + f' creationDate="{apple_time(end + dt.timedelta(minutes=2))}"'
        f' startDate="{apple_time(start)}" endDate="{apple_time(end)}" value={quoteattr(value)}'
    )
    if not children:
        return f" <Record {attrs}/>\n"
    return f" <Record {attrs}>\n{children} </Record>\n"


def _meta(key: str, value: str) -> str:
    return f"  <MetadataEntry key={quoteattr(key)} value={quoteattr(value)}/>\n"


def day_records(day: dt.date, kind: str, seed: int) -> list[str]:
    """The XML lines of one record type on one day, oldest first (start times strictly increase)."""
    rng = _rng(seed, day, TYPES.index(kind) + 1)
    out: list[str] = []
    if kind in ("steps_phone", "steps_watch"):
        source = PHONE if kind == "steps_phone" else WATCH
        minute = rng.uniform(390, 450)
        while minute < 22 * 60:
            length = rng.uniform(2, 10)
            out.append(
                _record(
                    "HKQuantityTypeIdentifierStepCount",
                    source,
                    "count",
                    _at(day, minute),
                    _at(day, minute + length),
                    str(int(length * rng.uniform(20, 110))),
                )
            )
            minute += length + rng.uniform(5, 50)
    elif kind == "heart_rate":
        minute = rng.uniform(0, 4)
        while minute < 24 * 60 - 1:
            moment = _at(day, minute)
            awake = 7 * 60 <= minute <= 23 * 60
            bpm = rng.randint(62, 105) if awake else rng.randint(48, 62)
            out.append(
                _record(
                    "HKQuantityTypeIdentifierHeartRate",
                    WATCH,
                    "count/min",
                    moment,
                    moment,
                    str(bpm),
                    _meta("HKMetadataKeyHeartRateMotionContext", "1" if awake else "0"),
                )
            )
            minute += rng.uniform(3, 7)
    elif kind == "hrv":
        for hour in sorted(rng.sample(range(1, 23), 3)):
            start = _at(day, hour * 60 + rng.uniform(0, 50))
            beats = "".join(
                f'   <InstantaneousBeatsPerMinute bpm="{rng.randint(55, 80)}" '
                f'time="{(start + dt.timedelta(seconds=i * 0.9)).strftime("%-I:%M:%S.%f")[:-4]} '
                f'{start.strftime("%p")}"/>\n'
                for i in range(rng.randint(5, 9))
            )
            children = f"  <HeartRateVariabilityMetadataList>\n{beats}  </HeartRateVariabilityMetadataList>\n"
            out.append(
                _record(
                    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
                    WATCH,
                    "ms",
                    start,
                    start + dt.timedelta(seconds=60),
                    f"{rng.uniform(25, 90):.4f}",
                    children,
                )
            )
    elif kind == "sleep":
        minute = 23 * 60 + rng.uniform(-40, 40)  # in bed, then stages until morning
        bed_start = minute
        zone = _meta("HKTimeZone", "Europe/Berlin")
        stages = []
        minute += rng.uniform(5, 20)
        while minute < 30.5 * 60:
            length = rng.uniform(8, 45)
            stages.append((minute, minute + length, rng.choice(SLEEP_STAGES)))
            minute += length
        out.append(
            _record(
                "HKCategoryTypeIdentifierSleepAnalysis",
                WATCH,
                None,
                _at(day, bed_start),
                _at(day, minute),
                "HKCategoryValueSleepAnalysisInBed",
                zone,
            )
        )
        out += [
            _record("HKCategoryTypeIdentifierSleepAnalysis", WATCH, None, _at(day, a), _at(day, b), v, zone)
            for a, b, v in stages
        ]
    elif kind == "water":
        minute = rng.uniform(420, 540)
        source = ("WaterMinder", "5.3.1", "")
        for _ in range(rng.randint(3, 7)):
            moment = _at(day, minute)
            out.append(
                _record(
                    "HKQuantityTypeIdentifierDietaryWater",
                    source,
                    "mL",
                    moment,
                    moment,
                    str(rng.choice((250, 330, 500))),
                    _meta("HKFoodType", "Water") + _meta("WaterMinderVersion", "5.3.1"),
                )
            )
            minute += rng.uniform(60, 150)
    elif kind == "body_mass":
        if rng.random() < 0.4:
            moment = _at(day, rng.uniform(400, 480))
            out.append(
                _record(
                    "HKQuantityTypeIdentifierBodyMass",
                    ("Health", "17.2", ""),
                    "kg",
                    moment,
                    moment,
                    f"{64 + rng.uniform(-1.5, 1.5):.1f}",
                    _meta("HKWasUserEntered", "1"),
                )
            )
    return out


def _day_counts(day: dt.date, seed: int) -> list[int]:
    return [len(day_records(day, kind, seed)) for kind in TYPES]


def plan(records: int, seed: int) -> Iterator[tuple[dt.date, list[int]]]:
    """Days covered by the first ``records`` records, with how many of each type each day holds.

    The sequence is day by day, types in ``TYPES`` order within a day, so a
    bigger export holds a smaller one's records plus later ones.
    """
    left, index = records, 0
    while left > 0:
        day = _day(index)
        counts = _day_counts(day, seed)
        taken = []
        for count in counts:
            take = min(count, left)
            taken.append(take)
            left -= take
        yield day, taken
        index += 1


def workouts(day: dt.date, seed: int) -> list[str]:
    """The day's workouts (none on some days) as XML, with the route file names they refer to."""
    rng = _rng(seed, day, 50)
    out = []
    if rng.random() < 0.45:
        kind = rng.choice(sorted(WORKOUTS))
        (low, high), kcal, km, has_route = WORKOUTS[kind]
        minutes = rng.uniform(low, high)
        start = _at(day, rng.uniform(17 * 60, 19 * 60))
        end = start + dt.timedelta(minutes=minutes)
        name, version, device = WATCH
        dist = f' totalDistance="{minutes * km:.4f}" totalDistanceUnit="km"' if km else ""
        lines = [
            f' <Workout workoutActivityType="{kind}" duration="{minutes:.4f}" durationUnit="min"{dist}'
            f' totalEnergyBurned="{minutes * kcal:.3f}" totalEnergyBurnedUnit="Cal" sourceName="{name}"'
            f' sourceVersion="{version}" device="{device}" creationDate="{apple_time(end)}"'
            f' startDate="{apple_time(start)}" endDate="{apple_time(end)}">\n',
            _meta("HKIndoorWorkout", "0" if has_route else "1"),
            _meta("HKAverageMETs", f"{rng.uniform(3, 11):.5f} kcal/hr·kg"),
            f'  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="{apple_time(start)}"'
            f' duration="{minutes / 2:.4f}" durationUnit="min"/>\n',
            f'  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned"'
            f' startDate="{apple_time(start)}" endDate="{apple_time(end)}" sum="{minutes * kcal:.3f}"'
            f' unit="Cal"/>\n',
            f'  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" startDate="{apple_time(start)}"'
            f' endDate="{apple_time(end)}" average="{rng.uniform(110, 160):.2f}" minimum="90"'
            f' maximum="{rng.randint(160, 185)}" unit="count/min"/>\n',
        ]
        if has_route:
            lines += [
                f'  <WorkoutRoute sourceName="{name}" sourceVersion="{version}"'
                f' creationDate="{apple_time(end)}" startDate="{apple_time(start)}"'
                f' endDate="{apple_time(end)}">\n',
                "  " + _meta("HKMetadataKeySyncVersion", "2"),
                f'   <FileReference path="/workout-routes/{route_name(start)}"/>\n',
                "  </WorkoutRoute>\n",
            ]
        lines.append(" </Workout>\n")
        out.append("".join(lines))
    return out


def route_name(start: dt.datetime) -> str:
    return f"route_{start.strftime('%Y-%m-%d_%-I.%M%p').lower()}.gpx"


def activity_summary(day: dt.date, seed: int) -> str:
    rng = _rng(seed, day, 60)
    return (
        f' <ActivitySummary dateComponents="{day.isoformat()}" activeEnergyBurned="{rng.uniform(250, 900):.3f}"'
        f' activeEnergyBurnedGoal="600" activeEnergyBurnedUnit="Cal" appleMoveTime="0"'
        f' appleMoveTimeGoal="0" appleExerciseTime="{rng.randint(5, 80)}" appleExerciseTimeGoal="30"'
        f' appleStandHours="{rng.randint(6, 14)}" appleStandHoursGoal="12"/>\n'
    )


def expected_counts(records: int, seed: int = 7) -> dict[str, int]:
    """Rows each stream lands from ``write_export(records=..., seed=...)`` (all distinct)."""
    days = [day for day, _ in plan(records, seed)]
    return {
        "records": records,
        "workouts": sum(len(workouts(day, seed)) for day in days),
        "activity_summaries": len(days),
    }


def write_export_xml(out: io.TextIOBase, records: int, seed: int) -> list[str]:
    """Stream export.xml to ``out``; returns the route file names the workouts refer to."""
    days = list(plan(records, seed))  # (day, counts) per day: small even for millions of records
    out.write(DTD)
    out.write('<HealthData locale="en_US">\n')
    last = days[-1][0] if days else START
    out.write(f' <ExportDate value="{apple_time(_at(last + dt.timedelta(days=1), 12 * 60))}"/>\n {ME}\n')
    for position, kind in enumerate(TYPES):
        for day, counts in days:
            if counts[position]:
                out.writelines(day_records(day, kind, seed)[: counts[position]])
    routes = []
    for day, _ in days:
        for workout in workouts(day, seed):
            out.write(workout)
            if "FileReference" in workout:
                routes.append(workout.split('FileReference path="/workout-routes/', 1)[1].split('"', 1)[0])
    for day, _ in days:
        out.write(activity_summary(day, seed))
    out.write("</HealthData>\n")
    return routes


def _gpx(name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Apple Health Export">\n'
        f" <trk><name>{name}</name><trkseg>\n"
        '  <trkpt lon="13.404954" lat="52.520008"><ele>34.0</ele></trkpt>\n'
        " </trkseg></trk>\n</gpx>\n"
    )


CDA = (
    '<?xml version="1.0"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3">\n'
    " <title>Health Data Export</title>\n</ClinicalDocument>\n"
)
ECG = 'Name,Fake User\nDate of Birth,"14 Mar 1988"\nClassification,Sinus Rhythm\n\n-0.0123\n0.0456\n'


def write_export(path: str | Path, records: int = 500, seed: int = 7, as_zip: bool = True) -> Path:
    """Write an export with ``records`` records to ``path`` (a .zip, or a folder when ``as_zip`` is false).

    Returns ``path``. Memory stays flat whatever ``records`` is: export.xml is
    streamed straight into the zip member (or file).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not as_zip:
        base = path / FOLDER
        base.mkdir(parents=True, exist_ok=True)
        with open(base / "export.xml", "w", encoding="utf-8", buffering=1 << 20) as out:
            routes = write_export_xml(out, records, seed)
        (base / "export_cda.xml").write_text(CDA, encoding="utf-8")
        (base / "workout-routes").mkdir(exist_ok=True)
        for name in routes:
            (base / "workout-routes" / name).write_text(_gpx(name), encoding="utf-8")
        (base / "electrocardiograms").mkdir(exist_ok=True)
        (base / "electrocardiograms" / "ecg_2023-11-02.csv").write_text(ECG, encoding="utf-8")
        return path

    def member(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{FOLDER}/{name}", date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    with zipfile.ZipFile(path, "w") as archive:
        with archive.open(member("export.xml"), "w", force_zip64=True) as raw:
            with io.TextIOWrapper(io.BufferedWriter(raw, 1 << 20), encoding="utf-8") as out:
                routes = write_export_xml(out, records, seed)
        archive.writestr(member("export_cda.xml"), CDA)
        for name in routes:
            archive.writestr(member(f"workout-routes/{name}"), _gpx(name))
        archive.writestr(member("electrocardiograms/ecg_2023-11-02.csv"), ECG)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the .zip to write (or a folder with --folder)")
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folder", action="store_true", help="write the unpacked folder instead of a zip")
    args = parser.parse_args()
    write_export(args.out, records=args.records, seed=args.seed, as_zip=not args.folder)
    print(f"{args.out}: {expected_counts(args.records, args.seed)}")


if __name__ == "__main__":
    main()
