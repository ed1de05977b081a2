"""The backfill benchmark: one seeded dataset, loaded by each path, timed and checked.

Paths (``--paths``):

- ``ours``: ``meltano run <tap> target-postgres`` (a full-refresh backfill),
  then the same run again with nothing new (``no_change_seconds``);
- ``copy``: bench/copy_load.py, psycopg COPY + INSERT ... ON CONFLICT: the limit;
- ``dlt``: bench/dlt_load.py, dlt merge into a jsonb column (bench venv).

Every path loads into its own schema of a separate ``bench`` database (never
the user's bronze data), starting from an empty table. For each path the
harness checks the row count and a checksum over every column but the
lineage ones (``metadata``, ``ingested_at``), which must equal ours. Peak RSS
is the kernel's high-water mark (VmHWM) of every process of the path, polled.
Writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(HERE))

from gen_heartrate import generate  # noqa: E402

import dbctl  # noqa: E402

MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BENCH_PYTHON = str(HERE / ".venv" / "bin" / "python")
WORK = HERE / "work"
DATABASE = "bench"
CHECKSUM_SQL = """
SELECT count(*), md5(string_agg(md5(concat_ws('|', raw_id, raw_hash, source, raw_data::text,
       to_char(source_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
       validation_status, error_message)), '' ORDER BY raw_id, raw_hash))
FROM {table}
"""


# --- processes and their memory -------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read().rsplit(b")", 1)[1].split()
                if int(stat[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


def _label(pid: int) -> str | None:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    argv = [a.decode(errors="replace") for a in argv if a]
    if not argv:
        return None
    first = Path(argv[0]).name
    if first.startswith("python") and len(argv) > 1:
        first = Path(argv[1]).name if not argv[1].startswith("-") else " ".join(argv[1:3])
    return first


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int, with_reaped_children: bool = False) -> float | None:
    """User + system CPU of a process (plus its reaped children's, if asked)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def postgres_cpu_seconds() -> float:
    """CPU used so far by every PostgreSQL process (the server's side of a load).

    Backends that have exited are counted through the postmaster's reaped
    children, so the difference over a run is the server's work for it.
    """
    total = 0.0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                comm = Path(f"/proc/{entry.name}/comm").read_text().strip()
            except OSError:
                continue
            if comm == "postgres" or comm == "postmaster":
                total += _cpu_seconds(int(entry.name), with_reaped_children=True) or 0.0
    return total


def _hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Watched:
    """Run a command and keep the peak RSS of it and every descendant, by name."""

    def __init__(self, argv, env=None, log: Path | None = None):
        self.argv, self.env, self.log = argv, env, log
        self.peaks: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._labels: dict[int, str] = {}

    def _poll(self, root: int, done: threading.Event) -> None:
        while not done.is_set():
            pids, frontier = [root], [root]
            while frontier:
                kids = [k for p in frontier for k in _children(p)]
                pids += kids
                frontier = kids
            for pid in pids:
                label = self._labels.get(pid) or _label(pid)
                if label is None:
                    continue
                self._labels[pid] = label
                key = f"{label}[{pid}]"
                hwm = _hwm_mb(pid)
                if hwm is not None:
                    self.peaks[key] = max(self.peaks.get(key, 0.0), hwm)
                cpu = _cpu_seconds(pid)
                if cpu is not None:
                    self.cpu[key] = cpu
            done.wait(0.05)

    def run(self) -> float:
        out = open(self.log, "w") if self.log else subprocess.DEVNULL
        server_before = postgres_cpu_seconds()
        started = time.perf_counter()
        proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()
        poller = threading.Thread(target=self._poll, args=(proc.pid, done), daemon=True)
        poller.start()
        code = proc.wait()
        seconds = time.perf_counter() - started
        done.set()
        poller.join()
        self.cpu["postgres"] = postgres_cpu_seconds() - server_before
        if code != 0:
            tail = self.log.read_text()[-3000:] if self.log else ""
            raise SystemExit(f"{' '.join(map(str, self.argv))} failed ({code}):\n{tail}")
        return seconds

    def cpu_by_program(self) -> dict[str, float]:
        """CPU seconds per program name, as last seen (polled every 50 ms), plus the server's."""
        by_name: dict[str, float] = {}
        for key, seconds in self.cpu.items():
            name = key.rsplit("[", 1)[0]
            by_name[name] = round(by_name.get(name, 0.0) + seconds, 2)
        return by_name

    def peak_by_program(self) -> dict[str, float]:
        """Largest peak per program name (a program may run as several processes)."""
        by_name: dict[str, float] = {}
        for key, mb in self.peaks.items():
            name = key.rsplit("[", 1)[0]
            by_name[name] = round(max(by_name.get(name, 0.0), mb), 1)
        return by_name


# --- the database ---------------------------------------------------------------


def database_url() -> str:
    dbctl.up()
    dbctl.create_database(DATABASE)
    base = dbctl.settings()["url"]
    return base[: base.rindex("/") + 1] + DATABASE


def drop(url: str, relation: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {relation}")


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def checksum(url: str, relation: str) -> tuple[int, str]:
    with psycopg.connect(url) as conn:
        count, digest = conn.execute(CHECKSUM_SQL.format(table=relation)).fetchone()
    return int(count), digest or ""


# --- the paths ------------------------------------------------------------------


def tap_env(tap: str, setting: str) -> str:
    """The environment variable Meltano reads ``setting`` of ``tap`` from."""
    return f"{tap.upper().replace('-', '_')}_{setting.upper()}"


def meltano_env(url: str, data_dir: Path, tap: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "MELTANO_DATABASE_URI": f"sqlite:///{WORK / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        tap_env(tap, "data_dir"): str(data_dir),
        "BRONZE_SQL_DIR": str(ROOT / "sql"),
    }


def records_file(url: str, data_dir: Path, tap: str, n: int, seed: int) -> Path:
    """The tap's own bronze records for this dataset (the input of copy and dlt), cached."""
    path = WORK / f"records-{tap}-{n}-{seed}.jsonl"
    if path.exists():
        return path
    env = meltano_env(url, data_dir, tap)
    # RECORD messages on stdout, not batch files (meltano.yml's batch_config).
    env[tap_env(tap, "batch_config")] = "{}"
    raw = WORK / "tap-output.jsonl"
    with open(raw, "wb") as out:
        subprocess.run([MELTANO, "invoke", tap], cwd=ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL, check=True)
    with open(raw, encoding="utf-8") as lines, open(path.with_suffix(".tmp"), "w", encoding="utf-8") as dst:
        for line in lines:
            if line.startswith('{"type":"RECORD"') or '"type": "RECORD"' in line[:40]:
                dst.write(json.dumps(json.loads(line)["record"], ensure_ascii=False) + "\n")
    raw.unlink()
    path.with_suffix(".tmp").rename(path)
    return path


def stream_name(records: Path) -> str:
    with open(records, encoding="utf-8") as lines:
        first = json.loads(lines.readline())
    return first["metadata"]["stream"]


def run_ours(url, data_dir, tap, table, repeat, batch=True) -> dict:
    env = meltano_env(url, data_dir, tap)
    if not batch:  # RECORD messages through Meltano instead of meltano.yml's batch files
        env[tap_env(tap, "batch_config")] = "{}"
    subprocess.run([MELTANO, "state", "list"], cwd=ROOT, env=env, capture_output=True)
    times, no_change, peaks, cpus = [], [], {}, []
    for i in range(repeat):
        drop(url, f"bronze.{table}")
        watched = Watched([MELTANO, "run", "--full-refresh", tap, "target-postgres"], env, WORK / f"ours-{i}.log")
        times.append(watched.run())
        cpus.append(watched.cpu_by_program())
        for k, v in watched.peak_by_program().items():
            peaks[k] = max(peaks.get(k, 0), v)
        again = Watched([MELTANO, "run", tap, "target-postgres"], env, WORK / f"ours-nochange-{i}.log")
        no_change.append(again.run())
    return {
        "seconds_all": times,
        "no_change_all": no_change,
        "peaks": peaks,
        "cpu": cpus,
        "relation": f"bronze.{table}",
    }


def run_copy(url, records, table, repeat) -> dict:
    times, peaks, cpus = [], {}, []
    for i in range(repeat):
        drop_schema(url, "bench_copy")
        watched = Watched(
            [PYTHON, str(HERE / "copy_load.py"), "--url", url, "--records", str(records), "--table", table],
            None,
            WORK / f"copy-{i}.log",
        )
        times.append(watched.run())
        cpus.append(watched.cpu_by_program())
        for k, v in watched.peak_by_program().items():
            peaks[k] = max(peaks.get(k, 0), v)
    return {"seconds_all": times, "peaks": peaks, "cpu": cpus, "relation": f"bench_copy.{table}"}


def run_dlt(url, records, table, repeat, file_format) -> dict:
    times, peaks, cpus = [], {}, []
    for i in range(repeat):
        drop_schema(url, "bench_dlt")
        drop_schema(url, "bench_dlt_staging")
        shutil.rmtree(WORK / "dlt", ignore_errors=True)
        watched = Watched(
            [
                BENCH_PYTHON,
                str(HERE / "dlt_load.py"),
                "--url",
                url,
                "--records",
                str(records),
                "--table",
                table,
                "--format",
                file_format,
                "--workdir",
                str(WORK / "dlt"),
            ],
            None,
            WORK / f"dlt-{i}.log",
        )
        times.append(watched.run())
        cpus.append(watched.cpu_by_program())
        for k, v in watched.peak_by_program().items():
            peaks[k] = max(peaks.get(k, 0), v)
    return {"seconds_all": times, "peaks": peaks, "cpu": cpus, "relation": f"bench_dlt.{table}"}


# --- the report -----------------------------------------------------------------


def median_by_key(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per program, the median of its figure over the runs."""
    names = sorted({name for run in runs for name in run})
    return {name: round(statistics.median(run.get(name, 0.0) for run in runs), 2) for name in names}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GB RAM, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Backfill benchmark: ours vs COPY vs dlt")
    parser.add_argument("-n", "--records", type=int, default=100_000)
    parser.add_argument("--paths", default="ours,copy,dlt", help="comma list of ours,copy,dlt")
    parser.add_argument("--tap", default="tap-wearable-csv")
    parser.add_argument("--repeat", type=int, default=1, help="runs per path; the median is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dlt-format", default="csv", choices=("csv", "insert_values"))
    parser.add_argument(
        "--no-batch", action="store_true", help="ours: RECORD messages through Meltano instead of batch files"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args()
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = set(paths) - {"ours", "copy", "dlt"}
    if unknown:
        parser.error(f"unknown paths: {', '.join(sorted(unknown))}")

    WORK.mkdir(exist_ok=True)
    url = database_url()
    data_dir = WORK / f"data-{args.records}-{args.seed}"
    if not data_dir.exists():
        print(f"generating {args.records} heart-rate rows into {data_dir} ...", flush=True)
        generate(data_dir, args.records, args.seed)
    records = records_file(url, data_dir, args.tap, args.records, args.seed)
    table = stream_name(records)
    with open(records, encoding="utf-8") as f:
        expected_rows = sum(1 for _ in f)

    results: dict[str, dict] = {}
    for path in paths:
        print(f"running {path} ({args.repeat}x) ...", flush=True)
        if path == "ours":
            run = run_ours(url, data_dir, args.tap, table, args.repeat, batch=not args.no_batch)
        elif path == "copy":
            run = run_copy(url, records, table, args.repeat)
        else:
            run = run_dlt(url, records, table, args.repeat, args.dlt_format)
        count, digest = checksum(url, run["relation"])
        seconds = statistics.median(run["seconds_all"])
        results[path] = {
            "records": count,
            "seconds": round(seconds, 2),
            "records_per_s": round(count / seconds) if seconds else None,
            "peak_rss_mb": run["peaks"],
            "cpu_seconds": median_by_key(run["cpu"]),
            "seconds_all": [round(s, 2) for s in run["seconds_all"]],
            "checksum": digest,
        }
        if "no_change_all" in run:
            results[path]["no_change_seconds"] = round(statistics.median(run["no_change_all"]), 2)
            results[path]["no_change_all"] = [round(s, 2) for s in run["no_change_all"]]

    limit = results.get("copy", {}).get("seconds")
    problems = []
    reference = results.get("ours", results.get("copy", {})).get("checksum")
    for path, r in results.items():
        r["ratio_to_copy"] = round(r["seconds"] / limit, 2) if limit else None
        if r["records"] != expected_rows:
            problems.append(f"{path}: {r['records']} rows, expected {expected_rows}")
        if r["checksum"] != reference:
            problems.append(f"{path}: checksum {r['checksum']} differs from {reference}")

    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "dataset": {
            "generator": "bench/gen_heartrate.py",
            "records": args.records,
            "seed": args.seed,
            "tap": args.tap,
            "table": table,
        },
        "repeat": args.repeat,
        "ours_messages": "RECORD" if args.no_batch else "BATCH (meltano.yml batch_config)",
        "paths": results,
        "checks": problems or "ok",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print(f"\n{args.records} records, {report['machine']}, {report['date']} (median of {args.repeat})")
    if "ours" in results:
        print(f"ours sends {report['ours_messages']}")
    print(f"{'path':<6} {'seconds':>8} {'records/s':>10} {'x COPY':>7}  peak RSS MB per process")
    for path, r in results.items():
        rss = ", ".join(f"{k} {v:.0f}" for k, v in sorted(r["peak_rss_mb"].items()))
        print(f"{path:<6} {r['seconds']:>8.2f} {r['records_per_s'] or 0:>10} {r['ratio_to_copy'] or 0:>7.2f}  {rss}")
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["cpu_seconds"].items()))
        print(f"{'':<6} CPU seconds: {cpu}")
        if "no_change_seconds" in r:
            print(f"{'':<6} no-change run: {r['no_change_seconds']:.2f} s")
    print(f"wrote {args.out}")
    if problems:
        print("CHECKS FAILED:\n  " + "\n  ".join(problems))
        raise SystemExit(1)
    print("checks: row counts and checksums equal on every path")


if __name__ == "__main__":
    main()
