"""Contract tests of the emulator's authentication, role and plan gating."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import zendesk_session

FORBIDDEN_TITLE = "Forbidden"


@pytest.fixture(scope="module")
def emu(emulator_factory):
    """An admin account."""
    return emulator_factory(tickets=40, seed=7, hold_back=0, job_delay=0)


@pytest.fixture(scope="module")
def agent_emu(emulator_factory):
    """The same account seen with agent credentials."""
    return emulator_factory(tickets=40, seed=7, hold_back=0, job_delay=0, role="agent")


def test_api_token_basic_auth_is_accepted(emu):
    """`{email}/token:{api_token}` is the tap's default credential."""
    assert zendesk_session(emu).get(f"{emu.url}/api/v2/groups.json").status_code == 200


@pytest.mark.parametrize("auth", [("demo@example.com/token", "wrong"), ("demo@example.com",
                                                                        "demo"), None])
def test_bad_or_missing_basic_credentials_get_couldnt_authenticate(emu, auth):
    """Wrong token, missing `/token` suffix and no header all answer Zendesk's 401 body."""
    r = requests.get(f"{emu.url}/api/v2/groups.json", auth=auth)
    assert r.status_code == 401
    assert r.json() == {"error": "Couldn't authenticate you"}


def test_oauth_bearer_token_is_accepted(emu):
    """OAuth access tokens come as `Bearer`."""
    r = requests.get(f"{emu.url}/api/v2/groups.json",
                     headers={"Authorization": "Bearer demo-oauth"})
    assert r.status_code == 200


def test_bad_bearer_token_gets_the_invalid_token_body(emu):
    """Expired or revoked OAuth tokens get the OAuth-style 401 body."""
    r = requests.get(f"{emu.url}/api/v2/groups.json", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert "error_description" in r.json()


def test_users_me_with_bad_credentials_is_an_anonymous_200(emu):
    """`/users/me` proves nothing: bad credentials still get 200 with id null."""
    r = requests.get(f"{emu.url}/api/v2/users/me.json", auth=("demo@example.com/token", "x"))
    assert r.status_code == 200
    assert r.json()["user"]["id"] is None


def test_users_me_with_good_credentials_is_the_admin(emu):
    """Valid credentials resolve to the account's admin user."""
    me = zendesk_session(emu).get(f"{emu.url}/api/v2/users/me").json()["user"]
    assert me["id"] == emu.admin_user_id
    assert me["role"] == "admin"


def test_overridden_credentials_replace_the_defaults(emulator_factory):
    """Email, token and OAuth token are knobs, so tests can prove the tap sends its config."""
    emu = emulator_factory(tickets=0, email="ops@acme.test", api_token="s3cret",
                           oauth_token="tok")
    assert zendesk_session(emu).get(f"{emu.url}/api/v2/groups").status_code == 401
    ok = zendesk_session(emu, "ops@acme.test", "s3cret").get(f"{emu.url}/api/v2/groups")
    assert ok.status_code == 200
    bearer = requests.get(f"{emu.url}/api/v2/groups", headers={"Authorization": "Bearer tok"})
    assert bearer.status_code == 200


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v2/incremental/tickets/cursor?start_time=0"),
    ("GET", "/api/v2/incremental/ticket_events?start_time=0"),
    ("GET", "/api/v2/ticket_audits.json"),
    ("POST", "/api/v2/imports/tickets"),
    ("POST", "/api/v2/users/create_many"),
])
def test_agents_get_forbidden_shape_b_on_admin_only_endpoints(agent_emu, method, path):
    """Exports, all-audits, imports and bulk user import need an admin."""
    r = zendesk_session(agent_emu).request(method, f"{agent_emu.url}{path}", json={})
    assert r.status_code == 403
    assert r.json()["error"]["title"] == FORBIDDEN_TITLE


def test_agents_can_still_read_ordinary_lists(agent_emu):
    """Role gating is per endpoint, not account-wide."""
    s = zendesk_session(agent_emu)
    assert s.get(f"{agent_emu.url}/api/v2/tickets.json").status_code == 200
    assert s.get(f"{agent_emu.url}/api/v2/users/me").json()["user"]["role"] == "agent"


def test_other_staff_emails_authenticate_with_the_account_token(emu):
    """API tokens are account-wide: any agent's email works, with that agent's role."""
    agent = next(u for u in emu.collection("users") if u["role"] == "agent")
    s = zendesk_session(emu, agent["email"])
    assert s.get(f"{emu.url}/api/v2/users/me").json()["user"]["id"] == agent["id"]
    assert s.get(f"{emu.url}/api/v2/incremental/users?start_time=0").status_code == 403


def test_end_users_cannot_use_the_api_token(emu):
    """Only staff can authenticate with an API token."""
    end_user = next(u for u in emu.collection("users") if u["role"] == "end-user")
    r = zendesk_session(emu, end_user["email"]).get(f"{emu.url}/api/v2/groups")
    assert r.status_code == 401


@pytest.mark.parametrize("path", [
    "/api/v2/help_center/articles.json",
    "/api/v2/help_center/incremental/articles?start_time=0",
    "/api/v2/community/posts",
    "/api/v2/slas/policies",
])
def test_disabled_families_answer_403_for_plan_gating(gated_emu, path):
    """`disable=` makes whole stream families unavailable, as on lower plans."""
    r = zendesk_session(gated_emu).get(f"{gated_emu.url}{path}")
    assert r.status_code == 403
    assert r.json()["error"]["title"] == FORBIDDEN_TITLE


@pytest.fixture(scope="module")
def gated_emu(emulator_factory):
    """An account on a plan without Help Center, side conversations and SLAs."""
    return emulator_factory(tickets=30, seed=7, hold_back=0,
                            disable="help_center,side_conversations,sla_policies")


def test_disabled_side_conversations_can_answer_404_instead(emulator_factory):
    """Zendesk answers 403 or 404 for missing add-ons; the status is a knob."""
    emu = emulator_factory(tickets=30, seed=7, hold_back=0, disable=("side_conversations",),
                           disabled_status=404)
    tid = next(t["id"] for t in emu.collection("tickets") if t["status"] != "deleted")
    r = zendesk_session(emu).get(f"{emu.url}/api/v2/tickets/{tid}/side_conversations")
    assert r.status_code == 404
    assert zendesk_session(emu).get(f"{emu.url}/api/v2/tickets/{tid}").status_code == 200


def test_bulk_user_import_can_be_switched_off(emulator_factory):
    """Trial accounts refuse create_many/create_or_update_many with 403."""
    emu = emulator_factory(tickets=0, disable="bulk_user_import")
    s = zendesk_session(emu)
    r = s.post(f"{emu.url}/api/v2/users/create_or_update_many",
               json={"users": [{"name": "A", "email": "a@example.com"}]})
    assert r.status_code == 403
    single = s.post(f"{emu.url}/api/v2/users/create_or_update",
                    json={"user": {"name": "A", "email": "a@example.com"}})
    assert single.status_code == 201
