"""Webhooks in continuous mode: the signature of zendesk_api.md 7.6, 401 for anything not
signed now by the secret, one poll per event however often it is delivered, an early poll long
before the interval, and the setup command that creates the webhook and reads its secret."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from tap_zendesk import webhook_setup
from tap_zendesk.webhooks import (
    DeliveryVerifier,
    WebhookListener,
    signature,
    signature_ok,
    streams_for,
)
from tests.emulator import webhooks as emulator_webhooks
from tests.tap.tapkit import run_tap, start_emulator, tap_config
from tests.tap.test_continuous import LIVE, Driver, cursor_position, wait_until

SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
TICKET_EVENT = {
    "type": "zen:event-type:ticket.status_changed",
    "account_id": 12514403,
    "id": "6b9bbadf-5725-4e92-bebe-7b71011bf5f1",
    "time": "2024-05-01T10:00:05Z",
    "zendesk_event_version": "2022-11-06",
    "subject": "zen:ticket:155",
    "detail": {"id": "155", "status": "OPEN"},
    "event": {"previous": "NEW", "current": "OPEN"},
}


def test_signature_matches_the_documented_test_vector():
    """The secret is used as given (not base64-decoded) over timestamp + raw body (7.6)."""
    body = b'{"event":"ticket.updated","id":123}'
    assert signature(SECRET, "2021-03-25T05:09:27Z", body) == (
        "S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM="
    )
    assert not signature_ok(
        SECRET, "2021-03-25T05:09:27Z", body, "ElGlCykjczJm8dAh5YJyfzGb6ttTqrYPkC81bFc/ZSk="
    )


def test_deliveries_name_the_exports_that_can_hold_the_change():
    """Ticket, user and organization event types and a trigger body map to their exports."""
    assert streams_for(TICKET_EVENT)[0] == "tickets"
    assert streams_for({"type": "zen:event-type:user.name_changed"}) == ("users",)
    assert streams_for({"type": "zen:event-type:organization.created"}) == ("organizations",)
    assert streams_for({"ticket_id": "155", "status": "open"})[0] == "tickets"
    assert streams_for({"type": "zen:event-type:article.published"}) == ()


@pytest.fixture
def listener():
    """A listener on a free loopback port whose verified events land in `.calls`."""
    calls: list[tuple[tuple[str, ...], str]] = []
    clock = {"now": datetime(2024, 5, 1, 10, 0, 5, tzinfo=timezone.utc).timestamp()}
    verifier = DeliveryVerifier(SECRET, max_age=300, clock=lambda: clock["now"])
    server = WebhookListener(
        "127.0.0.1",
        0,
        verifier,
        lambda s, why: calls.append((s, why)),
        logging.getLogger("tap-zendesk"),
    ).start()
    server.calls = calls  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.address[1]}/zendesk"  # type: ignore[attr-defined]
    yield server
    server.stop()


def _deliver(
    url: str, body: bytes, stamp: str, sig: str | None = None, invocation: str = "8350205582"
) -> requests.Response:
    """POST one delivery with Zendesk's headers (7.2)."""
    return requests.post(
        url,
        data=body,
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "X-Zendesk-Webhook-Id": "01GB7Y5E6W0YQK7W1Q7T0Z3M9A",
            "X-Zendesk-Webhook-Invocation-Id": invocation,
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
            "X-Zendesk-Webhook-Signature": sig
            if sig is not None
            else signature(SECRET, stamp, body),
        },
    )


def test_a_signed_delivery_is_accepted_and_asks_for_the_matching_exports(listener):
    """2xx at once, and the ticket exports are asked for."""
    body = json.dumps(TICKET_EVENT).encode()
    reply = _deliver(listener.url, body, "2024-05-01T10:00:05Z")
    assert 200 <= reply.status_code < 300
    assert [call[0][0] for call in listener.calls] == ["tickets"]


@pytest.mark.parametrize(
    "case", ["bad signature", "stale timestamp", "body altered after signing", "no signature"]
)
def test_forged_replayed_or_altered_deliveries_get_401_and_trigger_nothing(listener, case, caplog):
    """Each is refused with 401 and logged without the secret; no export is asked for."""
    body = json.dumps(TICKET_EVENT).encode()
    stamp = "2024-05-01T10:00:05Z"
    sig = None
    if case == "bad signature":
        sig = signature("not-the-secret", stamp, body)
    elif case == "stale timestamp":
        stamp = "2024-05-01T09:50:00Z"  # signed correctly, 10 minutes ago
    elif case == "no signature":
        sig = ""
    else:
        sig = signature(SECRET, stamp, body)
        body = body.replace(b"OPEN", b"SOLVED")
    with caplog.at_level(logging.INFO):
        reply = _deliver(listener.url, body, stamp, sig)
    assert reply.status_code == 401
    assert listener.calls == []
    assert listener.counts == {401: 1}
    assert "rejected with 401" in caplog.text
    assert SECRET not in caplog.text


def test_a_delivery_repeated_with_the_same_event_id_asks_for_one_poll(listener):
    """Zendesk may deliver an event more than once (7.7): answered 2xx, acted on once."""
    body = json.dumps(TICKET_EVENT).encode()
    replies = [
        _deliver(listener.url, body, "2024-05-01T10:00:05Z", invocation=str(n)) for n in range(3)
    ]
    assert all(200 <= r.status_code < 300 for r in replies)
    assert len(listener.calls) == 1


