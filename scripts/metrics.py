"""`make metrics`: an HTTP endpoint for monitors, `/health` and Prometheus `/metrics`.

    .venv/bin/python scripts/metrics.py [--host 127.0.0.1] [--port 9464]

It binds to 127.0.0.1 unless told otherwise: the numbers are about your life.
Everything is read at scrape time, from the same sources as `make status`
(bronze tables, Meltano's runs table in the active environment, Meltano's log
of each pipeline's last run) and the disk. GET and HEAD are answered.

`/health` answers 200 and `ok: database, meltano_system_database, disk` when
every check passes, else 503 and the checks that failed with why, e.g.
`failed: database (connection refused)`. Checks: the project's PostgreSQL
answers; Meltano's system database (state, runs) is readable; the disk where
the data lives has at least `HEALTH_MIN_FREE_BYTES` free (default 1 GiB).

`/metrics` (Prometheus text format; `pipeline` is the Meltano extractor, a
pipeline of sources.yml; "last run" is the pipeline's newest finished run):

| metric | labels | meaning |
|---|---|---|
| bronze_last_success_timestamp_seconds | pipeline | Unix time the last successful run ended (absent: never succeeded) |
| bronze_last_run_state | pipeline, bronze_last_run_state | 1 for the last run's Meltano state (SUCCESS, FAIL, DEAD), 0 for the others |
| bronze_last_run_timestamp_seconds | pipeline | Unix time the last run ended |
| bronze_last_run_duration_seconds | pipeline | How long the last run took |
| bronze_last_run_http_requests | pipeline | HTTP requests the tap made in the last run (singer-sdk METRIC lines in Meltano's log of that run) |
| bronze_last_run_http_responses | pipeline, code | Those requests by HTTP status code |
| bronze_last_run_rate_limited_responses | pipeline, code | Rate-limit answers in the last run: 429 (too many requests) and 402 (payment required: a quota an API counts is spent), 0 when none |
| bronze_pipeline_verdict | pipeline, table, bronze_pipeline_verdict | 1 for the `make status` verdict of the table (fresh, warning, stale, failed, never), 0 for the others; table "" for a pipeline without tables |
| bronze_rows | table, pipeline | Rows in the bronze table |
| bronze_invalid_rows | table, pipeline | Rows with validation_status invalid |
| bronze_unacknowledged_invalid_rows | table, pipeline | Invalid rows that landed after the table's last acknowledgement (`make status ACK=<table>`) |
| bronze_warning_rows | table, pipeline | Rows with validation_status warning |
| bronze_database_size_bytes | database | Size of the bronze database (pg_database_size) |
| bronze_disk_free_bytes | path | Free bytes on the disk of the data directory (the embedded server's `.pgdata`, else the project) |
| bronze_disk_size_bytes | path | Size of that disk |
| bronze_scrape_error | part | 1 when a part (bronze, runs, logs, disk) could not be read in this scrape |
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, StateSetMetricFamily

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dbctl
import pipelines
import status

RUN_STATES = ("SUCCESS", "FAIL", "DEAD")
VERDICTS = ("fresh", "warning", "stale", "failed", "never")
RATE_LIMIT_CODES = ("429", "402")
MIN_FREE_BYTES = 1 << 30


def run_log(project, state_id: str, run_id: str) -> Path:
    """Meltano's log of one run (Meltano 4 keeps them in the user's log dir, not in .meltano/)."""
    return project.dirs.job_logs(state_id, run_id, "elt.log", make_dirs=False)


def http_counts(log: Path) -> dict[str, int]:
    """Responses by HTTP status code, from the singer-sdk ``http_request_duration`` METRIC lines of a run's log.

    singer-sdk writes one such line per response (retried ones and the one
    that failed the run included) before the tap looks at the status, so a
    429 or a 402 is counted even when it ends the run. Read from Meltano's
    default (console) log format.
    """
    codes: dict[str, int] = {}
    with open(log, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if "http_request_duration" not in line:
                continue
            _, mark, payload = line.partition("METRIC: ")
            if not mark:
                continue
            try:
                metric = json.loads(payload)
            except ValueError:
                continue
            if metric.get("metric") == "http_request_duration":
                code = str((metric.get("tags") or {}).get("http_status_code", "none"))
                codes[code] = codes.get(code, 0) + 1
    return codes


def data_path() -> Path:
    """Where the data lives on this machine: the embedded server's data directory, else the project."""
    return dbctl.data_dir() if dbctl.settings().get("embedded") else pipelines.ROOT


