"""Pacing and budgets of a run's requests, and the clean early stop they cause.

Not HTTP code: ``BronzeTap`` owns a run's budget and throttle, and file taps
import the tap base, so these live apart from ``bronze_core.http``.
"""

from __future__ import annotations

import threading
import time


class SyncStopped(Exception):
    """Ends the run early but cleanly: what was fetched lands and state is saved.

    ``failed`` says whether the tap should exit non-zero once its state is out
    (a quota answer from the API) or not (the run's own request budget).
    """

    def __init__(self, message: str, *, failed: bool):
        super().__init__(message)
        self.failed = failed


class RequestBudget:
    """Counts a run's requests and stops the run before a quota is crossed.

    Some APIs allow a handful of requests an hour (Toggl's free plan: 30).
    Stopping at our own limit, with state saved, beats being locked out.
    """

    def __init__(self, limit: int | None):
        self.limit, self.used = limit, 0

    def take(self) -> None:
        if self.limit is not None and self.used >= self.limit:
            raise SyncStopped(
                f"stopping: this run's request budget ({self.limit}, setting "
                "`max_requests_per_run`) is used up; state is saved and the next run continues",
                failed=False,
            )
        self.used += 1


class RequestThrottle:
    """Spaces requests to stay under a per-second limit (Airtable: 5/s, Notion: ~3/s)."""

    def __init__(self, per_second: float | None):
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)
