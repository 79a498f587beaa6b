"""Each Zendesk pagination style, end to end against the emulator over real HTTP.

Every test compares what the tap emitted with the emulator's own rows (minus what Zendesk
leaves out of that endpoint) and counts the requests the emulator served, so looping on a
stale `links.next`/`next_page` or stopping early both fail.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, ClassVar

import pytest
import requests

from tap_zendesk.client import NextPageListStream, TimeExportStream
from tap_zendesk.pagination import (
    CursorPaginator,
    ExportOrCursorPaginator,
    IncrementalTimePaginator,
    LegacyCursorPaginator,
)
from tap_zendesk.streams.tickets import TicketMetricEventsStream
from tap_zendesk.tap import TapZendesk
from tests.conftest import zendesk_session
from tests.tap.tapkit import (
    SECRET_API_TOKEN,
    SECRET_EMAIL,
    fresh_counts,
    pages,
    record_urls,
    run_tap,
    run_with_fault,
    start_emulator,
    tap_config,
)
from tests.tap.tapkit import clean, emu  # noqa: F401 - fixtures: one shared account

CBP_STREAMS = {
    # stream: (path counted by the emulator, collection, key)
    "ticket_metrics": ("/api/v2/ticket_metrics", "ticket_metrics", "id"),
    "organization_memberships": (
        "/api/v2/organization_memberships",
        "organization_memberships",
        "id",
    ),
    "satisfaction_ratings": ("/api/v2/satisfaction_ratings", "satisfaction_ratings", "id"),
    "tags": ("/api/v2/tags", "tags", "name"),
}


def session(emu) -> requests.Session:
    """Authenticated session for premise checks made directly against the emulator."""
    return zendesk_session(emu, SECRET_EMAIL, SECRET_API_TOKEN)


def once(values: list[Any]) -> list[Any]:
    """Values that occur more than once."""
    return sorted(v for v, n in Counter(values).items() if n > 1)


def assert_exactly(run, stream: str, expected: set, key: str = "id") -> None:
    """Every expected row once, nothing else, and the run ended without an error."""
    assert run.error is None, f"{stream}: run failed: {run.error!r}"
    got = run.ids(stream, key)
    assert not once(got), f"{stream}: rows emitted twice: {once(got)[:10]}"
    missing, extra = expected - set(got), set(got) - expected
    assert not missing and not extra, (
        f"{stream}: {len(missing)} missing (e.g. {sorted(missing)[:5]}), "
        f"{len(extra)} unexpected (e.g. {sorted(extra)[:5]})"
    )


def visible_audit_ids(emu) -> set[int]:
    """`/ticket_audits` leaves out audits of archived and deleted tickets (zendesk_api.md 5.3)."""
    archived = emu.archived_ticket_ids
    deleted = {t["id"] for t in emu.collection("tickets") if t.get("status") == "deleted"}
    return {
        a["id"]
        for a in emu.collection("ticket_audits")
        if a["ticket_id"] not in archived and a["ticket_id"] not in deleted
    }


# -- test-only streams for styles no shipped stream pages through on the emulator -------------


class OffsetOrganizationMembershipsStream(NextPageListStream):
    """organization_memberships read with offset paging (no page[size]): follows next_page."""

    name = "organization_memberships"
    path = "/api/v2/organization_memberships.json"
    extra_params: ClassVar[dict[str, Any]] = {"per_page": 10}


class TimeTicketsStream(TimeExportStream):
    """Tickets from the time-based export: the >1000-rows-in-one-second case lives here."""

    name = "tickets"
    path = "/api/v2/incremental/tickets.json"
    dedupe_fields = ("id", "updated_at", "generated_timestamp")


class CbpTicketMetricEventsStream(TicketMetricEventsStream):
    """ticket_metric_events asked for CBP replies (`page[size]`): meta/links instead of end_time."""

    def get_url_params(self, context, next_page_token):
        """Add page[size]; later pages follow links.next."""
        return {**super().get_url_params(context, next_page_token), "page[size]": 100}


def tap_with(*stream_classes):
    """A TapZendesk whose catalog is only the given test streams."""

    class TestTap(TapZendesk):
        def discover_streams(self):
            return [cls(tap=self) for cls in stream_classes]

    return TestTap


# -- cursor-based pagination (CBP) ----------------------------------------------------------


def test_cursor_list_streams_emit_every_row_once_and_stop_on_has_more(clean):
    """CBP lists: all rows once, one request per 100 rows, none after `has_more` is false."""
    run = run_tap(tap_config(clean), only=set(CBP_STREAMS), prepare=fresh_counts(clean))
    for stream, (path, collection, key) in CBP_STREAMS.items():
        expected = {row[key] for row in clean.collection(collection)}
        assert_exactly(run, stream, expected, key)
        served = clean.requests_to(path)
        assert served == pages(len(expected), 100), (
            f"{stream}: {served} requests for {len(expected)} rows at 100 per page"
        )


def test_cursor_list_ignores_links_next_on_the_last_page(clean):
    """The emulator fills `links.next` on the last CBP page; the tap must not follow it."""
    reply = session(clean).get(f"{clean.url}/api/v2/groups.json?page[size]=100").json()
    assert reply["meta"]["has_more"] is False and reply["links"]["next"], "premise"
    run = run_tap(tap_config(clean), only={"groups"}, prepare=fresh_counts(clean))
    assert_exactly(run, "groups", {g["id"] for g in clean.collection("groups")})
    assert clean.requests_to("/api/v2/groups") == 1


def test_cursor_list_continues_past_an_empty_middle_page(clean):
    """An empty CBP page that says has_more (and repeats its cursor) is fetched again."""
    run = run_with_fault(
        clean, tap_config(clean), "empty_page", at_request=2, only={"ticket_metrics"}
    )
    assert_exactly(run, "ticket_metrics", {m["id"] for m in clean.collection("ticket_metrics")})


def test_cursor_list_continues_past_an_empty_first_page(clean):
    """An empty first CBP page with has_more true and no cursor is not the end of the list."""
    run = run_with_fault(
        clean, tap_config(clean), "empty_page", at_request=1, only={"ticket_metrics"}
    )
    assert_exactly(run, "ticket_metrics", {m["id"] for m in clean.collection("ticket_metrics")})


# -- offset pagination (next_page) ------------------------------------------------------------


def test_next_page_list_follows_next_page_until_null(clean):
    """Offset lists: all rows once, one request per page, stop when `next_page` is null."""
    run = run_tap(
        tap_config(clean),
        tap_class=tap_with(OffsetOrganizationMembershipsStream),
        prepare=fresh_counts(clean),
    )
    rows = clean.collection("organization_memberships")
    assert_exactly(run, "organization_memberships", {r["id"] for r in rows})
    assert clean.requests_to("/api/v2/organization_memberships") == pages(len(rows), 10)


def test_next_page_list_continues_past_an_empty_middle_page(clean):
    """An empty offset page whose next_page points at itself is fetched again, not a loop."""
    run = run_with_fault(
        clean,
        tap_config(clean),
        "empty_page",
        at_request=2,
        tap_class=tap_with(OffsetOrganizationMembershipsStream),
    )
    rows = clean.collection("organization_memberships")
    assert_exactly(run, "organization_memberships", {r["id"] for r in rows})


def test_unpaginated_lists_make_one_request_each(clean):
    """ticket_fields, custom_statuses, sla_policies: one reply holds everything."""
    streams = {
        "ticket_fields": "/api/v2/ticket_fields",
        "custom_statuses": "/api/v2/custom_statuses",
        "sla_policies": "/api/v2/slas/policies",
        "ticket_forms": "/api/v2/ticket_forms",
    }
    run = run_tap(tap_config(clean), only=set(streams), prepare=fresh_counts(clean))
    for stream, path in streams.items():
        assert_exactly(run, stream, {r["id"] for r in clean.collection(stream)})
        assert clean.requests_to(path) == 1, stream


# -- legacy cursor (ticket_audits) -------------------------------------------------------------


@pytest.mark.parametrize("audits_style", ["legacy", "cbp"])
def test_ticket_audits_emit_every_listed_audit_once(emulator_factory, audits_style):
    """/ticket_audits in either reply style: every audit Zendesk lists once, then stop."""
    emu = start_emulator(emulator_factory, tickets=300, seed=3, audits_style=audits_style)
    run = run_tap(
        tap_config(emu, page_size=100), only={"ticket_audits"}, prepare=fresh_counts(emu)
    )
    expected = visible_audit_ids(emu)
    assert len(expected) > 100, "premise: more than one page"
    assert_exactly(run, "ticket_audits", expected)
    assert emu.requests_to("/api/v2/ticket_audits") == pages(len(expected), 100)


# -- cursor-based incremental exports (tickets, users) ----------------------------------------


def test_cursor_exports_emit_every_ticket_and_user_once_and_stop_on_end_of_stream(clean):
    """Tickets (archived and deleted too) and users: all once, one request per page."""
    run = run_tap(
        tap_config(clean, page_size=50), only={"tickets", "users"}, prepare=fresh_counts(clean)
    )
    tickets = clean.collection("tickets")
    users = clean.collection("users")
    assert clean.archived_ticket_ids, "premise: some tickets are archived"
    assert_exactly(run, "tickets", {t["id"] for t in tickets})
    assert_exactly(run, "users", {u["id"] for u in users})
    assert clean.requests_to("/api/v2/incremental/tickets/cursor") == pages(len(tickets), 50)
    assert clean.requests_to("/api/v2/incremental/users/cursor") == pages(len(users), 50)
    deleted = [t for t in run.records["tickets"] if t["status"] == "deleted"]
    assert deleted, "premise: the account has deleted tickets"
    assert all(t["_sdc_deleted_at"] for t in deleted)
    assert not any(t["_sdc_deleted_at"] for t in run.records["tickets"] if t["status"] != "deleted")


def test_cursor_export_continues_past_an_empty_middle_page(clean):
    """An empty cursor-export page that is not end_of_stream is fetched again, not a gap."""
    run = run_with_fault(
        clean, tap_config(clean, page_size=50), "empty_page", at_request=3, only={"tickets"}
    )
    assert_exactly(run, "tickets", {t["id"] for t in clean.collection("tickets")})


def test_cursor_export_emits_rows_repeated_across_pages_once(clean):
    """A page that repeats the previous page's rows adds nothing twice."""
    run = run_with_fault(
        clean, tap_config(clean, page_size=50), "duplicate_rows", at_request=2, only={"tickets"}
    )
    assert_exactly(run, "tickets", {t["id"] for t in clean.collection("tickets")})


