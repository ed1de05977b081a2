"""The peer: dlt loading the same bronze records into a jsonb column, merge on the same key.

Runs in the benchmark's own virtualenv (bench/run installs a pinned dlt there;
dlt is not a product dependency).
"""

from __future__ import annotations

import argparse
import json
from urllib.parse import urlsplit, urlunsplit

import dlt


def records(path: str):
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def with_password(url: str) -> str:
    """dlt insists on a password; the embedded server trusts local users and ignores it."""
    parts = urlsplit(url)
    if parts.password is None and parts.username:
        host = parts.netloc.split("@", 1)[1]
        parts = parts._replace(netloc=f"{parts.username}:unused@{host}")
    return urlunsplit(parts)


def load(url: str, path: str, dataset: str, table: str, file_format: str, workdir: str) -> None:
    resource = dlt.resource(
        records(path),
        name=table,
        table_name=table,
        primary_key=("raw_id", "raw_hash"),
        write_disposition="merge",
        columns={
            "raw_id": {"data_type": "text", "nullable": False},
            "raw_hash": {"data_type": "text", "nullable": False},
            "source": {"data_type": "text"},
            "raw_data": {"data_type": "json"},
            "source_timestamp": {"data_type": "timestamp"},
            "validation_status": {"data_type": "text"},
            "error_message": {"data_type": "text"},
            "metadata": {"data_type": "json"},
        },
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_dlt",
        pipelines_dir=workdir,
        destination=dlt.destinations.postgres(credentials=with_password(url)),
        dataset_name=dataset,
    )
    pipeline.run(resource, loader_file_format=file_format)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--records", required=True)
    parser.add_argument("--dataset", default="bench_dlt")
    parser.add_argument("--table", required=True)
    parser.add_argument("--format", default="csv", choices=("csv", "insert_values"))
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    load(args.url, args.records, args.dataset, args.table, args.format, args.workdir)


if __name__ == "__main__":
    main()
