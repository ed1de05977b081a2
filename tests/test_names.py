"""Stream, table and index names that never collide, whatever the user calls a folder or table.

PostgreSQL cuts names at 63 bytes and keeps tables and indexes in one
namespace per schema. On main a 120-character Airtable table became a
63-character table whose index names, cut to 63 too, equalled the table's own
name (so no index was made); a tap-manual folder ``a_raw_data_idx`` was the
name of an index of folder ``a``'s table (every run failed); ``体重`` was
refused. The tests run real ``meltano run``s into a fresh database.
"""

from __future__ import annotations

import json
import re

import psycopg

from bronze_core.streams import stream_name
from tests.reliability.cases import API_TAPS

AIRTABLE = next(t for t in API_TAPS if t.name == "tap-airtable")
LONG = "Inventory of every single thing in the garage, the attic and the cellar, sorted by shelf, box and the year it was bought"  # noqa: E501
#: Folders whose tables, on main, collided with an index name or were refused.
FOLDERS = ["a", "a_raw_data_idx", "a_pkey", "a_source_timestamp_idx", "体重", "Größe", "x" * 120, "x" * 119 + "y"]
#: Every index a bronze table must have: (access method, column), plus the key.
INDEXES = {
    ("btree", "source_timestamp"),
    ("btree", "validation_status"),
    ("gin", "raw_data"),
    ("btree", "raw_id,raw_hash"),
    ("brin", "ingested_at"),
}


def test_plain_ascii_labels_keep_todays_names():
    assert stream_name("airtable", "Body measurements") == "airtable__body_measurements"
    assert stream_name("manual", "water_intake") == "manual__water_intake"
    assert stream_name("manual", "a_raw_data_idx") == "manual__a_raw_data_idx"
    assert stream_name("manual", 'x"; DROP TABLE bronze.y; --') == "manual__x_drop_table_bronze_y"


def test_cut_and_transliterated_names_fit_and_stay_apart():
    names = {
        label: stream_name("airtable", label)
        for label in [LONG, LONG + "!", LONG[:-1] + "?", "体重", "体温", "Größe", "Grösse", "ü😀", "😀", "!!!"]
    }
    assert len(set(names.values())) == len(names), names
    for name in names.values():
        assert re.fullmatch(r"[a-z0-9_]{1,63}", name), name
        assert re.fullmatch(r"airtable__[a-z0-9_]+__[0-9a-f]{10}", name), name
    assert names["体重"].startswith("airtable__u4f53_u91cd__")
    assert names["Größe"].startswith("airtable__grosse__")
    # Deterministic: the same label names the same table in every run.
    assert stream_name("airtable", LONG) == names[LONG]


def run_manual(meltano, folder, check=True):
    return meltano.run(
        "run", "tap-manual", "target-postgres", check=check, extra_env={"TAP_MANUAL_MANUAL_DIR": str(folder)}
    )


def index_shapes(meltano, table: str) -> dict[tuple[str, str], str]:
    """(access method, columns) -> index name, for every index of bronze.<table>."""
    rows = meltano.query(
        "SELECT am.amname, string_agg(a.attname, ',' ORDER BY k.n), i.relname "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam "
        "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
        "WHERE x.indrelid = %s::regclass GROUP BY am.amname, i.relname",
        f"bronze.{table}",
    )
    shapes = {(method, columns): name for method, columns, name in rows}
    assert len(shapes) == len(rows), f"{table}: an index is there twice: {rows}"
    return shapes


def relation_names(meltano) -> set[str]:
    return {
        name for (name,) in meltano.query("SELECT relname FROM pg_class WHERE relnamespace = 'bronze'::regnamespace")
    }


def assert_one_table_per_folder(meltano, folders):
    tables = {folder: stream_name("manual", folder) for folder in folders}
    assert len(set(tables.values())) == len(folders)
    for folder, table in tables.items():
        rows = meltano.query(f"SELECT raw_id, raw_data FROM bronze.{table}")
        assert rows == [(f"{folder}-1", {"id": f"{folder}-1", "folder": folder})], table
        assert set(index_shapes(meltano, table)) == INDEXES, table
    return tables


def write_folders(root, folders):
    for folder in folders:
        (root / folder).mkdir(parents=True)
        (root / folder / "log.jsonl").write_text(
            json.dumps({"id": f"{folder}-1", "folder": folder}, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def test_folders_named_like_indexes_long_or_non_latin_each_get_an_indexed_table(meltano, tmp_path):
    write_folders(tmp_path / "manual", FOLDERS)
    run_manual(meltano, tmp_path / "manual")
    tables = assert_one_table_per_folder(meltano, FOLDERS)
    assert len(relation_names(meltano)) == len(set(relation_names(meltano)))
    # Nothing changes on a second run: no new table, no index built twice.
    before = relation_names(meltano)
    run_manual(meltano, tmp_path / "manual")
    assert relation_names(meltano) == before
    assert tables["体重"].startswith("manual__u4f53_u91cd__")


#: What sql/001_bronze.sql's ensure_table made of a table up to commit 20cee02: the key's
#: index as PostgreSQL names it, the other three named ``<table>_<column>_idx``, and no
#: index on ingested_at (added later: the next load builds it).
OLDER_TABLE = """
CREATE SCHEMA IF NOT EXISTS bronze;
CREATE TABLE bronze.manual__a (
    raw_id text NOT NULL, raw_hash text NOT NULL, source text NOT NULL, raw_data jsonb NOT NULL,
    source_timestamp timestamptz, ingested_at timestamptz NOT NULL DEFAULT now(),
    validation_status text NOT NULL CHECK (validation_status IN ('valid', 'invalid', 'warning')),
    error_message text, metadata jsonb, PRIMARY KEY (raw_id, raw_hash));
CREATE INDEX manual__a_source_timestamp_idx ON bronze.manual__a (source_timestamp);
CREATE INDEX manual__a_validation_status_idx ON bronze.manual__a (validation_status);
CREATE INDEX manual__a_raw_data_idx ON bronze.manual__a USING gin (raw_data);
"""


def test_tables_made_by_older_ddl_keep_their_indexes_and_free_their_names(meltano, tmp_path):
    with psycopg.connect(meltano.database_url, autocommit=True) as conn:
        conn.execute(OLDER_TABLE)
    assert {"manual__a_pkey", "manual__a_raw_data_idx"} <= relation_names(meltano)
    write_folders(tmp_path / "manual", ["a", "a_raw_data_idx", "a_pkey"])
    run_manual(meltano, tmp_path / "manual")
    assert_one_table_per_folder(meltano, ["a", "a_raw_data_idx", "a_pkey"])


def test_airtable_tables_with_long_and_non_latin_names(meltano):
    with AIRTABLE.make_fake() as fake:
        fake.tables[LONG] = fake.tables.pop("Inventory")
        fake.tables["体重"] = fake.tables.pop("Body measurements")
        tables = [{"name": LONG, "last_modified_field": "Last modified"}, "体重"]
        meltano.run(
            "run",
            "tap-airtable",
            "target-postgres",
            extra_env=AIRTABLE.env(fake, tables=json.dumps(tables, ensure_ascii=False)),
        )
        for label in (LONG, "体重"):
            table = stream_name("airtable", label)
            ids = sorted(raw_id for (raw_id,) in meltano.query(f"SELECT raw_id FROM bronze.{table}"))
            assert ids == sorted(r["id"] for r in fake.tables[label]), table
            assert set(index_shapes(meltano, table)) == INDEXES, table
