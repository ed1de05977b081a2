"""Where the project's PostgreSQL is: one rule for the loader, scripts and tests.

``DATABASE_URL`` wins; else ``PG_HOST``/``PG_PORT``/``PG_DB``/``PG_USER``/
``PG_PASS``; unset parts take the embedded server's defaults. Values come from
the environment first, then the project's ``.env``. With neither
``DATABASE_URL`` nor ``PG_HOST`` set the server is the embedded one that
``make up`` starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping
from urllib.parse import quote, unquote, urlsplit

DEFAULTS = {"PG_HOST": "127.0.0.1", "PG_PORT": "55432", "PG_DB": "bronze",
            "PG_USER": "postgres", "PG_PASS": ""}


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file; comments, blanks, quotes and `export ` allowed."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def connection_settings(environ: Mapping[str, str] | None = None,
                        dotenv: Path | None = None) -> dict:
    """Effective PG_* settings, ``embedded`` (bool) and ``url``."""
    source = {**(read_dotenv(dotenv) if dotenv else {}), **(os.environ if environ is None else environ)}
    result: dict = dict(DEFAULTS)
    external = bool(source.get("DATABASE_URL") or source.get("PG_HOST"))
    if source.get("DATABASE_URL"):
        parts = urlsplit(source["DATABASE_URL"])
        result.update(PG_HOST=parts.hostname or DEFAULTS["PG_HOST"],
                      PG_PORT=str(parts.port or 5432),
                      PG_DB=parts.path.lstrip("/") or DEFAULTS["PG_DB"],
                      PG_USER=unquote(parts.username or DEFAULTS["PG_USER"]),
                      PG_PASS=unquote(parts.password or ""))
    else:
        result.update({k: source[k] for k in DEFAULTS if source.get(k)})
    result["embedded"] = not external
    result["url"] = source.get("DATABASE_URL") or url_for(result)
    return result


def url_for(settings: Mapping[str, str], database: str | None = None) -> str:
    """postgresql://user[:pass]@host:port/db for the given settings."""
    auth = quote(settings["PG_USER"], safe="")
    if settings["PG_PASS"]:
        auth += ":" + quote(settings["PG_PASS"], safe="")
    return f"postgresql://{auth}@{settings['PG_HOST']}:{settings['PG_PORT']}/{database or settings['PG_DB']}"
