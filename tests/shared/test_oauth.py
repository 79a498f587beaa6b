"""OAuth refresh flow (tap_zendesk.api.oauth): token store, rotation, locking, errors, secrets.

Unit tests against `responses`, with a fake clock: no sleeping, no emulator.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading

import pytest
import requests
import responses

from tap_zendesk.api.auth import ZendeskAuth
from tap_zendesk.api.client import ZendeskClient, classify
from tap_zendesk.api.errors import AuthenticationError, CredentialsRefreshedError
from tap_zendesk.api.oauth import (
    LOGIN_COMMAND,
    OAuthError,
    RefreshingToken,
    TokenEndpointError,
    TokenPair,
    TokenStore,
    default_token_store,
    fingerprint,
    save_login,
)
from tap_zendesk.api.retry import RetryPolicy

BASE = "https://acme.zendesk.com"
TOKEN_URL = f"{BASE}/oauth/tokens"
CLIENT_SECRET = "cs-Hq81Zr4Kx0Lm2Vb7"
SEED = "rt-seed-N5cP9wT2yQ6e"


class Clock:
    """A settable clock."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class TokenEndpoint:
    """A fake `/oauth/tokens` that rotates: each refresh token works once."""

    def __init__(self, lifetime: float | None = 1800) -> None:
        self.lifetime = lifetime
        self.live = {SEED}
        self.bodies: list[dict] = []
        self.issued: list[str] = []
        self.serial = 0
        self.before_reply = None  # hook: called inside the request, before the reply

    def __call__(self, request: requests.PreparedRequest):
        body = json.loads(request.body)
        self.bodies.append(body)
        if self.before_reply is not None:
            self.before_reply()
        if body.get("client_secret") != CLIENT_SECRET:
            return 401, {}, json.dumps({"error": "invalid_client", "error_description": "bad"})
        if body.get("refresh_token") not in self.live:
            return 400, {}, json.dumps({"error": "invalid_grant", "error_description": "gone"})
        self.live.discard(body["refresh_token"])
        self.serial += 1
        access, refresh = f"at-{self.serial:04d}-Zk3", f"rt-{self.serial:04d}-Qm8"
        self.live.add(refresh)
        self.issued += [access, refresh]
        reply = {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
                 "scope": "read write"}
        if self.lifetime is not None:
            reply["expires_in"] = self.lifetime
        return 200, {}, json.dumps(reply)


@pytest.fixture
def endpoint() -> TokenEndpoint:
    fake = TokenEndpoint()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.POST, TOKEN_URL, callback=fake)
        fake.rsps = rsps
        yield fake


def config(tmp_path, **overrides) -> dict:
    return {"subdomain": "acme", "client_id": "acme-pipeline", "client_secret": CLIENT_SECRET,
            "refresh_token": SEED, "token_store": str(tmp_path / "tokens.json"), **overrides}


def token(cfg: dict, clock: Clock | None = None, **kw) -> RefreshingToken:
    return RefreshingToken.from_config(cfg, clock=clock or Clock(), sleep=lambda s: None, **kw)


# -- token pairs and the store -------------------------------------------------------------------


def test_token_pair_is_fresh_until_the_margin_before_expiry():
    """90 s ahead for long-lived tokens, a quarter of the lifetime for short ones."""
    long = TokenPair("a", "r", expires_at=2000.0, lifetime=1800.0)
    assert long.fresh(2000 - 91) and not long.fresh(2000 - 89)
    short = TokenPair("a", "r", expires_at=10.0, lifetime=2.0)
    assert short.fresh(9.4) and not short.fresh(9.6)
    assert TokenPair("a", "r", expires_at=None).fresh(1e12), "no expires_in: never expires"
    assert not TokenPair(None, "r").fresh(0), "no access token yet"


@pytest.mark.parametrize("expires_in", [None, "absent", 0])
def test_token_response_without_expires_in_never_expires(expires_in):
    """Older tokens come without `expires_in` (or null): the client must handle both."""
    body = {"access_token": "a", "refresh_token": "r"}
    if expires_in != "absent":
        body["expires_in"] = expires_in
    pair = TokenPair.from_token_response(body, 100.0, origin=None)
    assert pair.expires_at is None and pair.fresh(1e12)


