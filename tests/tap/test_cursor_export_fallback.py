"""The cursor-based exports refused (403/404): tickets and users come from the time-based ones.

zendesk_api.md 4.3 (unconfirmed): one connector's notes say the cursor variants close to
third-party apps at the end of 2026. The emulator gates them (`disable=cursor_exports`); the tap
must then read `/incremental/tickets.json` and `/incremental/users.json` with the same rows,
bookmark `start_time`, and resume from a cursor-era state without losing anything.
"""

from __future__ import annotations

import pendulum
import pytest

from tests.tap.tapkit import run_tap, start_emulator, tap_config

STREAMS = {"tickets", "users"}
CURSOR_PATHS = ("/api/v2/incremental/tickets/cursor", "/api/v2/incremental/users/cursor")


@pytest.fixture(scope="module", params=[403, 404])
def gated(request, emulator_factory):
    """An account whose cursor exports answer 403 (or 404), and its first full sync."""
    emu = start_emulator(
        emulator_factory,
        tickets=300,
        seed=7,
        disable=("cursor_exports",),
        disabled_status=request.param,
    )
    emu.reset_stats()
    return emu, run_tap(tap_config(emu), only=STREAMS)


def test_every_ticket_and_user_comes_from_the_time_based_export(gated):
    """Same rows as the account holds (deleted ones included), each once."""
    emu, run = gated
    assert run.error is None
    for stream in STREAMS:
        ids = run.ids(stream)
        assert len(ids) == len(set(ids))
        assert set(ids) == {row["id"] for row in emu.collection(stream)}
    requests = emu.stats()["requests"]
    for path in CURSOR_PATHS:
        assert requests.get(f"GET {path}") == 1  # refused once, not asked again
    assert requests.get("GET /api/v2/incremental/tickets", 0) >= 1
    assert requests.get("GET /api/v2/incremental/users", 0) >= 1


def test_the_switch_is_announced_once_per_stream(gated):
    """One warning each, naming the time-based path."""
    _, run = gated
    for stream in STREAMS:
        said = run.warnings(f"{stream}: Zendesk refused the cursor-based export")
        assert len(said) == 1
        assert f"/api/v2/incremental/{stream}.json" in said[0]


def test_the_bookmark_becomes_a_start_time_and_a_rerun_emits_nothing_old(gated):
    """No cursor is kept; a rerun from that state re-emits none of the rows already read."""
    emu, run = gated
    bookmarks = run.final_state["bookmarks"]
    for stream in STREAMS:
        assert "cursor" not in bookmarks[stream]
        assert isinstance(bookmarks[stream]["start_time"], int)
    again = run_tap(tap_config(emu), only=STREAMS, state=run.final_state)
    assert again.error is None
    assert again.records.get("tickets", []) == []
    assert again.records.get("users", []) == []


def test_a_cursor_era_state_resumes_at_its_last_row_time(emulator_factory):
    """A state saved while the cursor export worked continues by time from its last row."""
    open_account = start_emulator(emulator_factory, tickets=300, seed=7)
    first = run_tap(tap_config(open_account), only={"tickets"})
    saved = first.final_state
    assert saved["bookmarks"]["tickets"].get("cursor")
    since = int(pendulum.parse(saved["bookmarks"]["tickets"]["replication_key_value"]).timestamp())

    same_account_gated = start_emulator(
        emulator_factory, tickets=300, seed=7, disable=("cursor_exports",)
    )
    resumed = run_tap(tap_config(same_account_gated), only={"tickets"}, state=saved)
    assert resumed.error is None
    expected = {
        row["id"]
        for row in same_account_gated.collection("tickets")
        if int(pendulum.parse(row["updated_at"]).timestamp()) >= since
    }
    assert set(resumed.ids("tickets")) == expected  # that last second again, nothing older
    assert 0 < len(expected) < 300