def test_cursor_export_writes_state_after_every_page(clean):
    """One STATE per page, after that page's records: resume points are exact."""
    run = run_tap(tap_config(clean, page_size=50), only={"tickets"})
    assert run.error is None
    total = len(clean.collection("tickets"))
    emitted, cursors, seen = 0, [], None
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == "tickets":
            emitted += 1
        elif message["type"] == "STATE":
            cursor = message["value"]["bookmarks"].get("tickets", {}).get("cursor")
            if cursor and cursor != seen:
                seen = cursor
                cursors.append(emitted)
    assert cursors == [min(50 * i, total) for i in range(1, pages(total, 50) + 1)], (
        f"records emitted before each new cursor: {cursors}"
    )


# -- time-based incremental exports (organizations, ticket_comments, articles) --------------


@pytest.mark.parametrize(
    ("stream", "page_size", "collection", "path"),
    [
        ("organizations", 4, "organizations", "/api/v2/incremental/organizations"),
        ("articles", 4, "articles", "/api/v2/help_center/incremental/articles"),
        ("ticket_comments", 100, "ticket_comments", "/api/v2/incremental/ticket_events"),
    ],
)
def test_time_exports_emit_every_row_once_and_stop(clean, stream, page_size, collection, path):
    """Time exports: all rows once, at most one request per page, stop on the end marker."""
    run = run_tap(
        tap_config(clean, page_size=page_size), only={stream}, prepare=fresh_counts(clean)
    )
    expected = {row["id"] for row in clean.collection(collection)}
    assert_exactly(run, stream, expected)
    served = clean.requests_to(path)
    # Each next page starts at the previous end_time, so the boundary row comes again: a page
    # brings at least page_size - 1 new rows.
    assert 2 <= served <= pages(len(expected), page_size - 1), (
        f"{stream}: {served} requests for {len(expected)} rows at {page_size} per page"
    )
    assert all(row["ticket_id"] for row in run.records.get("ticket_comments", []))


