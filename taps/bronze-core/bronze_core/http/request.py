"""Request and retry: what a failed request means, how long to wait, and what a good answer is.

- a 429 (or any retriable status) waits what ``Retry-After`` asks, when given,
  else exponential backoff with jitter; a wait longer than
  ``backoff_max_seconds`` fails the run cleanly (``RateLimitTooLong``);
- a 2xx answer must be the container the API documents (``ResponseShape``);
- bodies are parsed keeping invalid UTF-8 and repeated keys visible
  (``parse_json_body``), for the envelope to flag;
- error answers are read for a code or a message (``json_object_body``,
  ``error_message``) without a second error when they are not JSON, and
  without echoing a secret;
- a token or login request is retried like any other (``auth_request``), and
  an answer without credentials is judged once for every tap that refreshes
  (``auth_answer_error``): refused, or unavailable.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from bronze_core.envelope import keep_duplicates
from bronze_core.redact import scrub

logger = logging.getLogger(__name__)

BODY_PREVIEW_CHARS = 300
#: Fields in which APIs put the human-readable part of an error body, in the order tried:
#: HubSpot ``message``, OAuth ``error_description`` then ``error``, Parse ``error``.
ERROR_MESSAGE_FIELDS = ("message", "error_description", "error", "detail")
ERROR_MESSAGE_CHARS = 200


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
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__
    )


#: The two plain shapes; ``object_with_list`` for the enveloped one.
JSON_ARRAY = ResponseShape(list)
JSON_OBJECT = ResponseShape(dict)


def object_with_list(key: str, *required: str) -> ResponseShape:
    """An object whose ``key`` is the list of payloads (``{"results": [...]}``)."""
    return ResponseShape(dict, list_key=key, required=required)


class TokenRefreshed(RetriableAPIError):
    """The tap refreshed its credentials; retry the request at once."""


class CredentialsRejected(FatalAPIError):
    """The API refused the credentials (after any refresh): every stream would fail alike.

    The run stops (``BronzeRESTStream.stream_failed``) with the message, which
    names the setting to fix; a refused refresh or login is one too
    (``auth_answer_error``), so it is never tried again stream after stream.
    """


class CredentialsUnavailable(FatalAPIError):
    """Fresh credentials could not be had now: the token or login service was
    unreachable, rate limited or failing. The credentials may be fine, but every
    stream would fail alike, so the run stops the same way; the next run tries again.
    """


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
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


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


def json_object_body(response: requests.Response) -> dict:
    """The body of an answer when it is a JSON object, else ``{}``.

    For reading a code or a field out of an answer that was not validated
    (an error body, a login answer): an HTML error page, a cut-off body, a
    list or nothing at all must not turn into a second, confusing error.
    """
    if not response.content:
        return {}
    try:
        body = parse_json_body(response.content)
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}


def error_message(response: requests.Response) -> str | None:
    """The API's own words for an error (the first text field of ``ERROR_MESSAGE_FIELDS``).

    Scrubbed of every registered secret (an API may echo the request back)
    and cut to ``ERROR_MESSAGE_CHARS``; None when the body says nothing usable.
    """
    body = json_object_body(response)
    for field in ERROR_MESSAGE_FIELDS:
        value = body.get(field)
        if isinstance(value, str) and value.strip():
            return scrub(" ".join(value.split()))[:ERROR_MESSAGE_CHARS]
    return None


#: Answers of a token or login endpoint that say nothing about the credentials (a timeout,
#: "too early", a rate limit), like any 5xx: the service is unavailable, try again later.
AUTH_UNAVAILABLE_STATUSES = (408, 425, 429)


def _auth_unavailable(status: int) -> bool:
    return status >= 500 or status in AUTH_UNAVAILABLE_STATUSES


def auth_request(
    session: requests.Session, method: str, url: str, config: Mapping[str, Any], *, source: str, what: str, **kwargs
) -> requests.Response:
    """One request to a token or login endpoint (``what``), retried as every other request is.

    A network error, a 5xx or a 429/408/425 is retried with the tap's
    ``request_timeout``, ``max_retries`` and backoff settings (``Retry-After``
    honoured, ``retry_waits``): a token service that hiccups once must not
    fail a run any more than a data endpoint does. Returns the last answer,
    for the caller to take its credentials from or judge (``auth_answer_error``);
    raises ``CredentialsUnavailable`` when ``what`` could not be reached at all
    or asks for a longer wait than ``backoff_max_seconds``.
    """
    tries = int(config.get("max_retries", 5)) + 1
    waits = retry_waits(
        int(config.get("backoff_base_ms", 2000)) / 1000.0, float(config.get("backoff_max_seconds", 300))
    )
    next(waits)
    attempt = 0
    while True:
        attempt += 1
        try:
            response = session.request(method, url, timeout=float(config.get("request_timeout", 60)), **kwargs)
        except requests.RequestException as exc:
            if attempt >= tries:
                raise CredentialsUnavailable(
                    f"{source}: could not reach {what} ({type(exc).__name__}); run again later."
                ) from None
            failure: Exception = exc
            said = type(exc).__name__  # its text holds the URL, a login's password included
        else:
            if not _auth_unavailable(response.status_code) or attempt >= tries:
                return response
            said = f"HTTP {response.status_code}"
            failure = RetriableAPIError(said, response)
        try:
            delay = waits.send(failure)
        except RateLimitTooLong as exc:
            raise CredentialsUnavailable(f"{source}: {what} {exc}") from None
        logger.warning("%s: %s failed (%s), retry %d in %.2f s", source, what, said, attempt, delay)
        time.sleep(delay)


def auth_answer_error(
    source: str, response: requests.Response, *, refused: str, failed: str, fix: str
) -> FatalAPIError:
    """The error for a token or login endpoint that answered without fresh credentials.

    A 4xx refuses the credentials (OAuth's ``invalid_grant`` for a revoked or
    rotated refresh token is a 400, a bad client id a 401, Parse's wrong
    password a 404), and so does a 2xx that hands none out:
    ``CredentialsRejected`` with ``refused``, the status, the API's own words
    and ``fix`` (the settings to change). A 5xx, 429, 408 or 425 (what is
    left after ``auth_request``'s retries) says nothing about them:
    ``CredentialsUnavailable`` with ``failed`` and "run again later", so nobody
    logs in again for nothing (Garmin answers logins with hours of 429s).
    Either stops the run once, not stream after stream. The API's words are
    scrubbed: Garmin's ``invalid_grant`` quotes the refresh token it refused.
    """
    said = error_message(response)
    status = response.status_code
    answer = f"HTTP {status}" + (f": {said}" if said else "")
    if 200 <= status < 300 or (400 <= status < 500 and not _auth_unavailable(status)):
        return CredentialsRejected(f"{source}: {refused} ({answer}). {fix}")
    return CredentialsUnavailable(
        f"{source}: {failed} ({answer}); this says nothing about the credentials. Run again later."
    )
