"""`ticket_metrics_source: export`: metrics ride on the tickets export (`include=metric_sets`).

zendesk_api.md 4.6 / trap 19: the incremental ticket export embeds each ticket's `metric_set`
(null for deleted tickets) when asked, so the stream costs no request of its own and follows
the tickets' cursor.
"""

from __future__ import annotations

import pytest

from tests.tap.tapkit import record_urls, run_tap, start_emulator, tap_config

LIST_PATH = "GET /api/v2/ticket_metrics"


@pytest.fixture(scope="module")
def account(emulator_factory):
    """A 300-ticket account."""
    return start_emulator(emulator_factory, tickets=300, seed=7)


def live_metrics(emu) -> dict[int, int]:
    """ticket_id -> metrics id, for the tickets that are not deleted."""
    live = {t["id"] for t in emu.collection("tickets") if t.get("status") != "deleted"}
    return {m["ticket_id"]: m["id"] for m in emu.collection("ticket_metrics") if m["ticket_id"] in live}


@pytest.mark.parametrize("with_tickets", [True, False], ids=["with tickets", "metrics only"])
def test_metrics_come_from_the_tickets_export_without_requests_of_their_own(account, with_tickets):
    """One row per live ticket, the same rows the list holds, and no /ticket_metrics request."""
    account.reset_stats()
    urls: list[str] = []
    only = {"tickets", "ticket_metrics"} if with_tickets else {"ticket_metrics"}
    run = run_tap(
        tap_config(account, ticket_metrics_source="export"),
        only=only,
        prepare=lambda tap: record_urls(tap, urls),
    )
    assert run.error is None
    rows = run.records["ticket_metrics"]
    assert {r["ticket_id"]: r["id"] for r in rows} == live_metrics(account)
    assert len(rows) == len({r["id"] for r in rows})
    assert account.stats()["requests"].get(LIST_PATH, 0) == 0
    exports = [u for u in urls if "/incremental/tickets/cursor" in u]
    assert exports and all("include=metric_sets" in u for u in exports)
    assert bool(run.records.get("tickets")) is with_tickets


def test_a_rerun_brings_only_metrics_of_changed_tickets(account):
    """From the saved state nothing changed: no metric rows, still no list request."""
    config = tap_config(account, ticket_metrics_source="export")
    first = run_tap(config, only={"tickets", "ticket_metrics"})
    account.reset_stats()
    again = run_tap(config, only={"tickets", "ticket_metrics"}, state=first.final_state)
    assert again.error is None
    assert again.records.get("ticket_metrics", []) == []
    assert account.stats()["requests"].get(LIST_PATH, 0) == 0


def test_the_default_reads_the_list_and_asks_the_export_for_nothing_extra(account):
    """`list` (default): the full list, and the tickets export without include=metric_sets."""
    account.reset_stats()
    urls: list[str] = []
    run = run_tap(
        tap_config(account),
        only={"tickets", "ticket_metrics"},
        prepare=lambda tap: record_urls(tap, urls),
    )
    assert run.error is None
    assert len(run.records["ticket_metrics"]) == len(account.collection("ticket_metrics"))
    assert account.stats()["requests"].get(LIST_PATH, 0) >= 1
    assert not any("include=metric_sets" in u for u in urls)


def test_discovery_declares_the_export_mode_incremental(account):
    """The catalog tells a target which mode it gets."""
    from tap_zendesk.tap import TapZendesk

    for source, method, key in (("export", "INCREMENTAL", "updated_at"), ("list", "FULL_TABLE", None)):
        tap = TapZendesk(config=tap_config(account, ticket_metrics_source=source))
        entry = next(s for s in tap.catalog_dict["streams"] if s["tap_stream_id"] == "ticket_metrics")
        assert (entry["replication_method"], entry.get("replication_key")) == (method, key)


def test_an_unknown_source_is_refused_with_the_choices(account):
    """A typo is a clear config error naming the allowed values."""
    from singer_sdk.exceptions import ConfigValidationError

    from tap_zendesk.tap import TapZendesk

    with pytest.raises(ConfigValidationError) as info:
        TapZendesk(config=tap_config(account, ticket_metrics_source="exports"), validate_config=True)
    assert any("'list', 'export'" in e and "ticket_metrics_source" in e for e in info.value.errors)
