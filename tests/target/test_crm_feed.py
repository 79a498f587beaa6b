"""A CRM feeding Zendesk: 1,000 organizations and 5,000 users upserted in chunks of 100."""

from __future__ import annotations

import typing as t

import pytest

from tests.target.conftest import by_external_id, rejects, run_target, target_config, write_singer

ORGS = 1000
USERS = 5000


def crm_streams(renamed: t.Container[int] = ()) -> dict[str, list[dict[str, t.Any]]]:
    """CRM-shaped records: string ids, own external_ids, users pointing at organizations."""
    orgs = [
        {
            "id": f"acct-{i}",
            "external_id": f"crm-org-{i}",
            "name": f"Customer {i:04d} Ltd",
            "domain_names": [f"c{i}.example"],
            "tags": ["crm"],
        }
        for i in range(ORGS)
    ]
    users = [
        {
            "id": f"contact-{i}",
            "external_id": f"crm-user-{i}",
            "name": f"Contact {i}" + (" (renamed)" if i in renamed else ""),
            "email": f"contact{i}@c{i % ORGS}.example",
            "organization_id": f"acct-{i % ORGS}",
            "role": "end-user",
            "user_fields": {},
        }
        for i in range(USERS)
    ]
    return {"organizations": orgs, "users": users}


@pytest.fixture(scope="module")
def crm_run(emulator_factory, tmp_path_factory):
    """One destination fed once; returns (destination, config, input path, stats)."""
    tmp_path = tmp_path_factory.mktemp("crm")
    dest = emulator_factory(tickets=0, hold_back=0, job_delay=0.05)
    path = write_singer(tmp_path / "crm.singer", crm_streams())
    config = target_config(dest, tmp_path, max_jobs_in_flight=5)
    run_target(config, path)
    return dest, config, path, dest.stats()


def test_crm_feed_upserts_every_organization_and_user_once(crm_run):
    """1,000 organizations and 5,000 users land once each, keyed by their CRM external_id."""
    dest, config, _, _ = crm_run
    assert len(by_external_id(dest, "organizations")) == ORGS
    users = by_external_id(dest, "users")
    assert len(users) == USERS
    assert rejects(config) == []


def test_crm_feed_goes_in_chunks_of_at_most_one_hundred(crm_run):
    """10 organization and 50 user calls: Zendesk refuses more than 100 per call."""
    _, _, _, stats = crm_run
    assert stats["requests"]["POST /api/v2/organizations/create_many"] == ORGS // 100
    assert stats["requests"]["POST /api/v2/users/create_or_update_many"] == USERS // 100


def test_crm_feed_never_has_more_jobs_in_flight_than_allowed(crm_run):
    """max_jobs_in_flight 5: the account never holds more than 5 queued or running jobs."""
    _, _, _, stats = crm_run
    assert stats["jobs_created"] == ORGS // 100 + USERS // 100
    assert stats["max_jobs_in_flight"] <= 5


def test_crm_users_point_at_their_destination_organizations(crm_run):
    """A user's organization_id is the destination id of its CRM account."""
    dest, _, _, _ = crm_run
    orgs = by_external_id(dest, "organizations")
    users = by_external_id(dest, "users")
    for i in (0, 7, 999, 1000, 4999):
        assert users[f"crm-user-{i}"]["organization_id"] == orgs[f"crm-org-{i % ORGS}"]["id"]


def test_crm_feed_sent_again_writes_nothing_and_a_change_sends_only_it(crm_run, tmp_path):
    """Unchanged records are skipped (no call); ten renamed users cost one upsert call."""
    dest, config, path, _ = crm_run
    dest.reset_stats()
    run_target(config, path)
    assert not [k for k in dest.stats()["requests"] if k.startswith(("POST", "PUT"))]
    changed = write_singer(tmp_path / "changed.singer", crm_streams(renamed=range(10)))
    result = run_target(config, changed)
    assert dest.stats()["requests"].get("POST /api/v2/users/create_or_update_many") == 1
    assert result.count("users", "updated") == 10
    assert by_external_id(dest, "users")["crm-user-3"]["name"] == "Contact 3 (renamed)"
