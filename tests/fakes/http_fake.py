"""The parts every fake API server shares: a thread, a request log, fault injection.

A fake subclasses ``FakeAPI`` and implements ``answer()``; this module serves
it on 127.0.0.1, logs every request (never its credentials), and lets tests
inject failures (``fail_next``, ``inject``) or make the server die mid-run
(``die_after``).

``inject`` knows the faults of the reliability battery (tests/reliability/):
``status`` (any HTTP status, optional headers and body), ``reset`` (the real
answer's headers and half its body, then the connection is cut), ``timeout``
(no answer until the client gave up), ``html200`` (an HTML error page with
status 200) and ``truncated`` (status 200, the real JSON cut in half), ``empty200`` (status
200 and no body), ``null200`` (status 200, the body ``null``), ``wrong_shape``
(status 200, valid JSON of the wrong container: ``body``, else an object
without the data), ``trickle`` (the real answer, its body sent a few bytes at a
time over ``seconds``; ``trickles`` records how long each one kept the
client and whether the client hung up first),
``hold``: the request waits until the test calls ``release()`` (``held`` is
set when it arrives), so a test can kill a process or restart PostgreSQL at a
known point of a run, and ``redirect`` (``status`` 301/302/307/308 with
``Location`` = ``to`` + the request's own path and query, as a moved API answers).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Request:
    """What a fake needs to know about one request."""

    def __init__(self, method: str, path: str, query: dict, headers, body: bytes):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body

    def json(self):
        return json.loads(self.body or b"null")

    def form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class FakeAPI:
    """Base of the fake servers: lifecycle, log, injected failures."""

    #: Paths that never count as data requests (auth, profile).
    meta_paths: tuple[str, ...] = ()

    def __init__(self):
        self.requests: list[dict] = []
        self.url = ""
        self._lock = threading.Lock()
        self._failures: list[dict] = []
        self._die_after: int | None = None
        self._server: ThreadingHTTPServer | None = None
        self.held = threading.Event()
        self._released = threading.Event()
        self.trickles: list[dict] = []

    # --- lifecycle -------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1"):
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def release(self) -> None:
        """Let held requests go on (and any later ``hold`` pass straight through)."""
        self._released.set()

    def stop(self) -> None:
        self.release()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- log -------------------------------------------------------------------
    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def data_requests(self) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["path"] not in self.meta_paths]

    def _log(self, request: Request, status: int) -> None:
        with self._lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query,
                    "status": status,
                    "at": time.monotonic(),
                }
            )

    # --- fault injection -------------------------------------------------------
    def fail_next(
        self, status: int, times: int = 1, path_contains: str = "", headers: dict | None = None, body: str | None = None
    ) -> None:
        """The next ``times`` requests whose path contains ``path_contains`` get ``status``."""
        self.inject("status", times=times, path_contains=path_contains, status=status, headers=headers, body=body)

    #: The faults ``inject`` knows.
    FAULTS = (
        "status",
        "reset",
        "timeout",
        "html200",
        "truncated",
        "hold",
        "redirect",
        "empty200",
        "null200",
        "wrong_shape",
        "trickle",
    )

    def inject(
        self,
        kind: str,
        times: int = 1,
        path_contains: str = "",
        skip: int = 0,
        *,
        status: int = 200,
        headers: dict | None = None,
        body: str | None = None,
        seconds: float = 2.5,
        to: str = "",
    ) -> None:
        """The next ``times`` matching requests, after ``skip`` matching ones, get fault ``kind``.

        Faults queue in order: inject several with the same ``skip`` and the
        first matching request gets the first, its retry the second, and so on.
        """
        if kind not in self.FAULTS:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._failures.append(
                {
                    "kind": kind,
                    "status": status,
                    "times": times,
                    "path": path_contains,
                    "skip": skip,
                    "headers": headers or {},
                    "body": body,
                    "seconds": seconds,
                    "to": to,
                }
            )

    def pending_faults(self) -> int:
        """Injected faults not yet served (a test checks its faults really happened)."""
        with self._lock:
            return sum(f["times"] for f in self._failures)

    def die_after(self, n: int | None) -> None:
        """After ``n`` more data requests, close every connection unanswered (None revives)."""
        with self._lock:
            self._die_after = n

    def _take_failure(self, path: str) -> dict | None:
        chosen = None
        with self._lock:
            for failure in self._failures:
                if failure["path"] not in path or failure["times"] <= 0:
                    continue
                if failure["skip"] > 0:
                    failure["skip"] -= 1
                elif chosen is None:
                    failure["times"] -= 1
                    chosen = failure
        return chosen

    def _should_die(self, path: str) -> bool:
        with self._lock:
            if self._die_after is None or path in self.meta_paths:
                return False
            if self._die_after <= 0:
                return True
            self._die_after -= 1
            return False

    # --- the API -----------------------------------------------------------------
    def answer(self, request: Request) -> tuple[int, object, dict]:
        """(status, JSON body or None, extra headers) for one request."""
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet: tests read the request log instead
        pass

    def _send(self, status: int, data: bytes, headers: dict) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            self.command,
            parts.path,
            {k: v[0] for k, v in parse_qs(parts.query).items()},
            self.headers,
            self.rfile.read(length) if length else b"",
        )
        if self.fake._should_die(request.path):
            self.fake._log(request, 0)
            self.close_connection = True
            self.connection.close()
            return
        failure = self.fake._take_failure(request.path)
        if failure and failure["kind"] == "redirect":
            self.fake._log(request, failure["status"])
            return self._send(failure["status"], b"", {"Location": failure["to"] + self.path})
        if failure and failure["kind"] == "status":
            self.fake._log(request, failure["status"])
            body = failure["body"] if failure["body"] is not None else json.dumps({"message": "injected failure"})
            return self._send(failure["status"], body.encode(), failure["headers"])
        if failure:
            return self._fault(request, failure)
        status, body, headers = self.fake.answer(request)
        self.fake._log(request, status)
        if isinstance(body, bytes):  # a fake's hand-made body (broken JSON, odd bytes), sent as is
            return self._send(status, body, headers)
        self._send(status, b"" if body is None else json.dumps(body).encode(), headers)

    def _fault(self, request: Request, failure: dict) -> None:
        kind = failure["kind"]
        if kind == "hold":
            self.fake.held.set()
            self.fake._released.wait(120)
            status, body, headers = self.fake.answer(request)
            self.fake._log(request, status)
            try:
                return self._send(status, b"" if body is None else json.dumps(body).encode(), headers)
            except OSError:  # the client was killed meanwhile
                return None
        self.fake._log(request, {"reset": -1, "timeout": -2}.get(kind, 200))
        if kind == "timeout":
            time.sleep(failure["seconds"])  # the client's request_timeout is shorter
            return self._cut()
        if kind in ("empty200", "null200", "wrong_shape"):
            data = {"empty200": "", "null200": "null", "wrong_shape": failure["body"] or json.dumps({"message": "ok"})}[
                kind
            ]
            return self._send(200, data.encode(), {})
        if kind == "trickle":
            return self._trickle(request, failure["seconds"])
        if kind == "html200":
            page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return None
        status, body, headers = self.fake.answer(request)
        data = json.dumps(body).encode()
        if kind == "truncated":  # complete as HTTP, broken as JSON
            return self._send(status, data[: len(data) // 2], headers)
        # reset: announce the whole body, send half, then cut the connection (RST)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        return self._cut()

    def _trickle(self, request: Request, seconds: float) -> None:
        """The real answer, its body spread over ``seconds`` in 50 small writes."""
        status, body, headers = self.fake.answer(request)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.flush()
        started, step, hung_up = time.monotonic(), max(1, len(data) // 50 + 1), False
        try:
            for offset in range(0, len(data), step):
                time.sleep(seconds / 50)
                self.wfile.write(data[offset : offset + step])
                self.wfile.flush()
        except OSError:
            hung_up = True
        with self.fake._lock:
            self.fake.trickles.append({"seconds": time.monotonic() - started, "client_hung_up": hung_up})
        self.close_connection = True

    def _cut(self) -> None:
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    do_GET = do_POST = do_PATCH = _handle
