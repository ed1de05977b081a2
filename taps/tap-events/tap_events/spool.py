"""The collector's spool: what it accepted, on disk before it answers; what tap-events reads.

One SQLite file in WAL mode with ``synchronous=FULL``: a commit returns only
once the write-ahead log is fsync'd, so an item the collector acknowledged
survives ``kill -9`` and a power cut. Items get an ``AUTOINCREMENT`` sequence
number that is never reused, and writers are serialised, so the order of
``seq`` is the order of commits: a reader that has read everything up to
``seq`` = N has missed nothing below N. That N is tap-events' state.

The collector writes, tap-events reads and compacts (``compact``), each with
its own connection; WAL lets the reader read while the collector commits.
The collector never needs PostgreSQL: if the database is down, items wait here.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    received REAL NOT NULL,
    payload TEXT NOT NULL,
    context TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_stream_seq ON items (stream, seq);
CREATE TABLE IF NOT EXISTS event_ids (event_id TEXT PRIMARY KEY, seq INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS loaded (stream TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL);
"""
#: After ``_upgrade``: dedupe records are found by their item's seq when it is compacted.
INDEXES = "CREATE INDEX IF NOT EXISTS event_ids_seq ON event_ids (seq);"


@dataclass
class Item:
    """One thing to spool: a location, a data point, an event; ``payload`` as the app sent it."""

    stream: str
    payload: Any
    context: dict = field(default_factory=dict)
    #: Events are deduplicated on their id (``event_ids``): a second one is not stored.
    event_id: str | None = None


def _owner_only_file(path: Path) -> None:
    """Create the folder (0700) and the file (0600) before SQLite does; its -wal and -shm
    files take the database file's permissions.

    Only when the file does not exist yet: closing any descriptor of a file drops
    every POSIX lock this process holds on it, SQLite's included. Opening and
    closing an existing spool beside a live connection let another process
    believe it was the last user, checkpoint and delete the WAL under the
    collector, which then went on committing into a deleted file.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        return
    with contextlib.suppress(FileExistsError):  # another process created it first
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))


def connect(path: str | os.PathLike) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, fully synced commits."""
    path = Path(path)
    _owner_only_file(path)
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(SCHEMA)
    _upgrade(conn)
    conn.executescript(INDEXES)
    return conn


def _upgrade(conn: sqlite3.Connection) -> None:
    """Give a spool written before dedupe records were compacted their item's ``seq``.

    Such a spool has ``event_ids (event_id)`` only. Each record is matched to its
    item by the id the collector keyed it on (``str(event_id).strip()``, one pass
    over the items); a record left without an item belongs to one compaction already
    deleted (loaded and past retention), so it goes too. Once, under the write
    lock, whoever connects first.
    """
    if _has_seq(conn):
        return
    conn.create_function("event_key", 1, lambda v: None if v is None else str(v).strip(), deterministic=True)
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _has_seq(conn):
            conn.execute("ALTER TABLE event_ids ADD COLUMN seq INTEGER")
            conn.execute(
                "UPDATE event_ids SET seq = held.seq FROM "
                "(SELECT event_key(json_extract(payload, '$.event_id')) AS event_id, max(seq) AS seq FROM items "
                "WHERE substr(stream, 1, 8) = 'events__' GROUP BY 1) AS held "
                "WHERE event_ids.event_id = held.event_id"
            )
            conn.execute("DELETE FROM event_ids WHERE seq IS NULL")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _has_seq(conn: sqlite3.Connection) -> bool:
    return any(row[1] == "seq" for row in conn.execute("PRAGMA table_info(event_ids)"))


