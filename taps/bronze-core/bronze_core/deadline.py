"""``request_timeout`` as a deadline for the whole answer, for every session the taps use.

requests' ``timeout`` bounds each socket read, so a server trickling a byte
every few seconds holds a request open for as long as it likes (49 s with
``request_timeout=5`` was seen). ``DeadlineAdapter``, mounted by
``bronze_core.redirects.SameOriginSession`` (the session of every stream and
of every login or token refresh), makes it a deadline for the whole answer.
"""

from __future__ import annotations

import socket
import threading
import time

import requests


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """Makes a request's ``timeout`` a deadline for the whole answer, body included.

    requests' timeout bounds each socket read, so a server trickling a byte
    every few seconds holds a request open for as long as it likes. Here the
    body is read under a watchdog that shuts the connection down when the
    deadline passes; the request then fails with ``ReadTimeout`` (retried like
    any timeout).
    """

    def send(self, request, stream=False, timeout=None, **kwargs):
        total = max(timeout) if isinstance(timeout, tuple) else timeout
        if stream or not total:
            return super().send(request, stream=stream, timeout=timeout, **kwargs)
        started = time.monotonic()
        response = super().send(request, stream=True, timeout=timeout, **kwargs)
        cut = threading.Event()
        watchdog = threading.Timer(max(0.0, total - (time.monotonic() - started)), _shut, (response, cut))
        watchdog.daemon = True
        watchdog.start()
        try:
            response.content  # noqa: B018  # reads the body; the watchdog may cut it short
        except Exception:
            if not cut.is_set():
                raise
        finally:
            watchdog.cancel()
        if cut.is_set():
            response.close()
            raise requests.exceptions.ReadTimeout(
                f"no complete answer within request_timeout={total:g} s (the deadline covers "
                "the whole answer, body included)",
                request=request,
            )
        return response


def _shut(response: requests.Response, cut: threading.Event) -> None:
    """Shut the response's connection down so a blocked body read returns at once."""
    cut.set()
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
