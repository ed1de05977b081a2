"""The bronze loader: MeltanoLabs target-postgres, made to create bronze tables first.

target-postgres creates a missing table from the stream's JSON Schema, which
would give ``timestamp without time zone`` time columns and no indexes. This
thin wrapper (same settings, same code path for loading) applies the project's
``sql/`` files (under an advisory lock, and only when they changed: see
``apply_sql``) and calls ``bronze.ensure_table`` for each stream
before target-postgres prepares it. It also finds the database the way every
command of the project does (``bronze_loader.pgsettings``: ``DATABASE_URL``, else
``PG_*``, else the embedded server) unless target-postgres's own connection
settings are given, and points ``postgresql://`` URLs at the psycopg 3 driver
that ``use_copy`` needs.

Fast path (``fast_copy``, on by default): a bronze stream has a fixed
envelope, so its records skip target-postgres's per-record dict rebuilding,
timestamp parsing and generic upsert. Each record becomes one row tuple; a
full batch is COPYed into a temporary table and moved with
``INSERT ... ON CONFLICT (raw_id, raw_hash) DO NOTHING``. Same tables, same
key, same dedup as the stock upsert (whose UPDATE of an existing key is a
no-op under the immutable-row trigger): the first landing of a key is kept.
Streams that are not plain bronze envelopes, stream maps, record metadata or
``validate_records`` take the stock path.

BATCH messages (``bronze_core.batches``): a JSON Lines batch file of bronze
envelopes is streamed line by line into the same COPY, committed, then
deleted.

Runs inside target-postgres's own virtualenv (meltano.yml's ``pip_url``:
the pinned target-postgres, ``bronze-core`` and this package). The envelope's
columns and key come from ``bronze_core.envelope``, where taps build it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from psycopg import sql
from singer_sdk.helpers._batch import StorageTarget
from singer_sdk.mapper import SameRecordTransform
from sqlalchemy import text
from target_postgres.sinks import PostgresSink
from target_postgres.target import TargetPostgres

from bronze_core.batches import remove_loaded
from bronze_core.envelope import BRONZE_COLUMNS, BRONZE_JSON_COLUMNS, BRONZE_KEY
from bronze_core.fast_io import dumps as serialize_json
from bronze_core.fast_io import loadb
from bronze_loader.pgsettings import connection_settings

_DRIVER_PREFIXES = ("postgresql://", "postgres://")
_applied_lock = threading.Lock()
_applied_urls: set[str] = set()
#: How the comment of schema ``bronze`` records the DDL in place (``apply_sql``).
DDL_COMMENT_PREFIX = "bronze layer; DDL from sql/ applied, sha256 "


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
                return "postgresql+psycopg://" + url[len(prefix) :]
    return url or None


def ddl_digest(files: list[Path]) -> str:
    """sha256 over the names and contents of the DDL files: changes when any of them does."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def apply_sql(connection, directory: Path) -> bool:
    """Run every ``*.sql`` file of ``directory`` in name order, unless this DDL is in place already.

    Runs in the caller's transaction, under a transaction-level advisory
    lock: loaders that start together (schedules firing at once) would
    otherwise replace the same functions at once, and PostgreSQL fails all
    but one with "tuple concurrently updated". The files' digest is kept in
    the comment of schema ``bronze`` (no extra table where bronze tables are
    listed); a run whose DDL matches it changes nothing and takes no catalog
    lock. Returns whether the files ran.
    """
    files = sorted(directory.glob("*.sql"))
    if not files:
        raise RuntimeError(f"target-postgres-bronze: no .sql files in {directory}")
    wanted = f"{DDL_COMMENT_PREFIX}{ddl_digest(files)}"
    # Straight to the driver: the DDL holds '%' (format() in plpgsql), which
    # SQLAlchemy would take for bind placeholders.
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('bronze.apply_sql'))")
        cursor.execute("SELECT obj_description(to_regnamespace('bronze'), 'pg_namespace')")
        if cursor.fetchone()[0] == wanted:
            return False
        for path in files:
            cursor.execute(path.read_text(encoding="utf-8"))
        cursor.execute(sql.SQL("COMMENT ON SCHEMA bronze IS {}").format(sql.Literal(wanted)))
    return True


#: Where the JSON columns sit in a row, serialised on their way into COPY.
_JSON_AT = tuple(n for n, name in enumerate(BRONZE_COLUMNS) if name in BRONZE_JSON_COLUMNS)
#: A record without these is no envelope (the key, and the payload).
_NEEDED = (*BRONZE_KEY, "raw_data")


