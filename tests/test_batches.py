"""BATCH files (bronze_core.batches): streamed, split, handed over on failure, cleaned up."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from singer_sdk.helpers._batch import BatchConfig

from bronze_core.batches import FILE_PREFIX, local_path, remove_loaded, remove_stale, write_batches


def config(folder: Path, size: int, compression: str = "none") -> BatchConfig:
    return BatchConfig.from_dict(
        {
            "encoding": {"format": "jsonl", "compression": compression},
            "storage": {"root": folder.as_uri()},
            "batch_size": size,
        }
    )


def read(url: str) -> list[dict]:
    path = local_path(url)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        return [json.loads(line) for line in handle]


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_records_are_split_into_files_of_batch_size_in_order(tmp_path, compression):
    records = [{"raw_id": str(n), "raw_data": {"n": n, "text": "é\x01"}} for n in range(23)]
    batches = list(write_batches(iter(records), config(tmp_path, 10, compression), "tap-x", "x__y"))
    assert [len(manifest) for _, manifest in batches] == [1, 1, 1]
    contents = [read(manifest[0]) for _, manifest in batches]
    assert [len(c) for c in contents] == [10, 10, 3]
    assert [r for c in contents for r in c] == records
    assert all(encoding.compression == compression for encoding, _ in batches)
    names = [local_path(m[0]).name for _, m in batches]
    assert all(name.startswith(f"{FILE_PREFIX}tap-x--x__y-") for name in names)


def test_no_records_write_no_file(tmp_path):
    assert list(write_batches(iter([]), config(tmp_path, 10), "tap-x", "x__y")) == []
    assert list(tmp_path.iterdir()) == []


def test_each_file_is_complete_before_it_is_announced_and_records_are_not_held(tmp_path):
    produced = []

    def records():
        for n in range(5):
            produced.append(n)
            yield {"n": n}

    batches = write_batches(records(), config(tmp_path, 2), "tap-x", "x__y")
    _, manifest = next(batches)
    assert read(manifest[0]) == [{"n": 0}, {"n": 1}]
    assert produced == [0, 1]  # the third record is not read before the first file is handed over


def test_a_failure_hands_over_the_records_read_so_far_then_raises(tmp_path):
    def records():
        yield {"n": 1}
        yield {"n": 2}
        yield {"n": 3}
        raise RuntimeError("source broke")

    batches = write_batches(records(), config(tmp_path, 2), "tap-x", "x__y")
    assert read(next(batches)[1][0]) == [{"n": 1}, {"n": 2}]
    assert read(next(batches)[1][0]) == [{"n": 3}]
    with pytest.raises(RuntimeError, match="source broke"):
        next(batches)


def test_only_bronze_batch_files_are_ever_deleted(tmp_path):
    mine = tmp_path / f"{FILE_PREFIX}tap-x--x__y-abc-1.jsonl"
    other = tmp_path / "notes.jsonl"
    for path in (mine, other):
        path.write_text("{}\n")
    remove_loaded(other.as_uri())
    remove_loaded("s3://bucket/" + mine.name)
    assert other.exists() and mine.exists()
    remove_loaded(mine.as_uri())
    assert not mine.exists() and other.exists()


def test_stale_files_of_this_tap_are_removed_and_no_others(tmp_path):
    stale = tmp_path / f"{FILE_PREFIX}tap-x--x__y-abc-1.jsonl"
    other_tap = tmp_path / f"{FILE_PREFIX}tap-xy--x__y-abc-1.jsonl"
    unrelated = tmp_path / "keep.jsonl"
    for path in (stale, other_tap, unrelated):
        path.write_text("{}\n")
    assert remove_stale(config(tmp_path, 10), "tap-x") == 1
    assert not stale.exists() and other_tap.exists() and unrelated.exists()
    assert remove_stale(config(tmp_path / "missing", 10), "tap-x") == 0
