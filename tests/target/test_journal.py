"""The journal's staged comments: a row per ticket and staging call, read back per ticket, and
journals of the previous schema brought up to date."""

from __future__ import annotations

import sqlite3

import msgspec
import pytest

from tap_zendesk.api.errors import FatalSyncError
from target_zendesk.journal import SCHEMA_VERSION, Journal


def _comment(n: int, body: str = "hello") -> dict:
    return {"html_body": f"<p>{body} {n}</p>", "author_id": 500 + n, "public": True}


def _rows(journal: Journal) -> int:
    return journal._db.execute("SELECT COUNT(*) FROM comment_groups").fetchone()[0]


def test_comments_are_stored_one_row_per_ticket_and_read_back_per_ticket(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    journal.stage_comments(
        [
            ("t1", "c1", "2024-01-01T00:00:00Z", _comment(1)),
            ("t1", "c2", "2024-01-01T00:01:00Z", _comment(2)),
            ("t2", "c3", "2024-01-01T00:02:00Z", _comment(3)),
            ("t1", "c4", "2024-01-01T00:03:00Z", _comment(4)),
        ]
    )
    assert _rows(journal) == 2  # t1 and t2

    threads = journal.comments_for(["t1", "t2", "t3"])

    assert set(threads) == {"t1", "t2"}
    assert sorted(threads["t1"]) == [
        ("2024-01-01T00:00:00Z", "c1", _comment(1)),
        ("2024-01-01T00:01:00Z", "c2", _comment(2)),
        ("2024-01-01T00:03:00Z", "c4", _comment(4)),
    ]
    assert threads["t2"] == [("2024-01-01T00:02:00Z", "c3", _comment(3))]


def test_a_comment_staged_again_replaces_the_earlier_copy(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    journal.stage_comments([("t1", "c1", "2024-01-01T00:00:00Z", _comment(1, "first"))])
    journal.stage_comments(
        [
            ("t1", "c1", "2024-01-01T00:00:00Z", _comment(1, "edited")),
            ("t1", "c2", "2024-01-01T00:05:00Z", _comment(2)),
        ]
    )

    thread = sorted(journal.comments_for(["t1"])["t1"])

    assert [(key, payload["html_body"]) for _, key, payload in thread] == [
        ("c1", "<p>edited 1</p>"),
        ("c2", "<p>hello 2</p>"),
    ]


def test_dropping_a_deleted_tickets_comments_counts_each_comment_once(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    journal.stage_comments([("t1", "c1", "a", _comment(1)), ("t2", "c2", "a", _comment(2))])
    journal.stage_comments([("t1", "c1", "a", _comment(1)), ("t1", "c3", "b", _comment(3))])

    assert journal.drop_comments(["t1"]) == 2  # c1 (staged twice) and c3

    assert journal.comments_for(["t1", "t2"]) == {"t2": [("a", "c2", _comment(2))]}


def test_pruning_drops_the_comments_of_imported_tickets_only(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    journal.stage_comments([("t1", "c1", "a", _comment(1)), ("t2", "c2", "a", _comment(2))])
    journal.ids_put("tickets", [("t1", 9001, None)])

    assert journal.prune_comments() == 1

    assert set(journal.comments_for(["t1", "t2"])) == {"t2"}
    journal.ids_put("tickets", [("t2", 9002, None)])
    assert journal.prune_comments() == 1
    assert _rows(journal) == 0


_V1_COMMENTS = """
CREATE TABLE comments (
    ticket_key TEXT NOT NULL, comment_key TEXT NOT NULL, created_at TEXT NOT NULL,
    payload BLOB NOT NULL, UNIQUE (ticket_key, comment_key)
);
"""


def test_a_version_1_journal_keeps_its_staged_comments(tmp_path):
    """Schema 1 held a row per comment: they move into groups, nothing else changes."""
    path = tmp_path / "j.sqlite"
    db = sqlite3.connect(path)
    db.executescript(_V1_COMMENTS)
    encode = msgspec.json.encode
    db.executemany(
        "INSERT INTO comments VALUES (?, ?, ?, ?)",
        [
            ("t1", "c2", "2024-01-02", encode(_comment(2))),
            ("t2", "c3", "2024-01-03", encode(_comment(3))),
            ("t1", "c1", "2024-01-01", encode(_comment(1))),
        ],
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()

    journal = Journal(path)

    threads = journal.comments_for(["t1", "t2"])
    assert sorted(threads["t1"]) == [
        ("2024-01-01", "c1", _comment(1)),
        ("2024-01-02", "c2", _comment(2)),
    ]
    assert threads["t2"] == [("2024-01-03", "c3", _comment(3))]
    assert _rows(journal) == 2
    tables = {r[0] for r in journal._db.execute("SELECT name FROM sqlite_master")}
    assert "comments" not in tables
    assert journal._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    journal.close()
    assert Journal(path).comments_for(["t1"])["t1"]  # opening again changes nothing


def test_a_journal_of_a_newer_version_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "j.sqlite"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()

    with pytest.raises(FatalSyncError, match="another version of target-zendesk") as info:
        Journal(path)
    assert "move the file away" in str(info.value)
