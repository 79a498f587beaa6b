"""Every error path of the tap over real HTTP: retries, give-ups, auth, URL checks, plan gating,
config errors; and for each one, no credential in anything the run left behind.

Waits are not timed: backoff and the governor share a fake clock (`tapkit.FakeClock`) whose
recorded sleeps are the waits the tap chose.
"""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_zendesk.api.errors import AuthenticationError
from tap_zendesk.api.urls import UnsafeURLError
from tap_zendesk.tap import TapZendesk
from tests.tap.tapkit import (
    SECRET_API_TOKEN,
    SECRET_EMAIL,
    SECRET_OAUTH_TOKEN,
    FakeClock,
    fresh_counts,
    run_tap,
    run_with_fault,
    secrets,
    start_emulator,
    tap_config,
    then,
    use_fake_clock,
)
from tests.tap.tapkit import clean, emu  # noqa: F401 - fixtures: one shared account

TARGETS = {
    # stream -> path the emulator counts
    "groups": "/api/v2/groups",
    "tickets": "/api/v2/incremental/tickets/cursor",
}


@pytest.fixture
def clock(monkeypatch):
    """A fake clock for backoff and the governor; returns (clock, prepare hook)."""
    fake = FakeClock()
    return fake, use_fake_clock(monkeypatch, fake)


def assert_no_secrets(run, *extra: str) -> None:
    """No token, OAuth token or basic-auth value in output, logs, stderr, error or state."""
    text = run.text()
    leaked = [s for s in (*secrets(), *extra) if s and s in text]
    assert not leaked, f"secret(s) leaked into the run's output: {[s[:4] + '...' for s in leaked]}"


def backoff_waits(run, fake: FakeClock) -> list[float]:
    """The fake clock's sleeps that were retry waits (not the governor's pacing)."""
    paced = [wait for _, wait in run.tap.connection.governor.waits]
    waits = list(fake.sleeps)
    for wait in paced:
        waits.remove(wait)
    return waits


def assert_complete(run, emu, stream: str) -> None:
    """The stream's rows all arrived, each once, and the run succeeded."""
    assert run.error is None, repr(run.error)
    got = run.ids(stream)
    assert len(got) == len(set(got)), f"{stream}: duplicates"
    assert set(got) == {row["id"] for row in emu.collection(stream)}


# -- rate limiting: Retry-After exactly ------------------------------------------------------


@pytest.mark.parametrize("stream", sorted(TARGETS))
def test_429_waits_exactly_retry_after_then_retries(clean, clock, stream):
    """A 429 with Retry-After: 7 makes the tap wait 7 s (once, not twice), then succeed."""
    fake, prepare = clock
    run = run_with_fault(
        clean, tap_config(clean), "429", path=TARGETS[stream], retry_after=7, only={stream},
        before=prepare,
    )
    assert_complete(run, clean, stream)
    assert backoff_waits(run, fake) == [7.0], f"waits: {fake.sleeps}"
    assert sum(fake.sleeps) == 7.0, "the governor does not wait the 429 out a second time"
    assert run.warnings("HTTP 429"), "the wait is announced"
    assert_no_secrets(run)


def test_503_with_retry_after_waits_exactly_retry_after(clean, clock):
    """A 503 that carries Retry-After is waited out exactly like a 429."""
    fake, prepare = clock
    run = run_tap(
        tap_config(clean, oauth=True),
        only={"groups"},
        prepare=then(
            prepare, fresh_counts(clean, ("503", {"path": "/api/v2/groups", "retry_after": 4}))
        ),
    )
    assert_complete(run, clean, "groups")
    assert fake.sleeps == [4.0], f"waits: {fake.sleeps}"
    assert_no_secrets(run)


