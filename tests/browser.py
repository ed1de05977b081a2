"""Headless Chromium driven over the Chrome DevTools Protocol, through a pipe.

`chromium --remote-debugging-pipe` reads CDP commands from file descriptor 3 and
writes replies and events to descriptor 4, each message JSON ended by a NUL byte
(the transport Playwright and Puppeteer use). So a test drives the real browser
with the standard library alone: no websocket client, no browser download.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

#: Debian's `chromium` package.
CANDIDATES = ("chromium", "chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-pipe",
)


def chromium() -> str | None:
    """The Chromium binary on PATH, or None."""
    for name in CANDIDATES:
        if found := shutil.which(name):
            return found
    return None


class Browser:
    """One headless Chromium, one page; collects the page's console errors and failed requests."""

    def __init__(self, binary: str, profile: Path, width: int = 1366, height: int = 900):
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def wire():  # in the child, before exec: the pipes become fds 3 and 4
            os.dup2(commands_read, 3)
            os.dup2(replies_write, 4)

        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=wire,
        )
        os.close(commands_read)
        os.close(replies_write)
        self._next_id = 0
        self._lock = threading.Condition()
        self._results: dict[int, dict] = {}
        self.events: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=self.session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=self.session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._replies, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                with self._lock:
                    for raw in messages:
                        message = json.loads(raw)
                        if "id" in message:
                            self._results[message["id"]] = message
                        else:
                            self.events.append(message)
                    self._lock.notify_all()

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params) -> dict:
        """Send one command and wait for its reply; a CDP error raises."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        with self._lock:
            if not self._lock.wait_for(lambda: ident in self._results, timeout):
                raise TimeoutError(f"no reply to {method} in {timeout} s")
            reply = self._results.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def open(self, url: str, timeout: float = 30) -> None:
        """Navigate and wait for the load event (every image decoded by then)."""
        with self._lock:
            seen = len(self.events)
        self.call("Page.navigate", session=self.session, url=url)
        with self._lock:
            loaded = self._lock.wait_for(
                lambda: any(e["method"] == "Page.loadEventFired" for e in self.events[seen:]), timeout
            )
        if not loaded:
            raise TimeoutError(f"{url} did not load in {timeout} s")
        time.sleep(0.2)  # late console messages of the load

    def evaluate(self, expression: str):
        """A JavaScript expression's value in the page (JSON-serialisable)."""
        result = self.call(
            "Runtime.evaluate", session=self.session, expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def mark(self) -> int:
        """A point in the event log: ``problems(since=mark())`` sees only what came after it."""
        with self._lock:
            return len(self.events)

    def problems(self, since: int = 0) -> list[str]:
        """Console errors, uncaught exceptions, failed requests and HTTP errors seen since ``since``."""
        out = []
        with self._lock:
            events = self.events[since:]
        for event in events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(params["exceptionDetails"])[:500])
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                out.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
            elif method == "Network.loadingFailed":
                out.append(f"request failed: {params.get('errorText')} ({params.get('type')})")
            elif method == "Network.responseReceived" and params["response"].get("status", 0) >= 400:
                out.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
        return out

    def requested(self, since: int = 0) -> list[str]:
        """Every URL the page asked for since ``since``."""
        with self._lock:
            events = self.events[since:]
        return [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]

    def screenshot(self, path: Path) -> None:
        """The whole page, not just the viewport, as a PNG."""
        size = self.call("Page.getLayoutMetrics", session=self.session)["cssContentSize"]
        shot = self.call(
            "Page.captureScreenshot",
            session=self.session,
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        )
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):  # already gone
            self.call("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
