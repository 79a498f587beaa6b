"""Contract tests of the emulator's OAuth endpoints (zendesk_api.md 1.2, 1.4)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tap_zendesk.api.login import pkce_pair
from tests.emulator.oauth import s256

CLIENT = {"client_id": "demo-client", "client_secret": "demo-secret"}
REDIRECT = "http://127.0.0.1:9/callback"
EXPIRED_401 = {"error": "invalid_token",
               "error_description": "The access token provided is expired, revoked, malformed or "
                                    "invalid for other reasons."}


@pytest.fixture(scope="module")
def emu(emulator_factory):
    """Default OAuth client; access tokens live 60 s."""
    return emulator_factory(tickets=0, oauth_token_lifetime=60)


def authorize(emu, verifier: str | None = "v" * 50, **params) -> str:
    """Ask for a code; return it (the emulator approves at once)."""
    query = {"response_type": "code", "client_id": "demo-client", "redirect_uri": REDIRECT,
             "scope": "read write", "state": "st-1", **params}
    if verifier is not None:
        query.update(code_challenge=s256(verifier), code_challenge_method="S256")
    reply = requests.get(f"{emu.url}/oauth/authorizations/new", params=query,
                         allow_redirects=False, timeout=10)
    assert reply.status_code == 302
    location = urlsplit(reply.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    got = {k: v[-1] for k, v in parse_qs(location.query).items()}
    assert got["state"] == "st-1"
    return got["code"]


def tokens(emu, **body) -> requests.Response:
    return requests.post(f"{emu.url}/oauth/tokens", json=body, timeout=10)


def groups(emu, access: str) -> requests.Response:
    return requests.get(f"{emu.url}/api/v2/groups", timeout=10,
                        headers={"Authorization": f"Bearer {access}"})


def test_s256_matches_rfc_7636_appendix_b_and_the_login_helper():
    """The emulator's check is RFC 7636's S256; the login helper's pairs pass it."""
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128 and s256(verifier) == challenge


def test_authorization_code_with_pkce_yields_a_token_pair_once(emu):
    """The right verifier gets Zendesk's token response; the code cannot be used twice."""
    code = authorize(emu)
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": "v" * 50, **CLIENT}
    reply = tokens(emu, **body)
    assert reply.status_code == 200
    pair = reply.json()
    assert set(pair) == {"access_token", "token_type", "scope", "refresh_token", "expires_in",
                         "refresh_token_expires_in"}
    assert (pair["token_type"], pair["scope"], pair["expires_in"]) == ("bearer", "read write", 60)
    assert groups(emu, pair["access_token"]).status_code == 200
    again = tokens(emu, **body)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_wrong_pkce_verifier_is_refused(emu):
    """PKCE S256 is checked."""
    code = authorize(emu)
    reply = tokens(emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                   code_verifier="w" * 50, **CLIENT)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_the_old_pair_dies_at_once(emu):
    """A refresh returns a new pair; the old access and refresh tokens stop working."""
    old = emu.issue_oauth_tokens()
    reply = requests.post(f"{emu.url}/oauth/tokens", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": old["refresh_token"], **CLIENT})
    assert reply.status_code == 200, "form bodies are accepted too"
    new = reply.json()
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    assert groups(emu, new["access_token"]).status_code == 200
    dead = groups(emu, old["access_token"])
    assert dead.status_code == 401 and dead.json() == EXPIRED_401
    reuse = tokens(emu, grant_type="refresh_token", refresh_token=old["refresh_token"], **CLIENT)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"


def test_expired_access_tokens_get_zendesks_invalid_token_body(emu):
    """After its lifetime an access token gets the OAuth 401 body; its refresh token still works."""
    pair = emu.issue_oauth_tokens()
    emu.expire_oauth_access_tokens()
    reply = groups(emu, pair["access_token"])
    assert reply.status_code == 401 and reply.json() == EXPIRED_401
    fresh = tokens(emu, grant_type="refresh_token", refresh_token=pair["refresh_token"], **CLIENT)
    assert fresh.status_code == 200


def test_client_credentials_issue_an_access_token_without_refresh_token(emu):
    """Confidential clients can get a token directly."""
    reply = tokens(emu, grant_type="client_credentials", scope="read", **CLIENT)
    assert reply.status_code == 200
    assert "refresh_token" not in reply.json() and reply.json()["scope"] == "read"
    assert groups(emu, reply.json()["access_token"]).status_code == 200


@pytest.mark.parametrize("body", [
    {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "demo-client",
     "client_secret": "wrong"},
    {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "demo-secret"},
])
def test_unknown_client_or_wrong_secret_is_invalid_client(emu, body):
    """Client authentication failures are 401 invalid_client."""
    reply = tokens(emu, **body)
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"


def test_the_static_oauth_token_knob_keeps_working(emu):
    """`oauth_token` (a fixed bearer token) is unaffected by the OAuth server."""
    assert groups(emu, "demo-oauth").status_code == 200


def test_non_expiring_tokens_have_expires_in_null(emulator_factory):
    """oauth_token_lifetime 0: `expires_in` null, like older Zendesk tokens."""
    emu = emulator_factory(tickets=0, oauth_token_lifetime=0)
    assert emu.issue_oauth_tokens()["expires_in"] is None
