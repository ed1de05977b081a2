"""HTTP behaviour shared by every REST tap: timeouts, retries, rate limits, auth errors.

singer-sdk retries 5xx and 429 with exponential backoff but ignores the
server's ``Retry-After``, and its error messages include response bodies and
paths verbatim. Here:

- a 429 (or any retriable status) waits what ``Retry-After`` asks, when given,
  else exponential backoff with jitter; a wait longer than
  ``backoff_max_seconds`` fails the run cleanly instead of hanging for hours;
- 401/403 are fatal with a message naming the setting to fix (a tap may first
  try to refresh its token through ``on_unauthorized``);
- a 2xx whose body is not JSON (an HTML error page, a cut-off body) is retried;
- a 2xx whose body is not the container the API documents for that request
  (``response_shape``: an empty body, ``null``, ``{}`` where a list is due, an
  object without its ``results``) is retried the same way, then fails the
  stream: an answer that says nothing must never read as "no data" and move a
  bookmark past data it hid;
- ``request_timeout`` is a deadline for the whole answer, body included
  (``bronze_core.deadline``): a body trickling in byte by byte cannot hold a run;
- a stream that fails (after its retries) is reported and the tap goes on
  with the next stream; its own state stays where the next run re-reads what
  it missed, and the tap exits non-zero at the end naming it
  (``BronzeRESTStream.sync``). Rejected credentials stop the whole run;
- bodies are parsed as UTF-8 JSON keeping what the envelope must flag: invalid
  UTF-8 survives as lone surrogates (``surrogateescape``), repeated keys are
  recorded (``keep_duplicates``); the envelope then lands such payloads as
  ``invalid`` with the reason instead of losing or silently changing them;
- a paginator that hands out a page token it already gave in the same walk
  (a ``next`` cursor that cycles) stops the stream with ``PaginationLoop``
  instead of reading forever;
- nothing that reaches a log line or an exception carries a secret, and no
  request follows a redirect to another host (``bronze_core.redirects``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import math
import random
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlsplit

import requests
from singer_sdk import RESTStream
from singer_sdk import typing as th
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError, SyncLifecycleSignal
from singer_sdk.helpers._state import reset_state_progress_markers
from singer_sdk.helpers.jsonpath import extract_jsonpath
from singer_sdk.pagination import BaseHATEOASPaginator, JSONPathPaginator, SimpleHeaderPaginator

from bronze_core.envelope import keep_duplicates
from bronze_core.pacing import RequestBudget, RequestThrottle, SyncStopped  # noqa: F401 (re-exported)
from bronze_core.redact import redact_params, scrub
from bronze_core.redirects import SameOriginSession
from bronze_core.streams import BronzeStream

#: Settings every REST tap offers; tests turn the waits down to milliseconds.
#: All integers: Meltano's `decimal` setting kind cannot serialise its own values.
HTTP_SETTINGS = [
    th.Property("request_timeout", th.IntegerType, default=60,
                description="Seconds one request may take, the whole answer (body included); "
                            "then it is retried."),
    th.Property("max_retries", th.IntegerType, default=5,
                description="Retries of one request on 5xx, 429, timeouts and connection errors."),
    th.Property("backoff_base_ms", th.IntegerType, default=2000,
                description="First wait of the exponential backoff in milliseconds (doubles each retry)."),
    th.Property("backoff_max_seconds", th.IntegerType, default=300,
                description="Longest single wait. A Retry-After asking for more fails the run "
                            "cleanly (state kept) instead of blocking."),
]

BODY_PREVIEW_CHARS = 300


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>``; the token is registered as a secret."""

    def __init__(self, token: str):
        from bronze_core.redact import register_secret

        register_secret(token)
        self._token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class NoAuth(requests.auth.AuthBase):
    """For keyless APIs (Open-Meteo): requests go out as they are."""

    def __call__(self, request):
        return request


class PaginationLoop(RuntimeError):
    """The API sent a page token it had already sent in this walk."""


