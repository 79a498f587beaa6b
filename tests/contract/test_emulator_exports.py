"""Contract tests of the emulator's incremental exports (cursor-based and time-based)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import zendesk_session

PER_PAGE = 10


@pytest.fixture(scope="module")
def emu(emulator_factory):
    """An account with a 30-ticket same-second burst; nothing in this module writes to it."""
    return emulator_factory(tickets=200, seed=7, hold_back=0, job_delay=0, burst=30)


@pytest.fixture(scope="module")
def api(emu):
    """Authenticated session."""
    return zendesk_session(emu)


def walk_time(api, url, limit=1000):
    """Follow next_page until end_of_stream; return (pages, request start_times)."""
    pages, starts = [], []
    while True:
        starts.append(int(parse_qs(urlsplit(url).query)["start_time"][0]))
        body = api.get(url).json()
        pages.append(body)
        if body.get("end_of_stream", body.get("next_page") is None):
            return pages, starts
        url = body["next_page"]
        assert len(pages) < limit


def walk_cursor(api, url):
    """Follow after_url until end_of_stream; return pages."""
    pages = []
    while True:
        body = api.get(url).json()
        pages.append(body)
        if body["end_of_stream"]:
            return pages
        url = body["after_url"]
        assert len(pages) < 1000


def start_param(url):
    """start_time inside a next_page URL."""
    return int(parse_qs(urlsplit(url).query)["start_time"][0])


# ---- cursor-based -----------------------------------------------------------------------------


def test_cursor_ticket_export_returns_every_ticket_once_in_generated_order(emu, api):
    """Archived and deleted tickets are included; order follows generated_timestamp."""
    pages = walk_cursor(api, f"{emu.url}/api/v2/incremental/tickets/cursor.json?start_time=0"
                             f"&per_page=50")
    rows = [t for p in pages for t in p["tickets"]]
    assert sorted(t["id"] for t in rows) == sorted(t["id"] for t in emu.collection("tickets"))
    assert len(rows) == len({t["id"] for t in rows})
    stamps = [t["generated_timestamp"] for t in rows]
    assert stamps == sorted(stamps)
    assert emu.archived_ticket_ids <= {t["id"] for t in rows}
    assert any(t["status"] == "deleted" for t in rows)


def test_cursor_export_keeps_after_cursor_at_end_of_stream(emu, api):
    """The last page still carries after_cursor so the next sync can resume from it."""
    pages = walk_cursor(api, f"{emu.url}/api/v2/incremental/tickets/cursor?start_time=0")
    assert pages[0]["before_cursor"] is None and pages[0]["before_url"] is None
    last = pages[-1]
    assert last["end_of_stream"] is True
    assert last["after_cursor"]
    assert last["after_url"].startswith(emu.url)


def test_cursor_export_after_the_end_is_empty_with_a_null_cursor(emu, api):
    """Recorded behaviour: an empty page answers after_cursor null (keep the old one)."""
    last = walk_cursor(api, f"{emu.url}/api/v2/incremental/users/cursor?start_time=0")[-1]
    empty = api.get(f"{emu.url}/api/v2/incremental/users/cursor?cursor={last['after_cursor']}")
    body = empty.json()
    assert body["users"] == [] and body["end_of_stream"] is True
    assert body["after_cursor"] is None and body["after_url"] is None


def test_cursor_on_empty_page_can_be_echoed_instead(emulator_factory):
    """`cursor_null_on_empty=False` returns the request cursor on an empty page."""
    emu = emulator_factory(tickets=5, seed=7, hold_back=0, cursor_null_on_empty=False)
    api = zendesk_session(emu)
    last = walk_cursor(api, f"{emu.url}/api/v2/incremental/tickets/cursor?start_time=0")[-1]
    again = api.get(last["after_url"]).json()
    assert again["tickets"] == [] and again["after_cursor"] == last["after_cursor"]


def test_cursor_user_export_returns_every_user_once(emu, api):
    """The user cursor export pages through all users."""
    pages = walk_cursor(api, f"{emu.url}/api/v2/incremental/users/cursor?start_time=0"
                             f"&per_page=7")
    ids = [u["id"] for p in pages for u in p["users"]]
    assert sorted(ids) == sorted(u["id"] for u in emu.collection("users"))


def test_broken_export_cursor_is_rejected(emu, api):
    """A cursor that is not one of ours gets a 400."""
    r = api.get(f"{emu.url}/api/v2/incremental/tickets/cursor?cursor=Zm9vYmFy")
    assert r.status_code == 400
    assert r.json()["error"] == "InvalidPaginationParameter"


def test_metric_sets_are_embedded_per_ticket_and_null_for_deleted(emu, api):
    """include=metric_sets embeds `metric_set` in each exported ticket."""
    body = api.get(f"{emu.url}/api/v2/incremental/tickets/cursor?start_time=0"
                   f"&include=metric_sets").json()
    assert all("metric_set" in t for t in body["tickets"])
    assert all(t["metric_set"] is None for t in body["tickets"] if t["status"] == "deleted")
    live = [t for t in body["tickets"] if t["metric_set"] is not None]
    assert live and all(t["metric_set"]["ticket_id"] == t["id"] for t in live)
    assert "metric_sets" not in body


def test_exclude_deleted_drops_deleted_tickets(emu, api):
    """exclude_deleted=true leaves out tickets with status deleted."""
    body = api.get(f"{emu.url}/api/v2/incremental/tickets/cursor?start_time=0"
                   f"&exclude_deleted=true").json()
    assert body["tickets"] and all(t["status"] != "deleted" for t in body["tickets"])
    total = sum(1 for t in emu.collection("tickets") if t["status"] != "deleted")
    assert len(body["tickets"]) == total


# ---- time-based -------------------------------------------------------------------------------


def test_time_export_end_time_is_the_last_items_timestamp(emu, api):
    """end_time is the last item's generated_timestamp and next_page starts there."""
    body = api.get(f"{emu.url}/api/v2/incremental/tickets.json?start_time=0"
                   f"&per_page={PER_PAGE}").json()
    assert body["end_time"] == body["tickets"][-1]["generated_timestamp"]
    assert start_param(body["next_page"]) == body["end_time"]
    assert parse_qs(urlsplit(body["next_page"]).query)["per_page"] == [str(PER_PAGE)]
    assert body["count"] == len(body["tickets"])


