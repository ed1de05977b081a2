"""Property-based fuzzing of the shared envelope and file parsers (bounded: quick in `make test`).

- ``build_envelope`` takes any JSON-like payload (NUL, lone surrogates,
  infinities, huge integers, odd keys, nesting) without raising, and always
  returns a record PostgreSQL can store: strict JSON, valid UTF-8, no NUL,
  a stable hash, and ``invalid`` exactly when something had to change.
- the fast canonical encoder (msgspec) writes the standard form's bytes
  wherever the envelope lets it run;
- ``iter_json_array`` either yields items or raises ``FileFormatError`` for
  any bytes at all, plain or inside a zip, and reads valid arrays exactly.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bronze_core.envelope import MAX_MESSAGE_CHARS, build_envelope, scan
from bronze_core.fast_io import dumpb
from bronze_core.files import FileFormatError, SourceFile, iter_json_array, list_files
from bronze_core.hashing import canonical_bytes, canonical_json

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

any_text = st.text(
    st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=30
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
payloads = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4), max_leaves=25
)


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


@FUZZ
@given(payloads)
def test_any_payload_becomes_a_storable_record(payload):
    record = build_envelope(payload, raw_id="x\x00y", source="fuzz")
    text = json.dumps(record, allow_nan=False, ensure_ascii=False)  # strict JSON, no inf/nan
    text.encode("utf-8")  # no lone surrogates anywhere
    assert all("\x00" not in s for s in strings_in(record))
    assert build_envelope(payload, raw_id="x\x00y", source="fuzz")["raw_hash"] == record["raw_hash"]
    cleaned, problems, _ = scan(payload if isinstance(payload, dict) else {"value": payload})
    changed = bool(problems)
    assert (record["validation_status"] == "invalid") == changed
    assert record["error_message"] is None or len(record["error_message"]) <= MAX_MESSAGE_CHARS
    # The hash is the standard canonical form's, whichever encoder wrote it.
    assert record["raw_hash"] == hashlib.sha256(canonical_json(cleaned).encode()).hexdigest()


@FUZZ
@given(payloads)
def test_the_fast_canonical_form_is_the_standard_one_wherever_it_is_used(payload):
    cleaned, _, plain = scan(payload)
    standard = canonical_json(cleaned).encode("utf-8")
    assert canonical_bytes(cleaned, plain=plain) == standard
    assert json.loads(dumpb(cleaned)) == cleaned  # the message writer keeps the meaning


def source(data: bytes) -> SourceFile:
    return SourceFile("fuzz.json", "/fuzz", len(data), lambda: io.BytesIO(data))


def read_all(src: SourceFile):
    try:
        return [item for _, item in iter_json_array(src)]
    except FileFormatError as exc:
        assert "fuzz" in str(exc)  # the message names the file
        return None


@FUZZ
@given(
    st.binary(max_size=300) | st.text(alphabet='[]{}",:0123456789.eE-+ truefalsn\\u\n', max_size=200).map(str.encode)
)
def test_any_bytes_are_read_or_refused_clearly(data):
    read_all(source(data))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=15,
)


@FUZZ
@given(st.lists(json_values, max_size=8))
def test_valid_arrays_are_read_exactly(items):
    data = json.dumps(items).encode()
    assert read_all(source(data)) == json.loads(data)


@FUZZ
@given(st.binary(max_size=200))
def test_zip_members_with_any_content_are_read_or_refused_clearly(tmp_path_factory, data):
    archive = tmp_path_factory.mktemp("z") / "fuzz.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/fuzz_sleepData.json", data)
    (member,) = list_files(archive, ["*_sleepData.json"])
    read_all(member)


@FUZZ
@given(st.binary(max_size=400))
def test_csv_and_json_lines_readers_keep_every_line_of_any_bytes(data):
    """Any bytes: rows or a FileFormatError naming the file; every kept text is storable."""
    from bronze_core.files import iter_csv_rows, iter_json_lines

    for reader in (iter_csv_rows, iter_json_lines):
        try:
            rows = list(reader(source(b"a,b\n" + data if reader is iter_csv_rows else data)))
        except FileFormatError as exc:
            assert exc.path == "/fuzz/fuzz.json"
            continue
        for row in rows:
            text = json.dumps(row.payload, ensure_ascii=False)
            assert "\x00" not in "".join(strings_in(row.payload)) or row.defects
            text.encode("utf-8")  # undecodable bytes were escaped, not smuggled through
            assert row.line >= 1


@FUZZ
@given(
    st.lists(
        st.lists(
            st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
            min_size=2,
            max_size=2,
        ),
        max_size=8,
    )
)
def test_csv_rows_written_by_the_csv_module_read_back_exactly(rows):
    import csv as csv_module

    from bronze_core.files import iter_csv_rows

    buffer = io.StringIO()
    writer = csv_module.writer(buffer)
    writer.writerow(["a", "b"])
    writer.writerows(rows)
    read = list(iter_csv_rows(source(buffer.getvalue().encode("utf-8"))))
    assert [[r.payload["a"], r.payload["b"]] for r in read] == rows
    assert all(not r.defects for r in read)
