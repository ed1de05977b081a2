"""The base every bronze stream inherits: envelope schema, key, declared id and time, lineage.

A tap's stream says only what is specific to its source, as class attributes:
which payload schema file checks it (``schemas/<entity>.json`` next to the
tap), which payload fields make its natural id (``key_fields``) and which one
says when it happened (``time_field``, ``bronze_core.fields``). Everything
else (the record shape, the key, hashing, validation, lineage) is decided
here once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import singer_sdk.singerlib as singer
from singer_sdk import Stream
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel

from bronze_core.batches import write_batches
from bronze_core.envelope import BRONZE_KEY, BRONZE_SCHEMA, PayloadValidator, build_envelope
from bronze_core.fields import FieldPath, TimeField, read_key, read_time
from bronze_core.hashing import payload_hash

#: One id per tap process, so every row can be traced to the run that landed it.
#: Meltano's own run id is used when Meltano provides one.
RUN_ID = os.environ.get("MELTANO_RUN_ID") or str(uuid.uuid4())


#: PostgreSQL's limit for a name (longer ones are cut silently, and then collide).
MAX_NAME = 63
DIGEST_LENGTH = 10


def _slug(text: str) -> str:
    """Lower-case ASCII letters and digits, runs of anything else as one ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _transliterated(label: str) -> str:
    """A readable ASCII hint of a non-ASCII label: accents dropped (``Größe`` -> ``grosse``),
    letters without an ASCII form as their code points (``体重`` -> ``u4f53_u91cd``)."""
    folded = unicodedata.normalize("NFKD", label.replace("ß", "ss"))
    words = [
        char if char.isascii() else f" u{ord(char):x} " if char.isalnum() else " "
        for char in folded
        if not unicodedata.combining(char)
    ]
    return _slug("".join(words))


def stream_name(source: str, label: str) -> str:
    """The stream (and bronze table) name for a user-given label: a table, a folder.

    ``<source>__<slug>``, the label reduced to [a-z0-9_], as long as the label
    is ASCII and the name fits PostgreSQL's 63 characters: text from user
    config never reaches SQL as it was typed. Otherwise (a long name, ``体重``,
    ``Größe``, a label of only punctuation) the slug is transliterated, cut to
    fit and followed by ``__`` and a digest of the label as typed, so two
    labels never share a table because they were cut or transliterated alike.
    A plain slug never holds a second ``__``, so the two kinds never meet, and
    neither meets an index name (``bronze.index_name`` in sql/001_bronze.sql).
    ASCII labels that differ only in case or punctuation (``Body measurements``,
    ``body_measurements``) keep sharing their slug, as before; the taps refuse
    such a pair by name rather than mix two sources in one table.
    """
    slug = _slug(label)
    name = f"{source}__{slug}"
    if slug and label.isascii() and len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(label.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_LENGTH]
    room = MAX_NAME - len(source) - 4 - DIGEST_LENGTH
    hint = (slug if label.isascii() else _transliterated(label))[:room].rstrip("_") or "x"
    return f"{source}__{hint}__{digest}"