def test_time_export_repeats_the_boundary_item_on_the_next_page(emu, api):
    """Because next_page starts at end_time, the boundary item comes back."""
    first = api.get(f"{emu.url}/api/v2/incremental/tickets?start_time=0"
                    f"&per_page={PER_PAGE}").json()
    second = api.get(first["next_page"]).json()
    assert first["tickets"][-1]["id"] in {t["id"] for t in second["tickets"]}


def test_time_export_walk_covers_every_ticket_and_ends_with_next_page(emu, api):
    """A walk to end_of_stream sees every ticket; the last page still has next_page."""
    pages, _ = walk_time(api, f"{emu.url}/api/v2/incremental/tickets?start_time=0"
                              f"&per_page={PER_PAGE}")
    seen = {t["id"] for p in pages for t in p["tickets"]}
    assert seen == {t["id"] for t in emu.collection("tickets")}
    assert pages[-1]["end_of_stream"] is True
    assert pages[-1]["next_page"] is not None


def test_time_export_keeps_same_second_items_together(emu, api):
    """A page may exceed per_page so that every item of the boundary second is on it."""
    pages, starts = walk_time(api, f"{emu.url}/api/v2/incremental/tickets?start_time=0"
                                   f"&per_page={PER_PAGE}")
    big = [p for p in pages if p["count"] > PER_PAGE]
    assert big, "the 30-ticket burst should produce an oversized page"
    burst_ts = big[0]["tickets"][-1]["generated_timestamp"]
    burst_ids = {t["id"] for t in emu.collection("tickets")
                 if t["generated_timestamp"] == burst_ts}
    assert len(burst_ids) >= 30
    assert burst_ids <= {t["id"] for t in big[0]["tickets"]}
    assert all(p["end_time"] > s for p, s in zip(pages[:-1], starts[:-1], strict=True))


def test_stall_switch_reproduces_end_time_equal_to_start_time(emulator_factory):
    """With stall_same_second the burst cuts at per_page and end_time stops moving."""
    emu = emulator_factory(tickets=200, seed=7, hold_back=0, burst=30, stall_same_second=True)
    api = zendesk_session(emu)
    url = f"{emu.url}/api/v2/incremental/tickets?start_time=0&per_page={PER_PAGE}"
    for _ in range(100):
        body = api.get(url).json()
        assert body["count"] <= PER_PAGE
        if body["end_time"] == start_param(url) and not body["end_of_stream"]:
            break
        url = body["next_page"]
    else:
        pytest.fail("no stalled page seen")
    assert api.get(url).json()["tickets"] == body["tickets"]


def test_too_recent_start_time_is_a_422(emu, api):
    """start_time newer than a minute ago is refused with the documented shape A body."""
    r = api.get(f"{emu.url}/api/v2/incremental/tickets?start_time={int(time.time()) - 5}")
    assert r.status_code == 422
    assert r.json() == {"error": "InvalidValue", "description":
                        "Too recent start_time. Use a start_time older than 1 minute"}
    r = api.get(f"{emu.url}/api/v2/incremental/users/cursor?start_time={int(time.time())}")
    assert r.status_code == 422


