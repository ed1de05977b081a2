"""``BronzeRESTStream``: the REST stream every API tap builds on (see ``bronze_core.http``).

Reading and failing per stream are here; requests and answers are
``bronze_core.http.requesting``, keeping a cursor ``bronze_core.cursors``.
"""

from __future__ import annotations

from singer_sdk import RESTStream
from singer_sdk.exceptions import SyncLifecycleSignal
from singer_sdk.helpers._state import reset_state_progress_markers

from bronze_core.cursors import CursorStream
from bronze_core.http.pagination import _guarded, guard_loops
from bronze_core.http.request import CredentialsRejected, CredentialsUnavailable, ResponseShape
from bronze_core.http.requesting import RESTRequests
from bronze_core.pacing import SyncStopped
from bronze_core.redact import scrub
from bronze_core.streams import BronzeStream


class BronzeRESTStream(RESTRequests, CursorStream, BronzeStream, RESTStream):
    """A REST stream that emits bronze envelopes and behaves well on errors.

    How it sends requests and judges answers is ``RESTRequests``; how it keeps
    its cursor is ``CursorStream`` (``bronze_core.cursors``); here is how a
    stream reads and fails without ending the run.
    """

    #: The setting a user must fix when the API rejects the credentials.
    auth_setting: str = "api_token"

    def __init_subclass__(cls, **kwargs):
        """Every tap's own ``get_new_paginator`` gets the loop guard, without the tap asking."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("get_new_paginator")
        if own is not None and not getattr(own, "__bronze_guarded__", False):
            cls.get_new_paginator = _guarded(own)

    def get_new_paginator(self):
        return guard_loops(super().get_new_paginator(), self.name)

    #: JSONPath of the payloads inside a response body.
    records_jsonpath = "$[*]"
    #: The container a 2xx answer must be (``JSON_ARRAY``, ``object_with_list("results")``...).
    #: Every stream states it; anything else is retried, then fails the stream.
    response_shape: ResponseShape | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.response_shape, ResponseShape):
            raise TypeError(
                f"{type(self).__name__} must declare its `response_shape` (the JSON container its API documents)"
            )

    @property
    def url_base(self) -> str:
        """Every tap names its base URL ``api_url`` (so tests can point it at a fake)."""
        return self.config["api_url"].rstrip("/")

    def sync(self, context=None):
        """Sync this stream; if it fails, report it and let the tap go on with the others.

        Failures while reading records are caught per partition in
        ``get_records``; this catches the rest (a failure around the read).
        """
        try:
            return super().sync(context)
        except SyncLifecycleSignal:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of one stream must not end the others
            self.stream_failed(exc, context)
            self._write_state_message()

    def stream_failed(self, exc: Exception, context) -> None:
        """Record a failed stream (or partition) and drop its unsafe progress.

        The failure (after the request's retries) is logged with its reason
        and collected in the tap's ``problems``, so the tap exits non-zero at
        the end naming the stream; the other streams and partitions go on.
        The state keeps only what was safely read: bookmarks written per
        completed window or page stay, progress markers of an unsorted read
        are dropped (singer-sdk would otherwise promote them to the bookmark
        when it finalizes state). Rejected credentials (a refused refresh or
        login included) and credentials that cannot be had now stop the whole
        run instead: every stream shares them, and trying again per stream
        would only send a revoked token or a wrong password again and again.
        """
        reason = scrub(str(exc)) or type(exc).__name__
        label = self.name + (f" {dict(context)}" if context else "")
        if isinstance(exc, (CredentialsRejected, CredentialsUnavailable)):
            self._tap.stopped = SyncStopped(reason, failed=True)
            self.logger.error("%s: %s; the run stops here", label, reason)
        else:
            self.logger.error(
                "%s: stream failed (%s: %s); its state stays where the next run "
                "reads this again, the other streams go on",
                label,
                type(exc).__name__,
                reason,
            )
            self._tap.problems.append(f"stream {label} failed: {reason}")
        reset_state_progress_markers(self.get_context_state(context))
        if context is None:
            for partition in self.partitions or []:
                reset_state_progress_markers(self.get_context_state(partition))
        self.state_manager.is_flushed = False

    def get_records(self, context):
        """Records, unless the run was stopped; a stop ends the stream cleanly, a failure
        ends this stream or partition only (``stream_failed``).

        A stream that keeps a cursor saves it as ``bronze_core.cursors`` says: once its
        records were all read (as it goes for one read oldest first), never on a failure.
        """
        stopped = getattr(self._tap, "stopped", None)
        if stopped is not None:
            self.logger.warning("%s: skipped, the run stopped early (%s)", self.name, stopped)
            return
        try:
            yield from self.read_with_cursor(context, self.fetch_records(context))
        except SyncStopped as exc:
            self._tap.stopped = exc
            log = self.logger.error if exc.failed else self.logger.warning
            log("%s: %s", self.name, exc)
            return
        except SyncLifecycleSignal:
            raise
        except Exception as exc:  # noqa: BLE001 - one failing partition must not end the others
            self.stream_failed(exc, context)
            return

    def fetch_records(self, context):
        """The stream's records; override for streams that are not one paginated walk."""
        yield from super().get_records(context)