def _token_key(token: Any) -> str:
    try:
        return json.dumps(token, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(token)


def guard_loops(paginator, stream_name: str):
    """Make ``paginator`` raise ``PaginationLoop`` when a page token comes back in one walk.

    singer-sdk only notices a token equal to the one just before it; a cycle
    (A, B, A, ...) would read forever. Idempotent, and a no-op for ``None``.
    """
    if paginator is None or getattr(paginator, "_bronze_seen", None) is not None:
        return paginator
    if isinstance(paginator, (JSONPathPaginator, BaseHATEOASPaginator, SimpleHeaderPaginator)):
        # An empty page that still names a next page is not the end (singer-sdk stops there,
        # silently dropping the rest). Offset/page-number paginators keep stopping at an
        # empty page: for them it is the only end marker.
        paginator.continue_if_empty = lambda response: True
    seen = {_token_key(paginator.current_value)}
    paginator._bronze_seen = seen
    advance = paginator.advance

    def guarded_advance(response):
        advance(response)
        if paginator.finished:
            return
        key = _token_key(paginator.current_value)
        if key in seen:
            raise PaginationLoop(
                f"{stream_name}: the API sent page token {key[:80]} a second time in one walk "
                f"(after {len(seen)} pages): a pagination loop. Stopping with an error instead of "
                "reading forever; the pages before it landed, state was not advanced past them"
            )
        seen.add(key)

    paginator.advance = guarded_advance
    return paginator


def _guarded(get_new_paginator):
    def wrapper(self, *args, **kwargs):
        return guard_loops(get_new_paginator(self, *args, **kwargs), self.name)

    wrapper.__doc__ = get_new_paginator.__doc__
    wrapper.__bronze_guarded__ = True
    return wrapper


@dataclass(frozen=True)
class ResponseShape:
    """The top-level JSON a successful answer must have, as the API documents it.

    Each stream states its shape (``BronzeRESTStream.response_shape``) and
    ``validate_response`` refuses anything else as a retriable error. An empty
    body, ``null``, ``{}`` where a list is due or an object without its
    ``results`` would otherwise read as "no data here" and move a bookmark past
    data the answer hid. A documented empty answer (``[]``, ``{"results": []}``)
    is of course fine.
    """

    #: ``list`` (a JSON array) or ``dict`` (a JSON object).
    container: type
    #: For an object: the key holding the list of payloads (``results``, ``records``).
    list_key: str | None = None
    #: For an object: keys it must carry (documented as always present).
    required: tuple[str, ...] = ()
    #: A 204 No Content is a documented answer (Garmin's HRV on a night without).
    no_content: bool = False
    #: A JSON ``null`` is a documented empty list (Toggl's workspace lists).
    null_is_empty: bool = False

    def describe(self) -> str:
        if self.container is list:
            return "a JSON array"
        keys = ([f"a `{self.list_key}` array"] if self.list_key else []) + [f"`{k}`" for k in self.required]
        return "a JSON object" + (" with " + ", ".join(keys) if keys else "")

    def problem(self, body: Any) -> str | None:
        """What is wrong with a decoded body, or None when it has this shape."""
        if body is None and self.null_is_empty:
            return None
        if not isinstance(body, self.container):
            found = "null" if body is None else f"a JSON {_json_kind(body)}"
            return f"answered {found} where the API documents {self.describe()}"
        if self.container is dict:
            missing = [k for k in ((self.list_key,) if self.list_key else ()) + self.required if k not in body]
            if missing:
                return f"answered an object without {', '.join(map(repr, missing))} ({self.describe()} expected)"
            if self.list_key and not isinstance(body[self.list_key], list):
                return f"answered `{self.list_key}` as a JSON {_json_kind(body[self.list_key])}, not an array"
        return None


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__)


#: The two plain shapes; ``object_with_list`` for the enveloped one.
JSON_ARRAY = ResponseShape(list)
JSON_OBJECT = ResponseShape(dict)


