"""How a REST stream sends a request and judges the answer: the request seams taps build on.

``RESTRequests`` is mixed into ``BronzeRESTStream``. Paginated walks and
one-off calls go the same way (``_request``): the run's budget and throttle,
the same-origin session with its whole-answer deadline, retries with
``Retry-After``, the response shape check. The seams a tap uses instead of
writing its own:

- ``request_json`` / ``fetch``: one request outside the paginator (a profile,
  a property list, a search page, a date window), described once as a
  ``RequestSpec``, decoded or as records;
- ``request_lineage(response, context)``: the request's context is handed
  in, so no tap keeps "what am I reading now" in a stream attribute;
- ``credentials_expired`` / ``refresh_credentials``: on an expired-credentials
  answer the tap refreshes once and the request is sent again; if the fresh
  credentials are refused too, that is ``CredentialsRejected``; a refresh the
  source refuses is one as well (``auth_answer_error``): the run stops there;
- ``bronze_core.http.request.json_object_body`` / ``error_message``: reading a
  code or a message out of an error body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.jsonpath import extract_jsonpath

from bronze_core.http.request import (
    BODY_PREVIEW_CHARS,
    BearerAuth,
    CredentialsRejected,
    ResponseShape,
    TokenRefreshed,
    parse_json_body,
    retry_waits,
)
from bronze_core.redact import redact_params, scrub
from bronze_core.redirects import SameOriginSession


@dataclass(frozen=True)
class RequestSpec:
    """One request outside the paginator: what ``request_once``, ``request_json`` and ``fetch`` send.

    ``url`` is a path under ``api_url`` or a full URL; the answer is checked
    against ``shape`` (default: the stream's ``response_shape``); ``context``
    says what was asked for, for ``request_lineage``.
    """

    url: str
    params: Mapping[str, Any] | None = None
    method: str = "GET"
    json_body: Any = None
    shape: ResponseShape | None = None
    context: dict | None = None


class RESTRequests:
    """Requests and answers of ``BronzeRESTStream`` (a mixin: it relies on singer-sdk's RESTStream)."""

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
            self.name,
            what,
            self.path,
            details.get("tries", 0),
            details.get("wait") or 0,
        )

    # --- requests -----------------------------------------------------------
    def _request(self, prepared_request, context):
        """Every try of every request: budget, throttle, then singer-sdk's send and validation.

        The answer keeps the request's ``context`` for ``request_lineage``
        (singer-sdk's ``parse_response`` is handed the response only).
        """
        budget = getattr(self._tap, "request_budget", None)  # both set by BronzeTap
        if budget is not None:
            budget.take()
        throttle = getattr(self._tap, "request_throttle", None)
        if throttle is not None:
            throttle.wait()
        response = super()._request(prepared_request, context)
        response._bronze_context = context
        return response

    def request_once(self, spec: RequestSpec) -> requests.Response:
        """One request outside the paginator, under the rules of paginated ones."""
        url = spec.url if "://" in spec.url else self.url_base + spec.url
        request = self.build_prepared_request(
            method=spec.method, url=url, params=dict(spec.params or {}), headers=self.http_headers, json=spec.json_body
        )
        if spec.shape is not None:
            request._bronze_shape = spec.shape  # read back by validate_response
        return self.request_decorator(self._request)(request, spec.context)

    def request_json(self, spec: RequestSpec) -> Any:
        """The decoded body of one request outside the paginator (``request_once``)."""
        return self.response_json(self.request_once(spec))

    def fetch(self, spec: RequestSpec) -> Iterable[dict]:
        """One request outside the paginator (``request_once``), as bronze records."""
        yield from self.parse_response(self.request_once(spec))

    # --- credentials ------------------------------------------------------------
    def credentials_expired(self, response: requests.Response) -> bool:
        """Whether an answer says the credentials expired, so a refresh may help: a 401.

        Taps whose API says it otherwise (Parse: ``code`` 209 on a 400) override.
        """
        return response.status_code == 401

    def refresh_credentials(self) -> bool:
        """Get fresh credentials (a new token, a new login); False when the tap cannot.

        Called at most once per request (``validate_response``); the request is
        then sent again at once with what the authenticator now holds. When the
        token or login endpoint answers without credentials, raise
        ``auth_answer_error(...)``: a refusal is ``CredentialsRejected`` naming the
        settings to fix, an outage ``CredentialsUnavailable``; either stops the
        run here, so a revoked token is sent once, not once per stream.
        """
        return False

    def refresh_once(self, response: requests.Response) -> None:
        """Refresh on a first expired-credentials answer and retry; never twice for one request.

        After a refresh the answer is judged as any other: a 401 or 403 is then
        ``CredentialsRejected`` (the fresh credentials are refused too).
        """
        request = response.request
        if getattr(request, "_bronze_refreshed", False) or not self.credentials_expired(response):
            return
        if self.refresh_credentials():
            request._bronze_refreshed = True  # the retry sends this same request again
            raise TokenRefreshed(f"{self.source}: credentials expired and were refreshed", response)

    # --- responses ----------------------------------------------------------
    def validate_response(self, response: requests.Response) -> None:
        self.refresh_once(response)
        status = response.status_code
        if status in (401, 403):
            raise CredentialsRejected(self.auth_error_message(response))
        if status in self.extra_retry_statuses or status >= 500:
            raise RetriableAPIError(self.response_error_message(response), response)
        if 400 <= status < 500:
            raise FatalAPIError(self.response_error_message(response))
        shape = getattr(response.request, "_bronze_shape", None) or self.response_shape
        if not response.content:
            if status == 204 and shape.no_content:
                return  # documented: nothing that day
            raise RetriableAPIError(
                self.response_error_message(
                    response, f"answered HTTP {status} with an empty body where the API documents {shape.describe()}"
                ),
                response,
            )
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

    def request_lineage(self, response: requests.Response, context: dict | None) -> dict[str, Any]:
        """Where a payload came from: endpoint, parameters, HTTP status.

        ``context`` is the context the request was made for (a partition, or
        what a one-off ``fetch`` was given); taps add from it what they need.
        """
        parts = urlsplit(response.request.url if response.request else response.url)
        return {
            "endpoint": parts.path,
            "params": redact_params(dict(parse_qsl(parts.query))),
            "http_status": response.status_code,
        }

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        lineage = self.request_lineage(response, getattr(response, "_bronze_context", None))
        for payload in self.extract_payloads(response):
            yield self.to_bronze(payload, lineage)