def _setup(emu: Any, tmp_path: Any, *args: str, capsys: Any) -> dict[str, Any]:
    """Run the setup command against the emulator; its stdout JSON."""
    config = tmp_path / "tap.json"
    config.write_text(json.dumps(tap_config(emu)))
    assert webhook_setup.main(["--config", str(config), *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_webhook_setup_creates_webhook_and_trigger_and_prints_the_secret_only_when_asked(
    emulator_factory, tmp_path, capsys, caplog
):
    """The webhook (and trigger) exist in the account; stdout shows the secret only with
    --show-secret, logs never."""
    emu = start_emulator(emulator_factory, tickets=5)
    with caplog.at_level(logging.DEBUG):
        made = _setup(
            emu,
            tmp_path,
            "--endpoint",
            "https://sync.example.com/zendesk",
            "--subscriptions",
            "tickets",
            "--trigger",
            capsys=capsys,
        )
        shown = _setup(
            emu, tmp_path, "--webhook-id", made["webhook_id"], "--show-secret", capsys=capsys
        )
    assert "signing_secret" not in made
    hook = emulator_webhooks.hub(emu._app).hooks[made["webhook_id"]]
    assert hook["subscriptions"] == ["conditional_ticket_events"]
    assert len(made["webhook_id"]) == 26  # a ULID
    trigger = next(t for t in emu.collection("triggers") if t["id"] == made["trigger_id"])
    assert trigger["actions"][0]["value"][0] == made["webhook_id"]
    secret = emulator_webhooks.hub(emu._app).secrets[made["webhook_id"]]
    assert shown["signing_secret"] == secret
    assert secret not in caplog.text


def test_webhook_setup_refuses_a_webhook_that_mixes_triggers_and_event_types(
    emulator_factory, tmp_path
):
    """One webhook cannot be both (7.1): exit 2 and nothing is created."""
    emu = start_emulator(emulator_factory, tickets=5)
    config = tmp_path / "tap.json"
    config.write_text(json.dumps(tap_config(emu)))
    code = webhook_setup.main(
        [
            "--config",
            str(config),
            "--endpoint",
            "https://x.example.com/",
            "--subscriptions",
            "tickets,users",
        ]
    )
    assert code == 2
    assert emu.requests_to("/api/v2/webhooks", "POST") == 0


def test_a_signed_webhook_makes_a_new_ticket_appear_long_before_the_poll_interval(
    emulator_factory, tmp_path, capsys
):
    """Interval one hour: the emulator's trigger webhook for a new ticket, delivered twice,
    brings exactly one extra poll of the ticket export, which emits the ticket."""
    emu = start_emulator(emulator_factory, tickets=20, seed=31, webhook_repeat=1, **LIVE)
    port = _free_port()
    made = _setup(
        emu,
        tmp_path,
        "--endpoint",
        f"http://127.0.0.1:{port}/zendesk",
        "--subscriptions",
        "tickets",
        "--trigger",
        "--show-secret",
        capsys=capsys,
    )
    created: dict[str, Any] = {}

    def scenario(sync: Any) -> None:
        exports_before = emu.requests_to("/api/v2/incremental/tickets/cursor")
        ticket = emulator_webhooks.mutate(
            emu, "tickets", {"subject": "Urgent via webhook", "comment": {"body": "help"}}
        )
        created.update(ticket=ticket, exports_before=exports_before)
        wait_until(
            lambda: cursor_position(sync.tap, "tickets")[1] == ticket["id"],
            "the webhook-triggered poll",
        )

    driver = Driver(scenario)
    config = tap_config(
        emu,
        poll_interval_seconds=3600,
        export_rate_limit=600,
        webhook_listen_port=port,
        webhook_signing_secret=made["signing_secret"],
        webhook_poll_delay_seconds=LIVE["hold_back"] + 1,
    )
    run = run_tap(config, only={"tickets"}, prepare=driver.prepare)
    driver.check()
    assert run.error is None, repr(run.error)
    assert run.ids("tickets")[-1] == created["ticket"]["id"]
    assert run.ids("tickets").count(created["ticket"]["id"]) == 1
    sync = run.tap.continuous
    assert sync.polls["tickets"] == 1
    assert sync.listener is not None and sync.listener.counts.get(202) == 1
    assert emu.requests_to("/api/v2/incremental/tickets/cursor") == created["exports_before"] + 1
    sent = [d for d in emulator_webhooks.deliveries(emu) if d["event"].startswith("trigger")]
    assert len(sent) == 2 and sent[0]["headers"] == sent[1]["headers"]
    assert json.loads(sent[0]["body"])["ticket_id"] == str(created["ticket"]["id"])
    assert made["signing_secret"] not in run.text()


def _free_port() -> int:
    """A free loopback port for the listener (the emulator needs the URL before the tap runs)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_webhook_with_a_wrong_secret_triggers_no_poll(emulator_factory, tmp_path, capsys):
    """Deliveries signed with another secret are refused (401) and the export is not asked."""
    emu = start_emulator(emulator_factory, tickets=10, seed=33, **LIVE)
    port = _free_port()
    _setup(
        emu,
        tmp_path,
        "--endpoint",
        f"http://127.0.0.1:{port}/zendesk",
        "--subscriptions",
        "tickets",
        "--trigger",
        capsys=capsys,
    )

    def scenario(sync: Any) -> None:
        emulator_webhooks.mutate(
            emu, "tickets", {"subject": "Nobody hears", "comment": {"body": "x"}}
        )
        wait_until(lambda: sync.listener.counts.get(401) == 1, "the rejected delivery")

    driver = Driver(scenario)
    config = tap_config(
        emu,
        poll_interval_seconds=3600,
        export_rate_limit=600,
        webhook_listen_port=port,
        webhook_signing_secret="a-different-secret",
        webhook_poll_delay_seconds=0,
    )
    run = run_tap(config, only={"tickets"}, prepare=driver.prepare)
    driver.check()
    assert run.error is None, repr(run.error)
    assert run.tap.continuous.polls["tickets"] == 0
    assert emulator_webhooks.deliveries(emu)[-1]["status"] == 401
