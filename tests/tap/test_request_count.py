"""A full sync of a 2000-ticket account makes about the minimum number of requests."""

from __future__ import annotations

from tests.tap.tapkit import pages, run_tap, start_emulator, tap_config

#: Exports (1000 rows a page): path -> (stream, rows per page, time-based?)
EXPORTS = {
    "/api/v2/incremental/tickets/cursor": ("tickets", False),
    "/api/v2/incremental/users/cursor": ("users", False),
    "/api/v2/incremental/organizations": ("organizations", True),
    "/api/v2/incremental/ticket_events": ("ticket_audits", True),  # ticket_comments
    "/api/v2/incremental/ticket_metric_events": ("ticket_metric_events", True),
    "/api/v2/help_center/incremental/articles": ("articles", True),
}
#: CBP lists (100 rows a page): path -> collection
LISTS = {
    "/api/v2/brands": "brands",
    "/api/v2/groups": "groups",
    "/api/v2/user_fields": "user_fields",
    "/api/v2/organization_fields": "organization_fields",
    "/api/v2/group_memberships": "group_memberships",
    "/api/v2/organization_memberships": "organization_memberships",
    "/api/v2/ticket_metrics": "ticket_metrics",
    "/api/v2/satisfaction_ratings": "satisfaction_ratings",
    "/api/v2/tags": "tags",
    "/api/v2/macros": "macros",
    "/api/v2/triggers": "triggers",
    "/api/v2/automations": "automations",
    "/api/v2/views": "views",
    "/api/v2/help_center/categories": "categories",
    "/api/v2/help_center/sections": "sections",
    "/api/v2/community/topics": "topics",
    "/api/v2/community/posts": "posts",
}
#: One reply holds everything.
UNPAGED = (
    "/api/v2/custom_statuses",
    "/api/v2/ticket_fields",
    "/api/v2/ticket_forms",
    "/api/v2/slas/policies",
    "/api/v2/custom_roles",
    "/api/v2/business_hours/schedules",
)
#: Discovery reads the field definitions once to type custom fields.
DISCOVERY = ("/api/v2/ticket_fields", "/api/v2/user_fields", "/api/v2/organization_fields")


def test_a_full_sync_of_2000_tickets_makes_about_the_minimum_number_of_requests(emulator_factory):
    """Each export costs ceil(rows/1000) requests and each list ceil(rows/100), plus discovery."""
    emu = start_emulator(emulator_factory, tickets=2000, seed=7)
    archived = emu.archived_ticket_ids
    deleted = {t["id"] for t in emu.collection("tickets") if t["status"] == "deleted"}
    listed_audits = [
        a
        for a in emu.collection("ticket_audits")
        if a["ticket_id"] not in archived and a["ticket_id"] not in deleted
    ]
    minimum: dict[str, int] = {}
    allowed: dict[str, int] = {}
    for path, (collection, time_based) in EXPORTS.items():
        rows = len(emu.collection(collection))
        minimum[path] = pages(rows, 1000)
        # a time export's next page repeats the boundary row: at least 999 new rows a page
        allowed[path] = pages(rows, 999) if time_based else minimum[path]
    for path, collection in LISTS.items():
        minimum[path] = allowed[path] = pages(len(emu.collection(collection)), 100)
    minimum["/api/v2/ticket_audits"] = allowed["/api/v2/ticket_audits"] = pages(
        len(listed_audits), 1000
    )
    for path in UNPAGED:
        minimum[path] = allowed[path] = 1
    for path in DISCOVERY:
        minimum[path] += 1
        allowed[path] += 1

    emu.reset_stats()
    run = run_tap(tap_config(emu))
    assert run.error is None, repr(run.error)
    served = {key.split(" ", 1)[1]: n for key, n in emu.stats()["requests"].items()}
    total, least = sum(served.values()), sum(minimum.values())
    table = "\n".join(
        f"  {path:45} {served.get(path, 0):4} (minimum {minimum.get(path, 0)})"
        for path in sorted(set(served) | set(minimum))
    )
    report = f"full sync of 2000 tickets: {total} requests, minimum {least}\n{table}"
    print(report)
    over = {
        p: (served.get(p, 0), allowed.get(p, 0))
        for p in set(served) | set(allowed)
        if served.get(p, 0) > allowed.get(p, 0)
    }
    assert not over, f"more requests than needed on {over}\n{report}"
    assert total <= least + len(EXPORTS), report
    assert len(run.ids("tickets")) == 2000, report