# -- transient failures: backoff, then a clear error -------------------------------------------


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_server_errors_are_retried_with_growing_backoff(clean, clock, kind):
    """Two 5xx in a row: two waits, exponential and jittered (0.5-1 s, then 1-2 s), then rows."""
    fake, prepare = clock
    run = run_tap(
        tap_config(clean),
        only={"groups"},
        prepare=then(prepare, fresh_counts(clean, (kind, {"path": "/api/v2/groups", "times": 2}))),
    )
    assert_complete(run, clean, "groups")
    assert len(fake.sleeps) == 2, fake.sleeps
    assert 0.5 <= fake.sleeps[0] <= 1.0 and 1.0 <= fake.sleeps[1] <= 2.0, fake.sleeps
    assert clean.requests_to("/api/v2/groups") == 3
    assert_no_secrets(run)


@pytest.mark.parametrize("stream", sorted(TARGETS))
def test_server_errors_give_up_after_max_retries_with_a_clear_error(clean, clock, stream):
    """Past max_retries the run stops with the status and the path, after 1 + max_retries tries."""
    fake, prepare = clock
    path = TARGETS[stream]
    run = run_tap(
        tap_config(clean, max_retries=2),
        only={stream},
        prepare=then(prepare, fresh_counts(clean, ("500", {"path": path, "times": 50}))),
    )
    assert run.error is not None, "the run must fail"
    message = str(run.error)
    assert "500" in message and path in message, message
    assert clean.requests_to(path) == 3
    assert len(backoff_waits(run, fake)) == 2
    assert_no_secrets(run)


@pytest.mark.parametrize("kind", ["reset", "truncated", "html200"])
@pytest.mark.parametrize("stream", sorted(TARGETS))
def test_broken_replies_are_retried(clean, clock, kind, stream):
    """A reset connection, a cut-off JSON body or an HTML page with 200 is retried, not fatal."""
    fake, prepare = clock
    run = run_with_fault(
        clean, tap_config(clean, page_size=100), kind, path=TARGETS[stream], only={stream},
        before=prepare,
    )
    assert_complete(run, clean, stream)
    assert len(backoff_waits(run, fake)) == 1, fake.sleeps
    assert_no_secrets(run)


def test_a_reply_slower_than_request_timeout_is_retried(clean, clock):
    """A reply that stalls past `request_timeout` times out and is retried."""
    fake, prepare = clock
    run = run_tap(
        tap_config(clean, request_timeout=1.0),
        only={"groups"},
        prepare=then(
            prepare, fresh_counts(clean, ("stall", {"path": "/api/v2/groups", "seconds": 2.5}))
        ),
    )
    assert_complete(run, clean, "groups")
    assert clean.requests_to("/api/v2/groups") == 2
    assert run.warnings("Timeout"), "the retry names the timeout"
    assert_no_secrets(run)


# -- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize("oauth", [False, True], ids=["api_token", "oauth_token"])
def test_refused_credentials_stop_with_host_auth_mode_and_fix(clean, oauth):
    """401: the run stops at once, naming the host, the auth mode and what to check."""
    wrong = "wrong-credential-Zq81"
    overrides = {"oauth_token": wrong} if oauth else {"api_token": wrong}
    run = run_tap(tap_config(clean, oauth=oauth, **overrides), only={"groups"})
    assert isinstance(run.error, AuthenticationError), repr(run.error)
    message = str(run.error)
    host = clean.url.split("//", 1)[1]
    assert host in message, message
    if oauth:
        assert "OAuth" in message and "expire" in message, message
    else:
        assert "email + API token" in message and "token access" in message, message
    # Discovery reads the field definitions first: the run stops at that first refused request.
    assert clean.requests_to("/api/v2/ticket_fields") == 1, "a 401 is not retried"
    assert clean.requests_to("/api/v2/groups") == 0, "nothing is asked after a refusal"
    assert_no_secrets(run, wrong)


def test_a_401_in_the_middle_of_a_run_stops_it(clean):
    """Credentials revoked mid-run: the next request's 401 ends the run with the auth message."""
    run = run_tap(
        tap_config(clean),
        only={"groups", "tickets"},
        prepare=fresh_counts(clean, ("401", {"path": "/api/v2/incremental/tickets/cursor"})),
    )
    assert isinstance(run.error, AuthenticationError), repr(run.error)
    assert "email + API token" in str(run.error)
    assert_no_secrets(run)


