"""Line-based file readers (CSV, JSON Lines) and the append-aware fingerprint."""

from __future__ import annotations

import hashlib

import pytest

from bronze_core.file_streams import BronzeFileStream, fingerprint
from bronze_core.files import FileFormatError, ResumePoint, iter_csv_rows, iter_json_lines, list_files


def one_file(tmp_path, name, data: bytes):
    (tmp_path / name).write_bytes(data)
    (found,) = list_files(tmp_path, [name])
    return found


def test_csv_rows_are_strings_keyed_by_header_with_their_line(tmp_path):
    source = one_file(
        tmp_path,
        "a.csv",
        b"\xef\xbb\xbfId,Time,Value\r\n"
        b"2022484408,4/12/2016 7:21:00 AM,97\r\n\r\n"
        b'1503960366,"4/12/2016 12:00:00 AM","multi\nline"\n',
    )
    rows = list(iter_csv_rows(source))
    assert [(r.line, r.payload, r.defects) for r in rows] == [
        (2, {"Id": "2022484408", "Time": "4/12/2016 7:21:00 AM", "Value": "97"}, []),
        (4, {"Id": "1503960366", "Time": "4/12/2016 12:00:00 AM", "Value": "multi\nline"}, []),
    ]


def test_csv_bad_bytes_and_wrong_column_counts_are_kept_and_flagged(tmp_path):
    source = one_file(tmp_path, "b.csv", b"Id,Value\n1,ok\n2,caf\xe9\n3,a\x00b\n4\n5,x,y\n6,fine\n")
    rows = list(iter_csv_rows(source))
    assert [r.payload["Id"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    by_id = {r.payload["Id"]: r for r in rows}
    assert by_id["1"].defects == [] and by_id["6"].defects == []
    assert by_id["2"].payload["Value"] == "caf\\xe9"
    assert by_id["2"].defects == [f"{source.display_path}, line 3: invalid UTF-8 at byte 6 of the line"]
    assert by_id["3"].payload["Value"] == "a\\x00b"
    assert "line 4: NUL byte" in by_id["3"].defects[0]
    assert "line 5: 1 fields, the header has 2" in by_id["4"].defects[0]
    assert by_id["5"].payload["_extra"] == ["y"] and "line 6: 3 fields" in by_id["5"].defects[0]


def test_a_field_over_the_csv_limit_lands_whole_and_the_rows_after_it_still_land(tmp_path):
    # One-line and multi-line (quoted) records over the limit; the limit is lowered
    # here only to keep the file small (tap tests use the real 16 MiB one).
    source = one_file(
        tmp_path,
        "c.csv",
        b"Id,Value\n1,ok\n" + b"2," + b"x" * 100 + b'\n3,"' + b"y" * 60 + b"\n" + b"z" * 60 + b'"\n4,fine\n',
    )
    import csv

    limit = csv.field_size_limit(50)
    try:
        rows = list(iter_csv_rows(source))
    finally:
        csv.field_size_limit(limit)
    assert [(r.line, r.payload) for r in rows] == [
        (2, {"Id": "1", "Value": "ok"}),
        (3, {"Id": "2", "Value": "x" * 100}),
        (4, {"Id": "3", "Value": "y" * 60 + "\n" + "z" * 60}),
        (6, {"Id": "4", "Value": "fine"}),
    ]
    assert rows[0].defects == [] and rows[3].defects == []
    assert rows[1].defects == [
        f"{source.display_path}, line 3: field larger than field limit (50) in 'Value'; the row is kept whole"
    ]
    assert "line 4: field larger than field limit (50) in 'Value'" in rows[2].defects[0]


def test_a_header_over_the_csv_limit_names_path_and_line(tmp_path):
    source = one_file(tmp_path, "h.csv", b"Id,Value," + b"N" * 100 + b"\n1,ok,\n")
    import csv

    limit = csv.field_size_limit(50)
    try:
        with pytest.raises(FileFormatError) as err:
            list(iter_csv_rows(source))
    finally:
        csv.field_size_limit(limit)
    assert err.value.path.endswith("h.csv") and err.value.line == 1
    assert "unreadable CSV header (field larger than field limit (50)" in str(err.value)


def test_a_repeated_header_name_keeps_every_column_and_flags_every_row(tmp_path):
    source = one_file(
        tmp_path,
        "d.csv",
        b"Id,ActivityDate,TotalSteps,TotalSteps,TotalSteps__2\r\n1503960366,4/12/2016,13162,999,x\r\n",
    )
    (row,) = iter_csv_rows(source)
    assert row.payload == {
        "Id": "1503960366",
        "ActivityDate": "4/12/2016",
        "TotalSteps": "13162",
        "TotalSteps__3": "999",
        "TotalSteps__2": "x",
    }
    assert row.defects == [
        f"{source.display_path}, line 1: the header repeats 'TotalSteps' "
        "(columns 3, 4); every column is kept, the repeats as 'TotalSteps__3'"
    ]


def test_json_lines_keep_bad_lines_as_invalid_rows(tmp_path):
    source = one_file(tmp_path, "d.jsonl", b'{"id": 1}\n\n{"id": 2,\n[1, 2]\n')
    rows = list(iter_json_lines(source))
    assert [(r.line, r.payload) for r in rows] == [(1, {"id": 1}), (3, {"_line": '{"id": 2,'}), (4, [1, 2])]
    assert rows[0].defects == [] and "line 3: invalid JSON" in rows[1].defects[0]


def test_resume_reads_only_the_appended_rows_with_true_line_numbers(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(b"Id,Value\n1,a\n2,b\n")
    (source,) = list_files(tmp_path, ["e.csv"])
    first = fingerprint(source)
    assert (first.size, first.lines) == (17, 3)
    with open(path, "ab") as handle:
        handle.write(b"3,c\n")
    (source,) = list_files(tmp_path, ["e.csv"])
    now = fingerprint(source, prefix_size=first.size)
    assert now.prefix_sha256 == first.sha256 and now.prefix_ends_line
    assert now.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()

    class Appendable(BronzeFileStream):
        appendable = True

    resume = Appendable.resume_point(Appendable.__new__(Appendable), first.as_state(), now)
    assert resume == ResumePoint(offset=17, line=4)
    assert [(r.line, r.payload) for r in iter_csv_rows(source, resume)] == [(4, {"Id": "3", "Value": "c"})]


def test_an_edited_file_is_not_resumed(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"Id,Value\n1,a\n")
    (source,) = list_files(tmp_path, ["f.csv"])
    first = fingerprint(source)
    path.write_bytes(b"Id,Value\n1,A\n2,b\n")
    now = fingerprint(source, prefix_size=first.size)
    stream = BronzeFileStream.__new__(BronzeFileStream)
    type(stream).appendable = True
    try:
        assert stream.resume_point(first.as_state(), now) is None
    finally:
        type(stream).appendable = False


def test_a_last_line_without_newline_is_not_resumed_mid_line(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes(b"Id,Value\n1,a")
    (source,) = list_files(tmp_path, ["g.csv"])
    first = fingerprint(source)
    path.write_bytes(b"Id,Value\n1,ab\n")
    now = fingerprint(source, prefix_size=first.size)
    assert now.prefix_sha256 == first.sha256 and not now.prefix_ends_line


def test_a_file_being_written_is_read_only_up_to_what_was_checksummed(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(b"Id,Value\n1,a\n")
    (source,) = list_files(tmp_path, ["h.csv"])
    mtime = source.mtime_ns()
    seen = fingerprint(source)
    with open(path, "ab") as handle:  # a writer appends half a row after the checksum
        handle.write(b"2,b\n3,")
    rows = list(iter_csv_rows(source.bounded(seen.size)))
    assert [r.payload for r in rows] == [{"Id": "1", "Value": "a"}]
    assert source.changed_since(seen.size, mtime), "the stream must not mark it done"
    assert not list_files(tmp_path, ["h.csv"])[0].changed_since(path.stat().st_size, path.stat().st_mtime_ns)
