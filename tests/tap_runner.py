"""Run a tap as its own process, the way Meltano does, and read its Singer output."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"


def run_tap(executable: str, config: dict, workdir: Path, state: dict | None = None, env: dict | None = None):
    """(completed process, Singer messages, last STATE value or None); ``env`` is added to ours."""
    (workdir / "config.json").write_text(json.dumps(config))
    args = [str(BIN / executable), "--config", str(workdir / "config.json")]
    if state is not None:
        (workdir / "state.json").write_text(json.dumps(state))
        args += ["--state", str(workdir / "state.json")]
    result = subprocess.run(args, capture_output=True, text=True, timeout=180, env={**os.environ, **(env or {})})
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return result, messages, states[-1] if states else None


def records(messages: list[dict], stream: str) -> list[dict]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]
