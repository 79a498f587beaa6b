"""Contract tests of the emulator's list pagination: CBP, offset, legacy cursor, unpaginated."""

from __future__ import annotations

import pytest

from tests.conftest import zendesk_session


@pytest.fixture(scope="module")
def emu(emulator_factory):
    """A 200-ticket account that no test in this module writes to."""
    return emulator_factory(tickets=200, seed=7, hold_back=0, job_delay=0)


@pytest.fixture(scope="module")
def api(emu):
    """Authenticated session."""
    return zendesk_session(emu)


def walk_cbp(api, url):
    """Follow links.next until has_more is false; return all pages."""
    pages = []
    while True:
        body = api.get(url).json()
        pages.append(body)
        if not body["meta"]["has_more"]:
            return pages
        url = body["links"]["next"]
        assert len(pages) < 500


def walk_offset(api, url):
    """Follow next_page until it is null; return all pages."""
    pages = []
    while url:
        body = api.get(url).json()
        pages.append(body)
        url = body["next_page"]
        assert len(pages) < 500
    return pages


def test_cbp_walk_returns_every_row_once_and_stops_on_has_more(emu, api):
    """A client that follows links.next until has_more is false sees each row once."""
    pages = walk_cbp(api, f"{emu.url}/api/v2/users.json?page[size]=7")
    ids = [u["id"] for p in pages for u in p["users"]]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(u["id"] for u in emu.collection("users"))
    assert len(pages) > 3


def test_cbp_last_page_still_has_links_next_and_no_count(emu, api):
    """links.next is filled on the last page too, to catch clients that loop on it."""
    last = walk_cbp(api, f"{emu.url}/api/v2/organizations.json?page[size]=4")[-1]
    assert last["meta"]["has_more"] is False
    assert last["links"]["next"].startswith(emu.url)
    assert last["meta"]["after_cursor"]
    assert "count" not in last and "next_page" not in last


def test_cbp_page_after_the_end_is_empty_with_null_cursors(emu, api):
    """Following links.next past the end gives an empty page, not an error."""
    last = walk_cbp(api, f"{emu.url}/api/v2/groups.json?page[size]=100")[-1]
    beyond = api.get(last["links"]["next"]).json()
    assert beyond["groups"] == []
    assert beyond["meta"] == {"has_more": False, "after_cursor": None, "before_cursor": None}


def test_page_size_above_100_is_a_400_not_a_clamp(emu, api):
    """page[size]=101 is refused exactly as Zendesk does."""
    r = api.get(f"{emu.url}/api/v2/tickets.json?page[size]=101")
    assert r.status_code == 400
    assert r.json() == {"error": "InvalidPaginationParameter",
                        "description": "page[size] cannot be greater than 100"}


def test_broken_cbp_cursor_is_a_400(emu, api):
    """A cursor that does not decode is rejected as page[after] is not valid."""
    r = api.get(f"{emu.url}/api/v2/users.json?page[size]=10&page[after]=bm90IGEgY3Vyc29y")
    assert r.status_code == 400
    assert r.json()["description"] == "page[after] is not valid"


def test_cbp_page_before_walks_backwards(emu, api):
    """links.prev returns the rows just before the current page."""
    first = api.get(f"{emu.url}/api/v2/users.json?page[size]=5").json()
    second = api.get(first["links"]["next"]).json()
    back = api.get(second["links"]["prev"]).json()
    assert [u["id"] for u in back["users"]] == [u["id"] for u in first["users"]]


