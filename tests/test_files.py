"""File import helpers: finding files in folders and zips, checksums, streaming parse."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from bronze_core.files import FileFormatError, iter_json_array, list_files

PATTERNS = ["*DI-Connect-Wellness/*_sleepData.json"]


def test_finds_files_by_pattern_at_any_depth(tmp_path):
    wanted = tmp_path / "uuid" / "DI_CONNECT" / "DI-Connect-Wellness" / "a_1_sleepData.json"
    wanted.parent.mkdir(parents=True)
    wanted.write_text("[]")
    (wanted.parent / "other.json").write_text("[]")
    found = list_files(tmp_path, PATTERNS)
    assert [f.relative_path for f in found] == ["uuid/DI_CONNECT/DI-Connect-Wellness/a_1_sleepData.json"]
    assert found[0].sha256() == hashlib.sha256(b"[]").hexdigest()


def test_zip_members_are_read_in_place_never_extracted(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escape/DI-Connect-Wellness/x_sleepData.json", '[{"calendarDate": "2024-01-01"}]')
        zf.writestr("/abs/DI-Connect-Wellness/y_sleepData.json", "[]")
    before = set(tmp_path.parent.rglob("*"))
    found = list_files(archive, PATTERNS)
    assert len(found) == 2
    items = list(iter_json_array(found[0]))
    assert items == [(0, {"calendarDate": "2024-01-01"})]
    assert set(tmp_path.parent.rglob("*")) == before, "something was written while reading the zip"
    assert found[0].display_path.startswith(str(archive) + "!")


def test_numbers_keep_their_json_meaning(tmp_path):
    path = tmp_path / "DI-Connect-Wellness" / "n_sleepData.json"
    path.parent.mkdir()
    path.write_text('[{"i": 12345678901, "f": 1715670131000.0, "d": 0.1}]')
    ((_, item),) = iter_json_array(list_files(tmp_path, PATTERNS)[0])
    assert item == {"i": 12345678901, "f": 1715670131000.0, "d": 0.1}
    assert isinstance(item["i"], int) and isinstance(item["f"], float)


def test_broken_json_names_file_and_line(tmp_path):
    path = tmp_path / "DI-Connect-Wellness" / "b_sleepData.json"
    path.parent.mkdir()
    path.write_text('[\n{"a": 1},\n{"a": 2},\n{"a": \n')
    source = list_files(tmp_path, PATTERNS)[0]
    got = []
    with pytest.raises(FileFormatError) as error:
        for item in iter_json_array(source):
            got.append(item)
    assert got == [(0, {"a": 1}), (1, {"a": 2})]
    assert str(path) in str(error.value) and "line 5" in str(error.value)


def test_a_file_that_is_not_a_zip_is_reported(tmp_path):
    bogus = tmp_path / "export.zip"
    bogus.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(FileFormatError, match="not a zip"):
        list_files(bogus, PATTERNS)
    with pytest.raises(FileNotFoundError, match="export not found"):
        list_files(tmp_path / "missing", PATTERNS)
