"""The parts every fake API server shares: a thread, a request log, fault injection.

A fake subclasses ``FakeAPI`` and implements ``answer()``; this module serves
it on 127.0.0.1, logs every request (never its credentials), and lets tests
inject failures (``fail_next``) or make the server die mid-run (``die_after``).
"""

from __future__ import annotations

import json
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

    # --- lifecycle -------------------------------------------------------------
    def start(self, port: int = 0):
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
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
            self.requests.append({"method": request.method, "path": request.path, "query": request.query,
                                  "status": status, "at": time.monotonic()})

    # --- fault injection -------------------------------------------------------
    def fail_next(self, status: int, times: int = 1, path_contains: str = "",
                  headers: dict | None = None, body: str | None = None) -> None:
        """The next ``times`` requests whose path contains ``path_contains`` get ``status``."""
        with self._lock:
            self._failures.append({"status": status, "times": times, "path": path_contains,
                                   "headers": headers or {}, "body": body})

    def die_after(self, n: int | None) -> None:
        """After ``n`` more data requests, close every connection unanswered (None revives)."""
        with self._lock:
            self._die_after = n

    def _take_failure(self, path: str) -> dict | None:
        with self._lock:
            for failure in self._failures:
                if failure["path"] in path and failure["times"] > 0:
                    failure["times"] -= 1
                    return failure
        return None

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
        request = Request(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                          self.headers, self.rfile.read(length) if length else b"")
        if self.fake._should_die(request.path):
            self.fake._log(request, 0)
            self.close_connection = True
            self.connection.close()
            return
        failure = self.fake._take_failure(request.path)
        if failure:
            self.fake._log(request, failure["status"])
            body = failure["body"] if failure["body"] is not None else json.dumps({"message": "injected failure"})
            return self._send(failure["status"], body.encode(), failure["headers"])
        status, body, headers = self.fake.answer(request)
        self.fake._log(request, status)
        self._send(status, b"" if body is None else json.dumps(body).encode(), headers)

    do_GET = do_POST = do_PATCH = _handle