def test_store_is_written_0600_atomically_with_no_temporary_file_left(tmp_path):
    """Mode 0600 in a private folder; the rename leaves exactly the store (and no .tmp)."""
    store = TokenStore(tmp_path / "sub" / "tokens.json")
    pair = TokenPair("at-1", "rt-1", expires_at=50.0, lifetime=30.0, scope="read write",
                     origin=fingerprint("rt-0"))
    store.write(pair, client_id="c", host=BASE, now=20.0)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["tokens.json"]
    record = store.read()
    assert (record.pair.access_token, record.pair.refresh_token) == ("at-1", "rt-1")
    assert (record.pair.expires_at, record.client_id, record.host) == (50.0, "c", BASE)
    assert record.pair.origin == fingerprint("rt-0")


def test_a_broken_store_is_a_clear_error_without_its_contents(tmp_path):
    """A truncated or foreign file names the path, never what is in it."""
    path = tmp_path / "tokens.json"
    path.write_text('{"access_token": "half-written-secret-QQ')
    with pytest.raises(OAuthError) as info:
        TokenStore(path).read()
    assert str(path) in str(info.value) and "half-written" not in str(info.value)


def test_default_store_is_keyed_by_account_and_client(tmp_path, monkeypatch):
    """`$XDG_CONFIG_HOME/tap-zendesk/tokens-<subdomain or host>-<client_id>.json`."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    by_sub = default_token_store({"subdomain": "Acme", "client_id": "pipe"})
    assert by_sub == tmp_path / "tap-zendesk" / "tokens-acme-pipe.json"
    by_host = default_token_store(
        {"subdomain": "acme", "api_url": "http://127.0.0.1:8080", "client_id": "a/b"}
    )
    assert by_host.name == "tokens-127.0.0.1_8080-a_b.json"


# -- refreshing ----------------------------------------------------------------------------------


def test_first_use_refreshes_the_seed_and_persists_before_returning(endpoint, tmp_path):
    """The seed refresh token is swapped at once; the store holds the new pair when it is used."""
    cfg = config(tmp_path)
    seen_in_store = []
    tok = token(cfg)
    original = tok.store.write

    def write(pair, **kw):
        original(pair, **kw)
        seen_in_store.append(TokenStore(cfg["token_store"]).read().pair.access_token)

    tok.store.write = write
    assert tok.current() == "at-0001-Zk3"
    assert seen_in_store == ["at-0001-Zk3"], "written before it was handed out"
    assert endpoint.bodies == [{"grant_type": "refresh_token", "refresh_token": SEED,
                                "client_id": "acme-pipeline", "client_secret": CLIENT_SECRET}]
    stored = TokenStore(cfg["token_store"]).read().pair
    assert stored.refresh_token == "rt-0001-Qm8" and stored.origin == fingerprint(SEED)


def test_a_token_that_cannot_be_saved_is_never_used(endpoint, tmp_path):
    """If the new pair cannot be persisted, no request goes out with it (persist before use)."""
    tok = token(config(tmp_path))

    def fail(pair, **kw):
        raise OSError(28, "No space left on device")

    tok.store.write = fail
    with pytest.raises(OAuthError, match="could not save it") as info:
        tok.current()
    assert "at-0001" not in str(info.value) and LOGIN_COMMAND in str(info.value)


def test_refreshes_ahead_of_expiry_and_not_before(endpoint, tmp_path):
    """Within 90 s of expiry the next request gets a new token; before that, none."""
    clock = Clock()
    tok = token(config(tmp_path), clock)
    assert tok.current() == "at-0001-Zk3"
    clock.now += 1800 - 91
    assert tok.current() == "at-0001-Zk3" and len(endpoint.bodies) == 1
    clock.now += 2
    assert tok.current() == "at-0002-Zk3"
    assert endpoint.bodies[-1]["refresh_token"] == "rt-0001-Qm8", "the rotated token is used"


def test_a_non_expiring_token_is_only_refreshed_after_a_401(endpoint, tmp_path):
    """`expires_in` null: no refresh ahead of time, ever."""
    endpoint.lifetime = None
    clock = Clock()
    tok = token(config(tmp_path), clock)
    first = tok.current()
    clock.now += 10 * 365 * 86400
    assert tok.current() == first and len(endpoint.bodies) == 1
    assert tok.recover(first) is True and tok.current() == "at-0002-Zk3"


def test_next_run_uses_the_store_not_the_spent_seed(endpoint, tmp_path):
    """Meltano keeps passing the first refresh token: the store, which descends from it, wins."""
    cfg = config(tmp_path)
    token(cfg).current()
    again = token(cfg)
    assert again.current() == "at-0001-Zk3", "the stored access token is still fresh"
    assert len(endpoint.bodies) == 1 and again.adopted == 1


def test_a_new_refresh_token_in_config_replaces_the_store(endpoint, tmp_path):
    """After a fresh login put into config, the store is restarted from that token."""
    cfg = config(tmp_path)
    token(cfg).current()
    endpoint.live.add("rt-relogin-77")
    tok = token({**cfg, "refresh_token": "rt-relogin-77"})
    assert tok.current() == "at-0002-Zk3"
    assert endpoint.bodies[-1]["refresh_token"] == "rt-relogin-77"


def test_refresh_token_may_be_omitted_when_the_store_has_one(endpoint, tmp_path):
    """A store filled by the login helper is enough: no refresh_token in config."""
    cfg = config(tmp_path)
    store = TokenStore(cfg["token_store"])
    save_login(store, {"access_token": "at-login", "refresh_token": SEED, "expires_in": 1800},
               client_id="acme-pipeline", base=BASE, clock=Clock())
    tok = token({k: v for k, v in cfg.items() if k != "refresh_token"})
    assert tok.current() == "at-login" and not endpoint.bodies


def test_a_store_of_another_client_is_refused(endpoint, tmp_path):
    """Tokens of one OAuth client never go out under another client's id."""
    cfg = config(tmp_path)
    token(cfg).current()
    with pytest.raises(OAuthError, match="other-client"):
        token({**cfg, "client_id": "other-client", "refresh_token": None}).current()


