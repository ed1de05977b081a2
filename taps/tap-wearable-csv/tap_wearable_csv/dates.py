"""Fitabase times as files spell them, and which order a file writes its dates in.

Fitabase writes ``4/12/2016`` and ``4/12/2016 7:21:00 AM`` (month first). Most
public copies went through a spreadsheet, which writes what its locale says:
``12/04/2016 12:00 AM`` (zero-padded, no seconds), ``4/12/2016 0:00`` (24-hour),
or ``25/03/2016`` (day first). A date whose first number is over 12 can only
be day-first, one whose second number is over 12 only month-first; ``4/5/2016``
is either. So the order is decided per file, from the file's own dates
(``scan_date_order``), before any row is emitted:

- one order proven (and never the other): every date is read that way;
- nothing proven (every day is 12 or less): the ``date_order`` setting, logged;
- both proven (the file contradicts itself): dates that could be either are
  not guessed; their rows land ``invalid`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bronze_core.files.source import ByteReader

DAY_FIRST, MONTH_FIRST = "day-first", "month-first"
ORDERS = (MONTH_FIRST, DAY_FIRST)

#: A field that is a date only one order can read (the first number a day over
#: 12, or the second one). Fitabase's date is never the first column, so the
#: comma before it is part of the pattern, which lets the search skip ahead fast.
_EITHER_PROOF = re.compile(
    rb',"?(?:(?P<d>(?:1[3-9]|2[0-9]|3[01])/(?:0?[1-9]|1[0-2]))'
    rb"|(?P<m>(?:0?[1-9]|1[0-2])/(?:1[3-9]|2[0-9]|3[01])))/[0-9]{4}\b"
)
_PROOF = {
    DAY_FIRST: re.compile(rb',"?(?:1[3-9]|2[0-9]|3[01])/(?:0?[1-9]|1[0-2])/[0-9]{4}\b'),
    MONTH_FIRST: re.compile(rb',"?(?:0?[1-9]|1[0-2])/(?:1[3-9]|2[0-9]|3[01])/[0-9]{4}\b'),
}
_OTHER = {DAY_FIRST: MONTH_FIRST, MONTH_FIRST: DAY_FIRST}

#: The two ways Fitabase itself writes a time (``strptime`` formats, for reference).
FITABASE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y")

#: ``(first, second, year, hour, minute, second, has_clock)`` as written.
Parts = tuple[int, int, int, int, int, int, bool]


def split_time(text: str) -> Parts:
    """The numbers of ``4/12/2016``, ``4/12/2016 7:21:00 AM``, ``12/04/2016 12:00 AM``,
    ``4/12/2016 0:00`` or ``4/12/2016 13:05:00``, without deciding which is the month.

    Split by hand: ``strptime`` cost a fifth of the tap's time on the
    2.5-million-row heart-rate file. Raises ``ValueError`` for anything else.
    """
    day, _, clock = text.strip().partition(" ")
    first, second, year = day.split("/")
    if len(year) != 4 or not (first.isdigit() and second.isdigit() and year.isdigit()):
        raise ValueError(f"not a Fitabase date: {text!r}")
    if not clock:
        return int(first), int(second), int(year), 0, 0, 0, False
    hms, _, half = clock.partition(" ")
    numbers = hms.split(":")
    if not 2 <= len(numbers) <= 3 or not hms.replace(":", "").isdigit():
        raise ValueError(f"not a Fitabase time: {text!r}")  # ranges: ``datetime`` checks them
    hour, minute = int(numbers[0]), int(numbers[1])
    seconds = int(numbers[2]) if len(numbers) == 3 else 0
    if half:
        if half not in ("AM", "PM") or not 1 <= hour <= 12:
            raise ValueError(f"not a Fitabase time: {text!r}")
        hour = hour % 12 + (12 if half == "PM" else 0)
    return int(first), int(second), int(year), hour, minute, seconds, True


def proves(parts: Parts) -> str | None:
    """The order a date can only be read in, if just one reads it."""
    first, second = parts[0], parts[1]
    if 12 < first <= 31 and 1 <= second <= 12:
        return DAY_FIRST
    if 12 < second <= 31 and 1 <= first <= 12:
        return MONTH_FIRST
    return None


def ambiguous(parts: Parts) -> bool:
    """Whether both orders read the date, as different days (``4/5``; not ``4/4``)."""
    return parts[0] != parts[1] and 1 <= parts[0] <= 12 and 1 <= parts[1] <= 12


def naive_time(parts: Parts, order: str) -> dt.datetime:
    """The wall-clock time ``parts`` mean in ``order`` (a date that proves an order is read in it)."""
    first, second, year, hour, minute, seconds, _ = parts
    if (proves(parts) or order) == DAY_FIRST:
        first, second = second, first
    return dt.datetime(year, first, second, hour, minute, seconds)


def iso_key(parts: Parts, order: str, day: bool = False) -> str:
    """The time as ISO text for a ``raw_id``: ``2016-04-12`` or ``2016-04-12T07:21:00``.

    ``day``: the stream's rows are days, so midnight is written as the date
    (``4/12/2016`` and ``4/12/2016 12:00:00 AM`` are one day).
    """
    moment = naive_time(parts, order)
    if not parts[6] or (day and moment.time() == dt.time()):
        return moment.date().isoformat()
    return moment.isoformat()


def either_key(parts: Parts, day: bool = False) -> str:
    """Both readings of an undecidable date, for a ``raw_id`` that guesses neither."""
    return " or ".join(sorted({iso_key(parts, order, day) for order in ORDERS}))


def parse_fitabase_time(text: str, zone: dt.tzinfo, order: str = MONTH_FIRST) -> dt.datetime:
    """``4/12/2016 7:21:00 AM`` (or a spreadsheet's variant) read in ``zone`` and ``order``."""
    return naive_time(split_time(text), order).replace(tzinfo=zone)


@dataclass
class DateOrder:
    """How one file's dates are read, and why."""

    order: str
    #: ``"line 14 (25/03/2016)"``, or ``None`` when the setting decided.
    proof: str | None = None
    #: Set when the file proves both orders: what contradicts what.
    mixed: str | None = None

    def as_state(self) -> dict[str, Any]:
        return {"order": self.order, "proof": self.proof, "mixed": self.mixed}

    @classmethod
    def from_state(cls, entry: Mapping[str, Any] | None) -> DateOrder:
        """What a run remembered; state from before ``date_order`` existed was read month-first."""
        if not entry:
            return cls(MONTH_FIRST)
        return cls(entry.get("order", MONTH_FIRST), entry.get("proof"), entry.get("mixed"))


def scan_date_order(handle: ByteReader, first_line: int = 1, chunk_size: int = 1 << 20) -> dict[str, str]:
    """The first line proving each order in the rest of ``handle``: ``{order: "line N (text)"}``.

    One fast pass over the bytes (a regular expression, no CSV parsing): it
    stops once both orders are proven, else reads to the end, since a later
    row may contradict an earlier one. ``first_line`` is the line ``handle``
    starts at.
    """
    found: dict[str, str] = {}
    lines, pending = first_line - 1, b""
    for chunk in iter(lambda: handle.read(chunk_size), b""):
        data = pending + chunk
        cut = data.rfind(b"\n") + 1
        block, pending = data[:cut], data[cut:]
        if block:
            _proofs_in(block, lines, found)
            if len(found) == 2:
                return found
            lines += block.count(b"\n")
    if pending:
        _proofs_in(pending + b"\n", lines, found)
    return found


def _proofs_in(block: bytes, lines: int, found: dict[str, str]) -> None:
    """Add to ``found`` the first proof of each order not yet proven in ``block``."""
    if not found:
        match = _EITHER_PROOF.search(block)
        if match is None:
            return
        found[DAY_FIRST if match.group("d") else MONTH_FIRST] = _where(block, match, lines)
        start = match.end()
    else:
        start = 0
    (missing,) = [order for order in ORDERS if order not in found]
    match = _PROOF[missing].search(block, start)
    if match is not None:
        found[missing] = _where(block, match, lines)


def _where(block: bytes, match: re.Match, lines: int) -> str:
    line = lines + block.count(b"\n", 0, match.start()) + 1
    text = match.group().lstrip(b',"').decode()
    return f"line {line} ({text})"


def decide(found: Mapping[str, str], setting: str) -> DateOrder:
    """The order a file's proofs say, or ``setting`` when they say nothing."""
    if len(found) == 2:
        return DateOrder(setting, mixed=f"{found[DAY_FIRST]} is day-first, {found[MONTH_FIRST]} month-first")
    if found:
        ((order, proof),) = found.items()
        return DateOrder(order, proof)
    return DateOrder(setting)