def object_with_list(key: str, *required: str) -> ResponseShape:
    """An object whose ``key`` is the list of payloads (``{"results": [...]}``)."""
    return ResponseShape(dict, list_key=key, required=required)


class TokenRefreshed(RetriableAPIError):
    """The tap refreshed its credentials; retry the request at once."""


class CredentialsRejected(FatalAPIError):
    """The API refused the credentials (after any refresh): every stream would fail alike."""


class RateLimitTooLong(FatalAPIError):
    """The server asked for a longer pause than this run is allowed to wait."""


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` as delta or HTTP date).

    None when absent or unusable (not a number or date, ``nan``, ``inf``): the
    normal backoff applies then.
    """
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "nan" and "inf" parse as floats but ask for nothing usable: as if absent
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def retry_waits(base: float, cap: float, wait_on_429: float | None = None):
    """Backoff wait generator fed the exception of each failed try.

    Honours ``Retry-After``; a 429 without one waits ``wait_on_429`` when the
    API documents a fixed pause (Airtable: 30 s); otherwise doubles from
    ``base`` with jitter.
    """
    exc = yield  # primed by backoff
    attempt = 0
    while True:
        if isinstance(exc, TokenRefreshed):
            delay = 0.0
        else:
            response = getattr(exc, "response", None)
            asked = retry_after_seconds(response)
            if asked is None and wait_on_429 is not None and getattr(response, "status_code", None) == 429:
                asked = wait_on_429
            if asked is not None and asked > cap:
                raise RateLimitTooLong(
                    f"rate limited: the server asks to wait {asked:.0f} s, more than "
                    f"backoff_max_seconds={cap:.0f}; state is saved, run again later"
                )
            if asked is not None:
                delay = asked
            else:
                delay = min(cap, base * (2**attempt)) * random.uniform(0.75, 1.0)
            attempt += 1
        exc = yield delay


def parse_json_body(content: bytes) -> Any:
    """A JSON body (UTF-8, RFC 8259), keeping invalid bytes and repeated keys visible.

    Invalid UTF-8 becomes lone surrogates rather than U+FFFD, so the envelope
    can mark the payload instead of a silent substitution.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("utf-8", "surrogateescape")
    return json.loads(text, object_pairs_hook=keep_duplicates)


class BronzeRESTStream(BronzeStream, RESTStream):
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

        For streams with a modification cursor (``payload_cursor``), the
        newest value seen is saved as ``cursor`` in the stream's (or
        partition's) state once all its records were read, never before: a
        run that stops part-way starts again from the old cursor.
        """
        stopped = getattr(self._tap, "stopped", None)
        if stopped is not None:
            self.logger.warning("%s: skipped, the run stopped early (%s)", self.name, stopped)
            return
        newest = None
        try:
            for record in self.fetch_records(context):
                seen = self.payload_cursor(record["raw_data"])
                if seen is not None and (newest is None or seen > newest):
                    newest = seen
                yield record
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
        if newest is not None:
            old = self.cursor(context)
            value = max(newest.isoformat(), old) if old else newest.isoformat()
            scope = self.cursor_scope(context)
            state = self.get_context_state(context)
            if scope is None:
                state["cursor"] = value
            else:
                state.setdefault("cursors", {})[scope] = value

    def payload_cursor(self, payload) -> dt.datetime | None:
        """The payload's modification time, for APIs that filter on it (else None)."""
        return None

    def cursor_scope(self, context) -> str | None:
        """A key when one stream keeps several cursors (one per queried collection).

        singer-sdk's own state partitions would copy the partition keys into
        every record, which would add columns to the fixed bronze row, so
        several cursors live in one stream state under ``cursors``.
        """
        return None

    def cursor(self, context) -> str | None:
        """The saved modification cursor (ISO 8601 UTC) of this stream or scope."""
        state = self.get_context_state(context)
        scope = self.cursor_scope(context)
        return state.get("cursor") if scope is None else (state.get("cursors") or {}).get(scope)

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


logging.getLogger("urllib3").setLevel(logging.WARNING)  # its DEBUG lines print full URLs