class Spool:
    """The spool file and what can be done with it; one instance per process and thread."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.conn = connect(self.path)

    def close(self) -> None:
        self.conn.close()

    # --- the collector's side ----------------------------------------------
    def append_groups(self, groups: Sequence[Sequence[Item]], probe: bool = False) -> list[list[bool]]:
        """Store the items of several requests in one transaction (one fsync for all).

        Returns, per group and item, whether it was stored (False: an event whose
        id is already spooled). Raises if the commit fails: then nothing of any
        group is stored and none may be acknowledged. ``probe`` also rewrites one
        small row, so the commit writes and syncs something even with no items:
        that is how ``/health`` knows the spool can be written.
        """
        now = time.time()
        results: list[list[bool]] = []
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            if probe:
                cur.execute("INSERT OR REPLACE INTO write_probe (id, at) VALUES (1, ?)", (now,))
            for items in groups:
                stored = []
                for item in items:
                    stored.append(self._append(cur, item, now))
                results.append(stored)
            cur.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                cur.execute("ROLLBACK")
            raise
        return results

    @staticmethod
    def _append(cur: sqlite3.Cursor, item: Item, now: float) -> bool:
        """Insert one item in the open transaction; False (nothing kept) for an event_id already held.

        The item goes in first so its dedupe record can carry its ``seq``: ``compact``
        drops the record together with the item. A duplicate's row is taken back at
        once (its seq is never reused, so readers skip nothing).
        """
        cur.execute(
            "INSERT INTO items (stream, received, payload, context) VALUES (?, ?, ?, ?)",
            (
                item.stream,
                now,
                json.dumps(item.payload, ensure_ascii=False),
                json.dumps(item.context, ensure_ascii=False),
            ),
        )
        if item.event_id is None:
            return True
        seq = cur.lastrowid
        cur.execute("INSERT OR IGNORE INTO event_ids (event_id, seq) VALUES (?, ?)", (item.event_id, seq))
        if cur.rowcount == 1:
            return True
        cur.execute("DELETE FROM items WHERE seq = ?", (seq,))
        return False

    def backlog(self) -> int:
        """Items not yet known to be in bronze (as of tap-events' last run start)."""
        row = self.conn.execute(
            "SELECT count(*) FROM items i LEFT JOIN loaded l ON l.stream = i.stream WHERE i.seq > coalesce(l.seq, 0)"
        ).fetchone()
        return int(row[0])

    # --- tap-events' side ---------------------------------------------------
    def streams(self) -> list[str]:
        """The streams that have items waiting or loaded."""
        found = {row[0] for row in self.conn.execute("SELECT DISTINCT stream FROM items")}
        found |= {row[0] for row in self.conn.execute("SELECT stream FROM loaded")}
        return sorted(found)

    def read(self, stream: str, after: int) -> Iterator[tuple[int, str, str]]:
        """``(seq, payload JSON, context JSON)`` of ``stream`` past ``after``, in order.

        One statement, so one snapshot: items committed while it runs are left
        for the next run, and since ``seq`` follows commit order none is skipped.
        """
        cursor = self.conn.execute(
            "SELECT seq, payload, context FROM items WHERE stream = ? AND seq > ? ORDER BY seq", (stream, after)
        )
        while rows := cursor.fetchmany(5000):
            yield from rows

    def compact(self, stream: str, loaded_through: int, retention_days: float) -> int:
        """Record that ``stream`` is in bronze up to ``loaded_through`` (the committed state),
        and delete its loaded items older than ``retention_days``. Returns how many went.

        An event's dedupe record goes with its item: the collector answers ``duplicate``
        for an event_id while its item is in the spool. A resend after that is stored
        again and lands nothing new: bronze keys rows by ``raw_id`` + ``raw_hash``.
        """
        cutoff = time.time() - retention_days * 86400
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(
                "INSERT INTO loaded (stream, seq) VALUES (?, ?) ON CONFLICT (stream) "
                "DO UPDATE SET seq = max(seq, excluded.seq)",
                (stream, loaded_through),
            )
            cur.execute(
                "DELETE FROM event_ids WHERE seq IN "
                "(SELECT seq FROM items WHERE stream = ? AND seq <= ? AND received < ?)",
                (stream, loaded_through, cutoff),
            )
            cur.execute(
                "DELETE FROM items WHERE stream = ? AND seq <= ? AND received < ?", (stream, loaded_through, cutoff)
            )
            deleted = cur.rowcount
            cur.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                cur.execute("ROLLBACK")
            raise
        return deleted
