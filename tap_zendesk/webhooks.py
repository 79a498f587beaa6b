"""Zendesk webhook deliveries as "poll soon" hints: signature check, replay guard, listener.

A delivery never carries data into the tap: a verified event only asks the continuous loop to
poll the matching export early; the export cursor stays the source of truth
(zendesk_api.md 7.7). Deliveries are signed with HMAC-SHA256 over the signature timestamp
header followed by the raw body, keyed with the webhook's signing secret used byte for byte
(7.6).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
import typing as t
from collections import OrderedDict
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION_HEADER = "X-Zendesk-Webhook-Invocation-Id"
WEBHOOK_ID_HEADER = "X-Zendesk-Webhook-Id"
#: Deliveries are small (ids and a snapshot); anything larger is not Zendesk (7.7 cites 256 KB).
MAX_BODY_BYTES = 1 << 20
#: Event ids remembered for deduplication (deliveries can repeat: 7.7).
SEEN_EVENTS = 10_000
#: Event-type domain -> the export streams that can hold the change.
DOMAIN_STREAMS: dict[str, tuple[str, ...]] = {
    "ticket": ("tickets", "ticket_comments", "ticket_events", "ticket_metric_events"),
    "user": ("users",),
    "organization": ("organizations",),
}
EVENT_PREFIX = "zen:event-type:"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret as given, timestamp + raw body)), as Zendesk signs (7.6)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def signature_ok(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    """Constant-time comparison of the expected and the received signature."""
    return hmac.compare_digest(signature(secret, timestamp, body).encode(), given.encode())


def parse_timestamp(text: str) -> float | None:
    """`2021-03-25T05:09:27Z` (ISO 8601 UTC, not epoch seconds: 7.2) -> epoch, None if bad."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def streams_for(payload: t.Any) -> tuple[str, ...]:
    """Which exports a delivery is about: an event type's domain, or a trigger's ticket_id."""
    if not isinstance(payload, dict):
        return ()
    kind = payload.get("type")
    if isinstance(kind, str) and kind.startswith(EVENT_PREFIX):
        domain = kind[len(EVENT_PREFIX) :].split(".", 1)[0]
        return DOMAIN_STREAMS.get(domain, ())
    if payload.get("ticket_id") not in (None, ""):  # a trigger body (7.3): no fixed schema
        return DOMAIN_STREAMS["ticket"]
    return ()


class Verdict(t.NamedTuple):
    """What the listener answers and why (the reason is logged, never a secret)."""

    status: int
    reason: str
    streams: tuple[str, ...] = ()


class DeliveryVerifier:
    """Checks one delivery: signature, timestamp age, JSON body, duplicate event id."""

    def __init__(
        self,
        secret: str,
        *,
        max_age: float = 300.0,
        clock: t.Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self.max_age = max_age
        self._clock = clock
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        """Never show the secret."""
        return f"DeliveryVerifier(max_age={self.max_age})"

    def check(self, headers: t.Mapping[str, str], body: bytes) -> Verdict:
        """Verdict for one delivery; only a verified, new event names streams to poll."""
        given = headers.get(SIGNATURE_HEADER) or ""
        stamp = headers.get(TIMESTAMP_HEADER) or ""
        if not given or not stamp:
            return Verdict(401, "signature headers missing")
        if not signature_ok(self._secret, stamp, body, given):
            return Verdict(401, "signature does not match the body")
        sent = parse_timestamp(stamp)
        if sent is None:
            return Verdict(401, "signature timestamp is not ISO 8601")
        age = self._clock() - sent
        if abs(age) > self.max_age:
            return Verdict(401, f"signature timestamp is {age:.0f} s away from now")
        try:
            payload = json.loads(body)
        except ValueError:
            return Verdict(400, "body is not JSON")
        key = _event_key(payload, headers)
        if key is not None and not self._first_time(key):
            return Verdict(200, "duplicate delivery ignored")
        streams = streams_for(payload)
        if not streams:
            return Verdict(200, "event type not followed")
        return Verdict(202, "poll requested", streams)

    def _first_time(self, key: str) -> bool:
        """Remember the event id; False when it was seen before (bounded memory)."""
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return False
            self._seen[key] = None
            while len(self._seen) > SEEN_EVENTS:
                self._seen.popitem(last=False)
            return True


def _event_key(payload: t.Any, headers: t.Mapping[str, str]) -> str | None:
    """Return the event's own `id` (7.5), else the invocation id (trigger bodies have none)."""
    if isinstance(payload, dict) and isinstance(payload.get("id"), (str, int)):
        return f"event:{payload['id']}"
    invocation = headers.get(INVOCATION_HEADER)
    return f"invocation:{invocation}" if invocation else None


class _Server(ThreadingHTTPServer):
    """Threaded server carrying the verifier and the callback."""

    daemon_threads = True
    allow_reuse_address = True
    verifier: DeliveryVerifier
    on_streams: t.Callable[[tuple[str, ...], str], None]
    logger: logging.Logger
    counts: dict[int, int]
    counts_lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    """Answer at once: verification is cheap, polling happens on the tap's own thread."""

    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "tap-zendesk-webhooks"

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the stdlib's per-request stderr line (our own log line says more)."""

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        """Verify, answer, and hand the streams to the loop."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._answer(413, "body too large")
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        verdict = self.server.verifier.check(self.headers, body)
        hook = self.headers.get(WEBHOOK_ID_HEADER) or "unknown"
        if verdict.status >= 400:
            self.server.logger.warning(
                "Webhook delivery rejected with %d: %s (webhook %s, from %s).",
                verdict.status,
                verdict.reason,
                hook,
                self.client_address[0],
            )
        else:
            self.server.logger.info(
                "Webhook delivery accepted: %s (webhook %s).", verdict.reason, hook
            )
        if verdict.streams:
            # Hand off before answering: the callback only wakes the tap's loop (cheap), and a
            # sender that saw 2xx can rely on the poll having been asked for.
            self.server.on_streams(verdict.streams, f"webhook {hook}")
        self._answer(verdict.status, verdict.reason)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        """Only POST deliveries are served."""
        self._answer(405, "POST only")

    do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815

    def _answer(self, status: int, reason: str) -> None:
        """Send a tiny JSON reply, counted per status for logs and tests."""
        with self.server.counts_lock:
            self.server.counts[status] = self.server.counts.get(status, 0) + 1
        data = json.dumps({"status": reason}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class WebhookListener:
    """stdlib HTTP server in a daemon thread; verified events call `on_streams(streams, why)`."""

    def __init__(
        self,
        host: str,
        port: int,
        verifier: DeliveryVerifier,
        on_streams: t.Callable[[tuple[str, ...], str], None],
        logger: logging.Logger,
    ) -> None:
        server = _Server((host, port), _Handler)
        server.verifier = verifier
        server.on_streams = on_streams
        server.logger = logger
        server.counts = {}
        server.counts_lock = threading.Lock()
        self._server = server
        self._thread: threading.Thread | None = None
        self.logger = logger

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port (port 0 in the config picks a free one)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def counts(self) -> dict[int, int]:
        """Replies sent so far, per HTTP status."""
        with self._server.counts_lock:
            return dict(self._server.counts)

    def start(self) -> WebhookListener:
        """Serve in the background."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="zendesk-webhooks",
            daemon=True,
        )
        self._thread.start()
        host, port = self.address
        self.logger.info("Listening for Zendesk webhooks on http://%s:%d/.", host, port)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
