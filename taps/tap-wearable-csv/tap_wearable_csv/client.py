"""What every Fitabase CSV stream shares: where files are, how a row is keyed and dated.

In the Fitabase export each file is one kind of data (``sleepDay_merged.csv``
holds nightly sleep), so the file name picks the stream. Exports come in
several date-range folders holding files of the same names; all of them are
read. Values stay the strings the file holds; times carry no zone in the
files, so the ``timezone`` setting says how to read them for
``source_timestamp`` while ``raw_data`` keeps the original text. Which number
of a date is the day is decided per file (``tap_wearable_csv.dates``), and
``raw_id`` is built from normalised values (ISO times, plain integer ids), so
one row re-saved by a spreadsheet keeps its raw_id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bronze_core.file_streams import BronzeFileStream
from bronze_core.files.lines import FileRow, ResumePoint, iter_csv_rows, open_at
from bronze_core.files.source import SourceFile
from bronze_core.natural_ids import normal_id
from tap_wearable_csv.dates import (
    DAY_FIRST,
    MONTH_FIRST,
    DateOrder,
    Parts,
    ambiguous,
    decide,
    either_key,
    proves,
    scan_date_order,
    split_time,
)

SCHEMAS_DIR = Path(__file__).parent / "schemas"
#: Where the stream state remembers how each file's dates were read (for appends).
DATE_ORDERS = "date_orders"


class FitabaseStream(BronzeFileStream):
    """Rows of every ``<file_name>`` below ``data_dir``; one bronze row per CSV row.

    ``key_fields`` identify a row within its kind of file (the person's ``Id``
    and the time, or a log id); their normalised values are joined with ``|``
    into ``raw_id``. Exact duplicate rows (the real export has them) share key
    and hash, so they land once.
    """

    source = "wearable"
    schemas_dir = SCHEMAS_DIR
    appendable = True
    nested_zips = True
    #: The export's file name, matched in any folder below ``data_dir``.
    file_name: str = ""
    key_fields: tuple[str, ...] = ("Id",)
    #: The column that says when the row happened (read by ``payload_time`` below, in the
    #: file's own date order and the ``timezone`` setting, not by the core's ISO parsers).
    time_field: str | None = None
    #: Other headers the time column goes by in re-saved copies (``ActivityDate``).
    time_aliases: tuple[str, ...] = ()
    #: Rows are days: a midnight time keys as the date.
    daily = False
    #: The row being emitted and its time (``_read_time``), read once per row.
    _current: tuple[Any, Any] = (None, None)
    _dates = DateOrder(MONTH_FIRST)
    _lossy_logged = False

    @property
    def file_patterns(self) -> tuple[str, ...]:
        return (self.file_name, f"*/{self.file_name}")

    def files_root(self) -> Path:
        return Path(self.config["data_dir"]).expanduser()

    @cached_property
    def zone(self) -> dt.tzinfo:
        return ZoneInfo(self.config["timezone"])

    @property
    def date_order_setting(self) -> str:
        return self.config.get("date_order") or MONTH_FIRST

    # --- reading a file -----------------------------------------------------
    def read_items(self, source: SourceFile, resume: ResumePoint | None = None) -> Iterator[FileRow]:
        """The file's rows, once its date order is decided (see ``decide_dates``)."""
        dates, resume = self.decide_dates(source, resume)
        self._dates = dates
        self._lossy_logged = False
        for row in iter_csv_rows(source, resume):
            self._check_row(source, row)
            yield row
        self.stream_state.setdefault(DATE_ORDERS, {})[source.relative_path] = dates.as_state()

    def decide_dates(self, source: SourceFile, resume: ResumePoint | None) -> tuple[DateOrder, ResumePoint | None]:
        """The file's date order, from its own dates; and whether to resume after all.

        An appended file is scanned from where the last run stopped, and read
        on from there with the order remembered for it, unless the new rows
        prove the other order: then the order read before was wrong (or the
        file now mixes both), and the whole file is read again.
        """
        setting = self.date_order_setting
        if resume is not None:
            before = DateOrder.from_state(self.stream_state.get(DATE_ORDERS, {}).get(source.relative_path))
            with open_at(source, resume) as handle:
                found = scan_date_order(handle, resume.line)
            if before.mixed or not found or set(found) == {before.order}:
                dates = before if before.proof or not found else decide(found, setting)
                self._log_dates(source, dates, appended=True)
                return dates, resume
            self.logger.warning(
                "%s: appended rows of %s prove %s dates (%s) but its earlier rows were read "
                "%s (%s); the whole file is read again, and rows it landed before under the "
                "other reading stay in bronze (see metadata.file_sha256)",
                self.name,
                source.display_path,
                " and ".join(found),
                "; ".join(found.values()),
                before.order,
                before.proof or "setting date_order",
            )
        with source.open() as handle:
            dates = decide(scan_date_order(handle), setting)
        self._log_dates(source, dates)
        return dates, None

    def _log_dates(self, source: SourceFile, dates: DateOrder, appended: bool = False) -> None:
        if dates.mixed:
            self.logger.warning(
                "%s: %s mixes date orders (%s): rows whose date could be either "
                "land invalid; the others are read as their numbers allow",
                self.name,
                source.display_path,
                dates.mixed,
            )
        elif dates.proof:
            self.logger.info("%s: dates in %s are %s (%s)", self.name, source.display_path, dates.order, dates.proof)
        elif not appended:
            self.logger.warning(
                "%s: no date in %s shows which number is the day (all are 12 or less); read as %s (setting date_order)",
                self.name,
                source.display_path,
                dates.order,
            )

    def _check_row(self, source: SourceFile, row: FileRow) -> None:
        """Read the row's time once; a date the file's own rows leave undecided is a defect."""
        text = self._time_text(row.payload)
        try:
            parts = split_time(text) if text else None
        except ValueError as exc:
            self._current = (row.payload, (text.strip(), None, exc))
            return
        dates = self._dates
        if parts is not None:
            proof = proves(parts)
            if proof and proof != dates.order and not dates.mixed:
                # The pre-scan missed it (a date in the first column?): from here on, no guesses.
                dates.mixed = (
                    f"line {row.line} ({text.strip()}) is {proof}, "
                    f"{dates.proof or 'the setting date_order'} {dates.order}"
                )
                self.logger.warning(
                    "%s: %s mixes date orders (%s); rows from line %d whose date could be either land invalid",
                    self.name,
                    source.display_path,
                    dates.mixed,
                    row.line,
                )
            if dates.mixed and ambiguous(parts):
                row.defects.append(
                    f"{source.display_path}, line {row.line}: {text.strip()!r} could be "
                    f"{either_key(parts)}, and this file has dates of both orders ({dates.mixed})"
                )
        self._current = (row.payload, self._read_time(text, parts))

    # --- what identifies a row, and when it happened --------------------------
    def _time_text(self, payload: Mapping[str, Any]) -> str | None:
        text = payload.get(self.time_field) if self.time_field else None
        if text:
            return text
        for column in self.time_aliases:
            if payload.get(column):
                return payload[column]
        return None

    def _read_time(
        self, text: str | None, parts: Parts | None
    ) -> tuple[str | None, dt.datetime | None, Exception | None]:
        """``(key, time in the zone, why unreadable)`` of a row's time, computed once per row.

        The key is ISO wall-clock time (a date alone for a date, or for
        midnight in a daily file); both readings for a date this file cannot
        decide (no time then); the text as written when it is no time.
        """
        if parts is None:
            return None, None, None
        first, second, year, hour, minute, seconds, clock = parts
        dates = self._dates
        proof = proves(parts)
        if proof is None and dates.mixed and ambiguous(parts):
            return either_key(parts, self.daily), None, None
        month, day = (second, first) if (proof or dates.order) == DAY_FIRST else (first, second)
        try:
            moment = dt.datetime(year, month, day, hour, minute, seconds, tzinfo=self.zone)
        except ValueError as exc:  # 4/31/2016
            return text.strip(), None, exc
        if not clock or (self.daily and not (hour or minute or seconds)):
            return f"{year:04d}-{month:02d}-{day:02d}", moment, None
        return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{seconds:02d}", moment, None

    def _row_time(self, payload: Mapping[str, Any]):
        seen, cached = self._current
        if seen is payload:
            return cached
        text = self._time_text(payload)
        try:
            return self._read_time(text, split_time(text) if text else None)
        except ValueError as exc:
            return text.strip(), None, exc

    def payload_id(self, payload: Mapping[str, Any], lineage) -> str:
        """The key columns' normalised values joined with ``|`` (the core joins them as
        written; a re-saved file spells the same values otherwise).

        A number a spreadsheet shortened (``1.46223E+12`` for a 13-digit log
        id) no longer tells rows apart, so such a row is keyed by the row's
        time as well (see ``bronze_core.natural_ids``).
        """
        parts, lossy = [], False
        for column in self.key_fields:
            if column == self.time_field:
                key = self._row_time(payload)[0]
                if key is None:
                    raise KeyError(column)
                parts.append(key)
                continue
            value = payload[column]
            if value.isdigit() and value[0] != "0":  # the common case, already normal
                parts.append(value)
                continue
            text, lost = normal_id(value)
            parts.append(text)
            lossy = lossy or lost
        if lossy and self.time_field not in self.key_fields and self._time_text(payload):
            parts.append(self._row_time(payload)[0])
            if not self._lossy_logged:
                self._lossy_logged = True
                self.logger.warning(
                    "%s: %s has ids a spreadsheet shortened (such as %s in line "
                    "%s): those rows are keyed by %s and %s as well",
                    self.name,
                    lineage.get("file"),
                    "|".join(parts[:-1]),
                    lineage.get("line"),
                    ", ".join(self.key_fields),
                    self.time_field,
                )
        return "|".join(parts)

    def payload_time(self, payload: Mapping[str, Any]) -> dt.datetime | None:
        """The row's time as read once by ``_check_row`` (its date order is the file's)."""
        _, moment, error = self._row_time(payload)
        if error is not None:
            raise error
        return moment
