"""Webhooks: the REST endpoints (zendesk_api.md 7.1), triggers that call them (7.3), and signed
deliveries (7.2, 7.5, 7.6) POSTed to registered loopback endpoints whenever a ticket, user or
organization changes, plus live data changes for tests (`mutate`, `POST /__emulator/mutate`).

Deliveries start once the first webhook exists: the store's insert/replace are wrapped then, so
an account without webhooks costs nothing. Only 127.0.0.1/localhost endpoints are called.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .request import Req
from .util import ApiError, ItemInvalid, Response, bad_request, iso, json_response, not_found, now

if TYPE_CHECKING:
    from .app import App
    from .server import Emulator

#: Collections whose changes Zendesk reports, and their event-type domain (7.4).
WATCHED = {"tickets": "ticket", "users": "user", "organizations": "organization"}
ACCOUNT_ID = 12514403
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CONDITIONAL = "conditional_ticket_events"
#: Field -> event type of an update (user and organization names from 7.4; ticket ones
#: are the unconfirmed newer family).
FIELD_EVENTS = {
    "ticket": {"status": "status_changed", "priority": "priority_changed",
               "assignee_id": "agent_assignment_changed", "group_id": "group_assignment_changed",
               "subject": "subject_changed", "tags": "tags_changed",
               "custom_fields": "custom_field_changed"},
    "user": {"name": "name_changed", "role": "role_changed", "tags": "tags_changed",
             "external_id": "external_id_changed", "notes": "notes_changed",
             "details": "details_changed", "user_fields": "custom_field_changed",
             "suspended": "suspended_changed", "time_zone": "time_zone_changed",
             "email": "identity_changed", "alias": "alias_changed",
             "default_group_id": "default_group_changed"},
    "organization": {"name": "name_changed", "external_id": "external_id_changed",
                     "tags": "tags_changed", "organization_fields": "custom_field_changed"},
}
#: Fields of the `detail` snapshot per domain (ids as strings, "none" as "0": 7.5).
DETAIL_FIELDS = {
    "ticket": ("id", "status", "priority", "type", "subject", "requester_id", "assignee_id",
               "group_id", "organization_id", "brand_id", "tags", "created_at", "updated_at"),
    "user": ("id", "email", "external_id", "name", "organization_id", "default_group_id",
             "role", "active", "created_at", "updated_at"),
    "organization": ("id", "name", "external_id", "group_id", "tags", "created_at",
                     "updated_at"),
}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_HUB_LOCK = threading.Lock()


def ulid() -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, Crockford base32 (webhook ids, 7.1)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Zendesk's signature: base64(HMAC-SHA256(secret as is, timestamp + raw body)) (7.6)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _id_text(value: Any) -> Any:
    """Ids inside event payloads are strings and "none" is "0" (7.5)."""
    if value is None:
        return "0"
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _detail(domain: str, row: dict) -> dict[str, Any]:
    """The object snapshot of an event."""
    out: dict[str, Any] = {}
    for key in DETAIL_FIELDS[domain]:
        value = row.get(key)
        if key == "id" or key.endswith("_id"):
            out[key] = _id_text(value)
        elif domain == "ticket" and key in ("status", "priority", "type"):
            out[key] = str(value).upper() if value else None  # ticket payloads: upper case
        elif value is None:
            out[key] = ""
        else:
            out[key] = value
    return out


class WebhookHub:
    """The account's webhooks, their secrets, and a delivery thread with a delivery log."""

    def __init__(self, app: App):
        self.app = app
        self.lock = threading.Lock()
        self.hooks: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, str] = {}
        self.auth: dict[str, dict[str, Any]] = {}
        #: Every delivery attempt: webhook id, invocation id, event, status, headers, body.
        self.deliveries: list[dict[str, Any]] = []
        self._invocations = itertools.count(8350205582)
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._sent = threading.Condition()
        self._observe(app.store)
        threading.Thread(target=self._deliver_forever, name="emulator-webhooks",
                         daemon=True).start()

    # ---- what changed -------------------------------------------------------------------
    def _observe(self, store: Any) -> None:
        """Wrap the store's insert/replace so every watched change becomes events."""
        insert, replace = store.insert, store.replace

        def observed_insert(name: str, obj: dict, ts: int | None = None) -> dict:
            existed = obj.get(store.col(name).idf) in store.col(name).by_id
            row = insert(name, obj, ts)
            if not existed:  # an existing id goes through replace, which reports it
                self.changed(name, None, row)
            return row

        def observed_replace(name: str, obj: dict, ts: int | None = None) -> dict:
            old = store.col(name).by_id.get(obj.get(store.col(name).idf))
            row = replace(name, obj, ts)
            if old is not None:
                self.changed(name, old, row)
            return row

        store.insert, store.replace = observed_insert, observed_replace

    def changed(self, name: str, old: dict | None, new: dict) -> None:
        """Queue the deliveries one change causes (events and trigger calls)."""
        if name == "ticket_comments" and old is None:
            ticket = self.app.store.get("tickets", new.get("ticket_id"))
            if ticket is not None and ticket.get("created_at") != new.get("created_at"):
                self._events("ticket", ticket, [("comment_added", {"comment": {
                    "id": _id_text(new.get("id")), "body": new.get("body"),
                    "public": new.get("public"),
                    "author": {"id": _id_text(new.get("author_id"))}}})])
            return
        domain = WATCHED.get(name)
        if domain is None:
            return
        if old is None:
            events = [("created", {})]
        else:
            events = [(kind, {"previous": old.get(field), "current": new.get(field)})
                      for field, kind in FIELD_EVENTS[domain].items()
                      if old.get(field) != new.get(field)]
            if domain == "user" and old.get("active") and not new.get("active"):
                events.append(("deleted", {}))
            if domain == "organization" and not old.get("deleted_at") and new.get("deleted_at"):
                events.append(("deleted", {}))
        self._events(domain, new, events)
        if domain == "ticket":
            self._triggers(new, "Create" if old is None else "Change")

    def _events(self, domain: str, row: dict, events: list[tuple[str, dict]]) -> None:
        """One delivery per event to each active webhook subscribed to its type."""
        with self.lock:
            hooks = [h for h in self.hooks.values() if h["status"] == "active"]
        for kind, change in events:
            event_type = f"zen:event-type:{domain}.{kind}"
            for hook in hooks:
                if event_type not in hook["subscriptions"]:
                    continue
                payload = {
                    "type": event_type, "account_id": ACCOUNT_ID, "id": str(uuid.uuid4()),
                    "time": iso(now()), "zendesk_event_version": "2022-11-06",
                    "subject": f"zen:{domain}:{row.get('id')}",
                    "detail": _detail(domain, row),
                    "event": {k: _id_text(v) if k in ("previous", "current") and
                              isinstance(v, int) else v for k, v in change.items()},
                }
                self._queue.put({"hook": hook["id"], "body": json.dumps(payload).encode(),
                                 "event": event_type, "event_id": payload["id"]})

    def _triggers(self, ticket: dict, update_type: str) -> None:
        """Active triggers whose conditions hold call their webhook with the rendered body."""
        for trigger in self.app.store.rows("triggers"):
            if not trigger.get("active") or not _conditions_hold(trigger, ticket, update_type):
                continue
            for action in trigger.get("actions") or ():
                value = action.get("value")
                if action.get("field") != "notification_webhook" or not isinstance(value, list):
                    continue
                hook_id, template = value[0], value[1] if len(value) > 1 else ""
                with self.lock:
                    hook = self.hooks.get(str(hook_id))
                if hook is None or hook["status"] != "active" or \
                        CONDITIONAL not in hook["subscriptions"]:
                    continue
                self._queue.put({"hook": hook["id"], "body": _render(template, ticket).encode(),
                                 "event": f"trigger {trigger.get('id')}", "event_id": None})

    # ---- sending ------------------------------------------------------------------------
    def _deliver_forever(self) -> None:
        """Send queued deliveries one by one, after the write that caused them committed."""
        while True:
            item = self._queue.get()
            with self.app.store.lock:  # the change is complete once the writer let go
                pass
            self.send(item["hook"], item["body"], item["event"], item["event_id"])

    def send(self, hook_id: str, body: bytes, event: str, event_id: str | None,
             headers: dict[str, str] | None = None, repeat: bool = True) -> dict[str, Any]:
        """One signed POST (and `webhook_repeat` identical copies); every attempt is logged."""
        with self.lock:
            hook = self.hooks.get(hook_id)
            secret = self.secrets.get(hook_id)
            auth = self.auth.get(hook_id) or {}
        if hook is None or secret is None:
            return {}
        if headers is None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            headers = {
                "Content-Type": "application/json", "User-Agent": "Zendesk Webhook",
                "X-Zendesk-Account-Id": str(ACCOUNT_ID), "X-Zendesk-Webhook-Id": hook_id,
                "X-Zendesk-Webhook-Invocation-Id": str(next(self._invocations)),
                "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                "X-Zendesk-Webhook-Signature": sign(secret, stamp, body),
                **_auth_header(auth), **(hook.get("custom_headers") or {}),
            }
        record: dict[str, Any] = {}
        for _ in range(1 + (max(0, self.app.cfg.webhook_repeat) if repeat else 0)):
            record = {"webhook_id": hook_id, "event": event, "event_id": event_id,
                      "invocation_id": headers["X-Zendesk-Webhook-Invocation-Id"],
                      "endpoint": hook["endpoint"], "headers": dict(headers),
                      "body": body.decode(), "status": _post(hook["endpoint"], headers, body,
                                                             self.app.cfg.webhook_timeout)}
            with self._sent:
                self.deliveries.append(record)
                self._sent.notify_all()
        return record

    def resend(self, invocation_id: str | None = None) -> dict[str, Any]:
        """Send a logged delivery again, byte for byte (same signature and timestamp)."""
        with self._sent:
            found = [d for d in self.deliveries
                     if invocation_id is None or d["invocation_id"] == str(invocation_id)]
        if not found:
            raise KeyError("no such delivery")
        last = found[-1]
        return self.send(last["webhook_id"], last["body"].encode(), last["event"],
                         last["event_id"], headers=last["headers"], repeat=False)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until at least `count` delivery attempts were made."""
        with self._sent:
            return self._sent.wait_for(lambda: len(self.deliveries) >= count, timeout)

    # ---- REST ---------------------------------------------------------------------------
    def create(self, data: dict, actor: int) -> dict[str, Any]:
        """Validate and store a webhook; returns its public view."""
        missing = [k for k in ("name", "endpoint", "http_method", "request_format", "status",
                               "subscriptions") if not data.get(k)]
        if missing:
            raise _invalid(missing[0], "is required")
        subs = data["subscriptions"]
        if not isinstance(subs, list) or not all(isinstance(s, str) for s in subs):
            raise _invalid("subscriptions", "must be a list of strings")
        if CONDITIONAL in subs and len(subs) > 1:
            raise _invalid("subscriptions", "cannot mix conditional_ticket_events with event "
                                            "types")
        if CONDITIONAL not in subs:
            bad = [s for s in subs if not s.startswith("zen:event-type:")]
            if bad:
                raise _invalid("subscriptions", f"unknown event type {bad[0]}")
            if data["http_method"] != "POST" or data["request_format"] != "json":
                raise _invalid("http_method", "event subscriptions need POST and json")
        if data["http_method"] not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise _invalid("http_method", "is invalid")
        if data["request_format"] not in ("json", "xml", "form_encoded"):
            raise _invalid("request_format", "is invalid")
        if data["status"] not in ("active", "inactive"):
            raise _invalid("status", "is invalid")
        if urlsplit(str(data["endpoint"])).scheme not in ("http", "https"):
            raise _invalid("endpoint", "is not a valid URL")
        stamp = iso(now())
        hook = {"id": ulid(), "name": data["name"], "description": data.get("description", ""),
                "endpoint": data["endpoint"], "http_method": data["http_method"],
                "request_format": data["request_format"], "status": data["status"],
                "subscriptions": list(subs), "custom_headers": data.get("custom_headers") or {},
                "created_at": stamp, "created_by": str(actor), "updated_at": stamp,
                "updated_by": str(actor)}
        auth = data.get("authentication") or {}
        if auth:  # echoed without secrets: a basic_auth username only (recorded)
            shown = {k: v for k, v in (auth.get("data") or {}).items() if k == "username"}
            hook["authentication"] = {"type": auth.get("type"), "data": shown,
                                      "add_position": auth.get("add_position", "header")}
        with self.lock:
            self.hooks[hook["id"]] = hook
            self.secrets[hook["id"]] = base64.b64encode(os.urandom(32)).decode()
            self.auth[hook["id"]] = auth
        return hook

    def secret(self, hook_id: str, reset: bool = False) -> str:
        """The webhook's signing secret (a new one when reset: the old one stops working)."""
        with self.lock:
            if hook_id not in self.hooks:
                raise not_found()
            if reset:
                self.secrets[hook_id] = base64.b64encode(os.urandom(32)).decode()
            return self.secrets[hook_id]


