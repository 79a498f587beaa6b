"""Bulk user import switched off (403): one `create_or_update` per user, paced at 1 per second.

zendesk_api.md 6.3: `create_many` / `create_or_update_many` answer 403 on accounts where bulk
user import is off (trial accounts included); the client falls back to single upserts, which
Zendesk limits to 1 request/second per account (2.2, no header to pace on). The emulator gates
the bulk endpoints (`disable=bulk_user_import`) and enforces the 1/s limit with 429s.
"""

from __future__ import annotations

import logging
import typing as t

import pytest

from target_zendesk.jobs import SINGLE_INTERVAL
from tests.target.conftest import by_external_id, rejects, run_target, target_config, write_singer

SINGLE = "POST /api/v2/users/create_or_update"
BULK = "POST /api/v2/users/create_or_update_many"


def crm_users(n: int, *, renamed: bool = False) -> list[dict[str, t.Any]]:
    """CRM contacts with their own external_ids; the last one has an email Zendesk refuses."""
    users = [
        {
            "id": f"contact-{i}",
            "external_id": f"crm-user-{i}",
            "name": f"Contact {i}" + (" (renamed)" if renamed else ""),
            "email": f"contact{i}@example.com",
            "role": "end-user",
        }
        for i in range(n)
    ]
    users.append(
        {"id": "contact-bad", "external_id": "crm-user-bad", "name": "Bad", "email": "not-an-email"}
    )
    return users


@pytest.fixture(scope="module")
def gated(emulator_factory):
    """An empty account without bulk user import, enforcing 1 single upsert per second."""
    return emulator_factory(
        tickets=0, hold_back=0, job_delay=0, disable=("bulk_user_import",), user_upsert_rate_limit=1
    )


def test_users_are_upserted_one_by_one_when_bulk_import_is_off(gated, tmp_path, caplog):
    """Every user lands once, the bad one is rejected with Zendesk's reason, no 429 is hit."""
    path = write_singer(tmp_path / "users.singer", {"users": crm_users(4)})
    config = target_config(gated, tmp_path)
    gated.reset_stats()
    with caplog.at_level(logging.WARNING):
        run = run_target(config, path)
    stats = gated.stats()

    users = by_external_id(gated, "users")
    assert {f"crm-user-{i}" for i in range(4)} <= set(users)
    assert "crm-user-bad" not in users
    assert stats["requests"].get(BULK) == 1  # refused once, never asked again in the run
    assert stats["requests"].get(SINGLE) == 5
    assert stats["rate_limited"] == 0  # paced under the 1/s limit
    assert run.count("users", "created") == 4
    (bad,) = rejects(config)
    assert bad["key"] == "contact-bad"
    assert bad["error"] == "RecordInvalid"
    assert "not properly formatted" in bad["details"]
    warnings = [r.getMessage() for r in caplog.records if "bulk import is off" in r.getMessage()]
    assert len(warnings) == 1
    assert "create_or_update" in warnings[0] and "ask Zendesk support" in warnings[0]
    assert run.states, "STATE is emitted once the users are confirmed"


def test_a_rerun_updates_the_same_users(gated, tmp_path):
    """Upserts match by external_id: changed users are updated in place, none duplicated."""
    first = write_singer(tmp_path / "first.singer", {"users": crm_users(2)})
    config = target_config(gated, tmp_path)
    run_target(config, first)
    before = len(gated.collection("users"))
    second = write_singer(tmp_path / "second.singer", {"users": crm_users(2, renamed=True)})
    run = run_target(config, second)
    users = by_external_id(gated, "users")
    assert len(gated.collection("users")) == before
    assert users["crm-user-0"]["name"] == "Contact 0 (renamed)"
    assert run.count("users", "updated") == 2


def test_single_upserts_keep_the_interval(gated, tmp_path, monkeypatch):
    """Calls are spaced by SINGLE_INTERVAL on the runner's clock (no 429 needed to slow down)."""
    from target_zendesk import jobs

    sent: list[float] = []
    real = jobs.JobRunner._send_one

    def spy(self, op, item, stream):  # noqa: ANN001, ANN202 - test double
        result = real(self, op, item, stream)
        sent.append(self._next_single - SINGLE_INTERVAL)
        return result

    monkeypatch.setattr(jobs.JobRunner, "_send_one", spy)
    path = write_singer(tmp_path / "users.singer", {"users": crm_users(3)})
    run_target(target_config(gated, tmp_path, journal_path=str(tmp_path / "j2.sqlite")), path)
    gaps = [b - a for a, b in zip(sent, sent[1:])]
    assert len(gaps) == 3
    assert min(gaps) >= SINGLE_INTERVAL - 1e-6
