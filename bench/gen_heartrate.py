"""A seeded synthetic Fitabase drop folder: heartrate_seconds_merged.csv with N rows.

Shaped like the real export (``Id,Time,Value``; Id a 10-digit user id, Time
``M/D/YYYY h:mm:ss AM``, one row every 5-15 s per user, Value in bpm), written
streaming so any N fits in constant memory. The same seed and N give the same
bytes, so every path of the benchmark loads the same rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

FILE_NAME = "heartrate_seconds_merged.csv"
USERS = 33  # the public Fitabase set has 33 participants


def _fitbit_time(moment: dt.datetime) -> str:
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d}:{moment.second:02d} {half}"


def generate(folder: Path, records: int, seed: int = 7) -> Path:
    """Write ``folder/heartrate_seconds_merged.csv`` with ``records`` data rows."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    ids = sorted({rng.randrange(10**9, 10**10) for _ in range(USERS * 2)})[:USERS]
    per_user = -(-records // len(ids))
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Id,Time,Value\r\n")
        for user in ids:
            moment = dt.datetime(2016, 4, 12, 7, 21, 0)
            bpm = rng.randrange(60, 100)
            lines = []
            for _ in range(min(per_user, records - written)):
                moment += dt.timedelta(seconds=rng.choice((5, 5, 5, 10, 15)))
                bpm = max(40, min(190, bpm + rng.randint(-3, 3)))
                lines.append(f"{user},{_fitbit_time(moment)},{bpm}\r\n")
                if len(lines) >= 10_000:
                    out.writelines(lines)
                    lines.clear()
            out.writelines(lines)
            written += min(per_user, records - written)
            if written >= records:
                break
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("-n", "--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(generate(args.folder, args.records, args.seed))


if __name__ == "__main__":
    main()