def test_a_second_process_adopts_the_fresh_pair_instead_of_refreshing(endpoint, tmp_path):
    """Two holders of one store across a rotation: one refresh, both get the new token."""
    clock = Clock()
    cfg = config(tmp_path)
    first, second = token(cfg, clock), token(cfg, clock)
    assert first.current() == second.current() == "at-0001-Zk3"
    clock.now += 1800
    assert first.current() == "at-0002-Zk3"
    assert second.current() == "at-0002-Zk3"
    assert len(endpoint.bodies) == 2 and second.refreshes == 0


def test_the_process_waiting_on_the_lock_rereads_the_store(endpoint, tmp_path, caplog):
    """Whoever takes the lock second uses the pair the first one saved (no second refresh)."""
    caplog.set_level(logging.INFO, logger="tap_zendesk.oauth")
    clock = Clock()
    cfg = config(tmp_path)
    token(cfg, clock).current()
    clock.now += 1800  # everybody's access token is now expired
    waiting = threading.Event()

    class Spy(logging.Handler):
        def emit(self, record):
            if "Waiting for another process" in record.getMessage():
                waiting.set()

    spy = Spy()
    logging.getLogger("tap_zendesk.oauth").addHandler(spy)
    holder, late = token(cfg, clock), token(cfg, clock)
    got = []
    try:
        with holder.store.locked():  # "process A" is mid-refresh
            thread = threading.Thread(target=lambda: got.append(late.current()))
            thread.start()
            assert waiting.wait(10), "the second process should block on the lock"
            new = holder._refresh(holder.store.read().pair, from_config=False)
            holder.store.write(new, client_id="acme-pipeline", host=BASE, now=clock())
        thread.join(10)
    finally:
        logging.getLogger("tap_zendesk.oauth").removeHandler(spy)
    assert got == [new.access_token]
    assert len(endpoint.bodies) == 2 and late.refreshes == 0 and late.adopted == 1


def test_threads_of_one_process_share_one_refresh(endpoint, tmp_path):
    """Eight threads hitting an expired token at once cause exactly one refresh."""
    clock = Clock()
    tok = token(config(tmp_path), clock)
    tok.current()
    clock.now += 1800
    barrier = threading.Barrier(8)
    got = []

    def worker():
        barrier.wait()
        got.append(tok.current())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert got == ["at-0002-Zk3"] * 8 and len(endpoint.bodies) == 2


# -- 401s ----------------------------------------------------------------------------------------


