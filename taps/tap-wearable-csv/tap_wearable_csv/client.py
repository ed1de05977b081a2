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
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo

from bronze_core.file_streams import BronzeFileStream
from bronze_core.files import FileRow, ResumePoint, SourceFile, iter_csv_rows, open_at
from bronze_core.natural_ids import normal_id
from tap_wearable_csv.dates import (FITABASE_FORMATS, MONTH_FIRST, DateOrder, Parts,  # noqa: F401
                                    ambiguous, decide, either_key, iso_key, naive_time,
                                    parse_fitabase_time, proves, scan_date_order, split_time)

SCHEMAS_DIR = Path(__file__).parent / "schemas"
#: Where the stream state remembers how each file's dates were read (for appends).
DATE_ORDERS = "date_orders"


class FitabaseStream(BronzeFileStream):
    """Rows of every ``<file_name>`` below ``data_dir``; one bronze row per CSV row.

    ``key_columns`` identify a row within its kind of file (the person's ``Id``
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
    key_columns: tuple[str, ...] = ("Id",)
    #: The column that says when the row happened.
    time_column: str | None = None
    #: Other headers the time column goes by in re-saved copies (``ActivityDate``).
    time_aliases: tuple[str, ...] = ()
    #: Rows are days: a midnight time keys as the date.
    daily = False
    #: The row being emitted and its time's numbers, read once per row.
    _current: tuple[Any, Parts | None] = (None, None)
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

    def decide_dates(self, source: SourceFile,
                     resume: ResumePoint | None) -> tuple[DateOrder, ResumePoint | None]:
        """The file's date order, from its own dates; and whether to resume after all.

        An appended file is scanned from where the last run stopped, and read
        on from there with the order remembered for it, unless the new rows
        prove the other order: then the order read before was wrong (or the
        file now mixes both), and the whole file is read again.
        """
        setting = self.date_order_setting
        if resume is not None:
            before = DateOrder.from_state(
                self.stream_state.get(DATE_ORDERS, {}).get(source.relative_path))
            with open_at(source, resume) as handle:
                found = scan_date_order(handle, resume.line)
            if before.mixed or not found or set(found) == {before.order}:
                dates = before if before.proof or not found else decide(found, setting)
                self._log_dates(source, dates, appended=True)
                return dates, resume
            self.logger.warning(
                "%s: appended rows of %s prove %s dates (%s) but its earlier rows were read "
                "%s (%s); the whole file is read again, and rows it landed before under the "
                "other reading stay in bronze (see metadata.file_sha256)", self.name,
                source.display_path, " and ".join(found), "; ".join(found.values()),
                before.order, before.proof or "setting date_order")
        with source.open() as handle:
            dates = decide(scan_date_order(handle), setting)
        self._log_dates(source, dates)
        return dates, None

    def _log_dates(self, source: SourceFile, dates: DateOrder, appended: bool = False) -> None:
        if dates.mixed:
            self.logger.warning("%s: %s mixes date orders (%s): rows whose date could be either "
                                "land invalid; the others are read as their numbers allow",
                                self.name, source.display_path, dates.mixed)
        elif dates.proof:
            self.logger.info("%s: dates in %s are %s (%s)", self.name, source.display_path,
                             dates.order, dates.proof)
        elif not appended:
            self.logger.warning("%s: no date in %s shows which number is the day (all are 12 or "
                                "less); read as %s (setting date_order)", self.name,
                                source.display_path, dates.order)

    def _check_row(self, source: SourceFile, row: FileRow) -> None:
        """Read the row's time once; a date the file's own rows leave undecided is a defect."""
        text = self._time_text(row.payload)
        try:
            parts = split_time(text) if text else None
        except ValueError:
            parts = None
        self._current = (row.payload, parts)
        if parts is None:
            return
        dates = self._dates
        proof = proves(parts)
        if proof and proof != dates.order and not dates.mixed:
            # The pre-scan missed it (a date in the first column?): from here on, no guesses.
            dates.mixed = (f"line {row.line} ({text.strip()}) is {proof}, "
                           f"{dates.proof or 'the setting date_order'} {dates.order}")
            self.logger.warning("%s: %s mixes date orders (%s); rows from line %d whose date "
                                "could be either land invalid", self.name, source.display_path,
                                dates.mixed, row.line)
        if dates.mixed and ambiguous(parts):
            row.defects.append(
                f"{source.display_path}, line {row.line}: {text.strip()!r} could be "
                f"{either_key(parts)}, and this file has dates of both orders ({dates.mixed})")

    # --- what identifies a row, and when it happened --------------------------
    def _time_text(self, payload: Mapping[str, Any]) -> str | None:
        for column in (self.time_column, *self.time_aliases):
            if column and payload.get(column):
                return payload[column]
        return None

    def _parts(self, payload: Mapping[str, Any]) -> Parts | None:
        seen, parts = self._current
        if seen is payload and parts is not None:
            return parts
        text = self._time_text(payload)
        return split_time(text) if text else None

    def _time_key(self, payload: Mapping[str, Any]) -> str:
        """The time normalised for ``raw_id``; text that is no time stays as written."""
        text = self._time_text(payload)
        if text is None:
            raise KeyError(self.time_column)
        try:
            parts = self._parts(payload)
            if parts is not None and self._dates.mixed and ambiguous(parts):
                return either_key(parts, self.daily)
            return iso_key(parts, self._dates.order, self.daily)
        except (ValueError, TypeError):
            return text.strip()

    def payload_id(self, payload: Mapping[str, Any], lineage) -> str:
        """The key columns' normalised values joined with ``|``.

        A number a spreadsheet shortened (``1.46223E+12`` for a 13-digit log
        id) no longer tells rows apart, so such a row is keyed by the row's
        time as well (see ``bronze_core.natural_ids``).
        """
        parts, lossy = [], False
        for column in self.key_columns:
            if column == self.time_column:
                parts.append(self._time_key(payload))
                continue
            text, lost = normal_id(payload[column])
            parts.append(text)
            lossy = lossy or lost
        if lossy and self.time_column not in self.key_columns and self._time_text(payload):
            parts.append(self._time_key(payload))
            if not self._lossy_logged:
                self._lossy_logged = True
                self.logger.warning("%s: %s has ids a spreadsheet shortened (such as %s in line "
                                    "%s): those rows are keyed by %s and %s as well", self.name,
                                    lineage.get("file"), "|".join(parts[:-1]),
                                    lineage.get("line"), ", ".join(self.key_columns),
                                    self.time_column)
        return "|".join(parts)

    def payload_time(self, payload: Mapping[str, Any]) -> dt.datetime | None:
        if self._time_text(payload) is None:
            return None
        parts = self._parts(payload)
        if parts is None or (self._dates.mixed and ambiguous(parts)):
            return None
        return naive_time(parts, self._dates.order).replace(tzinfo=self.zone)
