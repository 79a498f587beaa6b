"""HTTP/1.1 transport (stdlib ThreadingHTTPServer, keep-alive) and the `Emulator` facade.

Fault kinds accepted by `Emulator.add_fault` / `POST /__emulator/faults`:
429 (retry_after), 500, 502, 503 (retry_after), 401, reset, stall (seconds), truncated,
html200, expired_cursor, empty_page, foreign_next_page, duplicate_rows, out_of_order,
job_failed (results="failed"|"null"), job_killed.
"""

from __future__ import annotations

import gc
import socket
import struct
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import definitions
from .app import App
from .config import EmulatorConfig, config_from_kwargs
from .faults import Fault

_REASONS = {200: "OK", 201: "Created", 204: "No Content", 302: "Found", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
            422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class _Server(ThreadingHTTPServer):
    """Threaded server that remembers open connections so stop() can close them."""

    daemon_threads = True
    allow_reuse_address = True
    app: App | None = None

    def __init__(self, addr: tuple[str, int], timeout: float):
        self.conn_timeout = timeout
        self.open_conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.conns_lock:
            self.open_conns.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.conns_lock:
                self.open_conns.discard(request)

    def close_all(self) -> None:
        """Shut down every keep-alive connection still open."""
        with self.conns_lock:
            conns = list(self.open_conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, hands it to the App and writes the reply in a single send."""

    protocol_version = "HTTP/1.1"
    server_version = "zendesk-emulator"
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        self.timeout = self.server.conn_timeout
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet; statistics are available through the admin API."""

    def _read_body(self) -> bytes:
        """Request body by Content-Length, or de-chunked when the client streams it."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        app = self.server.app
        if app is None:  # pragma: no cover - only between bind and start
            self.close_connection = True
            return
        outcome = app.handle(self.command, self.path, headers, body)
        resp = outcome.response
        payload = resp.body
        head = [f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Status')}",
                f"Date: {formatdate(usegmt=True)}", "Server: zendesk-emulator",
                f"Content-Type: {resp.content_type}"]
        head += [f"{k}: {v}" for k, v in resp.headers]
        if outcome.transport == "truncated":
            payload = payload[: max(1, len(payload) // 2)]
        if self.close_connection:
            head.append("Connection: close")
        head.append(f"Content-Length: {len(payload)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if outcome.transport == "reset":
            self.wfile.write(data + payload[: len(payload) // 2])
            self.wfile.flush()
            self._abort()
            return
        self.wfile.write(data + payload)

    def _abort(self) -> None:
        """Close with RST so the client sees a connection reset mid-body."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass


class Emulator:
    """A local Zendesk Support account on 127.0.0.1; use as a context manager or start/stop."""

    def __init__(self, **knobs: Any):
        self.config: EmulatorConfig = config_from_kwargs(**knobs)
        self.app: App | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ---- lifecycle ----------------------------------------------------------------------
    def start(self) -> Emulator:
        """Bind, generate the account on the own URL and serve in a background thread."""
        from .generator import generate_account

        cfg = self.config
        server = _Server(("127.0.0.1", cfg.port), cfg.socket_timeout)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        dataset = generate_account(seed=cfg.seed, tickets=cfg.tickets, base_url=self.url,
                                   admin_email=cfg.email, anchor=cfg.anchor, burst=cfg.burst)
        definitions.prepare(dataset, cfg, self.url)
        # The account is a large, long-lived object graph: keep the cyclic GC from walking
        # it again and again while indexes and row caches are built and requests served.
        gc.freeze()
        self.app = App(cfg, dataset, self.url)
        if cfg.prewarm:
            self.app.prewarm()
        gc.freeze()
        server.app = self.app
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={
            "poll_interval": 0.05}, name="zendesk-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections."""
        if self._server is not None:
            self._server.shutdown()
            self._server.close_all()
            self._server.server_close()
            self._server = None
        if self.app is not None:
            self.app.jobs.stop()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        gc.unfreeze()  # let the cyclic GC reclaim this account once nothing refers to it

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until the server thread ends (used by the CLI)."""
        if self._thread is not None:
            self._thread.join()

    # ---- test helpers -------------------------------------------------------------------
    @property
    def _app(self) -> App:
        if self.app is None:
            raise RuntimeError("emulator not started")
        return self.app

    def add_fault(self, kind: str | int, *, path: str | None = None,
                  at_request: int | None = None, times: int = 1, **params: Any) -> Fault:
        """Arm a fault for request number `at_request` or the next `times` requests on `path`."""
        return self._app.faults.add(str(kind), path=path, at_request=at_request, times=times,
                                    **params)

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self._app.faults.clear()

    def stats(self) -> dict[str, Any]:
        """Request counts per "METHOD /normalized/path", totals, 429s and job figures."""
        return self._app.stats()

    def reset_stats(self) -> None:
        """Zero all counters."""
        self._app.reset_stats()

    def requests_to(self, path: str, method: str = "GET") -> int:
        """How many requests hit one normalized path (e.g. `/api/v2/tickets/{id}`)."""
        return self._app.stats()["requests"].get(f"{method} {path}", 0)

    def write_log(self) -> list[dict[str, Any]]:
        """Every non-GET API request so far: method, path, query and parsed JSON body."""
        return list(self._app.write_log)

    def collection(self, name: str) -> list[dict]:
        """A copy of the current rows of a collection."""
        return self._app.store.snapshot(name)

    @property
    def archived_ticket_ids(self) -> set[int]:
        """Ids of archived tickets (in exports, not in `GET /tickets`)."""
        return set(self._app.store.archived)

    def oauth_stats(self) -> dict[str, Any]:
        """OAuth grants served and refused per grant type, and the tokens that work now."""
        server = self._app.oauth
        return {**server.stats(), **server.live()}

    def issued_oauth_tokens(self) -> list[str]:
        """Every OAuth access and refresh token issued so far (for secret scans)."""
        with self._app.oauth.lock:
            return list(self._app.oauth.issued)

    def revoke_oauth_tokens(self) -> int:
        """Revoke every issued OAuth access and refresh token (a user removed the grant)."""
        return self._app.oauth.revoke()

    def expire_oauth_access_tokens(self) -> int:
        """Expire every issued OAuth access token now; refresh tokens keep working."""
        return self._app.oauth.expire_access_tokens()

    def issue_oauth_tokens(self, scope: str = "read write") -> dict[str, Any]:
        """A fresh token response (as after a login), without going through the redirect."""
        return self._app.oauth.issue(scope, with_refresh=True)

    @property
    def admin_user_id(self) -> int:
        """Id of the user the default credentials authenticate as."""
        return self._app.store.admin_id