def test_a_401_refreshes_once_and_a_second_401_on_the_new_token_is_final(endpoint, tmp_path):
    """Refresh once on an unexpected 401; a 401 right after that refresh cannot be helped."""
    tok = token(config(tmp_path))
    old = tok.current()
    assert tok.recover(old) is True
    new = tok.current()
    assert new != old
    assert tok.recover(new) is False, "refreshed for a 401 and refused again"
    tok.confirm(new)
    assert tok.recover(new) is True, "once it has worked, a later 401 may refresh again"
    assert len(endpoint.bodies) == 3


def test_a_401_on_a_token_another_process_rotated_adopts_without_refreshing(endpoint, tmp_path):
    """Our old token died because someone rotated: take theirs from the store."""
    clock = Clock()
    cfg = config(tmp_path)
    mine, theirs = token(cfg, clock), token(cfg, clock)
    old = mine.current()
    theirs.current()
    assert theirs.recover(old) is True  # they rotate (old pair dies)
    assert mine.recover(old) is True and mine.current() == theirs.current()
    assert len(endpoint.bodies) == 2 and mine.adopted >= 1


def _response(status: int, bearer: str, url: str = f"{BASE}/api/v2/groups") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.url = url
    response._content = json.dumps({"error": "invalid_token", "error_description": "x"}).encode()
    response.request = requests.Request("GET", url, headers={
        "Authorization": f"Bearer {bearer}"}).prepare()
    return response


def test_classify_turns_a_401_into_one_immediate_resend(endpoint, tmp_path):
    """classify(): 401 -> CredentialsRefreshedError (resent at once), then AuthenticationError."""
    auth = ZendeskAuth(config(tmp_path), clock=Clock(), sleep=lambda s: None)
    prepared = auth(requests.Request("GET", f"{BASE}/api/v2/groups").prepare())
    sent = prepared.headers["Authorization"].split(" ", 1)[1]
    with pytest.raises(CredentialsRefreshedError):
        classify(_response(401, sent), host=BASE, auth=auth)
    fresh = auth(requests.Request("GET", f"{BASE}/api/v2/groups").prepare())
    fresh_token = fresh.headers["Authorization"].split(" ", 1)[1]
    assert fresh_token != sent
    with pytest.raises(AuthenticationError) as info:
        classify(_response(401, fresh_token), host=BASE, auth=auth)
    text = str(info.value)
    assert "acme.zendesk.com" in text and str(auth.tokens.store.path) in text
    assert LOGIN_COMMAND in text
    for secret in auth.secrets:
        assert secret not in text


def test_retry_policy_resends_a_refreshed_request_at_once_even_a_write():
    """No backoff after a refresh, and a refused POST (401) is safe to resend."""
    policy = RetryPolicy(max_retries=0, jitter=False)
    gen = policy.wait_gen(idempotent=False)
    next(gen)
    exc = CredentialsRefreshedError("refreshed", None)
    assert [gen.send(exc) for _ in range(3)] == [0.0, 0.0, 0.0]
    with pytest.raises(StopIteration):
        gen.send(exc)


@responses.activate
def test_client_resends_a_post_with_the_refreshed_token_after_a_401(tmp_path):
    """ZendeskClient (the target's client): 401 on a write -> refresh -> resent once -> 200."""
    fake = TokenEndpoint()
    responses.add_callback(responses.POST, TOKEN_URL, callback=fake)
    responses.post(f"{BASE}/api/v2/users/create_many", status=401,
                   json={"error": "invalid_token", "error_description": "expired"})
    responses.post(f"{BASE}/api/v2/users/create_many", json={"job_status": {"id": "j1"}})
    client = ZendeskClient(config(tmp_path), policy=RetryPolicy(max_retries=0, jitter=False))
    client.governor._sleep = lambda s: None
    body = client.request_json("POST", "/api/v2/users/create_many", json={"users": []},
                               idempotent=False)
    assert body == {"job_status": {"id": "j1"}}
    sent = [c.request.headers.get("Authorization") for c in responses.calls
            if "create_many" in c.request.url]
    assert sent == ["Bearer at-0001-Zk3", "Bearer at-0002-Zk3"]


# -- refusals and outages ------------------------------------------------------------------------