def database_size() -> tuple[str, int]:
    with dbctl.connect() as conn:
        return conn.execute("SELECT current_database(), pg_database_size(current_database())").fetchone()


class BronzeCollector:
    """Reads bronze, Meltano's runs and logs, and the disk on every scrape."""

    def collect(self):
        now = dt.datetime.now(dt.UTC)
        errors = GaugeMetricFamily(
            "bronze_scrape_error", "1 when a part could not be read in this scrape", labels=["part"]
        )
        yield from self._runs(errors)
        yield from self._tables(now, errors)
        yield from self._storage(errors)
        yield errors

    def _runs(self, errors):
        success = GaugeMetricFamily(
            "bronze_last_success_timestamp_seconds",
            "Unix time the pipeline's last successful Meltano run ended",
            labels=["pipeline"],
        )
        state = StateSetMetricFamily(
            "bronze_last_run_state", "Meltano state of the pipeline's last run", labels=["pipeline"]
        )
        ended = GaugeMetricFamily(
            "bronze_last_run_timestamp_seconds", "Unix time the pipeline's last run ended", labels=["pipeline"]
        )
        duration = GaugeMetricFamily(
            "bronze_last_run_duration_seconds", "Duration of the pipeline's last run", labels=["pipeline"]
        )
        requests = GaugeMetricFamily(
            "bronze_last_run_http_requests", "HTTP requests made in the last run", labels=["pipeline"]
        )
        responses = GaugeMetricFamily(
            "bronze_last_run_http_responses",
            "HTTP responses of the last run by status code",
            labels=["pipeline", "code"],
        )
        limited = GaugeMetricFamily(
            "bronze_last_run_rate_limited_responses",
            "Rate-limit answers (429, 402) in the last run",
            labels=["pipeline", "code"],
        )
        runs = status.last_runs()
        errors.add_metric(["runs"], 0)
        log_error = 0
        project = pipelines.meltano_project()
        for tap in pipelines.pipelines():
            history = status.finished_runs(tap, runs)
            if not history:
                continue
            last = history[0]
            done = status.last_success(history)
            if done:
                success.add_metric([tap], done.timestamp())
            state.add_metric([tap], {name: last["state"] == name for name in RUN_STATES})
            if last["ended_at"]:
                ended.add_metric([tap], last["ended_at"].timestamp())
                if last["started_at"]:
                    duration.add_metric([tap], (last["ended_at"] - last["started_at"]).total_seconds())
            try:
                codes = http_counts(run_log(project, pipelines.state_id(tap), last["run_id"]))
            except OSError:
                log_error = 1  # the log was removed or rotated: no request counts for this pipeline
                continue
            requests.add_metric([tap], sum(codes.values()))
            for code, count in sorted(codes.items()):
                responses.add_metric([tap, code], count)
            for code in RATE_LIMIT_CODES:
                limited.add_metric([tap, code], codes.get(code, 0))
        errors.add_metric(["logs"], log_error)
        yield from (success, state, ended, duration, requests, responses, limited)

    def _tables(self, now, errors):
        verdicts = StateSetMetricFamily(
            "bronze_pipeline_verdict", "make status verdict per pipeline and table", labels=["pipeline", "table"]
        )
        families = {
            key: GaugeMetricFamily(name, text, labels=["table", "pipeline"])
            for key, name, text in (
                ("row_count", "bronze_rows", "Rows in the bronze table"),
                ("invalid_count", "bronze_invalid_rows", "Rows marked invalid"),
                (
                    "open_invalid_count",
                    "bronze_unacknowledged_invalid_rows",
                    "Invalid rows that landed after the table's last acknowledgement",
                ),
                ("warning_count", "bronze_warning_rows", "Rows marked warning"),
            )
        }
        try:
            rows = status.report(now)
        except Exception:  # noqa: BLE001 - a scrape reports what it can and says what it could not
            errors.add_metric(["bronze"], 1)
            return
        errors.add_metric(["bronze"], 0)
        for row in rows:
            verdicts.add_metric(
                [row["pipeline"], row["table_name"] or ""], {name: row["verdict"] == name for name in VERDICTS}
            )
            if row["table_name"]:
                for key, family in families.items():
                    family.add_metric([row["table_name"], row["pipeline"]], row[key])
        yield verdicts
        yield from families.values()

    def _storage(self, errors):
        size = GaugeMetricFamily("bronze_database_size_bytes", "Size of the bronze database", labels=["database"])
        free = GaugeMetricFamily("bronze_disk_free_bytes", "Free bytes on the disk of the data", labels=["path"])
        total = GaugeMetricFamily("bronze_disk_size_bytes", "Size of the disk of the data", labels=["path"])
        try:
            name, value = database_size()
            size.add_metric([name], value)
        except Exception:  # noqa: BLE001, S110
            pass  # bronze_scrape_error{part="bronze"} already says the database could not be read
        try:
            path = data_path()
            usage = shutil.disk_usage(path)
            free.add_metric([str(path)], usage.free)
            total.add_metric([str(path)], usage.total)
            errors.add_metric(["disk"], 0)
        except OSError:
            errors.add_metric(["disk"], 1)
        yield from (size, free, total)


