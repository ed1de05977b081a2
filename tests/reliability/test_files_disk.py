"""Disk-side failures of file imports, for every file tap in ``FILE_TAPS``.

- A file that vanishes between the listing and the reading is reported (path
  and cause), the other files still land, and it is not marked done.
- A file still being written (cut off mid-JSON) lands the items before the
  cut, is reported, is not marked done, and is read whole on the next run.

Runs the tap's streams in process (the meltano path of file taps is covered
by their end-to-end tests and by the zip-bomb case in test_security.py).
"""

from __future__ import annotations

import json

import pytest

from bronze_core import file_streams
from tests.fakes.garmin_export import expected_counts, write_export
from tests.reliability.cases import FILE_TAPS

STREAM = "garmin__export_daily_summary"  # two UDS files in the sample layout


def garmin_export_tap(folder, state=None):
    from tap_garmin.tap import TapGarmin

    return TapGarmin(config={"export_path": str(folder)}, state=state or {})


#: How to build each file tap on a folder (new file taps add a factory here).
FACTORIES = {"tap-garmin-export": (garmin_export_tap, write_export, STREAM)}


def read(tap, stream_name):
    stream = tap.streams[stream_name]
    rows = list(stream.get_records(None))
    return rows, stream.stream_state.get("files", {}), list(tap.problems)


@pytest.mark.parametrize("file_tap", FILE_TAPS)
def test_a_file_that_vanishes_after_listing_is_reported_and_the_rest_lands(tmp_path, monkeypatch, file_tap):
    make_tap, write, stream_name = FACTORIES[file_tap]
    folder = write(tmp_path / "export", days=10)
    listed = file_streams.list_files

    def list_then_vanish(root, patterns, **options):
        found = listed(root, patterns, **options)
        (folder / found[0].relative_path).unlink()
        return found

    monkeypatch.setattr(file_streams, "list_files", list_then_vanish)
    rows, done, problems = read(make_tap(folder), stream_name)
    assert rows, "the other files did not land"
    assert len(problems) == 1 and "No such file" in problems[0]
    assert len(done) == 1  # the vanished file is not marked done


@pytest.mark.parametrize("file_tap", FILE_TAPS)
def test_a_file_still_being_written_is_read_again_whole_next_time(tmp_path, file_tap):
    make_tap, write, stream_name = FACTORIES[file_tap]
    folder = write(tmp_path / "export", days=10)
    tap = make_tap(folder)
    first_file = min(folder.rglob("UDSFile_*.json"))
    whole = first_file.read_bytes()
    first_file.write_bytes(whole[: len(whole) // 2])  # the writer is half-way
    partial, done, problems = read(tap, stream_name)
    assert len(problems) == 1 and first_file.name in problems[0]
    assert first_file.name not in json.dumps(done)

    first_file.write_bytes(whole)  # the writer finished
    rows, done, problems = read(make_tap(folder, state={"bookmarks": {stream_name: {"files": done}}}), stream_name)
    assert not problems and len(done) == 2
    ids = {r["raw_id"] for r in partial} | {r["raw_id"] for r in rows}
    assert len(ids) == expected_counts(days=10)["daily_summary"]


def test_an_unexpected_error_in_one_file_is_reported_and_the_other_files_land(tmp_path, monkeypatch):
    """A reader failing in a way nobody foresaw (as RecursionError once did) costs its file,
    named in the log and the run's failure, not the stream or the tap."""
    folder = write_export(tmp_path / "export", days=10)
    real = file_streams.iter_json_array

    def fails_on_the_first(source, prefix="item"):
        if source.relative_path.endswith(sorted_uds(folder)[0]):
            raise RecursionError("maximum recursion depth exceeded")
        return real(source, prefix)

    monkeypatch.setattr(file_streams, "iter_json_array", fails_on_the_first)
    rows, done, problems = read(garmin_export_tap(folder), STREAM)
    assert rows, "the other file did not land"
    assert len(problems) == 1 and "RecursionError" in problems[0] and sorted_uds(folder)[0] in problems[0]
    assert len(done) == 1  # the failed file is not marked done


def sorted_uds(folder):
    return sorted(p.name for p in folder.rglob("UDSFile_*.json"))