class BronzeStream(Stream):
    """A stream whose records are bronze envelopes around untouched payloads.

    Stream names are ``<source>__<entity>`` (``garmin__sleep``), which is also
    the bronze table name, so nothing needs renaming between tap and table.
    """

    #: The source name stored in every row, e.g. ``garmin``.
    source: str = ""
    #: Folder holding the payload JSON Schemas of the tap (``schemas/``).
    schemas_dir: Path | None = None
    #: Schema file name (without .json) when it is not the entity name.
    payload_schema_name: str | None = None
    #: The payload fields whose values make ``raw_id`` (``("id",)``, ``("Id", "ActivityHour")``).
    key_fields: tuple[FieldPath, ...] = ()
    #: Where the payload says when it happened, and how it is written (``bronze_core.fields``).
    time_field: TimeField = None

    schema = BRONZE_SCHEMA
    primary_keys = BRONZE_KEY
    #: No singer-sdk replication key: a stream that reads incrementally keeps a cursor
    #: (``bronze_core.cursors``), a file stream its files; the bronze row stays fixed.
    replication_key: str | None = None
    # The envelope is built here with the right types already; conforming it
    # again would only cost time and risk touching the payload.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @property
    def entity(self) -> str:
        """The part of the stream name after ``<source>__``."""
        return self.name.split("__", 1)[-1]

    @cached_property
    def payload_validator(self) -> PayloadValidator | None:
        """Validator for this stream's payload schema, if the tap ships one."""
        if self.schemas_dir is None:
            return None
        path = Path(self.schemas_dir) / f"{self.payload_schema_name or self.entity}.json"
        if not path.exists():
            return None
        return PayloadValidator(json.loads(path.read_text(encoding="utf-8")))

    # --- what a tap's stream provides -------------------------------------
    def payload_id(self, payload: Any, lineage: Mapping[str, Any]) -> Any:
        """The payload's natural id at the source (entry id, calendar date...), by ``key_fields``.

        A stream overrides this only when the id is not in the payload's own
        fields (the day a request asked for, a location named in the config)
        or needs more than joining fields (normalised spellings); it says why.
        """
        if not self.key_fields:
            raise NotImplementedError(f"{type(self).__name__} declares no `key_fields`")
        return read_key(self.key_fields, payload)

    def payload_time(self, payload: Any) -> dt.datetime | None:
        """When the thing in the payload happened (aware datetime), by ``time_field``."""
        return read_time(self.time_field, payload)

    # --- shared -----------------------------------------------------------
    def sync(self, context=None):  # type: ignore[misc]  # final in singer-sdk; extended on purpose
        """Sync, then one summary line: records by validation status and duration.

        (Requests and their timings are in singer-sdk's METRIC lines already.)
        """
        self._statuses: Counter = Counter()
        started = time.monotonic()
        try:
            return super().sync(context)
        finally:
            counts = self._statuses
            repeats = getattr(self, "duplicates", 0)
            self.logger.info(
                "%s: %d records (%d invalid, %d warning) in %.1f s%s",
                self.name,
                sum(counts.values()),
                counts["invalid"],
                counts["warning"],
                time.monotonic() - started,
                f"; {repeats} of them exact duplicates of a record just before (same raw_id and content), landed once"
                if repeats
                else "",
            )
            totals = getattr(self._tap, "run_counts", None)  # the run's summary line (BronzeTap)
            if totals is not None:
                totals.setdefault(self.name, Counter()).update(counts)

    @cached_property
    def _all_selected(self) -> bool:
        """Whether the catalog selects every envelope column (it normally does)."""
        return all(self.mask.get(("properties", name), True) for name in self.schema["properties"])

    def _generate_record_messages(self, record):
        """singer-sdk's, minus the per-record walk that drops deselected properties.

        That walk descends into ``raw_data`` and ``metadata`` on every record
        (a tenth of a tap's time at a million rows) although bronze payloads
        are never subsetted: only envelope columns can be deselected, and then
        the SDK's own walk still runs. Type conformance is skipped as in the
        SDK with ``TypeConformanceLevel.NONE``.
        """
        if not self._all_selected:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    def get_batches(self, batch_config, context=None):
        """Records to JSON Lines batch files, streamed (``bronze_core.batches``).

        Used when the tap's ``batch_config`` asks for ``jsonl``; any other
        format is singer-sdk's.
        """
        if batch_config.encoding.format != "jsonl":
            yield from super().get_batches(batch_config, context)
            return
        records = self._sync_records(context, write_messages=False)
        yield from write_batches(records, batch_config, getattr(self._tap, "plugin_name", self._tap.name), self.name)

    @cached_property
    def base_metadata(self) -> dict[str, Any]:
        """Lineage that is the same for every record of this run and stream."""
        return {
            "run_id": RUN_ID,
            "tap": self._tap.name,
            "tap_version": self._tap.plugin_version,
            "stream": self.name,
        }

    def to_bronze(self, payload: Any, lineage: Mapping[str, Any], defects: Iterable[str] = ()) -> dict:
        """Wrap one payload as a bronze record; never raises on bad payloads.

        A payload whose id or time cannot be read is still emitted: it is
        marked ``invalid`` (no id: keyed by its hash so it still lands once) or
        ``warning`` (unreadable time), with the reason. ``defects`` are reasons
        found before the payload existed (a file row with bad bytes or a wrong
        column count); they make the row ``invalid`` too.
        """
        problems: list[str] = list(defects)
        warnings: list[str] = []
        try:
            raw_id = self.payload_id(payload, lineage)
        except (KeyError, TypeError, ValueError, IndexError, RecursionError) as exc:
            raw_id = None
            problems.append(f"no natural id: {exc!r}")
        if raw_id is None or raw_id == "":
            raw_id = "hash:" + payload_hash(payload)
            if not any(p.startswith("no natural id") for p in problems):
                problems.append("no natural id in payload")
        try:
            when = self.payload_time(payload)
        except (KeyError, TypeError, ValueError, OverflowError, OSError, RecursionError) as exc:
            when = None
            warnings.append(f"unreadable source time: {exc}")
        record = build_envelope(
            payload,
            raw_id=raw_id,
            source=self.source,
            source_timestamp=when,
            validator=self.payload_validator,
            metadata={**self.base_metadata, **lineage},
            warnings=warnings,
        )
        if problems:
            reasons = "; ".join(problems)
            record["validation_status"] = "invalid"
            record["error_message"] = f"{reasons}; {record['error_message']}" if record["error_message"] else reasons
        statuses = getattr(self, "_statuses", None)
        if statuses is not None:
            statuses[record["validation_status"]] += 1
        return record
