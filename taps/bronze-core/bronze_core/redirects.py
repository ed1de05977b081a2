"""Credentials go to the configured host only, redirects included.

``requests`` follows redirects by default and, on a redirect to another host,
strips only the ``Authorization`` header: custom credential headers
(HidrateSpark's ``X-Parse-Session-Token``, ``X-Parse-Application-Id``,
``X-Parse-Client-Key``), secrets in the query string (HidrateSpark's login
sends the password there) and request bodies (Garmin's token refresh posts the
refresh token; a 307/308 re-sends the body as it was) all go to whatever host
the ``Location`` names. A hijacked DNS name, a compromised or misconfigured
proxy, or an open redirect at the source would then collect them.

So every HTTP request a tap makes goes through ``SameOriginSession``:

- a redirect within the same origin (scheme, host and port: a path change,
  a trailing slash) is followed as before;
- ``http://host`` -> ``https://host`` on the default ports is followed too:
  the same host, now over TLS (``requests`` keeps ``Authorization`` there as
  well). A downgrade to ``http`` is refused;
- anything else is refused before a byte goes to the new host, with
  ``CrossHostRedirect``: a fatal (not retried) error naming both origins and
  the setting that holds the URL, never a path, query or header.

None of the APIs the taps read documents a redirect to another host for the
endpoints used, so none is followed, not even without the secrets: a source
that moved is fixed by the user changing the URL setting, knowingly.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError

from bronze_core.deadline import DeadlineAdapter
from bronze_core.redact import scrub

DEFAULT_PORTS = {"http": 80, "https": 443}


class CrossHostRedirect(FatalAPIError):
    """The server redirected a request to another host; nothing was sent there."""


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, lower-cased, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: never equal to a real one
        port = -1
    return scheme, (parts.hostname or "").lower(), port if port is not None else DEFAULT_PORTS.get(scheme)


def show_origin(url: str) -> str:
    """``scheme://host:port`` of ``url``: what a message may say about where a request went."""
    scheme, host, port = origin(url)
    host = f"[{host}]" if ":" in host else host
    return scrub(f"{scheme}://{host}" + (f":{port}" if port is not None else ""))


def may_follow(from_url: str, to_url: str) -> bool:
    """Whether a redirect from ``from_url`` to ``to_url`` may carry the request's credentials.

    Same origin, or the plain upgrade ``http://h[:80]`` -> ``https://h[:443]``.
    """
    source, target = origin(from_url), origin(to_url)
    if source == target:
        return True
    return (
        (source[0], target[0]) == ("http", "https") and source[1] == target[1] and (source[2], target[2]) == (80, 443)
    )


class SameOriginSession(requests.Session):
    """A ``requests.Session`` that refuses redirects to another origin (see the module doc).

    ``label`` (the source, e.g. ``hidrate``) and ``setting`` (the setting
    holding the URL, e.g. ``api_url``) make the error say what to check.
    """

    def __init__(self, label: str = "", setting: str = "api_url"):
        super().__init__()
        self.label, self.setting = label, setting
        for prefix in ("http://", "https://"):  # the timeout covers the whole answer
            self.mount(prefix, DeadlineAdapter())

    def rebuild_auth(self, prepared_request, response) -> None:
        """Called by ``requests`` for every redirect hop, before the next request is sent.

        A cross-origin hop is marked here and refused in ``send``: raising here
        would also break ``allow_redirects=False``, where ``requests`` prepares
        (but never sends) the next hop to offer it as ``response.next``.
        """
        previous = response.request.url if response.request is not None else response.url
        if may_follow(previous, prepared_request.url):
            super().rebuild_auth(prepared_request, response)
            return
        prefix = f"{self.label}: " if self.label else ""
        prepared_request._bronze_refused = CrossHostRedirect(
            f"{prefix}refused a redirect (HTTP {response.status_code}) from {show_origin(previous)} "
            f"to {show_origin(prepared_request.url)}: credentials are only sent to the configured "
            f"host, and nothing was sent to the other one. If the service has really moved, "
            f"set `{self.setting}` to its new address."
        )

    def send(self, request, **kwargs):
        refused = getattr(request, "_bronze_refused", None)
        if refused is not None:
            raise refused
        return super().send(request, **kwargs)
