"""Run a tap as its own process, the way Meltano does, and read its Singer output.

Also the settings that point a tap at its fake API (``garmin_config``,
``toggl_config``), written once for every test that runs those taps, and the
same settings handed to a real ``meltano run`` through the environment.
"""

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


def garmin_config(fake, **overrides) -> dict:
    """tap-garmin's settings for a ``FakeGarmin``: its URLs, its tokens and the days it holds."""
    return {
        "api_url": fake.url,
        "auth_url": fake.url + "/di-oauth2-service/oauth/token",
        "access_token": fake.access_token,
        "refresh_token": fake.refresh_token,
        "start_date": fake.days_list[0].isoformat(),
        "end_date": fake.days_list[-1].isoformat(),
        **overrides,
    }


def toggl_config(fake, **overrides) -> dict:
    """tap-toggl's settings for a ``FakeToggl``: its token and its URL."""
    return {"api_token": fake.api_token, "api_url": fake.url + "/api/v9", **overrides}


def meltano_env(plugin: str, settings: dict) -> dict[str, str]:
    """``settings`` as Meltano reads them from the environment: ``TAP_X_<SETTING>`` as text."""
    prefix = plugin.upper().replace("-", "_") + "_"
    return {prefix + name.upper(): str(value) for name, value in settings.items()}


def run_pipeline(meltano, plugin: str, settings: dict, *flags: str, check: bool = True, **extra_env: str):
    """``meltano run [flags] <plugin> target-postgres`` with ``settings`` from the environment."""
    env = {**meltano_env(plugin, settings), **extra_env}
    return meltano.run("run", *flags, plugin, "target-postgres", check=check, extra_env=env)


def run_toggl(meltano, fake, check: bool = True, **extra_env: str):
    """tap-toggl into PostgreSQL against ``fake``, retrying after 10 ms; ``extra_env`` as given."""
    return run_pipeline(meltano, "tap-toggl", toggl_config(fake, backoff_base_ms=10), check=check, **extra_env)
