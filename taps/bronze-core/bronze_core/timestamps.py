"""Turn the many ways sources write time into one: ISO 8601 in UTC.

Sources disagree: Garmin's web API sends epoch milliseconds, its export sends
``2024-05-14T15:41:04.0`` with no zone (it is GMT), Apple Health writes
``2024-01-04 12:00:00 +0000``. ``source_timestamp`` is always UTC so that
ordering and freshness work across sources.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

UTC = dt.UTC

# "2024-01-04 12:00:00 +0000" -> "2024-01-04 12:00:00+0000"
_SPACE_BEFORE_OFFSET = re.compile(r"\s+([+-]\d{2}:?\d{2})$")


def parse_timestamp(value: Any, *, naive_tz: dt.tzinfo = UTC) -> dt.datetime | None:
    """Parse an ISO-like string, date or datetime into an aware UTC datetime.

    ``naive_tz`` says which zone a value without an offset is in; the caller
    knows (Garmin "GMT" fields are UTC, a Fitbit CSV is in the user's zone).
    Raises ``ValueError`` for text that is not a timestamp.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    else:
        text = _SPACE_BEFORE_OFFSET.sub(r"\1", str(value).strip())
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    return parsed.astimezone(UTC)


def to_utc_iso(value: dt.datetime | None) -> str | None:
    """Format an aware datetime as ISO 8601 UTC, the form bronze stores."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat()
