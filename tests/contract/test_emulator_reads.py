"""Contract tests of the emulator's read endpoints: every family, show, show_many, search."""

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


def first(emu, name, **match):
    """The first row of a collection matching the given field values."""
    return next(r for r in emu.collection(name) if all(r.get(k) == v for k, v in match.items()))


def live_ticket(emu):
    """A ticket that is neither deleted nor archived and has comments and metrics."""
    metrics = {m["ticket_id"] for m in emu.collection("ticket_metrics")}
    return next(t for t in emu.collection("tickets") if t["status"] != "deleted"
                and t["id"] not in emu.archived_ticket_ids and t["id"] in metrics)


LISTS = [
    ("/api/v2/tickets", "tickets"), ("/api/v2/users", "users"),
    ("/api/v2/organizations", "organizations"), ("/api/v2/groups", "groups"),
    ("/api/v2/groups/assignable", "groups"),
    ("/api/v2/group_memberships", "group_memberships"),
    ("/api/v2/organization_memberships", "organization_memberships"),
    ("/api/v2/brands", "brands"), ("/api/v2/ticket_metrics", "ticket_metrics"),
    ("/api/v2/satisfaction_ratings", "satisfaction_ratings"),
    ("/api/v2/ticket_fields", "ticket_fields"), ("/api/v2/ticket_forms", "ticket_forms"),
    ("/api/v2/user_fields", "user_fields"), ("/api/v2/organization_fields", "organization_fields"),
    ("/api/v2/custom_statuses", "custom_statuses"), ("/api/v2/slas/policies", "sla_policies"),
    ("/api/v2/tags", "tags"), ("/api/v2/macros", "macros"), ("/api/v2/macros/active", "macros"),
    ("/api/v2/triggers", "triggers"), ("/api/v2/automations", "automations"),
    ("/api/v2/views", "views"), ("/api/v2/custom_roles", "custom_roles"),
    ("/api/v2/business_hours/schedules", "schedules"),
    ("/api/v2/help_center/articles", "articles"), ("/api/v2/help_center/en-us/articles",
                                                   "articles"),
    ("/api/v2/help_center/sections", "sections"), ("/api/v2/help_center/categories",
                                                   "categories"),
    ("/api/v2/community/topics", "topics"), ("/api/v2/community/posts", "posts"),
    ("/api/v2/help_center/community/topics", "topics"),
]


