"""BATCH messages: bronze records handed to the loader in JSON Lines files.

Why: in ``meltano run`` every RECORD line crosses three processes. The tap
writes it, Meltano reads and writes it again (about 20 µs of Meltano's CPU a
line), the target reads it; and the tap waits whenever the target is busy
loading, because the pipe between them is small. With singer-sdk's BATCH
messages (the tap's ``batch_config`` setting) the tap writes its records to
files and sends one message per file: Meltano relays a handful of lines and
the target loads one file while the tap writes the next.

singer-sdk's own JSON Lines batcher holds a whole batch in memory and always
gzips. This writer streams each record to its file as it comes (memory stays
flat whatever the batch size), gzips only when ``compression`` says so (at
level 1: the files live for seconds), and names its files with
``FILE_PREFIX`` so the loader deletes only files a bronze tap wrote, once their
rows are committed.

State stays exact: singer-sdk writes the STATE message after each BATCH
message, and the records in a file are exactly those the stream has yielded
when the file is closed. A failure part-way hands over the records read so
far (as RECORD messages would have) and then raises.
"""

from __future__ import annotations

import gzip
import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from uuid import uuid4

from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig

from bronze_core.fast_io import dumpb
from bronze_core.owner_only import open_private, private_dir

#: Every batch file a bronze tap writes starts with this, after the storage prefix.
FILE_PREFIX = "bronze-batch-"
_END = object()

logger = logging.getLogger(__name__)


def write_batches(
    records: Iterator[dict], config: BatchConfig, tap: str, stream: str
) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
    """Write ``records`` to JSON Lines files of ``config.batch_size`` rows; yield each when closed.

    ``tap`` is the Meltano plugin name (``BronzeTap.plugin_name``): the files of
    one plugin are told from another's by it (``remove_stale``).
    """
    storage = config.storage
    gzipped = config.encoding.compression == "gzip"
    run = f"{storage.prefix or ''}{FILE_PREFIX}{tap}--{stream}-{uuid4().hex[:12]}"
    for number in itertools.count(1):
        first = next(records, _END)
        if first is _END:
            return
        name = f"{run}-{number}.jsonl" + (".gz" if gzipped else "")
        failure: Exception | None = None
        with _open(storage, name) as raw:
            out: Any = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) if gzipped else raw
            try:
                out.write(dumpb(first) + b"\n")
                for record in itertools.islice(records, config.batch_size - 1):
                    out.write(dumpb(record) + b"\n")
            except Exception as exc:  # noqa: BLE001 - handed over below, then raised
                failure = exc
            finally:
                if gzipped:
                    out.close()
        yield config.encoding, [storage.get_url(name)]
        if failure is not None:
            raise failure


def _open(storage, name: str):
    """A new batch file: local ones created 0600 in a 0700 folder (they hold every record)."""
    folder = _local(storage.root)
    if folder is None:
        return storage.open(name, "wb")
    return open_private(private_dir(folder) / name, "wb")


def batch_notice(config: BatchConfig, plugin: str) -> str:
    """The once-per-run line saying where batch files go and how to get RECORD messages instead.

    Targets not built on singer-sdk (target-jsonl...) fail on BATCH messages,
    and singer-sdk targets other than the bronze loader leave the files behind.
    """
    variable = plugin.upper().replace("-", "_") + "_BATCH_CONFIG"
    return (
        f"{plugin}: rows go to the loader as BATCH messages, JSON Lines files under "
        f"{config.storage.root} (owner-only) that the bronze loader deletes once loaded. "
        f"For another target, send RECORD messages instead: {variable}='{{}}' "
        "(or no batch_config in the tap's config file)"
    )


def _local(url: str) -> Path | None:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme in ("file", "") else None


def local_path(url: str) -> Path | None:
    """The local file a ``file://`` batch URL names, if it is one a bronze tap wrote."""
    path = _local(url)
    return path if path is not None and FILE_PREFIX in path.name else None


def remove_loaded(url: str) -> None:
    """Delete a batch file whose rows are committed (only files a bronze tap wrote)."""
    path = local_path(url)
    if path is not None:
        path.unlink(missing_ok=True)


def remove_stale(config: BatchConfig, plugin: str) -> int:
    """Delete batch files an earlier run of ``plugin`` left behind (a failed or killed run).

    Called only while the tap holds its run lock (one per Meltano plugin), so
    no run of the same plugin can be writing them; their rows were never
    committed (the loader deletes a file once they are) and this run reads the
    same source again. Files of other plugins are never touched, even those of
    a plugin whose name starts with this one's (``tap-garmin`` and
    ``tap-garmin-export`` share the folder and may run at once): a file is
    ``<plugin>--<stream>-<run>-<n>`` and stream names hold no ``--``.
    """
    folder = _local(config.storage.root)
    if folder is None or not folder.is_dir():
        return 0
    start = f"{config.storage.prefix or ''}{FILE_PREFIX}"
    removed = 0
    for stale in folder.glob(f"{start}{plugin}--*"):
        if stale.name[len(start) :].rsplit("--", 1)[0] != plugin:
            continue
        try:
            os.unlink(stale)
            removed += 1
        except OSError as exc:
            logger.warning("could not remove the stale batch file %s: %s", stale, exc)
    if removed:
        logger.info("%s: removed %d batch file(s) an earlier run left unloaded", plugin, removed)
    return removed
