"""The collector benchmark: accept rate, latency, memory as the spool grows, tap-events' load rate.

    .venv/bin/python bench/collector_bench.py accept  [--clients 20 --batch 100 --seconds 20]
    .venv/bin/python bench/collector_bench.py latency [--rate 100 --seconds 20]
    .venv/bin/python bench/collector_bench.py grow    [-n 1000000]   # collector RSS as the spool grows
    .venv/bin/python bench/collector_bench.py load    [-n 1000000]   # meltano run tap-events target-postgres
    .venv/bin/python bench/collector_bench.py spool   [--groups 2000 --batch 100]  # SQLite WAL vs fsync'd JSONL

Everything runs under bench/work/ (spools, logs, Meltano system DB) and loads
into the ``bench`` database, never the user's. The collector is the real one
(``python -m collector``, uvicorn) on a free local port; clients are threads with
keep-alive connections on the same machine, so on a small machine they share its
cores with the server. Results go to bench/results/collector-latest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from bench import MELTANO, WORK, Watched, _hwm_mb, database_url, drop_schema, machine  # noqa: E402
from tap_events.spool import Item, Spool  # noqa: E402

RESULTS = HERE / "results" / "collector-latest.json"
TOKEN = secrets.token_urlsafe(24)


def event(n: int) -> dict:
    return {
        "event_id": f"bench-{n}",
        "event_type": "page_view",
        "event_time": (dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)).isoformat(),
        "user_id": f"u{n % 97}",
        "payload": {"url": f"https://example.org/p/{n % 1000}", "duration_ms": n % 9000},
    }


class Server:
    """The real collector on a free port, spool under bench/work/."""

    def __init__(self, name: str):
        self.spool = WORK / name / "spool.sqlite3"
        shutil.rmtree(self.spool.parent, ignore_errors=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        env = {
            **os.environ,
            "COLLECTOR_TOKEN": TOKEN,
            "COLLECTOR_PORT": str(self.port),
            "COLLECTOR_SPOOL": str(self.spool),
        }
        self.log = open(WORK / f"collector-{name}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collector"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("collector did not start")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    conn.request(
        "POST", "/events", body=body, headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    )
    answer = conn.getresponse()
    answer.read()
    return answer.status, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def concurrent_posts(server: Server, clients: int, batch: int, until, first: int = 0) -> dict:
    """``clients`` threads posting batches of ``batch`` new events until ``until()`` is true."""
    lock, counter = threading.Lock(), [first]
    latencies: list[float] = []
    errors = [0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        while not until():
            with lock:
                start = counter[0]
                counter[0] += batch
            body = json.dumps([event(n) for n in range(start, start + batch)]).encode()
            status, took = post(conn, body)
            with lock:
                latencies.append(took)
                errors[0] += status != 200

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "events": counter[0] - first,
        "seconds": round(seconds, 2),
        "requests": len(latencies),
        "errors": errors[0],
        "latencies": latencies,
    }


def bench_accept(args) -> dict:
    server = Server("accept")
    try:
        deadline = time.monotonic() + args.seconds
        run = concurrent_posts(server, args.clients, args.batch, lambda: time.monotonic() > deadline)
    finally:
        server.stop()
    lat = run.pop("latencies")
    return {
        **run,
        "clients": args.clients,
        "batch": args.batch,
        "events_per_s": round(run["events"] / run["seconds"]),
        "p50_ms": round(pct(lat, 0.5) * 1000, 1),
        "p99_ms": round(pct(lat, 0.99) * 1000, 1),
    }


def bench_latency(args) -> dict:
    """Single-event POSTs paced at ``rate`` per second from one keep-alive connection per sender."""
    server = Server("latency")
    latencies, errors = [], 0
    senders = 4
    try:
        interval = senders / args.rate
        lock = threading.Lock()
        total = int(args.rate * args.seconds)

        def sender(k: int) -> None:
            nonlocal errors
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            next_at = time.perf_counter() + k * interval / senders
            for n in range(k, total, senders):
                delay = next_at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                next_at += interval
                status, took = post(conn, json.dumps(event(n)).encode())
                with lock:
                    latencies.append(took)
                    errors += status != 200

        threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    return {
        "rate": args.rate,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(pct(latencies, 0.5) * 1000, 2),
        "p99_ms": round(pct(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
    }


def bench_grow(args) -> dict:
    """Post until the spool holds ``n`` events; the collector's RSS every tenth of the way."""
    server = Server("grow")
    samples = []
    try:
        step = max(args.n // 10, args.batch)
        done = 0
        while done < args.n:
            target = min(done + step, args.n)
            concurrent_posts(
                server, args.clients, args.batch, lambda target=target: counter_reached(server, target), first=done
            )
            done = target
            samples.append({"events": done, "rss_mb": round(server.rss_mb(), 1)})
            print(f"  {done:>9} events spooled, collector RSS {samples[-1]['rss_mb']} MB", flush=True)
        peak = _hwm_mb(server.proc.pid)
    finally:
        server.stop()
    return {
        "n": args.n,
        "samples": samples,
        "peak_rss_mb": peak,
        "spool_mb": round(server.spool.stat().st_size / 1e6, 1),
    }


def counter_reached(server: Server, target: int) -> bool:
    """Whether the spool holds ``target`` items (read straight from SQLite, cheap by max(seq))."""
    import sqlite3

    with sqlite3.connect(server.spool) as conn:
        return (conn.execute("SELECT coalesce(max(seq), 0) FROM items").fetchone()[0] or 0) >= target


def bench_load(args) -> dict:
    """A spool of ``n`` events (written directly, 1,000 a transaction), loaded by a real
    ``meltano run --full-refresh tap-events target-postgres`` into the bench database."""
    spool_path = WORK / "load" / "spool.sqlite3"
    shutil.rmtree(spool_path.parent, ignore_errors=True)
    spool = Spool(spool_path)
    started = time.perf_counter()
    for first in range(0, args.n, 1000):
        spool.append_groups(
            [
                [
                    Item("events__page_view", event(n), {"endpoint": "/events"}, event_id=f"bench-{n}")
                    for n in range(first, min(first + 1000, args.n))
                ]
            ]
        )
    spool.close()
    print(f"  spooled {args.n} events in {time.perf_counter() - started:.1f} s", flush=True)
    url = database_url()
    drop_schema(url, "bronze")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MELTANO_DATABASE_URI": f"sqlite:///{WORK / 'meltano-events.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_EVENTS_SPOOL_PATH": str(spool_path),
    }
    watched = Watched(
        [MELTANO, "run", "--full-refresh", "tap-events", "target-postgres"], env, WORK / "load-events.log"
    )
    seconds = watched.run()
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT count(*) FROM bronze.events__page_view").fetchone()[0]
    return {
        "n": args.n,
        "rows": rows,
        "seconds": round(seconds, 2),
        "records_per_s": round(args.n / seconds),
        "peak_rss_mb": watched.peak_by_program(),
        "cpu_seconds": watched.cpu_by_program(),
    }


