"""Replays recorded real requests against the emulator and compares reply envelope keys."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.conftest import zendesk_session
from tests.emulator import routes

PAGES = Path("/work/shared/zendesk_samples/pages")
# query params that carry another account's cursors or that the recording tool added
DROP_PARAMS = {"page[after]", "page[before]", "cursor"}
# which collection an id in a recorded path refers to, by endpoint slug
ID_SOURCE = {
    "get_brands_id": "brands", "get_groups_id": "groups", "get_organizations_id":
    "organizations", "get_users_id": "users", "get_tickets_id": "tickets",
    "get_ticket_fields_id": "ticket_fields", "get_ticket_forms_id": "ticket_forms",
    "get_ticket_metrics_id": "ticket_metrics", "get_satisfaction_ratings_id":
    "satisfaction_ratings", "get_help_center_articles_id": "articles",
    "get_organization_memberships_id": "organization_memberships",
    "get_tickets_id_audits": "tickets", "get_tickets_id_comments": "tickets",
    "get_tickets_id_metrics": "tickets",
}
SHOW_MANY = {"get_users_show_many": "users", "get_organizations_show_many": "organizations",
             "get_tickets_show_many": "tickets"}


def recorded_cases() -> list[tuple[str, dict, dict]]:
    """(name, recorded headers, recorded body) of every GET the emulator serves."""
    if not PAGES.is_dir():
        return []
    cases = []
    for head_file in sorted(PAGES.glob("get_*/*.headers.json")):
        head = json.loads(head_file.read_text())
        method, url = head["request"].split(" ", 1)
        path = urlsplit(url).path.removesuffix(".json")
        if method != "GET" or routes.resolve("GET", path) is None:
            continue
        body_file = head_file.with_name(head_file.name.replace(".headers.json", ".json"))
        cases.append((f"{head_file.parent.name}/{body_file.stem}", head,
                      json.loads(body_file.read_text())))
    return cases


CASES = recorded_cases()


@pytest.fixture(scope="module")
def emu(emulator_factory):
    """An account whose /ticket_audits answers page[size] with the recorded CBP envelope."""
    return emulator_factory(tickets=200, seed=7, hold_back=0, job_delay=0,
                            audits_style="cbp")


def _live_ticket(emu) -> dict:
    metrics = {m["ticket_id"] for m in emu.collection("ticket_metrics")}
    return next(t for t in emu.collection("tickets") if t["status"] != "deleted"
                and t["id"] not in emu.archived_ticket_ids and t["id"] in metrics)


def replay_target(emu, api, slug: str, head: dict) -> str:
    """The recorded request rewritten onto the emulator's own ids."""
    split = urlsplit(head["request"].split(" ", 1)[1])
    path = split.path
    query = [(k, v) for k, v in parse_qsl(split.query, keep_blank_values=True)
             if k not in DROP_PARAMS and v != "None"]
    if head["status"] == 200 and slug in ID_SOURCE:
        source = ID_SOURCE[slug]
        oid = _live_ticket(emu)["id"] if source == "tickets" else \
            emu.collection(source)[0]["id"]
        path = re.sub(r"/\d+(?=/|\.json$|$)", f"/{oid}", path, count=1)
    if slug in SHOW_MANY:
        rows = emu.collection(SHOW_MANY[slug])[:3]
        query = [("ids", ",".join(str(r["id"]) for r in rows))]
    if slug == "get_job_statuses_id":
        job = api.post(f"{emu.url}/api/v2/organizations/create_many",
                       json={"organizations": [{"name": f"Env {path[-12:]}"}]}).json()
        path = f"/api/v2/job_statuses/{job['job_status']['id']}.json"
    if slug.startswith("get_webhooks_id"):
        hook = api.post(f"{emu.url}/api/v2/webhooks", json={"webhook": {
            "name": "Env", "endpoint": "https://example.com", "http_method": "GET",
            "request_format": "json", "status": "active",
            "subscriptions": ["conditional_ticket_events"]}}).json()["webhook"]
        path = re.sub(r"/webhooks/[0-9A-Z]{26}", f"/webhooks/{hook['id']}", path)
    return f"{emu.url}{path}" + (f"?{urlencode(query)}" if query else "")


@pytest.mark.skipif(not CASES, reason="recorded samples not available")
@pytest.mark.parametrize(("name", "head", "recorded"), CASES, ids=[c[0] for c in CASES])
def test_reply_has_the_recorded_top_level_keys(emu, name, head, recorded):
    """Same request, same envelope: the emulator's top-level keys match the recording."""
    api = zendesk_session(emu)
    r = api.get(replay_target(emu, api, name.split("/")[0], head))
    assert r.status_code == head["status"], r.text[:300]
    assert sorted(r.json()) == sorted(recorded)


def test_enough_recorded_endpoints_are_replayed():
    """Guard against the replay silently skipping most recordings."""
    if not CASES:
        pytest.skip("recorded samples not available")
    assert len({c[0].split("/")[0] for c in CASES}) >= 40