def test_time_export_stops_on_end_of_stream_although_next_page_is_set(clean):
    """`next_page` is present on the last time-export page; end_of_stream ends the loop."""
    first = session(clean).get(f"{clean.url}/api/v2/incremental/organizations.json?start_time=0")
    body = first.json()
    assert body["end_of_stream"] is True and body["next_page"], "premise"
    run = run_tap(tap_config(clean), only={"organizations"}, prepare=fresh_counts(clean))
    assert_exactly(run, "organizations", {o["id"] for o in clean.collection("organizations")})
    assert clean.requests_to("/api/v2/incremental/organizations") == 1


def test_time_export_continues_past_an_empty_middle_page(clean):
    """An empty time-export page (end_time == start_time) is fetched again, not stepped past."""
    run = run_with_fault(
        clean, tap_config(clean, page_size=4), "empty_page", at_request=2, only={"organizations"}
    )
    assert_exactly(run, "organizations", {o["id"] for o in clean.collection("organizations")})
    assert not run.warnings("did not move past"), "an empty page is not a same-second stall"


def test_time_export_emits_rows_repeated_across_pages_once(clean):
    """Boundary rows Zendesk sends again on the next page are emitted once."""
    run = run_with_fault(
        clean, tap_config(clean, page_size=4), "duplicate_rows", at_request=2,
        only={"organizations"},
    )
    assert_exactly(run, "organizations", {o["id"] for o in clean.collection("organizations")})


