"""`make status`, `make metrics` and `make run-all` on run records of real `meltano run`s.

Every run record here is written by Meltano itself (a real `meltano run`
of a real tap into real PostgreSQL, the APIs faked by tests/fakes/), never
by hand: Meltano's runs table stores `SUCCESS` / `FAIL`, and a test that
seeds its own strings only tests its own assumption.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests import tap_runner
from tests.fakes.garmin_api import FakeGarmin
from tests.fakes.garmin_export import write_export
from tests.fakes.toggl_api import FakeToggl

ROOT = Path(__file__).resolve().parent.parent
MANUAL_SAMPLE = ROOT / "samples" / "manual"
TOGGL_TABLES = {"toggl__time_entries", "toggl__workspaces", "toggl__projects", "toggl__clients", "toggl__tags"}


def status(meltano, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts/status.py"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **meltano.env, **env},
        timeout=120,
    )


def verdicts(meltano, **env: str) -> tuple[int, dict]:
    """Exit code and {table or pipeline: row} of `status.py --format json`."""
    result = status(meltano, "--format", "json", **env)
    assert result.stdout.strip().startswith("["), result.stdout + result.stderr
    return result.returncode, {r["table_name"] or r["pipeline"]: r for r in json.loads(result.stdout)}


def run_manual(meltano, folder: Path, check: bool = True):
    return meltano.run(
        "run", "tap-manual", "target-postgres", check=check, extra_env={"TAP_MANUAL_MANUAL_DIR": str(folder)}
    )


def manual_logs_with_a_typo(tmp_path: Path) -> Path:
    """The sample hand-kept logs plus one glass whose amount is not a number (an invalid row)."""
    folder = tmp_path / "manual"
    shutil.copytree(MANUAL_SAMPLE, folder)
    with open(folder / "water_intake" / "2024-11.csv", "a") as handle:
        handle.write("2024-11-03 09:00,a lot,water,\n")
    return folder


def tap_lines(output: str, tap: str) -> list[str]:
    return [line for line in output.splitlines() if f" {tap} " in line]


class Metrics:
    """`scripts/metrics.py` served in-process on a free port, scraped and parsed."""

    def __init__(self):
        import metrics

        self.server = metrics.serve(port=0)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def scrape(self) -> dict[str, list]:
        from prometheus_client.parser import text_string_to_metric_families

        text = urllib.request.urlopen(self.base + "/metrics", timeout=120).read().decode()
        return {f.name: f.samples for f in text_string_to_metric_families(text)}

    @staticmethod
    def value(samples: dict, name: str, **labels) -> float | None:
        found = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
        assert len(found) <= 1, (name, labels, found)
        return found[0] if found else None


@pytest.fixture
def metrics_server(meltano, monkeypatch):
    for key, value in meltano.env.items():
        monkeypatch.setenv(key, value)
    server = Metrics()
    yield server
    server.server.shutdown()


def test_failed_run_warning_never_and_metrics_from_real_runs(meltano, tmp_path, metrics_server, monkeypatch):
    # A run that lands an invalid row says so in the tap's last log line.
    manual = run_manual(meltano, manual_logs_with_a_typo(tmp_path))
    last = tap_lines(manual.stderr, "tap-manual")[-1]
    assert "BRONZE SUMMARY" in last and "1 invalid" in last and "manual__water_intake: 1 invalid" in last, last

    with FakeToggl(days=5) as fake:
        fake.fail_next(429, times=1, path_contains="time_entries")  # answered once, then retried
        tap_runner.run_toggl(meltano, fake)
        requests_made = len(fake.requests)
        code, rows = verdicts(meltano, TAP_HUBSPOT_API_TOKEN="set-but-never-run")
        assert {t: rows[t]["verdict"] for t in TOGGL_TABLES} == dict.fromkeys(TOGGL_TABLES, "fresh")
        assert rows["manual__water_intake"]["verdict"] == "warning"
        assert rows["manual__water_intake"]["open_invalid_count"] == 1
        assert rows["manual__body_measurements"]["verdict"] == "fresh"
        assert rows["tap-hubspot"]["verdict"] == "never" and rows["tap-hubspot"]["table_name"] is None
        assert "tap-notion" not in rows  # not configured: not listed, not `never`
        assert code == 1  # never run counts

        scraped = metrics_server.scrape()
        m = Metrics.value
        assert m(scraped, "bronze_last_run_http_requests", pipeline="tap-toggl") == requests_made
        assert m(scraped, "bronze_last_run_rate_limited_responses", pipeline="tap-toggl", code="429") == 1
        assert m(scraped, "bronze_last_run_rate_limited_responses", pipeline="tap-toggl", code="402") == 0
        assert m(scraped, "bronze_last_run_state", pipeline="tap-toggl", bronze_last_run_state="SUCCESS") == 1
        success = m(scraped, "bronze_last_success_timestamp_seconds", pipeline="tap-toggl")
        assert time.time() - 600 < success <= time.time()
        assert (
            m(scraped, "bronze_unacknowledged_invalid_rows", table="manual__water_intake", pipeline="tap-manual") == 1
        )
        assert (
            m(
                scraped,
                "bronze_pipeline_verdict",
                pipeline="tap-manual",
                table="manual__water_intake",
                bronze_pipeline_verdict="warning",
            )
            == 1
        )

        # The bug: after a real failed run, the data was still called fresh.
        fake.reset_log()
        fake.fail_next(402, times=1, path_contains="time_entries", headers={"X-Toggl-Quota-Resets-In": "60"})
        failed = tap_runner.run_toggl(meltano, fake, check=False)
        assert failed.returncode != 0
        code, rows = verdicts(meltano)
        assert {t: rows[t]["verdict"] for t in TOGGL_TABLES} == dict.fromkeys(TOGGL_TABLES, "failed")
        assert rows["toggl__time_entries"]["last_run_state"] == "FAIL"
        assert code == 1

        scraped = metrics_server.scrape()
        assert m(scraped, "bronze_last_run_state", pipeline="tap-toggl", bronze_last_run_state="FAIL") == 1
        assert m(scraped, "bronze_last_run_state", pipeline="tap-toggl", bronze_last_run_state="SUCCESS") == 0
        assert m(scraped, "bronze_last_success_timestamp_seconds", pipeline="tap-toggl") == success
        assert m(scraped, "bronze_last_run_rate_limited_responses", pipeline="tap-toggl", code="402") == 1
        assert m(scraped, "bronze_last_run_http_requests", pipeline="tap-toggl") == len(fake.requests)
        assert m(scraped, "bronze_last_run_duration_seconds", pipeline="tap-toggl") > 0
        assert m(scraped, "bronze_database_size_bytes") > 0 and m(scraped, "bronze_disk_free_bytes") > 0

    # A threshold allows invalid rows; an acknowledgement deals with them.
    _, rows = verdicts(meltano, STATUS_MAX_INVALID_MANUAL__WATER_INTAKE="1")
    assert rows["manual__water_intake"]["verdict"] == "fresh"
    acked = status(meltano, "--ack", "manual__water_intake")
    assert "acknowledged the invalid rows of manual__water_intake" in acked.stdout, acked.stderr
    _, rows = verdicts(meltano)
    assert rows["manual__water_intake"]["verdict"] == "fresh"
    assert rows["manual__water_intake"]["invalid_count"] == 1
    assert rows["manual__water_intake"]["open_invalid_count"] == 0

    # /health names its checks; HEAD is answered; a failed check is named with its reason.
    health = urllib.request.urlopen(metrics_server.base + "/health", timeout=60)
    assert health.status == 200 and health.read().decode().startswith("ok: database, meltano_system_database")
    head = urllib.request.urlopen(urllib.request.Request(metrics_server.base + "/health", method="HEAD"))
    assert head.status == 200 and head.read() == b""
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(urllib.error.HTTPError) as down:
        urllib.request.urlopen(metrics_server.base + "/health", timeout=60)
    assert down.value.code == 503
    text = down.value.read().decode()
    assert text.startswith("failed: database (") and "meltano_system_database" not in text


def run_garmin(meltano, fake, check: bool = True):
    settings = tap_runner.garmin_config(fake, backoff_base_ms=10, max_retries=1)
    return tap_runner.run_pipeline(meltano, "tap-garmin", settings, check=check)


def run_export(meltano, path: Path, check: bool = True):
    return tap_runner.run_pipeline(meltano, "tap-garmin-export", {"export_path": str(path)}, check=check)


def by_pipeline(rows: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in rows.values():
        if row["source"] == "garmin" or row["pipeline"].startswith("tap-garmin"):
            out.setdefault(row["pipeline"], set()).add(row["verdict"])
    return out


def test_garmin_and_its_export_are_judged_as_separate_pipelines(meltano, tmp_path):
    export = write_export(tmp_path / "export", days=4)
    sleep = next(export.rglob("*_sleepData.json"))
    good = sleep.read_text()
    with FakeGarmin(days=3) as fake:
        run_garmin(meltano, fake)
        sleep.write_text(good[: len(good) // 2])  # a broken file: the rest lands, the run fails
        assert run_export(meltano, export, check=False).returncode != 0
        code, rows = verdicts(meltano)
        assert rows["garmin__export_daily_summary"]["row_count"] > 0  # landed, yet its run failed
        assert by_pipeline(rows) == {"tap-garmin": {"fresh"}, "tap-garmin-export": {"failed"}}
        assert code == 1

        fake.revoke()  # the API now refuses us
        assert run_garmin(meltano, fake, check=False).returncode != 0
    sleep.write_text(good)
    run_export(meltano, export)
    code, rows = verdicts(meltano)
    assert by_pipeline(rows) == {"tap-garmin": {"failed"}, "tap-garmin-export": {"fresh"}}
    assert rows["garmin__sleep"]["state_id"] == "dev:tap-garmin-to-target-postgres"
    assert code == 1


def test_run_all_runs_every_configured_source_past_a_failure(meltano, tmp_path):
    logs = tmp_path / "manual"
    shutil.copytree(MANUAL_SAMPLE, logs)
    with FakeToggl(days=3) as fake:
        env = {
            **os.environ,
            **meltano.env,
            "TAP_MANUAL_MANUAL_DIR": str(logs),
            "TAP_TOGGL_API_TOKEN": "a-revoked-token",
            "TAP_TOGGL_API_URL": fake.url + "/api/v9",
            "TAP_GARMIN_EXPORT_EXPORT_PATH": str(tmp_path / "no-export-here"),
        }
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts/run_all.py")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert any(r["status"] in (401, 403) for r in fake.requests)  # toggl was tried, and refused
    out = result.stdout
    assert result.returncode == 1, out + result.stderr[-3000:]
    assert "run-all: 1 of 2 failed: tap-toggl" in out
    assert "run-all: tap-manual: ok" in out  # after the failed toggl run (the `all` job's order)
    assert out.index("tap-toggl: FAILED") < out.index("tap-manual: ok")
    assert "skipping tap-garmin-export: not configured (export_path" in out and "does not exist" in out
    assert "skipping tap-notion: not configured (api_token not set; database_ids not set)" in out
    assert meltano.query("SELECT count(*) FROM bronze.manual__water_intake")[0][0] == 4
    assert "a-revoked-token" not in out + result.stderr


def _tap_class(executable: str):
    (entry,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == executable]
    module, _, attr = entry.value.partition(":")
    return getattr(importlib.import_module(module), attr.split(".")[0])


def test_required_settings_mirror_the_taps_and_tables_map_to_their_pipeline():
    import pipelines

    assert set(pipelines.REQUIRED) == set(pipelines.pipelines())
    for tap in pipelines.pipelines():
        if tap == "tap-garmin-export":
            continue  # tap-garmin itself, run with export_path
        required = _tap_class(tap).config_jsonschema.get("required", [])
        groups = pipelines.REQUIRED[tap]
        assert all((name,) in groups for name in required), (tap, required, groups)

    from tap_garmin.export_streams import EXPORT_STREAMS
    from tap_garmin.streams import API_STREAMS

    assert {pipelines.pipeline_of_table(s.name) for s in EXPORT_STREAMS} == {"tap-garmin-export"}
    assert {pipelines.pipeline_of_table(s.name) for s in API_STREAMS} == {"tap-garmin"}
    for tap in pipelines.pipelines():
        if tap.startswith("tap-garmin"):
            continue
        tap_class = _tap_class(tap)
        types = getattr(tap_class, "stream_types", ())  # taps with config-dependent streams have none
        sources = {getattr(t, "source", None) for t in types} if isinstance(types, (tuple, list)) else set()
        for source in sources - {None, ""}:
            assert pipelines.pipeline_of_table(f"{source}__anything") == tap, (tap, source)
    assert pipelines.pipeline_of_table("wearable__daily_activity") == "tap-wearable-csv"
