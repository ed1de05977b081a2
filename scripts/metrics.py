"""An optional HTTP endpoint for monitors: `/health` and Prometheus `/metrics`.

    .venv/bin/python scripts/metrics.py [--host 127.0.0.1] [--port 9464]

`/health` answers 200 when the database answers, else 503. `/metrics` serves,
in Prometheus text format and computed at scrape time from the same numbers
as `make status`:

- `bronze_rows{table,source}`, `bronze_invalid_rows{table,source}`;
- `bronze_seconds_since_last_success{source}` (last successful Meltano run);
- `bronze_last_run_duration_seconds{source}`;
- `bronze_stale{table,source}` (1 when stale or failed).

It binds to 127.0.0.1 unless told otherwise: the numbers are about your life.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dbctl  # noqa: E402
import status  # noqa: E402


class BronzeCollector:
    """Reads bronze and Meltano's run history on every scrape."""

    def collect(self):
        now = dt.datetime.now(dt.timezone.utc)
        rows = status.report(now)
        runs = status.last_runs()
        table_rows = GaugeMetricFamily("bronze_rows", "Rows in the bronze table", labels=["table", "source"])
        invalid = GaugeMetricFamily("bronze_invalid_rows", "Rows marked invalid", labels=["table", "source"])
        stale = GaugeMetricFamily("bronze_stale", "1 if the table is stale or its last run failed",
                                  labels=["table", "source"])
        for row in rows:
            labels = [row["table_name"], row["source"]]
            table_rows.add_metric(labels, row["row_count"])
            invalid.add_metric(labels, row["invalid_count"])
            stale.add_metric(labels, 0 if row["verdict"] == "fresh" else 1)
        since = GaugeMetricFamily("bronze_seconds_since_last_success",
                                  "Seconds since the source's last successful Meltano run", labels=["source"])
        duration = GaugeMetricFamily("bronze_last_run_duration_seconds",
                                     "Duration of the source's last Meltano run", labels=["source"])
        for source in sorted({row["source"] for row in rows}):
            history = status.runs_of(source, runs)
            done = [r["ended_at"] for r in history if r["state"] == "SUCCESS" and r["ended_at"]]
            if done:
                since.add_metric([source], (now - max(done)).total_seconds())
            if history and history[0]["ended_at"] and history[0]["started_at"]:
                duration.add_metric([source], (history[0]["ended_at"] - history[0]["started_at"]).total_seconds())
        yield from (table_rows, invalid, stale, since, duration)


def make_handler(registry: CollectorRegistry):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status_code: int, body: bytes, content_type: str) -> None:
            self.send_response(status_code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/health":
                ok = dbctl.is_reachable()
                self._send(200 if ok else 503, b"ok\n" if ok else b"database unreachable\n", "text/plain")
            elif self.path == "/metrics":
                try:
                    self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                except Exception as exc:  # noqa: BLE001 - a scrape must say why it failed
                    self._send(503, f"cannot read bronze: {type(exc).__name__}\n".encode(), "text/plain")
            else:
                self._send(404, b"try /health or /metrics\n", "text/plain")

    return Handler


def serve(host: str = "127.0.0.1", port: int = 9464) -> ThreadingHTTPServer:
    registry = CollectorRegistry()
    registry.register(BronzeCollector())
    return ThreadingHTTPServer((host, port), make_handler(registry))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: localhost only)")
    parser.add_argument("--port", type=int, default=9464)
    args = parser.parse_args()
    server = serve(args.host, args.port)
    print(f"serving /health and /metrics on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
