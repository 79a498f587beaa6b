"""Contract tests of the emulator's webhooks: REST shapes (7.1), delivery headers (7.2), event
payloads with string ids (7.5), signatures (7.6), trigger calls (7.3), loopback-only delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.conftest import zendesk_session
from tests.emulator import webhooks


class _Inbox(ThreadingHTTPServer):
    """A loopback endpoint that keeps every request and answers 200."""

    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                inbox.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


@pytest.fixture
def inbox():
    server = _Inbox()
    yield server
    server.shutdown()
    server.server_close()


def _create(api, emu, endpoint, subscriptions, **extra):
    reply = api.post(f"{emu.url}/api/v2/webhooks", json={"webhook": {
        "name": "Sync", "endpoint": endpoint, "http_method": "POST", "request_format": "json",
        "status": "active", "subscriptions": subscriptions, **extra}})
    assert reply.status_code == 201, reply.text
    return reply.json()["webhook"]


def test_webhook_create_returns_201_with_a_ulid_and_the_secret_is_readable(emulator_factory):
    """201 {"webhook"} with a 26-character ULID; secrets are never echoed; show/reset work."""
    emu = emulator_factory(tickets=3)
    api = zendesk_session(emu)
    hook = _create(api, emu, "https://example.com/x", ["zen:event-type:user.created"],
                   authentication={"type": "bearer_token", "add_position": "header",
                                   "data": {"token": "tok-123"}})
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", hook["id"])
    assert "tok-123" not in json.dumps(hook)
    first = api.get(f"{emu.url}/api/v2/webhooks/{hook['id']}/signing_secret").json()
    assert first["signing_secret"]["algorithm"] == "SHA256"
    reset = api.post(f"{emu.url}/api/v2/webhooks/{hook['id']}/signing_secret").json()
    assert reset["signing_secret"]["secret"] != first["signing_secret"]["secret"]
    assert api.get(f"{emu.url}/api/v2/webhooks/{hook['id']}").json()["webhook"] == hook


@pytest.mark.parametrize("body", [
    {"subscriptions": ["conditional_ticket_events", "zen:event-type:user.created"]},
    {"subscriptions": ["zen:event-type:user.created"], "http_method": "GET"},
    {"subscriptions": []},
])
def test_invalid_webhooks_are_refused_with_400(emulator_factory, body):
    """Mixed subscriptions, GET for events, or none at all: 400 and nothing stored."""
    emu = emulator_factory(tickets=3)
    api = zendesk_session(emu)
    webhook = {"name": "x", "endpoint": "https://e.example.com/", "http_method": "POST",
               "request_format": "json", "status": "active", **body}
    reply = api.post(f"{emu.url}/api/v2/webhooks", json={"webhook": webhook})
    assert reply.status_code == 400
    assert api.get(f"{emu.url}/api/v2/webhooks").json()["webhooks"] == []


def test_a_change_is_delivered_signed_with_zendesk_headers_and_string_ids(emulator_factory,
                                                                          inbox):
    """A new user: one POST with the 7.2 headers, a 7.5 envelope, a valid 7.6 signature."""
    emu = emulator_factory(tickets=3)
    api = zendesk_session(emu)
    hook = _create(api, emu, inbox.url, ["zen:event-type:user.created"],
                   custom_headers={"X-Sync-Source": "zendesk"})
    secret = api.get(f"{emu.url}/api/v2/webhooks/{hook['id']}/signing_secret").json()[
        "signing_secret"]["secret"]
    user = webhooks.mutate(emu, "users", {"name": "Hook User", "email": "hook@example.com"})
    webhooks.wait_for_deliveries(emu, 1)
    assert len(inbox.received) == 1
    headers, body = inbox.received[0]
    assert headers["x-zendesk-webhook-id"] == hook["id"]
    assert headers["x-zendesk-webhook-invocation-id"].isdigit()
    assert headers["x-zendesk-account-id"].isdigit()
    assert headers["x-sync-source"] == "zendesk"
    stamp = headers["x-zendesk-webhook-signature-timestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    mac = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    assert headers["x-zendesk-webhook-signature"] == base64.b64encode(mac).decode()
    event = json.loads(body)
    assert event["type"] == "zen:event-type:user.created"
    assert event["subject"] == f"zen:user:{user['id']}"
    assert event["detail"]["id"] == str(user["id"])
    assert event["detail"]["organization_id"] in ("0", str(user.get("organization_id")))
    assert re.fullmatch(r"[0-9a-f-]{36}", event["id"])


def test_a_trigger_calls_its_webhook_with_the_rendered_body_on_ticket_changes(
    emulator_factory, inbox
):
    """conditional_ticket_events: only the trigger's body, placeholders rendered as strings."""
    emu = emulator_factory(tickets=3)
    api = zendesk_session(emu)
    hook = _create(api, emu, inbox.url, ["conditional_ticket_events"])
    trigger = {"title": "On change", "conditions": {"all": [
        {"field": "update_type", "operator": "is", "value": "Change"}]},
        "actions": [{"field": "notification_webhook", "value": [
            hook["id"], '{"ticket_id": "{{ticket.id}}", "status": "{{ticket.status}}"}']}]}
    assert api.post(f"{emu.url}/api/v2/triggers", json={"trigger": trigger}).status_code == 201
    ticket = webhooks.mutate(emu, "tickets", {"subject": "t", "comment": {"body": "b"}})
    webhooks.mutate(emu, "tickets", {"status": "pending"}, ticket["id"])
    webhooks.wait_for_deliveries(emu, 1)
    assert [json.loads(b) for _, b in inbox.received] == [
        {"ticket_id": str(ticket["id"]), "status": "pending"}]


def test_repeat_knob_and_resend_send_the_same_bytes_and_headers(emulator_factory, inbox):
    """`webhook_repeat=1` and `resend` reproduce a delivery exactly (a replay)."""
    emu = emulator_factory(tickets=3, webhook_repeat=1)
    api = zendesk_session(emu)
    _create(api, emu, inbox.url, ["zen:event-type:organization.created"])
    webhooks.mutate(emu, "organizations", {"name": "Hook Org"})
    webhooks.wait_for_deliveries(emu, 2)
    webhooks.resend(emu)
    assert len(inbox.received) == 3
    assert inbox.received[0] == inbox.received[1] == inbox.received[2]


def test_endpoints_off_loopback_are_never_called(emulator_factory):
    """A public endpoint is stored, but the delivery is logged as not sent."""
    emu = emulator_factory(tickets=3)
    api = zendesk_session(emu)
    _create(api, emu, "https://sync.example.com/zendesk", ["zen:event-type:user.created"])
    webhooks.mutate(emu, "users", {"name": "Nobody", "email": "nobody@example.com"})
    sent = webhooks.wait_for_deliveries(emu, 1)
    assert sent[0]["status"] == "not sent: endpoint is not loopback"


def test_admin_mutate_path_changes_data_and_reports_the_row(emulator_factory):
    """`POST /__emulator/mutate` creates and updates through the write paths."""
    emu = emulator_factory(tickets=3)
    made = requests.post(f"{emu.url}/__emulator/mutate", json={
        "collection": "tickets", "data": {"subject": "Admin", "comment": {"body": "c"}}},
        timeout=10).json()["row"]
    changed = requests.post(f"{emu.url}/__emulator/mutate", json={
        "collection": "tickets", "id": made["id"], "data": {"status": "pending"}},
        timeout=10).json()["row"]
    assert changed["status"] == "pending" and changed["id"] == made["id"]
    assert requests.post(f"{emu.url}/__emulator/mutate", json={"collection": "macros"},
                         timeout=10).status_code == 400