def _conditions_hold(trigger: dict, ticket: dict, update_type: str) -> bool:
    """`all` and `any` conditions on update_type and status (others never hold here)."""
    conditions = trigger.get("conditions") or {}

    def holds(cond: dict) -> bool:
        fieldname, op, value = cond.get("field"), cond.get("operator"), cond.get("value")
        if fieldname == "update_type":
            actual = update_type
        elif fieldname == "status":
            actual = ticket.get("status")
        else:
            return False
        return actual == value if op == "is" else actual != value if op == "is_not" else False

    every = conditions.get("all") or []
    some = conditions.get("any") or []
    return all(holds(c) for c in every) and (not some or any(holds(c) for c in some))


def _render(template: str, ticket: dict) -> str:
    """Liquid placeholders `{{ticket.x}}` render as strings (7.3)."""
    out = template
    for key, value in ticket.items():
        out = out.replace("{{ticket." + key + "}}", "" if value is None else str(value))
    out = out.replace("{{ticket.updated_at_with_timestamp}}", str(ticket.get("updated_at")))
    while "{{" in out and "}}" in out.split("{{", 1)[1]:
        head, rest = out.split("{{", 1)
        out = head + rest.split("}}", 1)[1]
    return out


def _auth_header(auth: dict[str, Any]) -> dict[str, str]:
    """The configured authentication header of a webhook (7.1)."""
    data = auth.get("data") or {}
    if auth.get("type") == "bearer_token":
        return {"Authorization": f"Bearer {data.get('token', '')}"}
    if auth.get("type") == "basic_auth":
        raw = f"{data.get('username', '')}:{data.get('password', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if auth.get("type") == "api_key" and data.get("name"):
        return {str(data["name"]): str(data.get("value", ""))}
    return {}


