"""Local SQLite journal of what was sent where, so a rerun neither duplicates nor loses records.

It holds the id map (source id -> destination id), staged comments, tickets waiting for their
comments, every submitted batch with its job id and the source keys in it, the source account's
definitions (fields, groups, ...) and the attachments already uploaded. One connection
shared under a lock: the SDK may drain sinks from threads.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from tap_zendesk.api.errors import FatalSyncError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS id_map (
    kind TEXT NOT NULL, source_key TEXT NOT NULL, dest_id INTEGER, digest TEXT,
    PRIMARY KEY (kind, source_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS comment_groups (
    id INTEGER PRIMARY KEY, ticket_key TEXT NOT NULL, comments BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS comment_groups_ticket ON comment_groups (ticket_key);
CREATE TABLE IF NOT EXISTS deferred_tickets (
    seq INTEGER PRIMARY KEY, ticket_key TEXT NOT NULL UNIQUE, record BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY, stream TEXT NOT NULL, operation TEXT NOT NULL, job_id TEXT,
    created_at REAL NOT NULL, items BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS definitions (
    kind TEXT NOT NULL, source_id TEXT NOT NULL, record BLOB NOT NULL,
    PRIMARY KEY (kind, source_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    attachment_key TEXT PRIMARY KEY, ticket_key TEXT NOT NULL, token TEXT NOT NULL,
    dest_id INTEGER, content_url TEXT, size INTEGER, expires_at REAL NOT NULL
) WITHOUT ROWID;
"""
#: One batch's items as a single blob: a row per batch, not per record (SQLite writes cost
#: several microseconds per row, deletes more).
_ITEM_FIELDS = ("key", "external_id", "email", "dest_id", "digest", "status")
_items_encoder = msgspec.json.Encoder()
_items_decoder = msgspec.json.Decoder()

#: Bumped when the tables change; a newer journal is refused with a clear message, an older
#: one is brought up to date (version 1 held one row per staged comment).
SCHEMA_VERSION = 2

#: A destination id stored for a source object that was deliberately not written (deleted).
DELETED = "deleted"


@dataclass
class JournalItem:
    """One record of a submitted batch, as much as recovery needs (no payload)."""

    key: str
    external_id: str | None
    email: str | None
    dest_id: int | None
    digest: str | None
    status: str | None


@dataclass
class JournalBatch:
    """A batch whose job was submitted (job_id set) or maybe submitted (job_id None)."""

    id: int
    stream: str
    operation: str
    job_id: str | None
    items: list[JournalItem]
    created_at: float = 0.0


def default_journal_path(base: str) -> Path:
    """`.target-zendesk/<host>.sqlite` under the working directory: one journal per account."""
    netloc = urlsplit(base).netloc or "zendesk"
    return Path(".target-zendesk") / (re.sub(r"[^A-Za-z0-9.-]", "_", netloc) + ".sqlite")