def bench_spool(args) -> dict:
    """The two durable spools the issue allows, on this disk: one synced commit per group of
    ``batch`` events (what one request costs when it is alone)."""
    folder = WORK / "spool-compare"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    groups = [
        [Item("events__page_view", event(g * args.batch + i), {}, event_id=None) for i in range(args.batch)]
        for g in range(args.groups)
    ]
    spool = Spool(folder / "spool.sqlite3")
    started = time.perf_counter()
    for group in groups:
        spool.append_groups([group])
    sqlite_s = time.perf_counter() - started
    spool.close()
    started = time.perf_counter()
    with open(folder / "spool.jsonl", "ab") as out:
        for group in groups:
            out.write(b"".join(json.dumps({"stream": i.stream, "payload": i.payload}).encode() + b"\n" for i in group))
            out.flush()
            os.fsync(out.fileno())
    jsonl_s = time.perf_counter() - started
    events = args.groups * args.batch
    return {
        "groups": args.groups,
        "batch": args.batch,
        "sqlite_wal_full": {"commits_per_s": round(args.groups / sqlite_s), "events_per_s": round(events / sqlite_s)},
        "jsonl_fsync": {"commits_per_s": round(args.groups / jsonl_s), "events_per_s": round(events / jsonl_s)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["accept", "latency", "grow", "load", "spool"])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("-n", type=int, default=1_000_000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    result = {
        "accept": bench_accept,
        "latency": bench_latency,
        "grow": bench_grow,
        "load": bench_load,
        "spool": bench_spool,
    }[args.what](args)
    print(json.dumps(result, indent=2))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    key = f"{args.what}-{args.n}" if args.what in ("grow", "load") else args.what
    results[key] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        **result,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
