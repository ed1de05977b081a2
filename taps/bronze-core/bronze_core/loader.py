"""The bronze loader: MeltanoLabs target-postgres, made to create bronze tables first.

target-postgres creates a missing table from the stream's JSON Schema, which
would give ``timestamp without time zone`` time columns and no indexes. This
thin wrapper (same settings, same code path for loading) applies the project's
``sql/`` files once per run and calls ``bronze.ensure_table`` for each stream
before target-postgres prepares it. It also finds the database the way every
command of the project does (``bronze_core.pgsettings``: ``DATABASE_URL``, else
``PG_*``, else the embedded server) unless target-postgres's own connection
settings are given, and points ``postgresql://`` URLs at the psycopg 3 driver
that ``use_copy`` needs.

Runs inside target-postgres's own virtualenv (``bronze-core[loader]``).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from sqlalchemy import text
from target_postgres.sinks import PostgresSink
from target_postgres.target import TargetPostgres

from bronze_core.pgsettings import connection_settings

_DRIVER_PREFIXES = ("postgresql://", "postgres://")
_applied_lock = threading.Lock()
_applied_urls: set[str] = set()


def sql_dir() -> Path:
    """Where the bronze DDL lives: ``$BRONZE_SQL_DIR``, else the Meltano project's ``sql/``."""
    configured = os.environ.get("BRONZE_SQL_DIR")
    if configured:
        return Path(configured)
    root = os.environ.get("MELTANO_PROJECT_ROOT")
    if root:
        return Path(root) / "sql"
    raise RuntimeError(
        "target-postgres-bronze: cannot find the bronze DDL. Run it through Meltano "
        "(which sets MELTANO_PROJECT_ROOT) or set BRONZE_SQL_DIR to the project's sql/ folder."
    )


def normalise_url(url: str | None) -> str | None:
    """``postgresql://...`` -> ``postgresql+psycopg://...`` (COPY needs psycopg 3)."""
    if url:
        for prefix in _DRIVER_PREFIXES:
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
    return url or None


def apply_sql(connection, directory: Path) -> None:
    """Run every ``*.sql`` file of ``directory`` in name order (each is idempotent)."""
    files = sorted(directory.glob("*.sql"))
    if not files:
        raise RuntimeError(f"target-postgres-bronze: no .sql files in {directory}")
    # Straight to the driver: the DDL holds '%' (format() in plpgsql), which
    # SQLAlchemy would take for bind placeholders.
    with connection.connection.cursor() as cursor:
        for path in files:
            cursor.execute(path.read_text(encoding="utf-8"))


class BronzeSink(PostgresSink):
    """A PostgresSink whose table is created by ``bronze.ensure_table`` first."""

    def setup(self) -> None:
        with self.connector._connect() as connection, connection.begin():
            url = str(self.connector.sqlalchemy_url)
            with _applied_lock:
                if url not in _applied_urls:
                    apply_sql(connection, sql_dir())
                    _applied_urls.add(url)
            connection.execute(
                text("SELECT bronze.ensure_table(:schema, :table)"),
                {"schema": self.schema_name, "table": self.table_name},
            )
        super().setup()


class TargetPostgresBronze(TargetPostgres):
    """target-postgres with bronze tables created by the project's DDL."""

    default_sink_class = BronzeSink

    def __init__(self, config=None, *args, **kwargs):
        super().__init__(with_connection(load_config(config)), *args, **kwargs)


def load_config(config) -> dict:
    """The target's config as one dict (it may arrive as file paths)."""
    if config is None or isinstance(config, dict):
        return dict(config or {})
    paths = [config] if isinstance(config, (str, os.PathLike)) else list(config)
    merged: dict = {}
    for path in paths:
        merged.update(json.loads(Path(path).read_text(encoding="utf-8")))
    return merged


def with_connection(config: dict) -> dict:
    """Fill in the project's database unless target-postgres's own settings name one."""
    url = config.get("sqlalchemy_url")
    if not url and not config.get("host"):
        root = os.environ.get("MELTANO_PROJECT_ROOT")
        url = connection_settings(dotenv=Path(root) / ".env" if root else None)["url"]
    if url:
        config["sqlalchemy_url"] = normalise_url(url)
    return config


cli = TargetPostgresBronze.cli
