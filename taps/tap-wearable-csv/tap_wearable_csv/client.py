"""What every Fitabase CSV stream shares: where files are, how a row is keyed and dated.

In the Fitabase export each file is one kind of data (``sleepDay_merged.csv``
holds nightly sleep), so the file name picks the stream. Exports come in
several date-range folders holding files of the same names; all of them are
read. Values stay the strings the file holds; times carry no zone in the
files, so the ``timezone`` setting says how to read them for
``source_timestamp`` while ``raw_data`` keeps the original text.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from bronze_core.file_streams import BronzeFileStream
from bronze_core.files import iter_csv_rows

SCHEMAS_DIR = Path(__file__).parent / "schemas"

#: The two ways Fitabase writes a time: a day, or a day and a 12-hour clock time.
FITABASE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y")


def parse_fitabase_time(text: str, zone: dt.tzinfo) -> dt.datetime:
    """``4/12/2016 7:21:00 AM`` or ``4/12/2016``, read in ``zone``.

    Split by hand rather than with ``strptime``, which cost a fifth of the
    tap's time on the 2.5-million-row heart-rate file; anything unusual falls
    back to ``strptime`` and its error message.
    """
    try:
        day, _, clock = text.strip().partition(" ")
        month, mday, year = day.split("/")
        if not clock:
            return dt.datetime(int(year), int(month), int(mday), tzinfo=zone)
        hms, half = clock.split(" ")
        hour, minute, second = (int(part) for part in hms.split(":"))
        if half not in ("AM", "PM") or not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if half == "PM" else 0)
        return dt.datetime(int(year), int(month), int(mday), hour, minute, second, tzinfo=zone)
    except ValueError:
        pass
    for fmt in FITABASE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise ValueError(f"not a Fitabase date: {text!r}")


class FitabaseStream(BronzeFileStream):
    """Rows of every ``<file_name>`` below ``data_dir``; one bronze row per CSV row.

    ``key_columns`` identify a row within its kind of file (the person's ``Id``
    and the time, or a log id); the values are joined with ``|`` into
    ``raw_id``. Exact duplicate rows (the real export has them) share key and
    hash, so they land once.
    """

    source = "wearable"
    schemas_dir = SCHEMAS_DIR
    appendable = True
    nested_zips = True
    #: The export's file name, matched in any folder below ``data_dir``.
    file_name: str = ""
    key_columns: tuple[str, ...] = ("Id",)
    #: The column that says when the row happened.
    time_column: str | None = None

    @property
    def file_patterns(self) -> tuple[str, ...]:
        return (self.file_name, f"*/{self.file_name}")

    def files_root(self) -> Path:
        return Path(self.config["data_dir"]).expanduser()

    @cached_property
    def zone(self) -> dt.tzinfo:
        return ZoneInfo(self.config["timezone"])

    def read_items(self, source, resume=None):
        return iter_csv_rows(source, resume)

    def payload_id(self, payload: Mapping[str, Any], lineage) -> str:
        return "|".join(payload[column] for column in self.key_columns)

    def payload_time(self, payload: Mapping[str, Any]) -> dt.datetime | None:
        if self.time_column is None or not payload.get(self.time_column):
            return None
        return parse_fitabase_time(payload[self.time_column], self.zone)