def _post(endpoint: str, headers: dict[str, str], body: bytes, timeout: float) -> int | str:
    """POST to a loopback endpoint; the status, or why nothing was sent."""
    if urlsplit(endpoint).hostname not in LOOPBACK:
        return "not sent: endpoint is not loopback"
    request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - loopback
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        return f"failed: {type(exc).__name__}"


def _invalid(fieldname: str, text: str) -> ApiError:
    """Zendesk's webhook validation error shape."""
    return ApiError(400, {"errors": [{"code": "InvalidValue", "title": "Invalid value",
                                      "detail": f"{fieldname} {text}",
                                      "source": {"pointer": f"/webhook/{fieldname}"}}]})


def hub(app: App, create: bool = True) -> WebhookHub | None:
    """The account's hub, made (and the store observed) when the first webhook is created."""
    found = getattr(app, "_webhook_hub", None)
    if found is None and create:
        with _HUB_LOCK:
            found = getattr(app, "_webhook_hub", None)
            if found is None:
                found = WebhookHub(app)
                app._webhook_hub = found  # type: ignore[attr-defined]
    return found


# ---- REST handlers ------------------------------------------------------------------------------
def create_webhook(app: App, req: Req) -> Response:
    """`POST /api/v2/webhooks` -> 201 {"webhook"} with a ULID id."""
    data = req.json().get("webhook") if isinstance(req.json(), dict) else None
    if not isinstance(data, dict):
        raise bad_request("InvalidParameter", "Parameter webhook is required")
    made = hub(app).create(data, req.user_id or app.store.admin_id)  # type: ignore[union-attr]
    return json_response(201, {"webhook": made},
                         [("Location", f"{app.base_url}/api/v2/webhooks/{made['id']}")])