class Journal:
    """Thread-safe access to the journal file; every method commits before it returns."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._depth = 0
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.RLock()
        #: (job_id, batch_id) noted by `set_job`, written with the next transaction.
        self._job_ids: list[tuple[str, int]] = []
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a killed process keeps every committed transaction (only a power cut
        # could lose the last ones), at a fraction of FULL's fsync cost.
        self._db.execute("PRAGMA synchronous=NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, 1, SCHEMA_VERSION):
            self._db.close()
            msg = (
                f"The journal {self.path} was written by another version of target-zendesk "
                f"(schema {version}, this one uses {SCHEMA_VERSION}). Finish its work with that "
                "version, or move the file away to start a new journal."
            )
            raise FatalSyncError(msg)
        self._db.executescript(_SCHEMA)
        if version == 1:
            self._group_staged_comments()
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _group_staged_comments(self) -> None:
        """Move a version-1 journal's staged comments (a row each) into per-ticket groups."""
        with self.transaction():
            rows = self._db.execute(
                "SELECT ticket_key, comment_key, created_at, payload FROM comments "
                "ORDER BY ticket_key, rowid"
            )
            ticket = None
            group: list[tuple[str, str, t.Any]] = []
            for ticket_key, comment_key, created_at, payload in rows:
                if ticket_key != ticket and group:
                    self._insert_groups({ticket: group})
                    group = []
                ticket = ticket_key
                group.append((comment_key, created_at, msgspec.Raw(payload)))
            if group:
                self._insert_groups({ticket: group})
            self._db.execute("DROP TABLE comments")

    def close(self) -> None:
        """Close the connection (the file stays for the next run)."""
        with self._lock:
            self.flush_jobs()
            self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> t.Iterator[None]:
        """Group writes into one transaction (nested uses join the outer one)."""
        with self._lock:
            self._depth += 1
            if self._depth == 1:
                self._db.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                noted = len(self._job_ids)
                if noted:
                    self._db.executemany(
                        "UPDATE batches SET job_id = ? WHERE id = ?", self._job_ids[:noted]
                    )
                self._db.execute("COMMIT")
                del self._job_ids[:noted]

    def _write(self, sql: str, rows: t.Iterable[t.Sequence[t.Any]]) -> None:
        """Run executemany inside one transaction."""
        with self.transaction():
            self._db.executemany(sql, rows)

    def _select_in(
        self, sql: str, head: t.Sequence[t.Any], keys: t.Sequence[str]
    ) -> list[tuple[t.Any, ...]]:
        """Run `sql` (ending in `IN ({})`) over keys in chunks SQLite accepts."""
        out: list[tuple[t.Any, ...]] = []
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                out += self._db.execute(sql.format(marks), (*head, *chunk)).fetchall()
        return out

    # -- id map ----------------------------------------------------------------------------
    def ids_get(self, kind: str, keys: t.Sequence[str]) -> dict[str, tuple[int | None, str | None]]:
        """Return (dest_id, digest) for each key the journal knows."""
        rows = self._select_in(
            "SELECT source_key, dest_id, digest FROM id_map WHERE kind = ? AND source_key IN ({})",
            (kind,),
            keys,
        )
        return {key: (dest, digest) for key, dest, digest in rows}

    def ids_put(self, kind: str, rows: t.Iterable[tuple[str, int | None, str | None]]) -> None:
        """Record (source_key, dest_id, digest) rows, replacing older ones."""
        self._write(
            "INSERT OR REPLACE INTO id_map (kind, source_key, dest_id, digest) VALUES (?, ?, ?, ?)",
            [(kind, key, dest, digest) for key, dest, digest in rows],
        )

    # -- staged comments -------------------------------------------------------------------
    # A row holds the comments of one ticket staged together (a tap sends a ticket's comments
    # one after another): SQLite's cost is per row (insert, index, read back, delete), and a
    # ticket has several comments. A comment staged again replaces the earlier copy on reading.
    def stage_comments(self, rows: t.Iterable[tuple[str, str, str, t.Any]]) -> None:
        """Store (ticket_key, comment_key, created_at, payload) rows, grouped by ticket."""
        groups: dict[str, list[tuple[str, str, t.Any]]] = {}
        for ticket_key, comment_key, created_at, payload in rows:
            group = groups.get(ticket_key)
            if group is None:
                group = groups[ticket_key] = []
            group.append((comment_key, created_at, payload))
        with self.transaction():
            self._insert_groups(groups)

    def _insert_groups(self, groups: dict[str, list[tuple[str, str, t.Any]]]) -> None:
        """Write one row per ticket: its comments as [comment_key, created_at, payload]s."""
        encode = _items_encoder.encode
        self._db.executemany(
            "INSERT INTO comment_groups (ticket_key, comments) VALUES (?, ?)",
            [(ticket_key, encode(group)) for ticket_key, group in groups.items()],
        )

    def comments_for(self, ticket_keys: t.Sequence[str]) -> dict[str, list[tuple[str, str, t.Any]]]:
        """Return staged (created_at, comment_key, payload) per ticket, unsorted, one per key."""
        rows = self._select_in(
            "SELECT ticket_key, comments FROM comment_groups WHERE ticket_key IN ({}) ORDER BY id",
            (),
            ticket_keys,
        )
        threads: dict[str, dict[str, tuple[str, str, t.Any]]] = {}
        decode = _items_decoder.decode
        for ticket_key, blob in rows:
            thread = threads.get(ticket_key)
            if thread is None:
                thread = threads[ticket_key] = {}
            for comment_key, created_at, payload in decode(blob):
                thread[comment_key] = (created_at, comment_key, payload)  # the later copy wins
        return {key: list(thread.values()) for key, thread in threads.items()}

    def drop_comments(self, ticket_keys: t.Sequence[str]) -> int:
        """Forget the comments of deleted tickets; return how many there were."""
        with self.transaction():
            dropped = sum(len(thread) for thread in self.comments_for(ticket_keys).values())
            self._db.executemany(
                "DELETE FROM comment_groups WHERE ticket_key = ?", [(k,) for k in ticket_keys]
            )
            return dropped

    def prune_comments(self) -> int:
        """Drop comments of imported tickets once, at the end (cheaper than per batch).

        Returns how many comment groups (rows) were dropped.
        """
        imported = (
            "SELECT source_key FROM id_map WHERE kind = 'tickets' AND dest_id IS NOT NULL"
        )
        with self.transaction():
            left = self._db.execute(
                f"SELECT COUNT(*) FROM comment_groups WHERE ticket_key NOT IN ({imported})"  # noqa: S608
            ).fetchone()[0]
            before = self._db.total_changes
            if left == 0:
                self._db.execute("DELETE FROM comment_groups")  # SQLite truncates at once
            else:
                self._db.execute(
                    f"DELETE FROM comment_groups WHERE ticket_key IN ({imported})"  # noqa: S608
                )
            return self._db.total_changes - before

    # -- tickets waiting for their comments ------------------------------------------------
    def defer_tickets(self, rows: t.Iterable[tuple[str, bytes]]) -> None:
        """Park tickets until the end of the input (their comments may still come)."""
        self._write(
            "INSERT OR REPLACE INTO deferred_tickets (ticket_key, record) VALUES (?, ?)", rows
        )

    def deferred_count(self) -> int:
        """Count the tickets waiting for the end of the input."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM deferred_tickets").fetchone()[0])

    def deferred_page(self, limit: int) -> list[tuple[str, bytes]]:
        """Return the oldest parked tickets."""
        with self._lock:
            return self._db.execute(
                "SELECT ticket_key, record FROM deferred_tickets ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()

    def drop_deferred(self, ticket_keys: t.Sequence[str]) -> None:
        """Forget parked tickets once they are imported or rejected."""
        rows = [(k,) for k in ticket_keys]
        self._write("DELETE FROM deferred_tickets WHERE ticket_key = ?", rows)

    # -- batches and jobs ------------------------------------------------------------------
    def begin_batch(self, stream: str, operation: str, items: t.Sequence[t.Any]) -> int:
        """Record a batch before its POST, so a crash mid-request leaves a trace to reconcile."""
        blob = _items_encoder.encode([[getattr(i, f) for f in _ITEM_FIELDS] for i in items])
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO batches (stream, operation, created_at, items) VALUES (?, ?, ?, ?)",
                (stream, operation, time.time(), blob),
            )
            return int(cur.lastrowid or 0)

    def set_job(self, batch_id: int, job_id: str) -> None:
        """Note that Zendesk accepted the batch as job `job_id`; written by the next transaction.

        A commit costs more than the row (~150 us, a third of a batch's journal time), and the
        job runner writes within milliseconds anyway (the next batch, an outcome) or calls
        `flush_jobs` before it waits. A crash before that leaves the batch without its job id,
        and the next run checks its records by external_id instead of reading the job: the
        slower of the two recoveries, not a lost or duplicated record.
        """
        with self._lock:
            self._job_ids.append((job_id, batch_id))

    def flush_jobs(self) -> None:
        """Write the job ids noted by `set_job` now."""
        with self._lock:
            if self._job_ids:
                with self.transaction():
                    pass

    def end_batch(self, batch_id: int) -> None:
        """Forget a batch: each of its records is final (written, rejected, or in a new batch)."""
        with self.transaction():
            self._db.execute("DELETE FROM batches WHERE id = ?", (batch_id,))

    def open_batches(self) -> list[JournalBatch]:
        """Return batches an earlier run submitted (or was submitting) and never saw end."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, stream, operation, job_id, created_at, items FROM batches ORDER BY id"
            ).fetchall()
        out = []
        for batch_id, stream, operation, job_id, created_at, blob in rows:
            items = [JournalItem(*row) for row in _items_decoder.decode(blob)]
            out.append(JournalBatch(batch_id, stream, operation, job_id, items, created_at))
        return out

    # -- source definitions (fields, groups, brands, forms, statuses) ----------------------
    def stage_definitions(self, kind: str, rows: t.Iterable[tuple[str, bytes]]) -> None:
        """Keep (source_id, record) rows of one kind; a repeated definition replaces."""
        self._write(
            "INSERT OR REPLACE INTO definitions (kind, source_id, record) VALUES (?, ?, ?)",
            [(kind, key, blob) for key, blob in rows],
        )

    def definitions(self, kind: str) -> list[bytes]:
        """Return the staged source definitions of a kind."""
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM definitions WHERE kind = ? ORDER BY source_id", (kind,)
            ).fetchall()
        return [row[0] for row in rows]

    # -- uploaded attachments --------------------------------------------------------------
    def uploads_get(self, keys: t.Sequence[str]) -> dict[str, tuple[str, int | None, str, float]]:
        """Return (token, dest_id, content_url, expires_at) of files uploaded before."""
        rows = self._select_in(
            "SELECT attachment_key, token, dest_id, content_url, expires_at FROM uploads "
            "WHERE attachment_key IN ({})",
            (),
            keys,
        )
        return {key: (token, dest, url, exp) for key, token, dest, url, exp in rows}

    def upload_put(
        self,
        key: str,
        ticket_key: str,
        token: str,
        dest_id: int | None,
        content_url: str | None,
        size: int,
        expires_at: float,
    ) -> None:
        """Record one uploaded file at once (a kill right after must not upload it again)."""
        self._write(
            "INSERT OR REPLACE INTO uploads (attachment_key, ticket_key, token, dest_id, "
            "content_url, size, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(key, ticket_key, token, dest_id, content_url, size, expires_at)],
        )

    def prune_uploads(self) -> int:
        """Forget uploads of imported tickets (their tokens are spent)."""
        with self.transaction():
            before = self._db.total_changes
            self._db.execute(
                "DELETE FROM uploads WHERE ticket_key IN (SELECT source_key FROM id_map "
                "WHERE kind = 'tickets' AND dest_id IS NOT NULL)"
            )
            return self._db.total_changes - before