def test_cbp_sort_descending_orders_tickets_by_updated_at(emu, api):
    """`sort=-updated_at` walks newest first over every listed ticket."""
    pages = walk_cbp(api, f"{emu.url}/api/v2/tickets.json?page[size]=50&sort=-updated_at")
    rows = [t for p in pages for t in p["tickets"]]
    stamps = [t["updated_at"] for t in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert len({t["id"] for t in rows}) == len(rows)


def test_offset_walk_returns_every_row_once_with_count(emu, api):
    """Offset replies carry count and absolute next/previous page URLs."""
    pages = walk_offset(api, f"{emu.url}/api/v2/organizations.json?per_page=3")
    ids = [o["id"] for p in pages for o in p["organizations"]]
    assert sorted(ids) == sorted(o["id"] for o in emu.collection("organizations"))
    assert len(ids) == len(set(ids))
    assert pages[0]["count"] == len(ids)
    assert pages[0]["previous_page"] is None
    assert pages[1]["previous_page"].startswith(emu.url)
    assert pages[-1]["next_page"] is None


def test_offset_is_the_default_without_page_size(emu, api):
    """Dual-mode endpoints fall back to offset when page[size] is absent."""
    body = api.get(f"{emu.url}/api/v2/tickets.json").json()
    assert {"count", "next_page", "previous_page"} <= set(body)
    assert "meta" not in body
    assert len(body["tickets"]) == min(100, body["count"])


def test_offset_past_page_100_is_an_invalid_pagination_depth_400(emu, api):
    """Deep offset paging is refused with the JSON:API error shape."""
    r = api.get(f"{emu.url}/api/v2/users.json?page=101&per_page=100")
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "InvalidPaginationDepth"
    assert api.get(f"{emu.url}/api/v2/users.json?page=100").status_code == 200


def test_ticket_fields_come_unpaginated_unless_cbp_is_asked(emu, api):
    """Without paging params every ticket field comes in one reply."""
    whole = api.get(f"{emu.url}/api/v2/ticket_fields.json").json()
    assert len(whole["ticket_fields"]) == len(emu.collection("ticket_fields"))
    assert whole["next_page"] is None and whole["count"] == len(whole["ticket_fields"])
    cbp = api.get(f"{emu.url}/api/v2/ticket_fields?page[size]=5").json()
    assert len(cbp["ticket_fields"]) == 5 and cbp["meta"]["has_more"] is True


@pytest.mark.parametrize(("path", "key", "extra"), [
    ("/api/v2/custom_statuses", "custom_statuses", set()),
    ("/api/v2/slas/policies", "sla_policies", {"next_page", "previous_page", "count"}),
    ("/api/v2/ticket_forms", "ticket_forms", {"next_page", "previous_page", "count"}),
    ("/api/v2/custom_roles", "custom_roles", set()),
    ("/api/v2/business_hours/schedules", "schedules", set()),
])
def test_unpaginated_endpoints_return_everything_in_one_reply(emu, api, path, key, extra):
    """These endpoints ignore paging and return every row."""
    body = api.get(f"{emu.url}{path}").json()
    assert set(body) == {key} | extra
    assert len(body[key]) == len(emu.collection(key))


def test_side_conversations_are_offset_only(emu, api):
    """Side conversations ignore page[size] and page by offset."""
    tid = emu.collection("side_conversations")[0]["ticket_id"]
    body = api.get(f"{emu.url}/api/v2/tickets/{tid}/side_conversations?page[size]=1").json()
    assert {"side_conversations", "next_page", "previous_page", "count"} == set(body)
    expected = [s for s in emu.collection("side_conversations") if s["ticket_id"] == tid]
    assert body["count"] == len(expected)


def test_ticket_audits_use_top_level_legacy_cursor_keys_newest_first(emu, api):
    """`/ticket_audits` replies with after_url/after_cursor and leaves out archived tickets."""
    url = f"{emu.url}/api/v2/ticket_audits.json?page[size]=100"
    rows, pages = [], 0
    while url:
        body = api.get(url).json()
        assert "meta" not in body
        assert {"audits", "after_cursor", "after_url", "before_cursor", "before_url"} == set(body)
        rows += body["audits"]
        url = body["after_url"]
        pages += 1
        assert pages < 100
    hidden = emu.archived_ticket_ids | {t["id"] for t in emu.collection("tickets")
                                        if t["status"] == "deleted"}
    expected = [a["id"] for a in emu.collection("ticket_audits") if a["ticket_id"] not in hidden]
    assert sorted(a["id"] for a in rows) == sorted(expected)
    stamps = [a["created_at"] for a in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_ticket_audits_accept_the_legacy_cursor_and_limit_form(emu, api):
    """Old clients send `cursor` + `limit`; the after_url they get keeps that form."""
    first = api.get(f"{emu.url}/api/v2/ticket_audits?limit=10").json()
    assert len(first["audits"]) == 10
    assert "cursor=" in first["after_url"] and "limit=10" in first["after_url"]
    second = api.get(first["after_url"]).json()
    assert not {a["id"] for a in first["audits"]} & {a["id"] for a in second["audits"]}
    back = api.get(second["before_url"]).json()
    assert [a["id"] for a in back["audits"]] == [a["id"] for a in first["audits"]]


def test_ticket_audits_can_use_the_recorded_cbp_envelope(emulator_factory):
    """Recorded replies to page[size] carry meta/links; `audits_style="cbp"` switches."""
    emu = emulator_factory(tickets=20, seed=7, hold_back=0, audits_style="cbp")
    body = zendesk_session(emu).get(f"{emu.url}/api/v2/ticket_audits?page[size]=5").json()
    assert set(body) == {"audits", "meta", "links"}


def test_help_center_offset_replies_carry_page_extras(emu, api):
    """Help Center offset replies add page, per_page, page_count, sort_by and sort_order."""
    body = api.get(f"{emu.url}/api/v2/help_center/en-us/articles.json").json()
    assert body["per_page"] == 30 and body["page"] == 1
    assert {"page_count", "sort_by", "sort_order", "count"} <= set(body)
    assert body["count"] == len(emu.collection("articles"))


def test_job_statuses_list_is_cbp(emu, api):
    """`/job_statuses` only pages by cursor."""
    body = api.get(f"{emu.url}/api/v2/job_statuses").json()
    assert set(body) == {"job_statuses", "meta", "links"}
