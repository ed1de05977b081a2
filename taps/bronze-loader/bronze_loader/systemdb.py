"""Meltano's system database in the project's PostgreSQL, found by the project's one rule.

meltano.yml sets ``database_uri: postgresql+psycopg://?plugin=bronze_project&...``.
SQLAlchemy loads this engine plugin (entry point ``sqlalchemy.plugins``) and it
replaces that placeholder with the URL every project command uses
(:func:`bronze_loader.pgsettings.connection_settings`: ``DATABASE_URL``, PG_*, or
the embedded server with its password from the owner-only secret file),
schema ``meltano``. So bookmarks and run history live in the same database as
the rows: a backup, a restore or a dropped database takes both. A plain
``meltano run`` needs no password typed or written into a setting (``meltano
config meltano list`` shows only the placeholder). ``MELTANO_DATABASE_URI``
still overrides it all, as Meltano documents.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import CreateEnginePlugin, make_url

from bronze_loader.pgsettings import SYSTEM_SCHEMA, connection_settings, system_database_url

# One number for pg_advisory_xact_lock: pipelines started together create the schema once.
_SCHEMA_LOCK = 0x6D656C74  # "melt"


class SystemDatabaseNotReady(RuntimeError):
    """The project's database cannot hold Meltano's tables yet; the message says what to do."""


class ProjectSystemDatabase(CreateEnginePlugin):
    """SQLAlchemy engine plugin: the project's database, schema ``meltano`` (created if missing)."""

    def __init__(self, url, kwargs) -> None:
        super().__init__(url, kwargs)
        self.root = Path(url.query.get("project_root") or os.environ.get("MELTANO_PROJECT_ROOT") or ".")
        self._schema_ready = False

    def update_url(self, url):
        """The placeholder becomes the project's database (its own query arguments are dropped)."""
        settings = connection_settings(dotenv=self.root / ".env")
        password_file = settings.get("password_file")
        if password_file and not password_file.exists():
            raise SystemDatabaseNotReady(
                f"Meltano keeps its bookmarks in the project's PostgreSQL, and the embedded one has not "
                f"been set up here yet (no password file {password_file}): run `make up` first, or set "
                "MELTANO_DATABASE_URI to keep them elsewhere"
            )
        return make_url(system_database_url(settings["url"]))

    def engine_created(self, engine) -> None:
        event.listen(engine, "connect", self._ensure_schema)

    def _ensure_schema(self, dbapi_connection, _record) -> None:
        """CREATE SCHEMA meltano once: Meltano's migrations create its tables, not the schema.

        A recreated (or restored-into) database has no schema yet; the check runs on
        each new connection of the process until the schema is there.
        """
        if self._schema_ready:
            return
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SYSTEM_SCHEMA,))
            if cursor.fetchone() is None:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SYSTEM_SCHEMA}")
        dbapi_connection.commit()
        self._schema_ready = True