class BronzeSink(PostgresSink):
    """A PostgresSink whose table is created by ``bronze.ensure_table`` first.

    Bronze envelopes are loaded by COPY + ``INSERT ... ON CONFLICT DO NOTHING``
    (see the module docstring) unless ``fast_copy`` is false.
    """

    @property
    def fast(self) -> bool:
        """Whether this stream's records are plain bronze envelopes to COPY."""
        cached = getattr(self, "_fast", None)
        if cached is None:
            cached = self._fast = bool(
                self.config.get("fast_copy", True)
                and set(self.schema.get("properties", {})) == set(BRONZE_COLUMNS)
                and list(self.key_properties or []) == list(BRONZE_KEY)
            )
        return cached

    def envelope_row(self, record: dict) -> tuple:
        """One record as the tuple COPY writes (``BRONZE_COLUMNS`` order); JSON columns
        serialised as the SDK does, a missing optional column NULL."""
        for name in _NEEDED:
            if name not in record:
                raise ValueError(f"{self.stream_name}: record without {name!r} is no bronze envelope")
        row = [record.get(name) for name in BRONZE_COLUMNS]
        for at in _JSON_AT:
            if row[at] is not None or BRONZE_COLUMNS[at] in _NEEDED:
                row[at] = serialize_json(row[at])
        if self.connector.sanitize_null_text_characters:
            return tuple(v.replace("\u0000", "\ufffd") if isinstance(v, str) else v for v in row)
        return tuple(row)

    def process_record(self, record: dict, context: dict) -> None:
        if not self.fast:
            self.prepare_stock()
            super().process_record(record, context)
            return
        context.setdefault("rows", []).append(self.envelope_row(record))

    def process_batch(self, context: dict) -> None:
        if not self.fast or "records" in context:
            self.prepare_stock()
            super().process_batch(context)
            return
        if context.get("rows"):
            self.copy_rows(context["rows"])

    def copy_rows(self, rows: Iterable[tuple]) -> int:
        """COPY envelope rows into a temporary table, then move them over; one transaction.

        ``rows`` may be a generator: rows go to the server as they come, so a
        batch file is loaded without holding it in memory.
        """
        target = sql.Identifier(self.schema_name or "public", self.table_name)
        columns = sql.SQL(", ").join(map(sql.Identifier, BRONZE_COLUMNS))
        key = sql.SQL(", ").join(map(sql.Identifier, BRONZE_KEY))
        count = 0
        with self.connector._connect() as connection, connection.begin():
            with connection.connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("CREATE TEMP TABLE bronze_stage (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(target)
                )
                with cursor.copy(sql.SQL("COPY bronze_stage ({}) FROM STDIN").format(columns)) as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                if count:
                    cursor.execute(
                        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM bronze_stage ON CONFLICT ({}) DO NOTHING").format(
                            target, columns, columns, key
                        )
                    )
        return count

    def process_batch_files(self, encoding, files) -> None:
        """BATCH messages of bronze envelopes: each file streamed into COPY, then deleted.

        A file is deleted only after its rows are committed, and only if a
        bronze tap wrote it (``bronze_core.batches``); one that fails to load
        stays for the next run of its tap to clear. Other formats, and streams
        that are no plain bronze envelopes, take singer-sdk's path.
        """
        if not self.fast or encoding.format != "jsonl" or self.include_sdc_metadata_properties:
            self.prepare_stock()
            super().process_batch_files(encoding, files)
            return
        storage = self.batch_config.storage if self.batch_config else None
        for url in files:
            head, tail = StorageTarget.split_url(url)
            with (storage or StorageTarget.from_url(head)).open(tail, mode="rb") as raw:
                lines = gzip.GzipFile(fileobj=raw) if encoding.compression == "gzip" else raw
                count = self.copy_rows(self.envelope_row(loadb(line)) for line in lines if not line.isspace())
            self.record_counter_metric.increment(count)
            remove_loaded(url)

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
        self._stock_ready = False

    def prepare_stock(self) -> None:
        """target-postgres's own table preparation, run before the first stock-path load.

        It reflects the table through SQLAlchemy (about 20 ms a stream) only
        to add columns the schema has and the table lacks. A bronze table made
        by ``ensure_table`` has every envelope column, so the COPY path never
        needs it, and a run that brings nothing new skips it for every stream.
        """
        if not getattr(self, "_stock_ready", False):
            super().setup()
            self._stock_ready = True

    def activate_version(self, new_version: int) -> None:
        self.prepare_stock()
        super().activate_version(new_version)


class TargetPostgresBronze(TargetPostgres):
    """target-postgres with bronze tables created by the project's DDL."""

    default_sink_class = BronzeSink

    def __init__(self, config=None, *args, **kwargs):
        super().__init__(with_connection(load_config(config)), *args, **kwargs)
        self._lean: dict[str | None, BronzeSink] = {}  # by the message's "stream"

    def _process_schema_message(self, message_dict: dict) -> None:
        self._lean.pop(message_dict.get("stream"), None)
        super()._process_schema_message(message_dict)

    def _process_record_message(self, message_dict: dict) -> None:
        """Bronze envelopes go straight to their sink's row buffer; others the SDK way.

        The lean path applies once the stock path has handled a stream's first
        record and shown it needs nothing per record: no stream map, no record
        metadata, no validation.
        """
        sink = self._lean.get(message_dict.get("stream"))
        if sink is None:
            super()._process_record_message(message_dict)
            self._enable_lean(message_dict.get("stream"))
            return
        sink.process_record(message_dict["record"], sink._get_context(message_dict["record"]))
        sink.tally_record_read()
        sink.record_counter_metric.increment()
        if sink.is_full:
            self.drain_one(sink)
        self._handle_max_record_age()

    def _enable_lean(self, stream: str | None) -> None:
        maps = self.mapper.stream_maps.get(stream) or []
        if (
            len(maps) != 1
            or not isinstance(maps[0], SameRecordTransform)
            or maps[0].stream_alias != stream
            or self.config.get("stream_maps")
            or self.config.get("flattening_enabled")
        ):
            return
        sink = self._sinks_active.get(stream)
        if (
            isinstance(sink, BronzeSink)
            and sink.fast
            and sink._validator is None
            and not sink.include_sdc_metadata_properties
        ):
            self._lean[stream] = sink


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