def test_time_export_writes_state_after_every_page(clean):
    """start_time moves forward with every page and ends one second past the last end_time."""
    urls: list[str] = []
    run = run_tap(
        tap_config(clean, page_size=4),
        only={"organizations"},
        prepare=lambda tap: record_urls(tap, urls),
    )
    assert run.error is None
    marks = []
    for state in run.states:
        mark = state["bookmarks"].get("organizations", {}).get("start_time")
        if mark is not None and (not marks or marks[-1] != mark):
            marks.append(mark)
    export_calls = [u for u in urls if "/incremental/organizations" in u]
    assert len(marks) == len(export_calls), (marks, export_calls)
    assert marks == sorted(marks) and len(set(marks)) == len(marks)
    last = session(clean).get(export_calls[-1]).json()
    assert last["end_of_stream"] is True
    assert marks[-1] == last["end_time"] + 1


def test_articles_export_stops_when_next_page_is_null(clean):
    """Help Center's article export has no end_of_stream; a null next_page ends it."""
    body = (
        session(clean)
        .get(f"{clean.url}/api/v2/help_center/incremental/articles.json?start_time=0")
        .json()
    )
    assert "end_of_stream" not in body and body["next_page"] is None, "premise"
    run = run_tap(tap_config(clean), only={"articles"}, prepare=fresh_counts(clean))
    assert_exactly(run, "articles", {a["id"] for a in clean.collection("articles")})
    assert clean.requests_to("/api/v2/help_center/incremental/articles") == 1


