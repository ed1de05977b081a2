"""Reading export files and drop folders: listing, zips, streaming parsers.

Exports are big (an Apple Health export is gigabytes) and arrive as a zip or
an unpacked folder, so everything here streams and reports a broken file with
its path and line. One module per concern:

- ``source``: ``SourceFile`` (one file below a root, plain or a zip member)
  and ``FileFormatError``;
- ``listing``: ``list_files``, matching patterns at any depth, symbolic links
  kept inside the folder unless ``follow_symlinks``;
- ``zips``: members read in place behind a size cap (zip bombs), zips cut
  short read up to the cut (``damaged_zip``);
- ``lines``: CSV and JSON Lines, row by row, bad bytes pinned to their line,
  appended files resumed (``ResumePoint``);
- ``json_arrays``: ``iter_json_array``, refusing a file of the wrong shape;
- ``xml_elements``: ``iter_xml_elements``, the wanted elements of a huge XML.

A file's checksum (kept in state, so an unchanged file is skipped) is taken in
``bronze_core.file_streams.fingerprint``. The names below are the public API.
"""

from bronze_core.files.json_arrays import iter_json_array
from bronze_core.files.lines import (
    MAX_FIELD_CHARS,
    FileRow,
    ResumePoint,
    csv_header,
    iter_csv_rows,
    iter_json_lines,
    open_at,
    unique_columns,
)
from bronze_core.files.listing import list_files
from bronze_core.files.source import FileFormatError, SourceFile
from bronze_core.files.xml_elements import XML_CHUNK, iter_xml_elements
from bronze_core.files.zips import DEFAULT_MAX_MEMBER_BYTES, damaged_zip, max_member_bytes

__all__ = [
    "DEFAULT_MAX_MEMBER_BYTES",
    "MAX_FIELD_CHARS",
    "XML_CHUNK",
    "FileFormatError",
    "FileRow",
    "ResumePoint",
    "SourceFile",
    "csv_header",
    "damaged_zip",
    "iter_csv_rows",
    "iter_json_array",
    "iter_json_lines",
    "iter_xml_elements",
    "list_files",
    "max_member_bytes",
    "open_at",
    "unique_columns",
]
