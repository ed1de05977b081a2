"""File import helpers: finding files in folders and zips, checksums, streaming parse."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import zipfile

import pytest

from bronze_core.file_streams import fingerprint
from bronze_core.files import FileFormatError, iter_json_array, iter_xml_elements, list_files

PATTERNS = ["*DI-Connect-Wellness/*_sleepData.json"]


@contextlib.contextmanager
def nothing_written(folder, monkeypatch):
    """Fail if reading extracts a zip member or writes a file: into ``folder`` or a temp file.

    Temp files are sent to an empty folder inside ``folder`` and zip extraction raises, so the
    check sees only this test's own writes (other tests' folders can change meanwhile).
    """
    scratch = folder / "scratch-temp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    def refuse(*args, **kwargs):
        raise AssertionError("a zip member was extracted")

    monkeypatch.setattr(zipfile.ZipFile, "extract", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)
    before = set(folder.rglob("*"))
    yield
    assert set(folder.rglob("*")) == before, "something was written while reading the zip"


def test_finds_files_by_pattern_at_any_depth(tmp_path):
    wanted = tmp_path / "uuid" / "DI_CONNECT" / "DI-Connect-Wellness" / "a_1_sleepData.json"
    wanted.parent.mkdir(parents=True)
    wanted.write_text("[]")
    (wanted.parent / "other.json").write_text("[]")
    found = list_files(tmp_path, PATTERNS)
    assert [f.relative_path for f in found] == ["uuid/DI_CONNECT/DI-Connect-Wellness/a_1_sleepData.json"]
    assert fingerprint(found[0]).sha256 == hashlib.sha256(b"[]").hexdigest()


def test_zip_members_are_read_in_place_never_extracted(tmp_path, monkeypatch):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escape/DI-Connect-Wellness/x_sleepData.json", '[{"calendarDate": "2024-01-01"}]')
        zf.writestr("/abs/DI-Connect-Wellness/y_sleepData.json", "[]")
    with nothing_written(tmp_path, monkeypatch):
        found = list_files(archive, PATTERNS)
        assert len(found) == 2
        items = list(iter_json_array(found[0]))
    assert items == [(0, {"calendarDate": "2024-01-01"})]
    assert not (tmp_path.parent.parent / "escape").exists()
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


XML_PATTERNS = ["export.xml", "*/export.xml"]


def test_xml_elements_stream_with_their_lines(tmp_path):
    from bronze_core.files import iter_xml_elements

    path = tmp_path / "export.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n<!ELEMENT HealthData ANY>\n]>\n'
        '<HealthData>\n <Me a="1"/>\n <Record type="a">\n  <MetadataEntry key="k" value="v"/>\n'
        ' </Record>\n <Record type="b&amp;c"/>\n <Other><Record type="inner"/></Other>\n</HealthData>\n'
    )
    (source,) = list_files(path, XML_PATTERNS)  # a bare file is its own root
    found = [
        (line, el.tag, el.get("type"), [c.attrib for c in el]) for line, el in iter_xml_elements(source, ["Record"])
    ]
    assert found == [
        (7, "Record", "a", [{"key": "k", "value": "v"}]),
        (10, "Record", "b&c", []),
        (11, "Record", "inner", []),
    ]
    assert source.display_path == str(path)


def test_broken_xml_names_file_and_line_after_the_good_elements(tmp_path):
    from bronze_core.files import iter_xml_elements

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(
            "apple_health_export/export.xml",
            '<HealthData>\n <Record type="a"/>\n <Record type="b"/>\n <Record type="c" value="1\n',
        )
    (source,) = list_files(archive, XML_PATTERNS)
    got = []
    with pytest.raises(FileFormatError) as error:
        for _line, element in iter_xml_elements(source, ["Record"]):
            got.append(element.get("type"))
    assert got == ["a", "b"]
    assert f"{archive}!apple_health_export/export.xml, line 4" in str(error.value)


def test_xml_entity_declarations_are_refused(tmp_path):
    from bronze_core.files import iter_xml_elements

    path = tmp_path / "export.xml"
    path.write_text('<!DOCTYPE d [\n<!ENTITY a "x">\n]>\n<d><Record v="&a;"/></d>\n')
    with pytest.raises(FileFormatError, match=r"line 2.*entity"):
        list(iter_xml_elements(list_files(path, XML_PATTERNS)[0], ["Record"]))


class _Unseekable:
    """A write-only stream: zipfile then writes data descriptors, as phones and browsers do."""

    def __init__(self):
        self.data = bytearray()

    def write(self, chunk):
        self.data += chunk
        return len(chunk)

    def flush(self):
        pass

    def tell(self):
        raise OSError("not seekable")


def _records_xml(count: int) -> str:
    return "<HealthData>\n" + "".join(f' <Record type="t{i}"/>\n' for i in range(count)) + "</HealthData>\n"


@pytest.mark.parametrize("streamed", [False, True])
def test_truncated_zip_is_read_up_to_the_cut(tmp_path, monkeypatch, streamed):
    from bronze_core.files import damaged_zip, iter_xml_elements

    text = _records_xml(20000)
    if streamed:
        sink = _Unseekable()
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("readme.txt", "hello")
            zf.writestr("apple_health_export/export.xml", text)
        whole = bytes(sink.data)
    else:
        with zipfile.ZipFile(tmp_path / "whole.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("readme.txt", "hello")
            with zf.open("apple_health_export/export.xml", "w", force_zip64=True) as member:
                member.write(text.encode())
        whole = (tmp_path / "whole.zip").read_bytes()
    archive = tmp_path / "export.zip"

    archive.write_bytes(whole[:-30])  # only the central directory is cut: every member is whole
    assert "truncated zip" in damaged_zip(archive)
    if not streamed:
        assert damaged_zip(tmp_path / "whole.zip") is None
    (source,) = list_files(archive, XML_PATTERNS)
    assert source.display_path == f"{archive}!apple_health_export/export.xml"
    assert sum(1 for _ in iter_xml_elements(source, ["Record"])) == 20000

    archive.write_bytes(whole[: len(whole) // 2])  # cut inside export.xml
    got = []
    with nothing_written(tmp_path, monkeypatch):
        (source,) = list_files(archive, XML_PATTERNS)
        with pytest.raises(FileFormatError) as error:
            for line, element in iter_xml_elements(source, ["Record"]):
                got.append((line, element.get("type")))
    assert 0 < len(got) < 20000
    assert got == [(i + 2, f"t{i}") for i in range(len(got))]
    assert f"{archive}!apple_health_export/export.xml, line {len(got) + 2}" in str(error.value)


def test_a_break_after_a_big_integer_still_names_the_line(tmp_path):
    path = tmp_path / "DI-Connect-Wellness" / "bigbroken_sleepData.json"
    path.parent.mkdir()
    path.write_text('[{"id": 123456789012345678901234567890},\n{"a": 2},\n{"b": ')
    (found,) = list_files(tmp_path, PATTERNS)
    items = []
    with pytest.raises(FileFormatError) as err:
        for item in iter_json_array(found):
            items.append(item)
    assert items == [(0, {"id": 123456789012345678901234567890}), (1, {"a": 2})]
    assert err.value.line == 3


# --- a file of the wrong shape is a broken file, not an empty one ---------------

ACTIVITIES = "item.summarizedActivitiesExport.item"


@pytest.mark.parametrize(
    "text, prefix, why",
    [
        (
            '{"sleepData": [{"calendarDate": "2024-05-01"}]}',
            "item",
            "at the top level an array was expected, found an object (first key 'sleepData')",
        ),
        ('"2024-05-01"', "item", "at the top level an array was expected, found a string value"),
        (
            '[{"summarizedActivitiesExport": {"activityId": 1}}]',
            ACTIVITIES,
            "at 'item.summarizedActivitiesExport' an array was expected, found an object (first key 'activityId')",
        ),
        (
            '[{"activities": [{"activityId": 1}]}]',
            ACTIVITIES,
            "the object at 'item' has no 'summarizedActivitiesExport'",
        ),
        ('[[{"activityId": 1}]]', ACTIVITIES, "at 'item' an object was expected, found an array"),
    ],
)
def test_a_container_of_another_kind_is_reported_not_read_as_empty(tmp_path, text, prefix, why):
    path = tmp_path / "DI-Connect-Wellness" / "1_sleepData.json"
    path.parent.mkdir()
    path.write_text(text)
    (found,) = list_files(tmp_path, PATTERNS)
    with pytest.raises(FileFormatError) as err:
        list(iter_json_array(found, prefix))
    assert str(err.value) == f"{path}, line 1: not the expected shape: {why}; nothing was read from it"


@pytest.mark.parametrize(
    "text, prefix, items",
    [
        ("[]", "item", []),
        ("[]", ACTIVITIES, []),
        ('[{"summarizedActivitiesExport": []}]', ACTIVITIES, []),
        ('[{"summarizedActivitiesExport": [{"activityId": 1}]}]', ACTIVITIES, [(0, {"activityId": 1})]),
    ],
)
def test_empty_containers_of_the_right_kind_are_just_empty(tmp_path, text, prefix, items):
    path = tmp_path / "DI-Connect-Wellness" / "1_sleepData.json"
    path.parent.mkdir()
    path.write_text(text)
    (found,) = list_files(tmp_path, PATTERNS)
    assert list(iter_json_array(found, prefix)) == items


def test_an_integer_of_thousands_of_digits_is_reported_with_its_line(tmp_path):
    """ijson's C parser crashes the process on these in some calls; the file is reported."""
    path = tmp_path / "DI-Connect-Wellness" / "1_sleepData.json"
    path.parent.mkdir()
    path.write_text('[\n{"a": 1},\n{"n": ' + "9" * 5000 + '},\n{"a": 2}\n]')
    (found,) = list_files(tmp_path, PATTERNS)
    items = []
    with pytest.raises(FileFormatError) as err:
        for item in iter_json_array(found):
            items.append(item)
    assert items == [(0, {"a": 1})] and str(path) in str(err.value) and len(str(err.value)) < 600


