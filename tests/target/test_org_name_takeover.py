"""Organizations that already exist in Zendesk under the same name (zendesk_api.md trap 23).

Names are unique and upserts never match on them, so a CRM feed into an account where people
created organizations by hand would see every create fail. The target takes over a same-name
organization that has no external_id (or ours), and rejects one that carries another system's.
"""

from __future__ import annotations

import pytest

from tests.conftest import zendesk_session
from tests.target.conftest import by_external_id, rejects, run_target, target_config, write_singer

CRM = [
    {"id": "acct-1", "external_id": "crm-1", "name": "Acme Ltd", "notes": "from the CRM"},
    {"id": "acct-2", "external_id": "crm-2", "name": "Globex", "notes": "from the CRM"},
    {"id": "acct-3", "external_id": "crm-3", "name": "Initech", "notes": "from the CRM"},
]
USERS = [{"id": "c-1", "external_id": "crm-u-1", "name": "Wile", "organization_id": "acct-1"}]


@pytest.fixture
def account(emulator_factory):
    """An account where Acme Ltd was made by hand and Globex by another integration."""
    emu = emulator_factory(tickets=0, hold_back=0, job_delay=0.05)
    api = zendesk_session(emu)
    made = {}
    for org in ({"name": "acme ltd"}, {"name": "Globex", "external_id": "other-system-7"}):
        reply = api.post(f"{emu.url}/api/v2/organizations", json={"organization": org})
        assert reply.status_code == 201
        made[org["name"].lower()] = reply.json()["organization"]["id"]
    return emu, made


def test_a_same_name_organization_without_external_id_is_taken_over(account, tmp_path):
    """Acme keeps its id and gains our external_id and fields; the user points at it."""
    emu, made = account
    config = target_config(emu, tmp_path)
    run = run_target(config, write_singer(tmp_path / "crm.singer", {"organizations": CRM, "users": USERS}))
    orgs = by_external_id(emu, "organizations")
    assert orgs["crm-1"]["id"] == made["acme ltd"]
    assert orgs["crm-1"]["notes"] == "from the CRM"
    assert "crm-3" in orgs  # a new name is simply created
    assert len(emu.collection("organizations")) == 3  # nothing created twice
    assert by_external_id(emu, "users")["crm-u-1"]["organization_id"] == made["acme ltd"]
    assert run.count("organizations", "updated") == 1


def test_one_owned_by_another_system_is_rejected_with_the_reason(account, tmp_path):
    """Globex carries another external_id: not hijacked, reported with the way out."""
    emu, made = account
    config = target_config(emu, tmp_path)
    run_target(config, write_singer(tmp_path / "crm.singer", {"organizations": CRM}))
    (globex,) = rejects(config)
    assert globex["key"] == "acct-2"
    assert globex["error"] == "NameTaken"
    assert "other-system-7" in globex["details"] and "Rename" in globex["details"]
    untouched = next(o for o in emu.collection("organizations") if o["id"] == made["globex"])
    assert untouched["external_id"] == "other-system-7"


def test_a_rerun_finds_the_taken_over_organization_by_external_id(account, tmp_path):
    """The second run needs no name lookup: the organization now carries our external_id."""
    emu, _ = account
    config = target_config(emu, tmp_path)
    path = write_singer(tmp_path / "crm.singer", {"organizations": CRM})
    run_target(config, path)
    emu.reset_stats()
    run_target({**config, "journal_path": str(tmp_path / "fresh.sqlite")}, path)
    assert emu.requests_to("/api/v2/organizations/search") == 1  # Globex only, still refused
    assert len(emu.collection("organizations")) == 3