def list_webhooks(app: App, req: Req) -> Response:
    """`GET /api/v2/webhooks` (one page)."""
    found = hub(app, create=False)
    hooks = list(found.hooks.values()) if found else []
    return json_response(200, {"webhooks": hooks, "meta": {"has_more": False}})  # recorded


def show_webhook(app: App, req: Req, **groups: str) -> Response:
    """`GET /api/v2/webhooks/{id}`."""
    found = hub(app, create=False)
    hook = found.hooks.get(groups["id"]) if found else None
    if hook is None:
        raise not_found()
    return json_response(200, {"webhook": hook})


def delete_webhook(app: App, req: Req, **groups: str) -> Response:
    """`DELETE /api/v2/webhooks/{id}` -> 204."""
    found = hub(app, create=False)
    if found is None or groups["id"] not in found.hooks:
        raise not_found()
    with found.lock:
        found.hooks.pop(groups["id"], None)
        found.secrets.pop(groups["id"], None)
    return Response(204, b"")


def signing_secret(app: App, req: Req, **groups: str) -> Response:
    """`GET` (show) or `POST` (reset) `/api/v2/webhooks/{id}/signing_secret`."""
    found = hub(app, create=False)
    if found is None:
        raise not_found()
    secret = found.secret(groups["id"], reset=req.method == "POST")
    return json_response(200, {"signing_secret": {"algorithm": "SHA256", "secret": secret}})