def test_an_xml_document_of_another_kind_is_reported(tmp_path):
    path = tmp_path / "apple_health_export" / "export.xml"
    path.parent.mkdir()
    path.write_text('<?xml version="1.0"?>\n<ClinicalDocument><Record type="x"/></ClinicalDocument>\n')
    (found,) = list_files(tmp_path, ["*/export.xml"])
    with pytest.raises(FileFormatError, match="the document is <ClinicalDocument>, not <HealthData>"):
        list(iter_xml_elements(found, ["Record"], root="HealthData"))
    assert [e.tag for _, e in iter_xml_elements(found, ["Record"])] == ["Record"]


# --- symbolic links stay inside the folder ---------------------------------------


def test_links_leaving_the_folder_are_skipped_and_named(tmp_path):
    folder, outside = tmp_path / "drop", tmp_path / "outside"
    (folder / "sub").mkdir(parents=True)
    (outside / "deep").mkdir(parents=True)
    (folder / "sub" / "a.csv").write_text("a\n")
    (outside / "secret.csv").write_text("secret\n")
    (outside / "deep" / "more.csv").write_text("more\n")
    (folder / "leak.csv").symlink_to(outside / "secret.csv")
    (folder / "dir").symlink_to(outside / "deep")
    (folder / "dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    skipped: list[str] = []
    found = list_files(folder, ["*.csv"], skipped=skipped)
    assert [f.relative_path for f in found] == ["sub/a.csv"]
    assert sorted(skipped) == [
        f"{folder / name} (a link to {target}, outside {folder}; set follow_symlinks to read it)"
        for name, target in (
            ("dangling.csv", tmp_path / "nowhere.csv"),
            ("dir", outside / "deep"),
            ("leak.csv", outside / "secret.csv"),
        )
    ]

    allowed = list_files(folder, ["*.csv"], follow_symlinks=True)
    assert {f.relative_path: f.open().read() for f in allowed} == {
        "dir/more.csv": b"more\n",
        "leak.csv": b"secret\n",
        "sub/a.csv": b"a\n",
    }


def test_links_inside_the_folder_are_followed_once_and_loops_end(tmp_path):
    folder = tmp_path / "drop"
    (folder / "real").mkdir(parents=True)
    (folder / "real" / "a.csv").write_text("a\n")
    (folder / "notes.txt").write_text("b\n")
    (folder / "again").symlink_to(folder / "real")  # the same folder a second time
    (folder / "real" / "loop").symlink_to(folder)  # a loop back to the top
    (folder / "b.csv").symlink_to(folder / "notes.txt")  # only the link's name matches
    (folder / "a-too.csv").symlink_to(folder / "real" / "a.csv")  # the same file a second time
    skipped: list[str] = []
    found = list_files(folder, ["*.csv"], skipped=skipped)
    assert [f.relative_path for f in found] == ["b.csv", "real/a.csv"]
    assert skipped == []
    assert found[0].open().read() == b"b\n"


def test_a_file_replaced_by_a_link_after_listing_is_not_read(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n")
    (tmp_path / "secret.csv").write_text("secret\n")
    (found,) = list_files(folder, ["*.csv"])
    (folder / "a.csv").unlink()
    (folder / "a.csv").symlink_to(tmp_path / "secret.csv")
    with pytest.raises(OSError):
        found.open()


def test_rows_name_files_relative_to_the_folder_or_archive(tmp_path):
    folder = tmp_path / "export"
    (folder / "DI-Connect-Wellness").mkdir(parents=True)
    (folder / "DI-Connect-Wellness" / "1_sleepData.json").write_text("[]")
    (plain,) = list_files(folder, PATTERNS)
    assert plain.lineage() == {"file": "DI-Connect-Wellness/1_sleepData.json"}
    archive = tmp_path / "garmin.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("DI_CONNECT/DI-Connect-Wellness/1_sleepData.json", "[]")
    (member,) = list_files(archive, PATTERNS)
    assert member.lineage() == {"file": "DI_CONNECT/DI-Connect-Wellness/1_sleepData.json", "archive": "garmin.zip"}
    message = f"{member.display_path}, line 3: invalid UTF-8"
    assert (
        member.for_rows(message) == "garmin.zip!DI_CONNECT/DI-Connect-Wellness/1_sleepData.json, line 3: invalid UTF-8"
    )
    assert str(tmp_path) not in member.for_rows(message) + plain.for_rows(plain.display_path)
