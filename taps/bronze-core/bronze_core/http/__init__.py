"""HTTP behaviour shared by every REST tap: timeouts, retries, rate limits, auth errors.

singer-sdk retries 5xx and 429 with exponential backoff but ignores the
server's ``Retry-After``, and its error messages include response bodies and
paths verbatim. Here:

- a 429 (or any retriable status) waits what ``Retry-After`` asks, when given,
  else exponential backoff with jitter; a wait longer than
  ``backoff_max_seconds`` fails the run cleanly instead of hanging for hours;
- 401/403 are fatal with a message naming the setting to fix (a tap that can
  refresh its credentials does so once first: ``refresh_credentials``); a
  refresh or login the source refuses ends the run the same way, tried once
  (``auth_answer_error``);
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

The package, by concern: ``request`` (errors, retry waits, response shapes,
body parsing, error bodies, auth), ``pagination`` (loop guard, date windows),
``settings`` (the settings every REST tap offers), ``requesting`` (how a
stream sends requests and judges answers: one-off calls, lineage, the
refresh-once hook) and ``stream`` (``BronzeRESTStream``).
Pacing and budgets live in ``bronze_core.pacing`` (the tap base owns them).
"""

from __future__ import annotations

import logging

from bronze_core.http.pagination import DateWindow, DateWindowPaginator, PaginationLoop, guard_loops
from bronze_core.http.request import (
    BODY_PREVIEW_CHARS,
    JSON_ARRAY,
    JSON_OBJECT,
    BearerAuth,
    CredentialsRejected,
    CredentialsUnavailable,
    NoAuth,
    RateLimitTooLong,
    ResponseShape,
    TokenRefreshed,
    auth_answer_error,
    auth_request,
    error_message,
    json_object_body,
    object_with_list,
    parse_json_body,
    retry_after_seconds,
    retry_waits,
)
from bronze_core.http.requesting import RequestSpec
from bronze_core.http.settings import HTTP_SETTINGS, api_settings, api_url_setting, pace_setting, token_setting
from bronze_core.http.stream import BronzeRESTStream
from bronze_core.pacing import RequestBudget, RequestThrottle, SyncStopped

__all__ = [
    "BODY_PREVIEW_CHARS",
    "HTTP_SETTINGS",
    "JSON_ARRAY",
    "JSON_OBJECT",
    "BearerAuth",
    "BronzeRESTStream",
    "CredentialsRejected",
    "CredentialsUnavailable",
    "DateWindow",
    "DateWindowPaginator",
    "NoAuth",
    "PaginationLoop",
    "RateLimitTooLong",
    "RequestBudget",
    "RequestSpec",
    "RequestThrottle",
    "ResponseShape",
    "SyncStopped",
    "TokenRefreshed",
    "api_settings",
    "api_url_setting",
    "auth_answer_error",
    "auth_request",
    "error_message",
    "guard_loops",
    "json_object_body",
    "object_with_list",
    "pace_setting",
    "parse_json_body",
    "retry_after_seconds",
    "retry_waits",
    "token_setting",
]

logging.getLogger("urllib3").setLevel(logging.WARNING)  # its DEBUG lines print full URLs