def create_trigger(app: App, req: Req) -> Response:
    """`POST /api/v2/triggers` -> 201 {"trigger"} (evaluated on ticket writes, 7.3)."""
    data = req.json().get("trigger") if isinstance(req.json(), dict) else None
    if not isinstance(data, dict) or not data.get("title"):
        raise bad_request("RecordInvalid", "Title: cannot be blank")
    stamp = iso(now())
    tid = app.store.new_id("triggers")
    trigger = {"url": f"{app.base_url}/api/v2/triggers/{tid}.json", "id": tid,
               "title": data["title"], "active": data.get("active", True),
               "conditions": data.get("conditions") or {"all": [], "any": []},
               "actions": data.get("actions") or [], "description": data.get("description"),
               "position": len(app.store.rows("triggers")) + 1, "raw_title": data["title"],
               "category_id": data.get("category_id"), "created_at": stamp,
               "updated_at": stamp, "default": False}
    app.store.insert("triggers", trigger)
    hub(app)  # triggers call webhooks: start watching tickets
    return json_response(201, {"trigger": trigger})


def register(route: Any) -> None:
    """Add the webhook endpoints to the route table."""
    base = "/api/v2/webhooks"
    route("POST", base, create_webhook, "webhooks", admin_only=True)
    route("GET", base, list_webhooks, "webhooks", admin_only=True)
    route("GET", f"{base}/{{uuid}}", show_webhook, "webhooks", admin_only=True)
    route("DELETE", f"{base}/{{uuid}}", delete_webhook, "webhooks", admin_only=True)
    route("GET", f"{base}/{{uuid}}/signing_secret", signing_secret, "webhooks", admin_only=True)
    route("POST", f"{base}/{{uuid}}/signing_secret", signing_secret, "webhooks",
          admin_only=True)
    route("POST", "/api/v2/triggers", create_trigger, "triggers", admin_only=True)


