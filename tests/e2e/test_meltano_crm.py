"""The "sync CRM organizations into Zendesk" recipe: any Singer tap -> `target-zendesk--crm`.

A CRM-shaped Singer stream (companies + contacts, string ids) goes through Meltano into an
empty emulated account; the loader's stream maps turn it into organizations and users with
`crm-<id>` external ids, and contacts end up in their company's organization. A second load of
the same feed (one company renamed) updates in place: no duplicates.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import MeltanoProject, emulator_knobs

pytestmark = pytest.mark.slow


def _feed(globex_name: str) -> str:
    companies = {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "domain": {"type": ["string", "null"]}, "description": {"type": ["string", "null"]}}}
    contacts = {"type": "object", "properties": {
        "id": {"type": "string"}, "firstname": {"type": ["string", "null"]},
        "lastname": {"type": ["string", "null"]}, "email": {"type": "string"},
        "company_id": {"type": ["string", "null"]}}}
    messages = [
        {"type": "SCHEMA", "stream": "companies", "schema": companies, "key_properties": ["id"]},
        {"type": "RECORD", "stream": "companies", "record": {
            "id": "A-1", "name": globex_name, "domain": "globex.example",
            "description": "Key account"}},
        {"type": "RECORD", "stream": "companies", "record": {
            "id": "A-2", "name": "Initech", "domain": None, "description": None}},
        {"type": "SCHEMA", "stream": "contacts", "schema": contacts, "key_properties": ["id"]},
        {"type": "RECORD", "stream": "contacts", "record": {
            "id": "C-1", "firstname": "Hank", "lastname": "Scorpio",
            "email": "hank@globex.example", "company_id": "A-1"}},
        {"type": "RECORD", "stream": "contacts", "record": {
            "id": "C-2", "firstname": None, "lastname": "Lumbergh",
            "email": "bill@initech.example", "company_id": "A-2"}},
        {"type": "STATE", "value": {"bookmarks": {"companies": {"updated": "2026-01-01"}}}},
    ]
    return "".join(json.dumps(m) + "\n" for m in messages)


def test_crm_feed_lands_as_organizations_and_users(meltano_project: MeltanoProject,
                                                   emulator_factory) -> None:
    dst = emulator_factory(**emulator_knobs(tickets=0, seed=7))
    project = meltano_project
    project.env["ZENDESK_EMULATOR_DEST_URL"] = dst.url
    feed = project.root / "crm.singer"

    for name in ("Globex", "Globex Corporation"):
        feed.write_text(_feed(name))
        project.meltano("invoke", "target-zendesk--crm", stdin=feed)

        orgs = {o["external_id"]: o for o in dst.collection("organizations")
                if o.get("external_id")}
        assert sorted(orgs) == ["crm-A-1", "crm-A-2"]
        assert orgs["crm-A-1"]["name"] == name
        assert orgs["crm-A-1"]["domain_names"] == ["globex.example"]
        assert orgs["crm-A-1"]["notes"] == "Key account"
        users = {u["external_id"]: u for u in dst.collection("users") if u.get("external_id")}
        assert sorted(users) == ["crm-C-1", "crm-C-2"]
        assert users["crm-C-1"]["name"] == "Hank Scorpio"
        assert users["crm-C-2"]["name"] == "Lumbergh"
        assert users["crm-C-1"]["organization_id"] == orgs["crm-A-1"]["id"]
        assert users["crm-C-2"]["organization_id"] == orgs["crm-A-2"]["id"]