def health_checks() -> list[tuple[str, str | None]]:
    """Each check's name and why it failed (None: passed)."""
    checks = []
    try:
        with dbctl.connect(timeout=3) as conn:
            conn.execute("SELECT 1")
        checks.append(("database", None))
    except Exception as exc:  # noqa: BLE001 - the reason is the answer
        checks.append(("database", _reason(exc)))
    try:
        _system_database_readable()
        checks.append(("meltano_system_database", None))
    except Exception as exc:  # noqa: BLE001
        checks.append(("meltano_system_database", _reason(exc)))
    try:
        path = data_path()
        minimum = int(os.environ.get("HEALTH_MIN_FREE_BYTES") or MIN_FREE_BYTES)
        free = shutil.disk_usage(path).free
        checks.append(("disk", None if free >= minimum else f"{free} bytes free in {path}, below {minimum}"))
    except OSError as exc:
        checks.append(("disk", _reason(exc)))
    return checks


def _system_database_readable() -> None:
    """Meltano's runs table answers (a project that never ran has no system database yet: fine)."""
    import sqlalchemy

    uri = status.meltano_database_uri()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return
    engine = sqlalchemy.create_engine(uri)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT count(*) FROM runs"))
    finally:
        engine.dispose()


def _reason(exc: BaseException) -> str:
    """A one-line reason without secrets: the exception's type and its first line, URLs left out."""
    first = (str(exc).strip().splitlines() or [""])[0]
    if "://" in first:
        first = ""
    return f"{type(exc).__name__}: {first}"[:200].rstrip(": ")


def make_handler(registry: CollectorRegistry):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _answer(self, *, body: bool) -> None:
            if self.path == "/health":
                checks = health_checks()
                failed = [f"{name} ({why})" for name, why in checks if why]
                code, text = (
                    (503, "failed: " + "; ".join(failed))
                    if failed
                    else (200, "ok: " + ", ".join(name for name, _ in checks))
                )
                self._send(code, (text + "\n").encode(), "text/plain; charset=utf-8", body)
            elif self.path == "/metrics":
                try:
                    self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST, body)
                except Exception as exc:  # noqa: BLE001 - a scrape must say why it failed
                    self._send(503, f"cannot read bronze: {_reason(exc)}\n".encode(), "text/plain", body)
            else:
                self._send(404, b"try /health or /metrics\n", "text/plain", body)

        def _send(self, code: int, data: bytes, content_type: str, body: bool) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

    return Handler


def serve(host: str = "127.0.0.1", port: int = 9464) -> ThreadingHTTPServer:
    registry = CollectorRegistry()
    registry.register(BronzeCollector())
    return ThreadingHTTPServer((host, port), make_handler(registry))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: localhost only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("METRICS_PORT") or 9464))
    args = parser.parse_args()
    server = serve(args.host, args.port)
    print(f"serving /health and /metrics on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
