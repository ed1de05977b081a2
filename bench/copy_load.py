"""The COPY limit: bronze records (JSON Lines) into a bronze table, as fast as psycopg goes.

The same table DDL as ours (``bronze.ensure_table``: key, indexes, immutable
rows), the same dedup: COPY into a temporary table, then
``INSERT ... ON CONFLICT (raw_id, raw_hash) DO NOTHING``. No Singer, no SDK:
the floor any loader of these rows can hope for.
"""

from __future__ import annotations

import argparse
import json

import psycopg

COLUMNS = (
    "raw_id",
    "raw_hash",
    "source",
    "raw_data",
    "source_timestamp",
    "validation_status",
    "error_message",
    "metadata",
)


def load(url: str, records: str, schema: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        conn.execute("SELECT bronze.ensure_table(%s, %s)", (schema, table))
        conn.execute(f"CREATE TEMP TABLE stage (LIKE {schema}.{table} INCLUDING DEFAULTS) ON COMMIT DROP")
        with conn.cursor() as cur:
            with (
                cur.copy(f"COPY stage ({', '.join(COLUMNS)}) FROM STDIN") as copy,
                open(records, encoding="utf-8") as lines,
            ):
                for line in lines:
                    r = json.loads(line)
                    copy.write_row(
                        (
                            r["raw_id"],
                            r["raw_hash"],
                            r["source"],
                            json.dumps(r["raw_data"], ensure_ascii=False),
                            r.get("source_timestamp"),
                            r["validation_status"],
                            r.get("error_message"),
                            json.dumps(r.get("metadata"), ensure_ascii=False),
                        )
                    )
            cur.execute(
                f"INSERT INTO {schema}.{table} ({', '.join(COLUMNS)}) "
                f"SELECT {', '.join(COLUMNS)} FROM stage "
                "ON CONFLICT (raw_id, raw_hash) DO NOTHING"
            )
            return cur.rowcount


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--records", required=True)
    parser.add_argument("--schema", default="bench_copy")
    parser.add_argument("--table", required=True)
    args = parser.parse_args()
    print(load(args.url, args.records, args.schema, args.table))


if __name__ == "__main__":
    main()
