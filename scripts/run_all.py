"""`make run-all`: run every configured source, past failures, and say which failed.

`meltano run all` stops at the first source that is not configured (or that
fails). This runs each configured pipeline (scripts/pipelines.py: its required
settings are set and the files or folders they name exist) as its own
`meltano run <tap> target-postgres`, one after the other, skips the others
(saying what they miss), and goes on after a failure. It exits 1 and lists
the failed pipelines when any failed, 2 when none is configured, else 0.

    .venv/bin/python scripts/run_all.py [--dry-run] [-- <meltano run options, e.g. --full-refresh>]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import pipelines  # noqa: E402

MELTANO = str(ROOT / ".venv" / "bin" / "meltano")


def run_all(options: list[str], dry_run: bool = False) -> int:
    missing = pipelines.configuration()
    chosen = [tap for tap, lacks in missing.items() if not lacks]
    for tap, lacks in missing.items():
        if lacks:
            print(f"run-all: skipping {tap}: not configured ({'; '.join(lacks)})", flush=True)
    if not chosen:
        print("run-all: no source is configured; set a source's settings in .env (see README)", flush=True)
        return 2
    if dry_run:
        for tap in chosen:
            print(f"run-all: would run: meltano run {' '.join(options + [tap, pipelines.LOADER])}", flush=True)
        return 0
    failed = []
    for tap in chosen:
        print(f"run-all: {tap}: meltano run {' '.join(options + [tap, pipelines.LOADER])}", flush=True)
        started = time.monotonic()
        code = subprocess.run([MELTANO, "run", *options, tap, pipelines.LOADER], cwd=ROOT).returncode
        took = time.monotonic() - started
        if code:
            failed.append(tap)
        print(f"run-all: {tap}: {f'FAILED (exit {code})' if code else 'ok'} in {took:.0f} s", flush=True)
    if failed:
        print(
            f"run-all: {len(failed)} of {len(chosen)} failed: {', '.join(failed)} "
            "(their errors are above; `make status` shows each pipeline)",
            flush=True,
        )
        return 1
    print(f"run-all: all {len(chosen)} configured sources ran", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="say what would run, run nothing")
    parser.add_argument("options", nargs="*", help="passed to every `meltano run` (after --)")
    args = parser.parse_args(argv)
    return run_all(args.options, args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
