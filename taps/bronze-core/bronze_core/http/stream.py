"""``BronzeRESTStream``: the REST stream every API tap builds on (see ``bronze_core.http``)."""

from __future__ import annotations

from typing import Any, Iterable
from urllib.parse import parse_qsl, urlsplit

import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError, SyncLifecycleSignal
from singer_sdk.helpers._state import reset_state_progress_markers
from singer_sdk.helpers.jsonpath import extract_jsonpath

from bronze_core.cursors import CursorStream
from bronze_core.http.pagination import _guarded, guard_loops
from bronze_core.http.request import (BODY_PREVIEW_CHARS, BearerAuth, CredentialsRejected,
                                      ResponseShape, parse_json_body, retry_waits)
from bronze_core.pacing import SyncStopped
from bronze_core.redact import redact_params, scrub
from bronze_core.redirects import SameOriginSession
from bronze_core.streams import BronzeStream


class BronzeRESTStream(CursorStream, BronzeStream, RESTStream):
    """A REST stream that emits bronze envelopes and behaves well on errors."""

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
            raise TypeError(f"{type(self).__name__} must declare its `response_shape` "
                            "(the JSON container its API documents)")

    @property
    def url_base(self) -> str:
        """Every tap names its base URL ``api_url`` (so tests can point it at a fake)."""
        return self.config["api_url"].rstrip("/")

    @property
    def requests_session(self) -> requests.Session:
        """A session that refuses redirects to another host (``bronze_core.redirects``) and
        takes ``request_timeout`` as a deadline for the whole answer (``bronze_core.deadline``)."""
        if not isinstance(self._requests_session, SameOriginSession):
            self._requests_session = SameOriginSession(self.source)
        return self._requests_session

    @property
    def authenticator(self):
        """Bearer token from the ``auth_setting`` setting; taps with other schemes override."""
        return BearerAuth(self.config[self.auth_setting])

    @property
    def timeout(self) -> float:  # type: ignore[override]
        return float(self.config.get("request_timeout", 60))

    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 5)) + 1

    #: Fixed pause after a 429 without Retry-After, where the API documents one.
    wait_on_429_seconds: float | None = None

    def backoff_wait_generator(self):
        return retry_waits(
            int(self.config.get("backoff_base_ms", 2000)) / 1000.0,
            float(self.config.get("backoff_max_seconds", 300)),
            self.wait_on_429_seconds,
        )

    def backoff_jitter(self, value: float) -> float:
        # Jitter is applied in retry_waits, where a Retry-After can be left exact.
        return value

    def backoff_handler(self, details) -> None:
        exc = details.get("exception")
        response = getattr(exc, "response", None)
        what = f"HTTP {response.status_code}" if response is not None else type(exc).__name__
        self.logger.warning(
            "%s: %s on %s, retry %d in %.2f s",
            self.name, what, self.path, details.get("tries", 0), details.get("wait") or 0,
        )

    # --- requests -----------------------------------------------------------
    def _request(self, prepared_request, context):
        budget = getattr(self._tap, "request_budget", None)  # both set by BronzeTap
        if budget is not None:
            budget.take()
        throttle = getattr(self._tap, "request_throttle", None)
        if throttle is not None:
            throttle.wait()
        return super()._request(prepared_request, context)

    def request_once(self, url: str, params: dict | None = None, *, method: str = "GET",
                     json_body: Any = None, shape: ResponseShape | None = None) -> requests.Response:
        """One request outside the paginator, with retries, checked against ``shape``
        (default: the stream's ``response_shape``)."""
        request = self.build_prepared_request(method=method, url=url, params=params or {},
                                              headers=self.http_headers, json=json_body)
        if shape is not None:
            request._bronze_shape = shape  # read back by validate_response
        return self.request_decorator(self._request)(request, None)

    def fetch(self, url: str, params: dict | None = None, *, method: str = "GET",
              json_body: Any = None) -> Iterable[dict]:
        """One request outside the paginator (with retries), as bronze records."""
        yield from self.parse_response(self.request_once(url, params, method=method, json_body=json_body))

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
        when it finalizes state). Rejected credentials stop the whole run
        instead: every stream shares them.
        """
        reason = scrub(str(exc)) or type(exc).__name__
        label = self.name + (f" {dict(context)}" if context else "")
        if isinstance(exc, CredentialsRejected):
            self._tap.stopped = SyncStopped(reason, failed=True)
            self.logger.error("%s: %s; the run stops here", label, reason)
        else:
            self.logger.error("%s: stream failed (%s: %s); its state stays where the next run "
                              "reads this again, the other streams go on", label, type(exc).__name__, reason)
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

    # --- responses ----------------------------------------------------------
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status in (401, 403):
            self.on_unauthorized(response)
            raise CredentialsRejected(self.auth_error_message(response))
        if status in self.extra_retry_statuses or status >= 500:
            raise RetriableAPIError(self.response_error_message(response), response)
        if 400 <= status < 500:
            raise FatalAPIError(self.response_error_message(response))
        shape = getattr(response.request, "_bronze_shape", None) or self.response_shape
        if not response.content:
            if status == 204 and shape.no_content:
                return  # documented: nothing that day
            raise RetriableAPIError(self.response_error_message(
                response, f"answered HTTP {status} with an empty body where the API documents "
                          f"{shape.describe()}"), response)
        try:
            response._bronze_json = parse_json_body(response.content)  # parsed once, reused below
        except RecursionError:
            raise RetriableAPIError(
                self.response_error_message(response, "answered with JSON nested too deeply to parse"),
                response,
            ) from None
        except ValueError:
            raise RetriableAPIError(
                self.response_error_message(response, "answered with a body that is not JSON"),
                response,
            ) from None
        problem = shape.problem(response._bronze_json)
        if problem:
            raise RetriableAPIError(self.response_error_message(response, problem), response)

    def on_unauthorized(self, response: requests.Response) -> None:
        """Hook for taps that can refresh credentials (raise ``TokenRefreshed``)."""

    def auth_error_message(self, response: requests.Response) -> str:
        return (
            f"{self.source}: the API rejected the credentials (HTTP {response.status_code}) "
            f"on {urlsplit(response.url).path}. Check the `{self.auth_setting}` setting."
        )

    def response_error_message(self, response: requests.Response, what: str | None = None) -> str:
        """Status, path and a short body preview, with secrets scrubbed."""
        body = scrub(response.text[:BODY_PREVIEW_CHARS]) if response.content else ""
        what = what or f"answered HTTP {response.status_code} {response.reason or ''}".rstrip()
        return f"{self.source}: {urlsplit(response.url).path} {what}" + (f": {body}" if body else "")

    def response_json(self, response: requests.Response) -> Any:
        """The decoded body (``None`` for an empty one)."""
        if hasattr(response, "_bronze_json"):
            return response._bronze_json
        return response.json() if response.content else None

    def extract_payloads(self, response: requests.Response) -> Iterable[Any]:
        """The source payloads in a response; taps override for odd shapes."""
        body = self.response_json(response)
        if body is None:
            return []
        return extract_jsonpath(self.records_jsonpath, input=body)

    def request_lineage(self, response: requests.Response) -> dict[str, Any]:
        """Where a payload came from: endpoint, parameters, HTTP status."""
        parts = urlsplit(response.request.url if response.request else response.url)
        return {
            "endpoint": parts.path,
            "params": redact_params(dict(parse_qsl(parts.query))),
            "http_status": response.status_code,
        }

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        lineage = self.request_lineage(response)
        for payload in self.extract_payloads(response):
            yield self.to_bronze(payload, lineage)