def test_a_refused_refresh_token_is_one_clear_error_and_the_store_is_untouched(endpoint, tmp_path):
    """invalid_grant names the store, the host and the login command; the store is untouched."""
    cfg = config(tmp_path)
    tok = token(cfg)
    tok.current()
    before = TokenStore(cfg["token_store"]).path.read_bytes()
    endpoint.live.clear()  # the user revoked the grant
    with pytest.raises(OAuthError) as info:
        tok.recover(tok.current())
    text = str(info.value)
    assert cfg["token_store"] in text and "acme.zendesk.com" in text
    assert f"{LOGIN_COMMAND} --subdomain acme --client-id acme-pipeline" in text
    assert "invalid_grant" in text
    assert TokenStore(cfg["token_store"]).path.read_bytes() == before
    for secret in [CLIENT_SECRET, SEED, *endpoint.issued]:
        assert secret not in text and secret not in repr(info.value)


def test_a_wrong_client_secret_names_the_client_not_the_secret(endpoint, tmp_path):
    """invalid_client points at `client_id` / `client_secret`."""
    with pytest.raises(OAuthError) as info:
        token(config(tmp_path, client_secret="cs-wrong-77Tq")).current()
    assert "acme-pipeline" in str(info.value) and "`client_secret`" in str(info.value)
    assert "cs-wrong-77Tq" not in str(info.value)


def test_token_endpoint_outages_are_retried_then_stop_with_the_store_unchanged(tmp_path):
    """503s are retried a few times; then a fatal error says the store is unchanged."""
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=503, body="down")
        rsps.post(TOKEN_URL, status=503, body="down")
        fake = TokenEndpoint()
        rsps.add_callback(responses.POST, TOKEN_URL, callback=fake)
        slept = []
        tok = RefreshingToken.from_config(config(tmp_path), clock=Clock(), sleep=slept.append)
        assert tok.current() == "at-0001-Zk3" and len(slept) == 2
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=502, body="<html>bad gateway</html>")
        cfg = config(tmp_path, token_store=str(tmp_path / "other.json"))
        with pytest.raises(TokenEndpointError, match="unchanged"):
            RefreshingToken.from_config(cfg, clock=Clock(), sleep=lambda s: None).current()
        assert not (tmp_path / "other.json").exists()


def test_no_refresh_token_anywhere_says_how_to_log_in(tmp_path):
    """Neither a store nor `refresh_token`: the error names the store path and the command."""
    cfg = {k: v for k, v in config(tmp_path).items() if k != "refresh_token"}
    with pytest.raises(OAuthError) as info:
        token(cfg).current()
    assert cfg["token_store"] in str(info.value) and LOGIN_COMMAND in str(info.value)


# -- secrets -------------------------------------------------------------------------------------


def test_secrets_cover_every_token_and_reprs_show_none(endpoint, tmp_path, caplog):
    """`ZendeskAuth.secrets` lists the client secret and every token; reprs and logs hide them."""
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    auth = ZendeskAuth(config(tmp_path), clock=clock, sleep=lambda s: None)
    auth(requests.Request("GET", f"{BASE}/x").prepare())
    clock.now += 1800
    auth(requests.Request("GET", f"{BASE}/x").prepare())
    everything = {CLIENT_SECRET, SEED, *endpoint.issued}
    assert everything <= set(auth.secrets)
    shown = " ".join([repr(auth), str(auth), repr(auth.tokens), repr(auth.tokens._pair),
                      repr(auth.tokens.store), auth.describe(), caplog.text])
    for secret in everything:
        assert secret not in shown


def test_a_refused_refresh_token_is_not_sent_again_by_the_same_process(endpoint, tmp_path):
    """Callers that swallow the first error (discovery) do not cause a second refusal."""
    tok = token(config(tmp_path))
    endpoint.live.clear()
    with pytest.raises(OAuthError) as first:
        tok.current()
    with pytest.raises(OAuthError) as second:
        tok.current()
    assert str(second.value) == str(first.value) and len(endpoint.bodies) == 1


def test_a_store_deleted_during_a_run_is_rewritten_from_the_pair_in_memory(endpoint, tmp_path):
    """The spent seed is not retried: the current pair (in memory) refreshes and is saved again."""
    clock = Clock()
    cfg = config(tmp_path)
    tok = token(cfg, clock)
    tok.current()
    TokenStore(cfg["token_store"]).path.unlink()
    clock.now += 1800
    assert tok.current() == "at-0002-Zk3"
    assert endpoint.bodies[-1]["refresh_token"] == "rt-0001-Qm8"
    assert TokenStore(cfg["token_store"]).read().pair.refresh_token == "rt-0002-Qm8"
