"""The transform benchmark: dbt full build vs an incremental run with nothing new.

Over the demo data plus a large Fitabase heart-rate backfill (bench/gen_heartrate.py):

1. a copy of the demo database (``<PG_DB>_demo``, made by ``make demo``, which
   this runs first when it is missing) becomes ``bench_dbt``, without its silver
   and mart schemas, so the user's and the demo's data are never touched;
2. the backfill lands there by ``meltano run tap-wearable-csv target-postgres``
   (timed: ``backfill_seconds``);
3. ``meltano invoke dbt-postgres run --full-refresh`` builds every model from
   bronze (``full_build_seconds``);
4. ``meltano invoke dbt-postgres run`` again with nothing new
   (``incremental_seconds``); both with ``incremental_margin_minutes: 0``
   (see NO_MARGIN).

Wall times include Meltano's and dbt's start-up (parsing the project);
``*_models_seconds`` is dbt's own "Finished running ... in X seconds", the time
the models took in the database. Prints the figures and the ratios the issue
sets goals for (incremental under 10% of the full build; full build under 2x
the backfill), and how the heart-rate model finds its new bronze rows (the
scans of EXPLAIN ANALYZE of its incremental query: the BRIN index on
``ingested_at``, the index on ``read_through``); writes bench/results/dbt-latest.json.

    .venv/bin/python bench/dbt_bench.py -n 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(HERE))

from gen_heartrate import generate  # noqa: E402

import dbctl  # noqa: E402

MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
WORK = HERE / "work"
DATABASE = "bench_dbt"
# The backfill lands seconds before the full build: without this, the default safety
# margin (var incremental_margin_minutes, 1 minute) would have the incremental run read
# its last batches again. No other loader runs during the benchmark.
NO_MARGIN = ("--vars", "{incremental_margin_minutes: 0}")
FINISHED = re.compile(r"Finished running .* in .*?\(([\d.]+)s\)")


def server_url(database: str) -> str:
    base = dbctl.settings()["url"]
    return base[: base.rindex("/") + 1] + database


def database_exists(name: str) -> bool:
    with psycopg.connect(server_url("postgres")) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def clone_demo(demo: str) -> str:
    """``bench_dbt`` as a fresh copy of the demo database, minus what dbt builds."""
    with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(DATABASE), sql.Identifier(demo)))
    url = server_url(DATABASE)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS silver CASCADE")
        conn.execute("DROP SCHEMA IF EXISTS mart CASCADE")
    return url


def environment(url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "MELTANO_DATABASE_URI": f"sqlite:///{WORK / 'dbt-meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def timed(args: list[str], env: dict, log: Path) -> tuple[float, str]:
    """Run ``meltano <args>``; (wall seconds, output). Fails loudly, output in ``log``."""
    started = time.perf_counter()
    result = subprocess.run([MELTANO, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    output = result.stdout + result.stderr
    log.write_text(output)
    if result.returncode != 0:
        raise SystemExit(f"dbt bench: meltano {' '.join(args)} failed; see {log}")
    return seconds, output


def models_seconds(output: str) -> float | None:
    found = FINISHED.findall(output)
    return float(found[-1]) if found else None


def cutoff_plan(env: dict, url: str) -> dict:
    """How the heart-rate model finds its new bronze rows: EXPLAIN ANALYZE of its compiled
    incremental query (nothing new): the scan nodes and the time the query took."""
    _, output = timed(
        [
            "invoke",
            "dbt-postgres",
            "compile",
            "--select",
            "stg_wearable__heartrate_seconds",
            "--output",
            "json",
            "--quiet",
            *NO_MARGIN,
        ],
        env,
        WORK / "dbt-compile.log",
    )
    query = json.JSONDecoder().raw_decode(output[output.index("{") :])[0]["compiled"]
    with psycopg.connect(url) as conn:
        plan = [row[0] for row in conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {query}")]
    return {
        "scans": [line.strip().removeprefix("->  ").split(" (actual")[0] for line in plan if "Scan" in line],
        "execution_ms": float(re.search(r"Execution Time: ([\d.]+)", plan[-1]).group(1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--records", type=int, default=1_000_000, help="heart-rate rows to backfill")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="full builds and incremental runs (medians)")
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    dbctl.up()
    demo = dbctl.settings()["PG_DB"] + "_demo"
    if not database_exists(demo):
        print(f"no demo database {demo!r}: running make demo's loader first", flush=True)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py")], cwd=ROOT, check=True)
    url = clone_demo(demo)
    env = environment(url)
    Path(WORK / "dbt-meltano.db").unlink(missing_ok=True)

    folder = WORK / f"dbt-heartrate-{args.records}-{args.seed}"
    if not (folder / "heartrate_seconds_merged.csv").exists():
        generate(folder, args.records, args.seed)
    print(f"backfilling {args.records:,} heart-rate rows into {DATABASE} ...", flush=True)
    backfill, _ = timed(
        ["run", "tap-wearable-csv", "target-postgres"],
        {**env, "TAP_WEARABLE_CSV_DATA_DIR": str(folder)},
        WORK / "dbt-backfill.log",
    )
    with psycopg.connect(url) as conn:
        bronze_rows = conn.execute("SELECT count(*) FROM bronze.wearable__heartrate_seconds").fetchone()[0]

    full, full_models, incremental, incremental_models = [], [], [], []
    for i in range(args.repeat):
        seconds, output = timed(
            ["invoke", "dbt-postgres", "run", "--full-refresh", *NO_MARGIN], env, WORK / f"dbt-full-{i}.log"
        )
        full.append(seconds)
        full_models.append(models_seconds(output))
        print(f"  full build {i + 1}: {seconds:.1f} s", flush=True)
        seconds, output = timed(["invoke", "dbt-postgres", "run", *NO_MARGIN], env, WORK / f"dbt-incremental-{i}.log")
        incremental.append(seconds)
        incremental_models.append(models_seconds(output))
        print(f"  incremental, nothing new {i + 1}: {seconds:.1f} s", flush=True)
    with psycopg.connect(url) as conn:
        silver_rows = conn.execute("SELECT count(*) FROM silver.stg_wearable__heartrate_seconds").fetchone()[0]
    if silver_rows != bronze_rows:
        raise SystemExit(f"dbt bench: silver has {silver_rows} heart-rate rows, bronze {bronze_rows} raw_ids")

    plan = cutoff_plan(env, url)

    median = statistics.median
    result = {
        "records": args.records,
        "bronze_heartrate_rows": bronze_rows,
        "repeat": args.repeat,
        "backfill_seconds": round(backfill, 2),
        "full_build_seconds": round(median(full), 2),
        "full_build_models_seconds": median(full_models) if None not in full_models else None,
        "incremental_seconds": round(median(incremental), 2),
        "incremental_models_seconds": median(incremental_models) if None not in incremental_models else None,
        "full_all": full,
        "incremental_all": incremental,
        "full_models_all": full_models,
        "incremental_models_all": incremental_models,
        "heartrate_cutoff_plan": plan,
    }
    result["incremental_over_full"] = round(result["incremental_seconds"] / result["full_build_seconds"], 3)
    result["full_over_backfill"] = round(result["full_build_seconds"] / backfill, 3)
    if result["full_build_models_seconds"] and result["incremental_models_seconds"] is not None:
        result["incremental_over_full_models"] = round(
            result["incremental_models_seconds"] / result["full_build_models_seconds"], 3
        )
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "dbt-latest.json").write_text(json.dumps(result, indent=2) + "\n")

    print(f"\ndbt over the demo + {bronze_rows:,} heart-rate rows (medians of {args.repeat}):")
    print(f"  backfill (meltano run tap-wearable-csv)   {backfill:8.1f} s")
    print(
        f"  dbt full build (run --full-refresh)       {result['full_build_seconds']:8.1f} s"
        f"   models {result['full_build_models_seconds']} s"
    )
    print(
        f"  dbt incremental, nothing new (run)        {result['incremental_seconds']:8.1f} s"
        f"   models {result['incremental_models_seconds']} s"
    )
    print(
        f"  incremental / full build   {result['incremental_over_full']:.1%} wall"
        + (
            f", {result['incremental_over_full_models']:.1%} in the models"
            if "incremental_over_full_models" in result
            else ""
        )
        + "   (goal < 10%)"
    )
    print(f"  full build / backfill      {result['full_over_backfill']:.2f}x   (goal < 2x)")
    print(f"  heart-rate cut-off query   {plan['execution_ms']:.1f} ms: " + "; ".join(plan["scans"]))


if __name__ == "__main__":
    main()