# ---- live changes ---------------------------------------------------------------------------
def mutate_app(app: App, collection: str, data: dict, oid: Any = None) -> dict:
    """Create (no id) or update one ticket, user or organization through the write paths."""
    from . import writes

    actor = app.store.admin_id
    try:
        if collection == "tickets":
            if oid is None:
                draft = writes.draft_ticket(app, data, importing=False, actor=actor)
                return writes.commit_ticket(app, draft, importing=False, actor=actor)
            return writes.apply_ticket_update(app, oid, data, actor)[0]
        if collection in ("users", "organizations"):
            build, commit = ((writes.build_user, writes.commit_user) if collection == "users"
                             else (writes.build_org, writes.commit_org))
            with app.store.lock:
                existing = None if oid is None else app.store.get(collection, oid)
                if oid is not None and existing is None:
                    raise KeyError(f"{collection} {oid} not found")
                return commit(app, build(app, data, existing))
    except ItemInvalid as exc:
        raise ValueError(exc.description) from None
    except ApiError as exc:
        raise ValueError(json.dumps(exc.body) if not isinstance(exc.body, bytes)
                         else exc.body.decode()) from None
    raise ValueError(f"cannot mutate {collection!r}: tickets, users or organizations")


def admin(app: App, method: str, parts: list[str], body: bytes) -> Response | None:
    """`/__emulator/mutate`, `/__emulator/webhooks[/resend]`; None when not ours."""
    if parts == ["mutate"] and method == "POST":
        spec = json.loads(body or b"{}")
        row = mutate_app(app, spec["collection"], spec.get("data") or {}, spec.get("id"))
        return json_response(200, {"row": row})
    if parts == ["webhooks"] and method == "GET":
        found = hub(app, create=False)
        return json_response(200, {
            "webhooks": list(found.hooks.values()) if found else [],
            "deliveries": list(found.deliveries) if found else []})
    if parts == ["webhooks", "resend"] and method == "POST":
        spec = json.loads(body or b"{}")
        found = hub(app, create=False)
        if found is None:
            raise KeyError("no webhooks")
        return json_response(200, {"delivery": found.resend(spec.get("invocation_id"))})
    return None


# ---- Python helpers for tests ------------------------------------------------------------------
def mutate(emu: Emulator, collection: str, data: dict, oid: Any = None) -> dict:
    """Create or update a ticket, user or organization of a running emulator."""
    return mutate_app(emu._app, collection, data, oid)


def deliveries(emu: Emulator) -> list[dict[str, Any]]:
    """Every webhook delivery attempt so far (headers, body, the endpoint's status)."""
    found = hub(emu._app, create=False)
    return list(found.deliveries) if found else []


def wait_for_deliveries(emu: Emulator, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Deliveries once at least `count` attempts were made (or the timeout passed)."""
    found = hub(emu._app)
    found.wait_for(count, timeout)  # type: ignore[union-attr]
    return deliveries(emu)


def resend(emu: Emulator, invocation_id: str | None = None) -> dict[str, Any]:
    """Send the last (or the given) delivery again, byte for byte."""
    found = hub(emu._app, create=False)
    if found is None:
        raise KeyError("no webhooks")
    return found.resend(invocation_id)
