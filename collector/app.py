"""The collector: an ASGI app (Starlette) taking what phone apps and your own code POST.

Every POST endpoint takes the token as ``Authorization: Bearer``, as the HTTP
Basic password, or as ``?token=`` (Overland can only set a URL); compared in
constant time, anything else is ``401`` before the body is read. Then ``415``
for a content type that is not JSON, ``413`` past the size limit (counted while
reading, whatever Content-Length says), ``400`` for a body that is not JSON or
not the app's shape. What is accepted is committed to the spool
(``tap_events.spool``: SQLite WAL, ``synchronous=FULL``) before any ``2xx``.

One writer thread owns the spool connection and commits everything queued
while it was busy in one transaction, so concurrent requests share one fsync
(group commit): throughput grows with concurrency, and no answer goes out
before its own items are synced.

The token never reaches a log line: requests are logged here without their
query string (uvicorn's access log, which prints it, is off).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import hmac
import json
import logging
import queue
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tap_events import apps
from tap_events.spool import Item, Spool

log = logging.getLogger("collector")

#: A Health Auto Export day of second-level heart rate is ~86,400 points of ~110 bytes
#: (about 10 MB, more when pretty-printed): the default leaves room for several.
DEFAULT_MAX_BODY = 64 * 1024 * 1024
#: Most rejection reasons spelled out in one answer (the counts are always complete).
MAX_REASONS = 100


@dataclass(frozen=True)
class Settings:
    token: str
    spool_path: Path
    contracts_dir: Path
    max_body_bytes: int = DEFAULT_MAX_BODY


class HTTPError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# --- the spool writer --------------------------------------------------------------
#: ``/health`` writes to the spool at most this often; in between it reports the last write.
PROBE_SECONDS = 5.0
#: ``/health`` waits this long for its probe write before it calls the spool not writable.
PROBE_TIMEOUT = 10.0


def why_not_stored(exc: BaseException) -> str:
    """What to tell a client (and ``/health``) when a commit failed: SQLite's or the OS's
    own short message (``disk I/O error``, ``database or disk is full``), never a path."""
    if isinstance(exc, sqlite3.Error):
        return str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


class SpoolWriter:
    """The one thread that writes the spool; ``store`` returns once the items are synced.

    It remembers how its last commit went (``failure``: None when it worked), so a
    full disk shows on ``/health`` as soon as one write fails there.
    """

    def __init__(self, path: Path, max_group: int = 512):
        self.path, self.max_group = path, max_group
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.failure: str | None = None
        self.checked_at = float("-inf")  # time.monotonic() of the last commit, good or bad
        self._thread = threading.Thread(target=self._run, name="spool-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    async def store(self, items: list[Item]) -> list[bool]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((items, loop, future))
        return await future

    async def check(self) -> str | None:
        """None when the spool takes writes, else why not.

        A real, synced write (``probe``) when the last commit is older than
        ``PROBE_SECONDS``: a check that writes nothing says nothing about a full
        disk; the limit keeps an unauthenticated ``/health`` from costing an fsync each.
        """
        if time.monotonic() - self.checked_at >= PROBE_SECONDS:
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            self._queue.put((None, loop, future))
            try:
                await asyncio.wait_for(future, PROBE_TIMEOUT)
            except TimeoutError:
                return f"no write finished within {PROBE_TIMEOUT:.0f} s"
            except Exception:  # noqa: BLE001, S110 - the writer noted why in self.failure
                pass
        return self.failure

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            spool = Spool(self.path)
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while (first := self._queue.get()) is not None:
                group = [first]
                while len(group) < self.max_group:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)  # stop after this group
                        break
                    group.append(more)
                try:
                    results = spool.append_groups(
                        [items or [] for items, _, _ in group], probe=any(items is None for items, _, _ in group)
                    )
                except Exception as exc:  # noqa: BLE001 - every waiting request is told
                    self.failure, self.checked_at = why_not_stored(exc), time.monotonic()
                    for _, loop, future in group:
                        loop.call_soon_threadsafe(_settle, future, None, exc)
                    continue
                self.failure, self.checked_at = None, time.monotonic()
                for (_, loop, future), stored in zip(group, results):
                    loop.call_soon_threadsafe(_settle, future, stored, None)
        finally:
            spool.close()


def _settle(future: asyncio.Future, result, error) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


# --- auth and body ---------------------------------------------------------------------
def _presented(request: Request) -> tuple[list[str], str | None]:
    """The tokens the request offers (Bearer, Basic password, ?token=) and the Basic user."""
    offered, user = [], None
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        offered.append(value.strip())
    elif scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            offered.append(password)
        except (binascii.Error, UnicodeDecodeError):
            pass
    if request.query_params.get("token"):
        offered.append(request.query_params["token"])
    return offered, user


def authorized(request: Request, token: str) -> tuple[bool, str | None]:
    """Whether one of the offered tokens is the token (constant-time); and the Basic user."""
    offered, user = _presented(request)
    expected = token.encode("utf-8")
    ok = False
    for candidate in offered:  # every candidate is compared: no early exit on a match
        ok |= hmac.compare_digest(candidate.encode("utf-8", "surrogateescape"), expected)
    return ok, user


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_json(request: Request, limit: int):
    if not _is_json(request.headers.get("content-type", "")):
        raise HTTPError(415, "send Content-Type: application/json")
    if request.headers.get("content-encoding", "identity").strip().lower() != "identity":
        raise HTTPError(415, "compressed bodies are not taken (Content-Encoding)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPError(413, f"body over the limit of {limit} bytes (COLLECTOR_MAX_BODY_BYTES)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPError(413, f"body over the limit of {limit} bytes (COLLECTOR_MAX_BODY_BYTES)")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPError(400, f"body is not JSON: {exc}"[:300]) from None


# --- the app ---------------------------------------------------------------------------
class Metrics:
    def __init__(self, backlog):
        self.registry = CollectorRegistry()
        self.items = Counter(
            "collector_items",
            "Items by endpoint and outcome (received, accepted, invalid, duplicate, rejected)",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.requests = Counter(
            "collector_requests", "Requests by endpoint and HTTP status", ["endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "collector_request_seconds",
            "Time to answer a request",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        gauge = Gauge("collector_spool_backlog", "Spooled items not yet known to be in bronze", registry=self.registry)
        gauge.set_function(backlog)


def create_app(settings: Settings) -> Starlette:
    contracts = apps.Contracts(settings.contracts_dir)
    reader = Spool(settings.spool_path)  # /health and the backlog gauge; the writer has its own
    reader_lock = threading.Lock()

    def backlog() -> float:
        with reader_lock:
            return float(reader.backlog())

    metrics = Metrics(backlog)
    writer: SpoolWriter | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app):
        nonlocal writer
        writer = SpoolWriter(settings.spool_path)
        log.info(
            "collector: spool %s, contracts %s, body limit %d bytes",
            settings.spool_path,
            settings.contracts_dir,
            settings.max_body_bytes,
        )
        try:
            yield
        finally:
            writer.close()
            reader.close()

    async def accept(request: Request, endpoint: str, split, answer) -> Response:
        """The common path of every POST: auth, body, split into items, store, answer."""
        started = time.perf_counter()
        outcomes: list[apps.Outcome] = []
        try:
            ok, user = authorized(request, settings.token)
            if not ok:
                raise HTTPError(401, "missing or wrong token")
            body = await read_json(request, settings.max_body_bytes)
            context = {
                "endpoint": endpoint,
                "request_id": uuid.uuid4().hex,
                "received_at": dt.datetime.now(dt.UTC).isoformat(),
            }
            try:
                outcomes = split(body, context, request, user)
            except apps.BadBody as exc:
                raise HTTPError(400, str(exc)) from None
            try:
                stored = await writer.store([o.item for o in outcomes if o.item is not None])
            except Exception as exc:  # noqa: BLE001 - nothing of it was kept: the client must send it again
                reason = why_not_stored(exc)
                log.error("collector: %s: the spool is not writable (%s); answered 503", endpoint, reason)
                raise HTTPError(
                    503, f"could not store the request: the spool is not writable ({reason}); send it again"
                ) from None
            _mark_duplicates(outcomes, stored)
            response = answer(outcomes)
        except HTTPError as exc:
            response = JSONResponse(
                {"error": exc.message},
                status_code=exc.status,
                headers={"WWW-Authenticate": 'Bearer, Basic realm="collector"'} if exc.status == 401 else None,
            )
        except Exception:
            log.exception("collector: %s: could not store the request; answered 503", endpoint)
            response = JSONResponse({"error": "could not store the request; send it again"}, status_code=503)
        counts = _counts(outcomes) if 200 <= response.status_code < 300 else {}
        for outcome, n in counts.items():
            metrics.items.labels(endpoint, outcome).inc(n)
        metrics.requests.labels(endpoint, str(response.status_code)).inc()
        took = time.perf_counter() - started
        metrics.latency.labels(endpoint).observe(took)
        log.info(
            "%s %s %d %s %.1f ms",
            request.method,
            endpoint,
            response.status_code,
            json.dumps(counts, sort_keys=True) if counts else "",
            took * 1000,
        )
        return response

    async def overland(request: Request) -> Response:
        return await accept(
            request,
            "/overland",
            lambda body, ctx, r, u: apps.overland(body, ctx),
            lambda outcomes: JSONResponse({"result": "ok"}),
        )

    def owntracks_split(body, context, request, user):
        context = {
            **context,
            "user": request.headers.get("x-limit-u") or user,
            "device": request.headers.get("x-limit-d"),
        }
        return apps.owntracks(body, context)

    async def owntracks(request: Request) -> Response:
        return await accept(request, "/owntracks", owntracks_split, lambda outcomes: JSONResponse([]))

    async def health_auto_export(request: Request) -> Response:
        return await accept(
            request, "/health-auto-export", lambda body, ctx, r, u: apps.health_auto_export(body, ctx), _summary
        )

    async def events(request: Request) -> Response:
        return await accept(request, "/events", lambda body, ctx, r, u: apps.events(body, ctx, contracts), _summary)

    async def health(request: Request) -> Response:
        problem = await writer.check()
        waiting = int(await run_in_threadpool(backlog))
        writable = problem is None
        return JSONResponse(
            {
                "status": "ok" if writable else f"spool not writable ({problem})",
                "spool_writable": writable,
                "waiting_to_load": waiting,
            },
            status_code=200 if writable else 503,
        )

    async def metrics_endpoint(request: Request) -> Response:
        if not authorized(request, settings.token)[0]:
            return JSONResponse({"error": "missing or wrong token"}, status_code=401)
        data = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(data, media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/overland", overland, methods=["POST"]),
        Route("/owntracks", owntracks, methods=["POST"]),
        Route("/health-auto-export", health_auto_export, methods=["POST"]),
        Route("/events", events, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _mark_duplicates(outcomes: list[apps.Outcome], stored: list[bool]) -> None:
    """Items the spool did not store (an event_id it already holds) become ``duplicate``."""
    flags = iter(stored)
    for outcome in outcomes:
        if outcome.item is not None and not next(flags):
            outcome.outcome, outcome.reason = apps.DUPLICATE, "event_id already received"


def _counts(outcomes: list[apps.Outcome]) -> dict[str, int]:
    """``received`` = ``accepted`` + ``duplicate`` + ``rejected``; ``invalid`` are accepted
    items that land ``invalid`` (they break their contract), counted among the accepted."""
    counts = {"received": len(outcomes), "accepted": 0, "invalid": 0, "duplicate": 0, "rejected": 0}
    for outcome in outcomes:
        if outcome.outcome == apps.INVALID:
            counts["accepted"] += 1
        counts[outcome.outcome] += 1
    return counts


def _summary(outcomes: list[apps.Outcome]) -> Response:
    """The per-item answer: counts, and the reason for each item not accepted as valid.

    ``422`` when items were received and none was stored, so a client that sent
    one bad event cannot mistake the answer for success.
    """
    counts = _counts(outcomes)
    problems = [
        {"index": n, "outcome": o.outcome, "reason": o.reason, **({"event_id": o.key} if o.key else {})}
        for n, o in enumerate(outcomes)
        if o.outcome != apps.ACCEPTED
    ]
    body = {**counts, "problems": problems[:MAX_REASONS]}
    if len(problems) > MAX_REASONS:
        body["problems_not_shown"] = len(problems) - MAX_REASONS
    nothing_stored = counts["received"] and counts["rejected"] == counts["received"]
    return JSONResponse(body, status_code=422 if nothing_stored else 200)
