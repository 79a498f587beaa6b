"""One emulated account and its request pipeline (auth, gating, limits, faults, handlers)."""

from __future__ import annotations

import base64
import binascii
import json
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from . import oauth, routes, webhooks
from .config import EmulatorConfig
from .faults import FOREIGN_BASE, Chaos, Fault, FaultRegistry
from .jobs import JobManager
from .ratelimit import TOO_MANY, RateLimiter
from .request import Req
from .store import Store
from .util import (
    ApiError,
    Page,
    Response,
    bad_request,
    dumps,
    forbidden,
    invalid_endpoint,
    json_response,
)

BASIC_401 = {"error": "Couldn't authenticate you"}
BEARER_401 = {"error": "invalid_token",
              "error_description": "The access token provided is expired, revoked, malformed "
                                   "or invalid for other reasons."}
HTML_ERROR = ("<!DOCTYPE html><html><head><title>{code} {title}</title></head><body>"
              "<h1>{title}</h1><p>Zendesk is temporarily unavailable.</p></body></html>")


@dataclass
class Outcome:
    """What the transport should send: a reply, possibly cut short or reset mid-body."""

    response: Response
    transport: str | None = None  # None | "reset" | "truncated"


class App:
    """The account: data store, jobs, limits, faults and statistics."""

    def __init__(self, cfg: EmulatorConfig, dataset: Any, base_url: str):
        self.cfg = cfg
        self.base_url = base_url
        self.store = Store(dataset.collections, dataset.archived_ticket_ids,
                           dataset.admin_user_id)
        self.faults = FaultRegistry()
        self.chaos = Chaos(cfg.chaos_rate, cfg.chaos_seed)
        self.limiter = RateLimiter(cfg)
        self.jobs = JobManager(self.store, cfg, self.faults, lambda: self.base_url)
        self.oauth = oauth.OAuthServer(cfg.oauth_client_id, cfg.oauth_client_secret,
                                       cfg.oauth_token_lifetime)
        self.stats_lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.number = 0
        self.faults_fired: Counter[str] = Counter()
        self.sent_429 = 0
        self.write_log: deque[dict[str, Any]] = deque(maxlen=10000)
        self.last_rows: dict[str, list[bytes]] = {}

    def prewarm(self) -> None:
        """Build export indexes and row caches of the big collections before serving."""
        from .reads import serializer

        for name in ("tickets", "users", "organizations"):
            self.store.export_index(name)
            ser = serializer(self, name)
            for row in self.store.rows(name):
                ser(row)

    # ---- statistics ---------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Request counts per "METHOD /normalized/path", totals, 429s and job figures."""
        with self.stats_lock:
            return {"requests": dict(self.counts), "total_requests": self.number,
                    "rate_limited": self.sent_429,
                    "jobs_created": self.jobs.created,
                    "max_jobs_in_flight": self.jobs.max_inflight,
                    "faults_fired": dict(self.faults_fired)}

    def reset_stats(self) -> None:
        """Zero every counter (the global request number used by at_request too)."""
        with self.stats_lock:
            self.counts.clear()
            self.number = 0
            self.faults_fired.clear()
            self.sent_429 = 0
            self.jobs.created = 0
            self.jobs.max_inflight = len(self.jobs.inflight())

    # ---- auth ---------------------------------------------------------------------------
    def authenticate(self, header: str) -> tuple[int | None, dict[str, Any]]:
        """Resolve credentials to a staff user id, or None plus the 401 body to send."""
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            if value.strip() == self.cfg.oauth_token or self.oauth.is_valid(value.strip()):
                return self.store.admin_id, {}
            return None, BEARER_401
        if scheme != "basic":
            return None, BASIC_401
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, BASIC_401
        user, _, secret = decoded.partition(":")
        if not user.endswith("/token") or secret != self.cfg.api_token:
            return None, BASIC_401
        email = user[: -len("/token")].lower()
        if email == self.cfg.email.lower():
            return self.store.admin_id, {}
        found = self.store.index_ci("users", "email").get(email)
        if found is not None and found.get("role") in ("agent", "admin") and \
                found.get("active", True):
            return found["id"], {}
        return None, BASIC_401

    def role_of(self, user_id: int) -> str:
        """Effective role: the configured role for the account owner, else the user's own."""
        if user_id == self.store.admin_id:
            return self.cfg.role
        return str((self.store.get("users", user_id) or {}).get("role") or "agent")

    # ---- pipeline -----------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Outcome:
        """Serve one request end to end."""
        raw_path, _, qs = target.partition("?")
        if raw_path.startswith("/__emulator"):
            return Outcome(self.admin(method, raw_path, qs, body))
        path = raw_path.rstrip("/") or "/"
        if path.endswith(".json"):
            path = path[:-5]
        with self.stats_lock:
            self.number += 1
            number = self.number
            self.counts[f"{method} {routes.normalize(path)}"] += 1
        fired = self.faults.match(number, path)
        chaos = self.chaos.pick()
        if chaos:
            fired.append(Fault(0, chaos, params={"retry_after": 1}))
        kinds = {f.kind: f for f in fired}
        if fired:
            with self.stats_lock:
                self.faults_fired.update(f.kind for f in fired)
        if "stall" in kinds:
            time.sleep(float(kinds["stall"].params.get("seconds", 5.0)))
        outcome = self._serve_api(method, path, raw_path, qs, headers, body, kinds)
        if outcome.response.status == 429:
            with self.stats_lock:
                self.sent_429 += 1
        return outcome

    def _serve_api(self, method: str, path: str, raw_path: str, qs: str,
                   headers: dict[str, str], body: bytes, kinds: dict[str, Fault]) -> Outcome:
        """Everything after counting: early faults, routing, handlers, late faults."""
        if method != "GET":
            self._log_write(method, path, qs, body)
        early = self._early_fault(kinds, path, headers)
        if early is not None:
            return Outcome(early)
        multi = parse_qs(qs, keep_blank_values=True)
        query = {k: v[-1] for k, v in multi.items()}
        req = Req(method, path, raw_path.rstrip("/") or "/", query, multi, body, headers,
                  self.base_url, flags={k for k in kinds if k == "empty_page"})
        try:
            response = self._dispatch(req, kinds)
        except ApiError as exc:
            response = exc.response()
        transport = next((k for k in ("reset", "truncated") if k in kinds), None)
        return Outcome(response, transport)

    def _dispatch(self, req: Req, kinds: dict[str, Fault]) -> Response:
        found = routes.resolve(req.method, req.path)
        if found is None:
            raise invalid_endpoint()
        route, groups = found
        if route.public:
            return route.handler(self, req, **groups)
        user_id, failure = self.authenticate(req.headers.get("authorization", ""))
        if user_id is None and route.handler is not routes.reads.users_me:
            raise ApiError(401, failure)
        req.user_id = user_id
        disabled = set(self.cfg.disable)
        if disabled.intersection(route.families):
            if self.cfg.disabled_status == 404:
                raise invalid_endpoint()
            raise forbidden()
        if route.admin_only and user_id is not None and self.role_of(user_id) != "admin":
            raise forbidden()
        headers = self.limiter.check(route.bucket)
        try:
            result = route.handler(self, req, **groups)
        except ApiError as exc:
            exc.headers = headers + exc.headers
            raise
        if isinstance(result, Page):
            result = self._render_page(req, result, kinds)
        result.headers = headers + result.headers
        return result

    def _render_page(self, req: Req, page: Page, kinds: dict[str, Fault]) -> Response:
        """Apply page-shaping faults and serialise."""
        key = f"{req.method} {routes.normalize(req.path)}"
        fresh = list(page.rows)
        if "duplicate_rows" in kinds:
            page.rows = (self.last_rows.get(key) or fresh) + fresh
        if "out_of_order" in kinds and len(page.rows) > 1:
            shuffled = list(page.rows)
            random.Random(self.number).shuffle(shuffled)
            if shuffled == page.rows:
                shuffled.reverse()
            page.rows = shuffled
        if "foreign_next_page" in kinds:
            for dotted in page.next_fields:
                holder: Any = page.envelope
                *parents, leaf = dotted.split(".")
                for p in parents:
                    holder = holder.get(p) or {}
                if isinstance(holder.get(leaf), str):
                    holder[leaf] = holder[leaf].replace(self.base_url, FOREIGN_BASE, 1)
        self.last_rows[key] = fresh
        return Response(page.status, page.render(), headers=page.headers)

    def _early_fault(self, kinds: dict[str, Fault], path: str,
                     headers: dict[str, str]) -> Response | None:
        """Faults that replace the reply outright (a 401 in the shape of the credentials)."""
        for kind in ("401", "429", "500", "502", "503", "html200", "expired_cursor"):
            fault = kinds.get(kind)
            if fault is None:
                continue
            params = fault.params
            if kind == "401":
                bearer = headers.get("authorization", "").lower().startswith("bearer ")
                return json_response(401, BEARER_401 if bearer else BASIC_401)
            if kind == "429":
                return Response(429, TOO_MANY, "text/plain; charset=utf-8",
                                [("Retry-After", str(int(params.get("retry_after", 1))))])
            if kind in ("500", "502", "503"):
                title = {"500": "Internal Server Error", "502": "Bad Gateway",
                         "503": "Service Unavailable"}[kind]
                extra = []
                if params.get("retry_after") is not None:
                    extra.append(("Retry-After", str(int(params["retry_after"]))))
                return Response(int(kind), HTML_ERROR.format(code=kind, title=title).encode(),
                                "text/html; charset=utf-8", extra)
            if kind == "html200":
                return Response(200, HTML_ERROR.format(code=200, title="Maintenance").encode(),
                                "text/html; charset=utf-8")
            if kind == "expired_cursor":
                param = "cursor" if "/incremental/" in path else "page[after]"
                return bad_request("InvalidPaginationParameter",
                                   f"{param} is not valid").response()
        return None

    def _log_write(self, method: str, path: str, qs: str, body: bytes) -> None:
        """Remember write requests so target tests can check exactly what was sent."""
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = {"_raw_bytes": len(body)}
        self.write_log.append({"method": method, "path": path,
                               "query": {k: v[-1] for k, v in parse_qs(qs).items()},
                               "body": parsed})

    # ---- admin API ----------------------------------------------------------------------
    def admin(self, method: str, path: str, qs: str, body: bytes) -> Response:
        """`/__emulator/...`: stats, faults and data; no auth, not counted or limited."""
        parts = [p for p in path.split("/") if p][1:]
        try:
            if parts == ["stats"] and method == "GET":
                return json_response(200, self.stats())
            if parts in (["stats", "reset"], ["stats"]) and method in ("POST", "DELETE"):
                self.reset_stats()
                return json_response(200, self.stats())
            if parts == ["faults"] and method == "POST":
                spec = json.loads(body or b"{}")
                kind = spec.pop("kind")
                fault = self.faults.add(kind, **spec)
                return json_response(201, {"fault": fault.as_dict()})
            if parts == ["faults"] and method == "GET":
                return json_response(200, {"faults": self.faults.armed()})
            if parts == ["faults"] and method == "DELETE":
                self.faults.clear()
                return json_response(200, {"faults": []})
            if len(parts) == 2 and parts[0] == "data" and method == "GET":
                name = parts[1].removesuffix(".json")
                if name not in self.store.cols:
                    return json_response(404, {"error": "UnknownCollection",
                                               "description": name})
                return Response(200, b'{"' + name.encode() + b'":' +
                                dumps(self.store.rows(name)) + b"}")
            if parts == ["writes"] and method == "GET":
                return json_response(200, {"writes": list(self.write_log)})
            if parts and parts[0] in ("mutate", "webhooks"):
                found = webhooks.admin(self, method, parts, body)
                if found is not None:
                    return found
            if parts and parts[0] == "oauth":
                found = oauth.admin(self, method, parts, body)
                if found is not None:
                    return found
            if parts == ["health"]:
                return json_response(200, {"ok": True, "url": self.base_url})
        except (ValueError, KeyError, TypeError) as exc:
            return json_response(400, {"error": "BadAdminRequest", "description": str(exc)})
        return json_response(404, {"error": "InvalidEndpoint", "description": "Not found"})
