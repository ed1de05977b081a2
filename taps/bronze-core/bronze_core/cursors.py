"""One way for a stream to keep its place between runs: its cursor.

A stream that reads incrementally keeps one value in its Meltano state:
``{"cursor": "<ISO 8601>"}``, or, when one stream queries several collections
(Notion data sources, Open-Meteo locations), ``{"cursors": {"<scope>":
"<ISO 8601>"}}``. (singer-sdk's own state partitions would copy the partition
keys into every record, adding columns to the fixed bronze row.) The value is
one of:

- a modification time the API filters on (HidrateSpark ``updatedAt``, Notion
  ``last_edited_time``, HubSpot, Airtable): the newest value seen;
- the event time of the newest record, read again next run with a lookback
  (Garmin's days, which have no modified-since filter): ``EVENT_TIME``;
- the end of a completed walk (the last day asked for per Open-Meteo
  location, the moment Toggl's last complete read began): saved by the
  stream itself with ``save_cursor``.

A stream declares ``cursor_field`` (a ``time_field``-style declaration, or
``EVENT_TIME``) and the newest value among its records is saved once the
stream (or partition) was read to the end, never before: a run that stops
part-way starts again from the old cursor. A stream that reads oldest first
(``is_sorted``) saves as it goes instead, so a stopped run keeps the days it
finished. A cursor never moves backwards.

State written by the previous version (singer-sdk's ``replication_key_value``,
Toggl's unix ``since``, Open-Meteo's ``through``) is still understood: a
stream's ``upgrade_state`` rewrites it into this shape before the cursor is
first read, so the next run resumes exactly where the old one stopped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from bronze_core.fields import TimeField, read_time
from bronze_core.timestamps import parse_timestamp

#: ``cursor_field`` of a stream whose cursor is its records' ``source_timestamp``.
EVENT_TIME = "source_timestamp"


def _text(value: dt.datetime | dt.date | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


class CursorStream:
    """Mixin for streams that keep a cursor (the REST streams); see the module."""

    if TYPE_CHECKING:  # given by singer-sdk's Stream, which every user of the mixin is

        def get_context_state(self, context: Any) -> dict: ...

    #: Where a payload holds its cursor value, or ``EVENT_TIME``; None: no cursor from records.
    cursor_field: TimeField | str = None

    def cursor_scope(self, context) -> str | None:
        """A key when one stream keeps several cursors (one per queried collection)."""
        return None

    def upgrade_state(self, state: dict) -> None:
        """Rewrite a state in the previous version's shape into ``cursor``/``cursors``, in place.

        Called before every read of the cursor; must do nothing to a state
        already in the current shape.
        """

    def payload_cursor(self, payload: Any) -> dt.datetime | None:
        """The payload's cursor value by ``cursor_field`` (None for ``EVENT_TIME``: read from
        the record, see ``read_with_cursor``)."""
        if self.cursor_field == EVENT_TIME:
            return None
        return read_time(self.cursor_field, payload)

    def cursor(self, context) -> str | None:
        """The saved cursor (ISO 8601) of this stream or scope, if any."""
        state = self.get_context_state(context)
        self.upgrade_state(state)
        scope = self.cursor_scope(context)
        return state.get("cursor") if scope is None else (state.get("cursors") or {}).get(scope)

    def save_cursor(self, context, value: dt.datetime | dt.date | str) -> None:
        """Save ``value`` as the cursor of this stream or scope, unless it is behind the saved one."""
        old, new = parse_timestamp(self.cursor(context)), parse_timestamp(value)
        if old is not None and new is not None and old >= new:
            return
        state = self.get_context_state(context)
        scope = self.cursor_scope(context)
        if scope is None:
            state["cursor"] = _text(value)
        else:
            state.setdefault("cursors", {})[scope] = _text(value)

    def read_with_cursor(self, context, records: Iterable[dict]) -> Iterator[dict]:
        """Pass the records on, then save the newest cursor value among them (as they go for a
        stream read oldest first). Nothing is saved when the read fails: the caller's exception
        leaves this generator before its end."""
        if self.cursor_field is None:
            yield from records
            return
        sorted_read = bool(getattr(self, "is_sorted", False))
        newest: dt.datetime | None = None
        for record in records:
            if self.cursor_field == EVENT_TIME:
                seen = parse_timestamp(record.get("source_timestamp"))
            else:
                seen = self.payload_cursor(record["raw_data"])
            yield record
            if seen is not None and (newest is None or seen > newest):
                newest = seen
                if sorted_read:
                    self.save_cursor(context, newest)
        if newest is not None and not sorted_read:
            self.save_cursor(context, newest)