# -- ticket metric events (time-based or CBP replies) -----------------------------------------


def test_ticket_metric_events_time_replies_emit_every_event_once(clean):
    """The time-based metric-events reply (1000 per page) is read to end_of_stream."""
    run = run_tap(tap_config(clean), only={"ticket_metric_events"}, prepare=fresh_counts(clean))
    events = clean.collection("ticket_metric_events")
    assert_exactly(run, "ticket_metric_events", {e["id"] for e in events})
    assert clean.requests_to("/api/v2/incremental/ticket_metric_events") == pages(len(events), 1000)


def test_ticket_metric_events_cbp_replies_stop_on_has_more(clean):
    """With page[size] the reply is CBP: follow links.next, stop when has_more is false."""
    run = run_tap(
        tap_config(clean),
        tap_class=tap_with(CbpTicketMetricEventsStream),
        prepare=fresh_counts(clean),
    )
    events = clean.collection("ticket_metric_events")
    assert_exactly(run, "ticket_metric_events", {e["id"] for e in events})
    assert clean.requests_to("/api/v2/incremental/ticket_metric_events") == pages(len(events), 100)


# -- more than a page of rows in one second --------------------------------------------------


@pytest.fixture(scope="module")
def burst_emu(emulator_factory):
    """1200 tickets, 1100 of them sharing one timestamp (the generator's default burst)."""
    emu = start_emulator(emulator_factory, tickets=1200, seed=5)
    stamps = Counter(t["generated_timestamp"] for t in emu.collection("tickets"))
    assert stamps.most_common(1)[0][1] > 1000, "premise: a burst larger than a page"
    return emu


def test_cursor_export_pages_through_a_burst_of_one_second(burst_emu):
    """The cursor export walks 1100 same-second tickets without looping or skipping."""
    burst_emu.reset_stats()
    run = run_tap(tap_config(burst_emu), only={"tickets"}, prepare=fresh_counts(burst_emu))
    assert_exactly(run, "tickets", {t["id"] for t in burst_emu.collection("tickets")})
    assert burst_emu.requests_to("/api/v2/incremental/tickets/cursor") == 2


def test_time_export_takes_a_burst_of_one_second_in_one_page(burst_emu):
    """Zendesk returns every row of a crowded second together; end_time moves on, no stall."""
    run = run_tap(
        tap_config(burst_emu),
        tap_class=tap_with(TimeTicketsStream),
        prepare=fresh_counts(burst_emu),
    )
    assert_exactly(run, "tickets", {t["id"] for t in burst_emu.collection("tickets")})
    assert burst_emu.requests_to("/api/v2/incremental/tickets") <= 3
    assert not run.warnings("did not move past")


def test_time_export_steps_past_a_stalled_second_with_a_warning(emulator_factory):
    """With the stall switch on, the tap warns, steps one second, and finishes (no loop)."""
    emu = start_emulator(emulator_factory, tickets=1200, seed=5, stall_same_second=True)
    stamps = Counter(t["generated_timestamp"] for t in emu.collection("tickets"))
    burst_second, size = stamps.most_common(1)[0]
    run = run_tap(tap_config(emu), tap_class=tap_with(TimeTicketsStream), prepare=fresh_counts(emu))
    assert run.error is None, repr(run.error)
    assert len(run.warnings("did not move past")) == 1, run.warnings()
    assert emu.requests_to("/api/v2/incremental/tickets") <= 4
    got = run.ids("tickets")
    assert not once(got)
    outside = {
        t["id"] for t in emu.collection("tickets") if t["generated_timestamp"] != burst_second
    }
    assert outside <= set(got), "rows outside the stalled second must all arrive"
    assert len(set(got) - outside) >= 1000, "the first page of the crowded second arrives"


