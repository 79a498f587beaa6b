"""The id map: users and organizations cached up to a limit, everything kept in the journal."""

from __future__ import annotations

from target_zendesk.id_map import UNKNOWN, IdMap
from target_zendesk.journal import Journal


def test_the_cache_keeps_at_most_its_limit_and_the_journal_keeps_everything(tmp_path):
    """Past the limit the oldest users leave memory, yet every one still resolves."""
    ids = IdMap(Journal(tmp_path / "journal.sqlite"), cache_limit=3)
    ids.put("users", [(f"u{i}", 1000 + i, f"d{i}") for i in range(5)])
    assert list(ids._cache["users"]) == ["u2", "u3", "u4"]  # the newest three
    assert ids.lookup("users", ["u0", "u4"]) == {"u0": (1000, "d0"), "u4": (1004, "d4")}
    assert len(ids._cache["users"]) == 3
    assert ids.get("users", "u1") == (1001, "d1")
    assert ids.get("users", "nobody") is UNKNOWN


def test_tickets_are_never_cached(tmp_path):
    """There can be millions: each lookup goes to the journal."""
    ids = IdMap(Journal(tmp_path / "journal.sqlite"))
    ids.put("tickets", [("t1", 7, None)])
    assert "tickets" not in ids._cache
    assert ids.imported("tickets", ["t1", "t2"]) == {"t1"}
