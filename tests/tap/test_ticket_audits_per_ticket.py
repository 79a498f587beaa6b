"""`ticket_audits_source: tickets`: each changed ticket's audits, archived tickets included.

zendesk_api.md 5.3 / trap 30: `/api/v2/ticket_audits` leaves archived tickets out and is not
meant for change data capture; `/api/v2/tickets/{id}/audits` reads any ticket, archived ones
too, so the per-ticket mode follows the tickets export's cursor.
"""

from __future__ import annotations

import pytest
import requests

from tests.tap.tapkit import SECRET_API_TOKEN, SECRET_EMAIL, run_tap, start_emulator, tap_config

LIST_PATH = "GET /api/v2/ticket_audits"
PER_TICKET = "/api/v2/tickets/{id}/audits"


@pytest.fixture(scope="module")
def account(emulator_factory):
    """A 300-ticket account with archived and deleted tickets."""
    emu = start_emulator(emulator_factory, tickets=300, seed=7)
    assert emu.archived_ticket_ids, "the account needs archived tickets for these tests"
    return emu


def live_audits(emu) -> dict[int, int]:
    """audit id -> ticket id, for every ticket that is not deleted (archived included)."""
    live = {t["id"] for t in emu.collection("tickets") if t.get("status") != "deleted"}
    return {a["id"]: a["ticket_id"] for a in emu.collection("ticket_audits") if a["ticket_id"] in live}


def test_every_live_tickets_audits_arrive_archived_ones_included(account):
    account.reset_stats()
    run = run_tap(
        tap_config(account, ticket_audits_source="tickets"), only={"tickets", "ticket_audits"}
    )

    assert run.error is None
    rows = run.records["ticket_audits"]
    assert {r["id"]: r["ticket_id"] for r in rows} == live_audits(account)
    assert account.archived_ticket_ids & {r["ticket_id"] for r in rows}
    assert account.stats()["requests"].get(LIST_PATH, 0) == 0
    live_tickets = {t["id"] for t in account.collection("tickets") if t.get("status") != "deleted"}
    assert account.requests_to(PER_TICKET) == len(live_tickets)


def test_the_default_list_leaves_archived_tickets_out(account):
    """What the per-ticket mode is for: the account-wide list has no archived tickets' audits."""
    account.reset_stats()
    run = run_tap(tap_config(account), only={"ticket_audits"})

    assert run.error is None
    tickets = {r["ticket_id"] for r in run.records["ticket_audits"]}
    assert not tickets & account.archived_ticket_ids
    assert account.stats()["requests"].get(LIST_PATH, 0) >= 1
    assert account.requests_to(PER_TICKET) == 0


def test_a_rerun_reads_the_audits_of_changed_tickets_only(account):
    config = tap_config(account, ticket_audits_source="tickets")
    first = run_tap(config, only={"tickets", "ticket_audits"})
    assert first.error is None
    changed = next(
        t["id"]
        for t in account.collection("tickets")
        if t.get("status") not in ("deleted", "closed") and t["id"] not in account.archived_ticket_ids
    )
    reply = requests.put(
        f"{account.url}/api/v2/tickets/{changed}.json",
        json={"ticket": {"comment": {"body": "One more thing.", "public": False}}},
        auth=(f"{SECRET_EMAIL}/token", SECRET_API_TOKEN),
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    account.reset_stats()

    again = run_tap(config, only={"tickets", "ticket_audits"}, state=first.final_state)

    assert again.error is None
    assert {r["ticket_id"] for r in again.records["ticket_audits"]} == {changed}
    expected = {a["id"] for a in account.collection("ticket_audits") if a["ticket_id"] == changed}
    assert {r["id"] for r in again.records["ticket_audits"]} == expected
    assert len(expected) > len([r for r in first.records["ticket_audits"] if r["ticket_id"] == changed])
    assert account.requests_to(PER_TICKET) == 1


def test_discovery_declares_the_per_ticket_mode_a_child_of_tickets(account):
    from tap_zendesk.streams.tickets import TicketAuditsPerTicketStream, TicketAuditsStream
    from tap_zendesk.tap import TapZendesk

    for source, cls in (("tickets", TicketAuditsPerTicketStream), ("list", TicketAuditsStream)):
        tap = TapZendesk(
            config=tap_config(account, ticket_audits_source=source), parse_env_config=False
        )
        assert type(tap.streams["ticket_audits"]) is cls
        assert (tap.streams["ticket_audits"].parent_stream_type is not None) is (source == "tickets")