# -- next-page URLs on another host --------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "path"),
    [
        ("organizations", "/api/v2/incremental/organizations"),
        ("ticket_audits", "/api/v2/ticket_audits"),
    ],
)
def test_a_next_page_on_another_host_is_refused(clean, stream, path):
    """A next_page/after_url pointing off the configured host raises UnsafeURLError."""
    run = run_with_fault(
        clean, tap_config(clean, page_size=2), "foreign_next_page", path=path, only={stream}
    )
    assert isinstance(run.error, UnsafeURLError), repr(run.error)
    assert "evil.example.com" in str(run.error)
    assert clean.requests_to(path) == 1, "nothing more was asked after the refusal"
    assert_no_secrets(run)


@pytest.mark.parametrize(
    ("stream", "path"),
    [
        ("ticket_metrics", "/api/v2/ticket_metrics"),
        ("tickets", "/api/v2/incremental/tickets/cursor"),
    ],
)
def test_cursor_styles_never_follow_the_reply_links(clean, stream, path):
    """CBP and cursor exports page by cursor, so a foreign links.next/after_url is harmless."""
    run = run_with_fault(
        clean, tap_config(clean, page_size=10), "foreign_next_page", path=path, only={stream}
    )
    assert_complete(run, clean, stream)


# -- plan-gated products -------------------------------------------------------------------------

GATED = {"categories", "sections", "articles", "topics", "posts", "sla_policies"}


@pytest.mark.parametrize("status", [403, 404])
def test_plan_gated_streams_are_skipped_with_one_warning_and_the_run_goes_on(
    emulator_factory, status
):
    """Help Center, community and SLA policies off: one warning each, every other stream syncs."""
    emu = start_emulator(
        emulator_factory,
        tickets=20,
        seed=2,
        disable=("help_center", "community", "sla_policies", "side_conversations"),
        disabled_status=status,
    )
    run = run_tap(tap_config(emu), also={"side_conversations"}, prepare=fresh_counts(emu))
    assert run.error is None, repr(run.error)
    for stream in GATED | {"side_conversations"}:
        warned = run.warnings(f"Skipping stream '{stream}'")
        assert len(warned) == 1, f"{stream}: {len(warned)} warnings"
        assert not run.records.get(stream)
    # Side conversations are fetched 5 tickets at a time: at most one batch goes out.
    assert emu.requests_to("/api/v2/tickets/{id}/side_conversations") <= 5, (
        "a gated per-ticket stream is not asked once per ticket"
    )
    assert {t["id"] for t in run.records["tickets"]} == {t["id"] for t in emu.collection("tickets")}
    assert run.records["groups"] and run.records["ticket_comments"]
    assert_no_secrets(run)


# -- configuration errors ------------------------------------------------------------------------


def _base(emu) -> dict:
    return tap_config(emu)


def _without(config: dict, *keys: str) -> dict:
    return {k: v for k, v in config.items() if k not in keys}


CONFIG_CASES = {
    # case: (config transform, key the message must name)
    "no credentials": (lambda c: _without(c, "api_token"), "api_token"),
    "both auth modes": (lambda c: {**c, "oauth_token": SECRET_OAUTH_TOKEN}, "oauth_token"),
    "token without email": (lambda c: _without(c, "email"), "email"),
    "bad start_date": (lambda c: {**c, "start_date": "last tuesday"}, "start_date"),
    "future start_date": (lambda c: {**c, "start_date": "2999-01-01T00:00:00Z"}, "start_date"),
    "page_size over 1000": (lambda c: {**c, "page_size": 5000}, "page_size"),
    "no subdomain or api_url": (lambda c: _without(c, "subdomain", "api_url"), "subdomain"),
    "URL as subdomain": (
        lambda c: {**_without(c, "api_url"), "subdomain": "https://acme.zendesk.com"},
        "subdomain",
    ),
    "http api_url off loopback": (
        lambda c: {**c, "api_url": "http://zendesk.example.com"},
        "api_url",
    ),
}