@pytest.mark.parametrize(("path", "key"), LISTS)
@pytest.mark.parametrize("style", ["", "?page[size]=100"])
def test_every_list_family_answers_its_collection_key(emu, api, path, key, style):
    """Each family serves its items under Zendesk's key, in both paging styles."""
    r = api.get(f"{emu.url}{path}{style}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body[key], list)
    if path in ("/api/v2/tickets", "/api/v2/groups", "/api/v2/groups/assignable",
                "/api/v2/macros/active"):
        return
    assert len(body[key]) == min(len(emu.collection(key)), 100 if style or key not in (
        "articles", "sections", "categories") else 30)


SHOWS = [
    ("users", "user", "/api/v2/users/{}"), ("organizations", "organization",
                                            "/api/v2/organizations/{}"),
    ("groups", "group", "/api/v2/groups/{}"), ("brands", "brand", "/api/v2/brands/{}"),
    ("group_memberships", "group_membership", "/api/v2/group_memberships/{}"),
    ("organization_memberships", "organization_membership",
     "/api/v2/organization_memberships/{}"),
    ("ticket_fields", "ticket_field", "/api/v2/ticket_fields/{}"),
    ("ticket_forms", "ticket_form", "/api/v2/ticket_forms/{}"),
    ("user_fields", "user_field", "/api/v2/user_fields/{}"),
    ("organization_fields", "organization_field", "/api/v2/organization_fields/{}"),
    ("custom_statuses", "custom_status", "/api/v2/custom_statuses/{}"),
    ("ticket_metrics", "ticket_metric", "/api/v2/ticket_metrics/{}"),
    ("satisfaction_ratings", "satisfaction_rating", "/api/v2/satisfaction_ratings/{}"),
    ("macros", "macro", "/api/v2/macros/{}"), ("triggers", "trigger", "/api/v2/triggers/{}"),
    ("automations", "automation", "/api/v2/automations/{}"), ("views", "view",
                                                               "/api/v2/views/{}"),
    ("sla_policies", "sla_policy", "/api/v2/slas/policies/{}"),
    ("custom_roles", "custom_role", "/api/v2/custom_roles/{}"),
    ("schedules", "schedule", "/api/v2/business_hours/schedules/{}"),
    ("articles", "article", "/api/v2/help_center/en-us/articles/{}"),
    ("sections", "section", "/api/v2/help_center/sections/{}"),
    ("categories", "category", "/api/v2/help_center/categories/{}"),
    ("topics", "topic", "/api/v2/community/topics/{}"), ("posts", "post",
                                                         "/api/v2/community/posts/{}"),
]


@pytest.mark.parametrize(("collection", "key", "template"), SHOWS)
def test_show_endpoints_return_the_object_under_its_singular_key(emu, api, collection, key,
                                                                 template):
    """`GET /{collection}/{id}` wraps the object in its singular root key."""
    row = emu.collection(collection)[0]
    body = api.get(f"{emu.url}{template.format(row['id'])}.json").json()
    assert body == {key: row}


def test_ticket_list_leaves_out_archived_and_deleted_tickets(emu, api):
    """`GET /tickets` shows neither archived nor deleted tickets."""
    url, ids = f"{emu.url}/api/v2/tickets.json?page[size]=100", set()
    while True:
        body = api.get(url).json()
        ids |= {t["id"] for t in body["tickets"]}
        if not body["meta"]["has_more"]:
            break
        url = body["links"]["next"]
    expected = {t["id"] for t in emu.collection("tickets") if t["status"] != "deleted"
                and t["id"] not in emu.archived_ticket_ids}
    assert ids == expected
    assert emu.archived_ticket_ids


def test_archived_tickets_show_but_deleted_ones_are_404(emu, api):
    """Show works for archived tickets; deleted tickets answer 404, comments too."""
    archived = next(iter(emu.archived_ticket_ids))
    assert api.get(f"{emu.url}/api/v2/tickets/{archived}").json()["ticket"]["id"] == archived
    assert api.get(f"{emu.url}/api/v2/tickets/{archived}/comments").status_code == 200
    deleted = first(emu, "tickets", status="deleted")["id"]
    assert api.get(f"{emu.url}/api/v2/tickets/{deleted}").status_code == 404
    assert api.get(f"{emu.url}/api/v2/tickets/{deleted}/comments").status_code == 404


def test_ticket_list_filters_by_external_id(emu, api):
    """Targets check `GET /tickets?external_id=` before re-importing."""
    ticket = next(t for t in emu.collection("tickets") if t.get("external_id")
                  and t["status"] != "deleted" and t["id"] not in emu.archived_ticket_ids)
    body = api.get(f"{emu.url}/api/v2/tickets.json",
                   params={"external_id": ticket["external_id"]}).json()
    assert [t["id"] for t in body["tickets"]] == [ticket["id"]]


def test_ticket_children_comments_audits_metrics_and_tags(emu, api):
    """Per-ticket comments (both styles), audits, metrics and tags are served."""
    t = live_ticket(emu)
    expected = [c["id"] for c in emu.collection("ticket_comments") if c["ticket_id"] == t["id"]]
    offset = api.get(f"{emu.url}/api/v2/tickets/{t['id']}/comments.json").json()
    assert [c["id"] for c in offset["comments"]] == sorted(
        expected, key=lambda i: next(c["created_at"] for c in emu.collection("ticket_comments")
                                     if c["id"] == i))
    assert all("ticket_id" not in c for c in offset["comments"])
    cbp = api.get(f"{emu.url}/api/v2/tickets/{t['id']}/comments?page[size]=1").json()
    assert len(cbp["comments"]) == 1 and cbp["meta"]["has_more"] == (len(expected) > 1)
    desc = api.get(f"{emu.url}/api/v2/tickets/{t['id']}/comments?sort_order=desc").json()
    assert [c["id"] for c in desc["comments"]] == [c["id"] for c in offset["comments"]][::-1]
    audits = api.get(f"{emu.url}/api/v2/tickets/{t['id']}/audits").json()["audits"]
    assert {a["ticket_id"] for a in audits} == {t["id"]}
    one = api.get(f"{emu.url}/api/v2/tickets/{t['id']}/audits/{audits[0]['id']}").json()
    assert one["audit"]["id"] == audits[0]["id"]
    metric = api.get(f"{emu.url}/api/v2/tickets/{t['id']}/metrics").json()["ticket_metric"]
    assert metric["ticket_id"] == t["id"]
    assert api.get(f"{emu.url}/api/v2/tickets/{t['id']}/tags").json() == {"tags": t["tags"]}


def test_side_conversation_show_checks_the_ticket(emu, api):
    """Side conversations are shown under their own ticket only (UUID ids)."""
    sc = emu.collection("side_conversations")[0]
    ok = api.get(f"{emu.url}/api/v2/tickets/{sc['ticket_id']}/side_conversations/{sc['id']}")
    assert ok.json()["side_conversation"]["id"] == sc["id"]
    other = live_ticket(emu)["id"]
    if other != sc["ticket_id"]:
        wrong = api.get(f"{emu.url}/api/v2/tickets/{other}/side_conversations/{sc['id']}")
        assert wrong.status_code == 404


def test_show_many_by_ids_and_external_ids(emu, api):
    """show_many takes ids (and external_ids for users and organizations)."""
    users = [u for u in emu.collection("users") if u.get("external_id")][:3]
    by_ids = api.get(f"{emu.url}/api/v2/users/show_many.json",
                     params={"ids": ",".join(str(u["id"]) for u in users)}).json()
    assert sorted(u["id"] for u in by_ids["users"]) == sorted(u["id"] for u in users)
    by_ext = api.get(f"{emu.url}/api/v2/users/show_many",
                     params={"external_ids": ",".join(u["external_id"].upper()
                                                      for u in users)}).json()
    assert sorted(u["id"] for u in by_ext["users"]) == sorted(u["id"] for u in users)
    orgs = [o for o in emu.collection("organizations") if o.get("external_id")][:2]
    body = api.get(f"{emu.url}/api/v2/organizations/show_many",
                   params={"external_ids": ",".join(o["external_id"] for o in orgs)}).json()
    assert {"organizations", "count", "next_page", "previous_page"} == set(body)
    assert len(body["organizations"]) == len(orgs)
    tickets = api.get(f"{emu.url}/api/v2/tickets/show_many",
                      params={"ids": str(live_ticket(emu)["id"])}).json()
    assert len(tickets["tickets"]) == 1


def test_user_and_organization_search(emu, api):
    """Targets look records up by external_id, email or organization name."""
    user = next(u for u in emu.collection("users") if u.get("external_id"))
    found = api.get(f"{emu.url}/api/v2/users/search",
                    params={"external_id": user["external_id"]}).json()["users"]
    assert [u["id"] for u in found] == [user["id"]]
    by_mail = api.get(f"{emu.url}/api/v2/users/search.json",
                      params={"query": user["email"].upper()}).json()["users"]
    assert user["id"] in [u["id"] for u in by_mail]
    org = emu.collection("organizations")[0]
    named = api.get(f"{emu.url}/api/v2/organizations/search",
                    params={"name": org["name"].lower()}).json()["organizations"]
    assert [o["id"] for o in named] == [org["id"]]


def test_ticket_count_counts_listed_tickets(emu, api):
    """`/tickets/count` returns {"count": {"value", "refreshed_at"}}."""
    body = api.get(f"{emu.url}/api/v2/tickets/count.json").json()
    listed = sum(1 for t in emu.collection("tickets") if t["status"] != "deleted"
                 and t["id"] not in emu.archived_ticket_ids)
    assert body["count"]["value"] == listed and body["count"]["refreshed_at"]


def test_satisfaction_ratings_filter_by_time_window(emu, api):
    """start_time/end_time narrow the ratings (by updated_at by default)."""
    from tests.emulator.util import parse_iso

    ratings = emu.collection("satisfaction_ratings")
    stamps = sorted(parse_iso(r["updated_at"]) for r in ratings)
    mid = stamps[len(stamps) // 2]
    body = api.get(f"{emu.url}/api/v2/satisfaction_ratings",
                   params={"start_time": mid}).json()
    assert len(body["satisfaction_ratings"]) == sum(1 for s in stamps if s >= mid)
    body = api.get(f"{emu.url}/api/v2/satisfaction_ratings",
                   params={"end_time": mid - 1}).json()
    assert len(body["satisfaction_ratings"]) == sum(1 for s in stamps if s < mid)


def test_users_filter_by_role(emu, api):
    """`role=` narrows the user list."""
    body = api.get(f"{emu.url}/api/v2/users", params={"role": "agent"}).json()
    assert body["users"] and {u["role"] for u in body["users"]} == {"agent"}


def assert_listed_under_parent(emu, api, key, path):
    """The first `key` object of the account is in the nested list at `path`, a template that
    names its parent, e.g. "/api/v2/groups/{group_id}/memberships"."""
    child = emu.collection(key)[0]
    body = api.get(emu.url + path.format(**child)).json()
    assert child["id"] in [c["id"] for c in body[key]]


def test_memberships_nested_under_their_parents(emu, api):
    """Group and organization memberships are also served under users/groups/orgs."""
    assert_listed_under_parent(emu, api, "group_memberships",
                               "/api/v2/groups/{group_id}/memberships")
    assert_listed_under_parent(emu, api, "organization_memberships",
                               "/api/v2/users/{user_id}/organization_memberships")


def test_help_center_children_of_sections_and_topics(emu, api):
    """Articles per section and posts per topic."""
    assert_listed_under_parent(emu, api, "articles",
                               "/api/v2/help_center/sections/{section_id}/articles")
    assert_listed_under_parent(emu, api, "posts", "/api/v2/community/topics/{topic_id}/posts")


def test_ticket_sideloads_are_top_level_arrays(emu, api):
    """include=users adds users; include=metric_sets on the list is a top-level array."""
    body = api.get(f"{emu.url}/api/v2/tickets.json?include=users,metric_sets").json()
    user_ids = {u["id"] for u in body["users"]}
    assert all(t["requester_id"] in user_ids for t in body["tickets"])
    assert {m["ticket_id"] for m in body["metric_sets"]} <= {t["id"] for t in body["tickets"]}
    assert all("metric_set" not in t for t in body["tickets"])