def test_hold_back_hides_items_changed_in_the_last_minute(emulator_factory):
    """Items newer than now - hold_back stay out of exports until they age."""
    emu = emulator_factory(tickets=0, hold_back=3600, job_delay=0)
    api = zendesk_session(emu)
    admin = emu.admin_user_id
    r = api.post(f"{emu.url}/api/v2/tickets.json", json={"ticket": {
        "subject": "fresh", "comment": {"body": "hi"}, "requester_id": admin}})
    assert r.status_code == 201
    body = api.get(f"{emu.url}/api/v2/incremental/tickets/cursor?start_time=0").json()
    assert r.json()["ticket"]["id"] not in {t["id"] for t in body["tickets"]}
    assert api.get(f"{emu.url}/api/v2/tickets/{r.json()['ticket']['id']}").status_code == 200


def test_user_and_organization_time_exports_cover_everything(emu, api):
    """Users and organizations time-based exports reach end_of_stream with every row."""
    for name in ("users", "organizations"):
        pages, _ = walk_time(api, f"{emu.url}/api/v2/incremental/{name}?start_time=0"
                                  f"&per_page=5")
        seen = {o["id"] for p in pages for o in p[name]}
        assert seen == {o["id"] for o in emu.collection(name)}
        assert set(pages[0]) == {name, "count", "end_of_stream", "next_page", "end_time"}


def test_ticket_events_are_audits_with_string_via_and_flag_children(emu, api):
    """Without include=comment_events, comment children only carry the flags."""
    body = api.get(f"{emu.url}/api/v2/incremental/ticket_events?start_time=0").json()
    events = body["ticket_events"]
    assert len(events) == len(emu.collection("ticket_audits"))
    assert all(isinstance(e["via"], str) and e["event_type"] == "Audit" for e in events)
    comments = [c for e in events for c in e["child_events"] if c["event_type"] == "Comment"]
    assert comments and all("comment_present" in c and "body" not in c for c in comments)
    assert all("event_type" in c for e in events for c in e["child_events"])


def test_ticket_events_with_comment_events_carry_full_comments(emu, api):
    """include=comment_events turns comment children into full comments."""
    body = api.get(f"{emu.url}/api/v2/incremental/ticket_events?start_time=0"
                   f"&include=comment_events").json()
    comments = [c for e in body["ticket_events"] for c in e["child_events"]
                if c["event_type"] == "Comment"]
    assert comments and all("body" in c and "author_id" in c for c in comments)
    assert all(isinstance(c["via"], dict) for c in comments)


def test_ticket_metric_events_page_by_time_or_by_cursor(emu, api):
    """Time-based without page[size]; CBP with page[size] (<= 100)."""
    timed = api.get(f"{emu.url}/api/v2/incremental/ticket_metric_events?start_time=0").json()
    assert {"ticket_metric_events", "count", "end_time", "next_page"} <= set(timed)
    url = f"{emu.url}/api/v2/incremental/ticket_metric_events?start_time=0&page[size]=100"
    rows = []
    while True:
        body = api.get(url).json()
        rows += body["ticket_metric_events"]
        if not body["meta"]["has_more"]:
            break
        url = body["links"]["next"]
    assert len(rows) == len(emu.collection("ticket_metric_events"))
    too_big = api.get(f"{emu.url}/api/v2/incremental/ticket_metric_events?start_time=0"
                      f"&page[size]=101")
    assert too_big.status_code == 400


def test_help_center_article_export_ends_with_null_next_page(emu, api):
    """The article export has no end_of_stream; next_page is null at the end."""
    body = api.get(f"{emu.url}/api/v2/help_center/incremental/articles?start_time=0").json()
    assert set(body) == {"articles", "count", "end_time", "next_page"}
    assert body["next_page"] is None
    assert body["count"] == len(emu.collection("articles"))


def test_exports_send_their_own_rate_limit_headers(emu, api):
    """Time-based and cursor ticket exports share one bucket; cursor users has its own."""
    r = api.get(f"{emu.url}/api/v2/incremental/tickets/cursor?start_time=0&per_page=1")
    assert r.headers["Zendesk-RateLimit-incremental-exports"].startswith("total=10; remaining=")
    r = api.get(f"{emu.url}/api/v2/incremental/users/cursor?start_time=0&per_page=1")
    assert r.headers["Zendesk-RateLimit-incremental-exports-cursor"].startswith("total=20;")
    assert "Zendesk-RateLimit-incremental-exports" not in r.headers