def _check_config_error(emu, transform, key) -> None:
    config = transform(_base(emu))
    with pytest.raises(ConfigValidationError) as caught:
        TapZendesk(config=config, parse_env_config=False)
    text = " ".join([str(caught.value), *(getattr(caught.value, "errors", None) or [])])
    assert f"`{key}`" in text, text
    for secret in (SECRET_API_TOKEN, SECRET_OAUTH_TOKEN):
        assert secret not in text


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_config_errors_name_the_key_and_never_its_value(clean, case):
    """Each invalid config raises ConfigValidationError naming the key, without secrets."""
    transform, key = CONFIG_CASES[case]
    _check_config_error(clean, transform, key)


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_a_rejected_config_sends_no_request(clean, case):
    """Config errors are raised before any request (and so before any credential) is sent."""
    transform, _ = CONFIG_CASES[case]
    with pytest.raises(ConfigValidationError):
        TapZendesk(config=transform(_base(clean)), parse_env_config=False)
    assert clean.stats()["total_requests"] == 0


def test_secrets_stay_out_of_debug_logs_of_a_normal_run(clean):
    """Even at DEBUG, a successful run (with retries) shows no token or Authorization value."""
    for oauth in (False, True):
        clean.add_fault("429", path="/api/v2/groups", retry_after=0)
        run = run_tap(tap_config(clean, oauth=oauth), only={"groups", "organizations"})
        assert run.error is None, repr(run.error)
        assert any("GET /api/v2/groups" in line for line in run.logs), "premise: DEBUG captured"
        assert_no_secrets(run)
    assert SECRET_EMAIL  # the email is not a secret; it may appear in records


def test_a_ticket_deleted_during_the_run_skips_only_its_side_conversations(emulator_factory):
    """A per-ticket 404 RecordNotFound (ticket deleted meanwhile) does not skip the stream."""
    emu = start_emulator(emulator_factory, tickets=60, seed=4)
    victim: list[int] = []

    def delete_first_ticket_before_its_side_conversations(tap):
        session = tap.connection.session
        send = session.send

        def sending(request, **kwargs):
            if "/side_conversations" in request.url and not victim:
                ticket_id = int(request.url.split("/tickets/")[1].split("/")[0])
                victim.append(ticket_id)
                emu.app.store.update("tickets", ticket_id, {"status": "deleted"})
            return send(request, **kwargs)

        session.send = sending

    run = run_tap(
        tap_config(emu),
        only={"tickets", "side_conversations"},
        prepare=delete_first_ticket_before_its_side_conversations,
    )
    assert run.error is None, repr(run.error)
    assert victim, "premise: a ticket was deleted mid-run"
    assert not run.warnings("Skipping stream"), run.warnings()
    expected = {
        s["id"]
        for s in emu.collection("side_conversations")
        if s["ticket_id"] not in victim
        and emu.app.store.get("tickets", s["ticket_id"]).get("status") != "deleted"
    }
    assert expected, "premise: the account has side conversations"
    assert set(run.ids("side_conversations")) == expected


def test_one_pooled_session_serves_every_stream(clean):
    """All streams share one keep-alive session: a full run opens a handful of connections."""
    run = run_tap(tap_config(clean))
    assert run.error is None, repr(run.error)
    opened = [line for line in run.logs if "Starting new HTTP connection" in line]
    served = clean.stats()["total_requests"]
    assert served > 30, "premise: many requests"
    assert 1 <= len(opened) <= 2, f"{len(opened)} connections for {served} requests"
    assert_no_secrets(run)


def test_a_url_typed_as_subdomain_says_what_to_type(clean):
    """`https://acme.zendesk.com/` as subdomain: the error suggests `acme`."""
    config = {**_without(_base(clean), "api_url"), "subdomain": "https://acme.zendesk.com/"}
    with pytest.raises(ConfigValidationError) as caught:
        TapZendesk(config=config, parse_env_config=False)
    text = " ".join([str(caught.value), *(getattr(caught.value, "errors", None) or [])])
    assert "`acme`" in text, text