# -- stop rules the emulator does not exercise (narrow unit tests on built replies) ----------


def reply(body: dict, url: str = "https://acme.zendesk.com/api/v2/x.json?start_time=100"):
    """A decoded 200 reply for a paginator, as if the emulator or Zendesk had sent it."""
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    response.url = url
    response.request = requests.Request("GET", url).prepare()
    return response


def test_ticket_audits_stop_on_an_empty_page_even_with_an_after_url():
    """zendesk_api.md 5.3: stop on has_more false, a null next link, or an empty page."""
    paginator = LegacyCursorPaginator()
    empty = reply({"audits": [], "after_cursor": "abc", "after_url": "https://acme.zendesk.com/n"})
    assert paginator.continue_if_empty(empty) is False
    full = reply({"audits": [{"id": 1}], "after_cursor": None, "after_url": None})
    assert paginator.has_more(full) is False


def test_metric_events_without_end_of_stream_continue_until_an_empty_page():
    """4.8: the time-based metric-events reply may lack end_of_stream and its page size is not
    documented, so a short page is not the end; an empty page is."""
    paginator = ExportOrCursorPaginator(1000)
    next_page = (
        "https://acme.zendesk.com/api/v2/incremental/ticket_metric_events.json?start_time=200"
    )
    short = reply(
        {
            "ticket_metric_events": [{"id": 1}] * 100,
            "count": 100,
            "end_time": 200,
            "next_page": next_page,
        }
    )
    assert paginator.has_more(short) is True
    empty = reply({"ticket_metric_events": [], "count": 0, "end_time": 100, "next_page": next_page})
    assert paginator.has_more(empty) is False
    ended = reply(
        {
            "ticket_metric_events": [{"id": 1}],
            "count": 1,
            "end_time": 200,
            "next_page": next_page,
            "end_of_stream": True,
        }
    )
    assert paginator.has_more(ended) is False
    cbp = reply(
        {
            "ticket_metric_events": [{"id": 1}],
            "meta": {"has_more": False},
            "links": {"next": next_page},
        }
    )
    assert paginator.has_more(cbp) is False


def test_time_export_without_end_of_stream_stops_on_a_short_page_or_null_next_page():
    """4.2 rule 3 fallback (articles, old replies): count < per_page, or next_page null, ends."""
    paginator = IncrementalTimePaginator(1000)
    nxt = "https://acme.zendesk.com/api/v2/help_center/incremental/articles.json?start_time=200"
    assert paginator.has_more(reply({"articles": [], "count": 999, "next_page": nxt})) is False
    assert paginator.has_more(reply({"articles": [], "count": 1000, "next_page": nxt})) is True
    assert paginator.has_more(reply({"articles": [], "count": 1000, "next_page": None})) is False


def test_a_page_that_keeps_repeating_its_position_ends_with_a_clear_error():
    """The re-fetch of an empty page is bounded: a server that never moves on is an error."""
    paginator = CursorPaginator()
    stuck = reply({"tickets": [], "meta": {"has_more": True, "after_cursor": None}})
    with pytest.raises(RuntimeError, match="same position"):
        for _ in range(10):
            paginator.advance(stuck)


def test_rows_out_of_order_within_a_page_change_nothing(clean):
    """Zendesk guarantees no order inside one second; shuffled pages still give every row once."""
    run = run_tap(
        tap_config(clean, page_size=50),
        only={"tickets", "organizations"},
        prepare=fresh_counts(
            clean,
            ("out_of_order", {"path": "/api/v2/incremental/tickets/cursor", "times": 3}),
            ("out_of_order", {"path": "/api/v2/incremental/organizations"}),
        ),
    )
    assert clean.stats()["faults_fired"].get("out_of_order") == 4, "premise: faults fired"
    assert_exactly(run, "tickets", {t["id"] for t in clean.collection("tickets")})
    assert_exactly(run, "organizations", {o["id"] for o in clean.collection("organizations")})
