"""``python -m collector``: the collector in the foreground, logging to stdout.

Settings come from the environment, then the project's ``.env``:
``COLLECTOR_TOKEN`` (required, at least 16 characters), ``COLLECTOR_HOST``
(127.0.0.1), ``COLLECTOR_PORT`` (8787), ``COLLECTOR_SPOOL`` (spool/collector.sqlite3),
``COLLECTOR_CONTRACTS`` (schemas/events), ``COLLECTOR_MAX_BODY_BYTES`` (64 MiB).
Relative paths are relative to the project, wherever it is started from.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import uvicorn

from bronze_loader.pgsettings import read_dotenv
from collector.app import DEFAULT_MAX_BODY, Settings, create_app

ROOT = Path(__file__).resolve().parent.parent
MIN_TOKEN = 16


def settings_from(environ: dict[str, str]) -> Settings:
    """The settings, or SystemExit saying which one is missing or wrong (never its value)."""
    token = environ.get("COLLECTOR_TOKEN", "").strip()
    if not token:
        raise SystemExit(
            "collector: COLLECTOR_TOKEN is not set; put a long random one in .env "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`). "
            "The collector does not start without it."
        )
    if len(token) < MIN_TOKEN:
        raise SystemExit(f"collector: COLLECTOR_TOKEN is shorter than {MIN_TOKEN} characters; use a long random one")
    limit = environ.get("COLLECTOR_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY)).strip()
    if not limit.isdigit() or int(limit) <= 0:
        raise SystemExit("collector: COLLECTOR_MAX_BODY_BYTES must be a positive number of bytes")
    return Settings(
        token=token,
        spool_path=ROOT / Path(environ.get("COLLECTOR_SPOOL") or "spool/collector.sqlite3").expanduser(),
        contracts_dir=ROOT / Path(environ.get("COLLECTOR_CONTRACTS") or "schemas/events").expanduser(),
        max_body_bytes=int(limit),
    )


def main() -> None:
    os.umask(0o077)  # the spool holds personal data: owner-only
    environ = {**read_dotenv(ROOT / ".env"), **os.environ}
    settings = settings_from(environ)
    port = environ.get("COLLECTOR_PORT", "8787").strip()
    if not port.isdigit():
        raise SystemExit("collector: COLLECTOR_PORT must be a port number")
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    uvicorn.run(
        create_app(settings),
        host=environ.get("COLLECTOR_HOST", "127.0.0.1"),
        port=int(port),
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
