"""OAuth 2.0 of the emulated account: authorization codes with PKCE, token grants, rotation, expiry.

`GET /oauth/authorizations/new` approves at once (no login page) and redirects with a code.
`POST /oauth/tokens` serves `authorization_code` (PKCE S256 checked), `refresh_token` (rotation:
the old access *and* refresh token stop working at once) and `client_credentials`. Access tokens
live `oauth_token_lifetime` seconds (0 = never expire, `expires_in: null`); an expired or revoked
one gets Zendesk's `invalid_token` 401 from the API (app.py).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .util import ApiError, Response, json_response

if TYPE_CHECKING:
    from .app import App
    from .request import Req

#: Zendesk's (RFC 6749) error bodies of the token endpoint.
INVALID_GRANT = {"error": "invalid_grant",
                 "error_description": "The provided authorization grant is invalid, expired, "
                                      "revoked, does not match the redirection URI used in the "
                                      "authorization request, or was issued to another client."}
INVALID_CLIENT = {"error": "invalid_client",
                  "error_description": "Client authentication failed due to unknown client, no "
                                       "client authentication included, or unsupported "
                                       "authentication method."}
UNSUPPORTED_GRANT = {"error": "unsupported_grant_type",
                     "error_description": "The authorization grant type is not supported by the "
                                          "authorization server."}
CODE_LIFETIME = 120.0
#: Reported default for refresh tokens of newer clients: 30 days (zendesk_api.md 1.2).
REFRESH_LIFETIME = 30 * 86400
DEFAULT_SCOPE = "read write"


def invalid_request(description: str) -> ApiError:
    """400 `invalid_request` with a reason."""
    return ApiError(400, {"error": "invalid_request", "error_description": description})


def s256(verifier: str) -> str:
    """PKCE S256 challenge of a verifier: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _is_loopback_redirect(uri: str) -> bool:
    """Redirects go to loopback http(s) URLs only (the login helper's local listener)."""
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost",
                                                                    "::1")


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    expires_at: float


@dataclass
class _Access:
    client_id: str
    scope: str
    expires_at: float | None
    refresh_token: str | None


@dataclass
class _Refresh:
    client_id: str
    scope: str
    expires_at: float
    access_token: str


class OAuthServer:
    """Codes and tokens of the account's one registered OAuth client; thread-safe."""

    def __init__(self, client_id: str, client_secret: str, lifetime: float,
                 clock: Any = time.time) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime = lifetime
        self.clock = clock
        self.lock = threading.Lock()
        self.codes: dict[str, _Code] = {}
        self.access: dict[str, _Access] = {}
        self.refresh: dict[str, _Refresh] = {}
        self.granted: Counter[str] = Counter()
        #: Every token ever issued, so tests can scan output for any of them.
        self.issued: list[str] = []
        self.refused: Counter[str] = Counter()

    # ---- the API side --------------------------------------------------------------------
    def is_valid(self, token: str) -> bool:
        """Whether an access token is live (issued, not rotated away, not expired)."""
        with self.lock:
            found = self.access.get(token)
            if found is None:
                return False
            if found.expires_at is not None and self.clock() >= found.expires_at:
                del self.access[token]
                return False
            return True

    # ---- endpoints -----------------------------------------------------------------------
    def authorize(self, req: Req) -> Response:
        """Approve at once: 302 to `redirect_uri` with `code` and `state`."""
        q = req.query
        if q.get("client_id") != self.client_id:
            raise ApiError(400, INVALID_CLIENT)
        redirect_uri = q.get("redirect_uri") or ""
        if not _is_loopback_redirect(redirect_uri):
            raise invalid_request("redirect_uri must be a registered (loopback) redirect URL")
        challenge = q.get("code_challenge")
        method = q.get("code_challenge_method", "plain" if challenge else None)
        if challenge and method != "S256":
            raise invalid_request("code_challenge_method must be S256")
        params: dict[str, str] = {}
        if q.get("response_type") != "code":
            params["error"] = "unsupported_response_type"
        else:
            code = secrets.token_hex(20)
            with self.lock:
                self.codes[code] = _Code(self.client_id, redirect_uri,
                                         q.get("scope") or DEFAULT_SCOPE, challenge,
                                         self.clock() + CODE_LIFETIME)
            params["code"] = code
        if q.get("state") is not None:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return Response(302, b"", "text/html; charset=utf-8",
                        [("Location", redirect_uri + sep + urlencode(params))])

    def token(self, req: Req) -> Response:
        """`POST /oauth/tokens` (JSON or form body) for the three grants."""
        body = self._params(req)
        grant = str(body.get("grant_type") or "")
        try:
            if grant == "authorization_code":
                reply = self._authorization_code(body)
            elif grant == "refresh_token":
                reply = self._refresh_token(body)
            elif grant == "client_credentials":
                reply = self._client_credentials(body)
            else:
                raise ApiError(400, UNSUPPORTED_GRANT)
        except ApiError:
            with self.lock:
                self.refused[grant or "none"] += 1
            raise
        with self.lock:
            self.granted[grant] += 1
        return json_response(200, reply)

    # ---- grants --------------------------------------------------------------------------
    def _authorization_code(self, body: dict[str, Any]) -> dict[str, Any]:
        verifier = body.get("code_verifier")
        # A public client proves itself with the PKCE verifier; a confidential one with its secret.
        self._check_client(body, secret_optional=bool(verifier))
        with self.lock:
            code = self.codes.pop(str(body.get("code") or ""), None)  # single use, even if refused
        if code is None or self.clock() >= code.expires_at or code.client_id != body["client_id"]:
            raise ApiError(400, INVALID_GRANT)
        if body.get("redirect_uri") != code.redirect_uri:
            raise ApiError(400, INVALID_GRANT)
        if code.challenge is not None and (not verifier or s256(str(verifier)) != code.challenge):
            raise ApiError(400, INVALID_GRANT)
        return self.issue(code.scope, with_refresh=True)

    def _refresh_token(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_client(body)
        token = str(body.get("refresh_token") or "")
        with self.lock:
            found = self.refresh.get(token)
            if found is None or found.client_id != body["client_id"] or \
                    self.clock() >= found.expires_at:
                raise ApiError(400, INVALID_GRANT)
            # Rotation: the old pair dies now, before the new one is even sent.
            del self.refresh[token]
            self.access.pop(found.access_token, None)
        return self.issue(found.scope, with_refresh=True)

    def _client_credentials(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_client(body)
        return self.issue(str(body.get("scope") or DEFAULT_SCOPE), with_refresh=False)

    def _check_client(self, body: dict[str, Any], *, secret_optional: bool = False) -> None:
        if body.get("client_id") != self.client_id:
            raise ApiError(401, INVALID_CLIENT)
        secret = body.get("client_secret")
        if secret is None and secret_optional:
            return
        if secret != self.client_secret:
            raise ApiError(401, INVALID_CLIENT)

    def issue(self, scope: str, *, with_refresh: bool) -> dict[str, Any]:
        """A new access token (and refresh token), in Zendesk's token-response shape."""
        now = self.clock()
        access = secrets.token_hex(32)
        refresh = secrets.token_hex(32) if with_refresh else None
        expires_at = now + self.lifetime if self.lifetime > 0 else None
        with self.lock:
            self.access[access] = _Access(self.client_id, scope, expires_at, refresh)
            self.issued += [tok for tok in (access, refresh) if tok]
            if refresh is not None:
                self.refresh[refresh] = _Refresh(self.client_id, scope, now + REFRESH_LIFETIME,
                                                 access)
        reply: dict[str, Any] = {"access_token": access, "token_type": "bearer", "scope": scope,
                                 "expires_in": self._expires_in()}
        if refresh is not None:
            reply["refresh_token"] = refresh
            reply["refresh_token_expires_in"] = REFRESH_LIFETIME
        return reply

    def _expires_in(self) -> int | float | None:
        if self.lifetime <= 0:
            return None
        return int(self.lifetime) if float(self.lifetime).is_integer() else self.lifetime

    @staticmethod
    def _params(req: Req) -> dict[str, Any]:
        """Zendesk takes the token request as JSON or as a form."""
        if "application/x-www-form-urlencoded" in req.headers.get("content-type", ""):
            return {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8")).items()}
        parsed = req.json()
        if not isinstance(parsed, dict):
            raise invalid_request("the body must be a JSON object")
        return parsed

    # ---- test helpers --------------------------------------------------------------------
    def revoke(self) -> int:
        """Revoke every issued access and refresh token (the static `oauth_token` stays)."""
        with self.lock:
            count = len(self.access) + len(self.refresh)
            self.access.clear()
            self.refresh.clear()
            return count

    def expire_access_tokens(self) -> int:
        """Make every issued access token expired now (their refresh tokens stay usable)."""
        with self.lock:
            now = self.clock()
            for found in self.access.values():
                found.expires_at = now
            return len(self.access)

    def live(self) -> dict[str, list[str]]:
        """Access and refresh tokens that currently work (tests compare the token store)."""
        now = self.clock()
        with self.lock:
            return {
                "access_tokens": [t for t, a in self.access.items()
                                  if a.expires_at is None or now < a.expires_at],
                "refresh_tokens": [t for t, r in self.refresh.items() if now < r.expires_at],
            }

    def stats(self) -> dict[str, Any]:
        """Grants served and refused, per grant type."""
        with self.lock:
            return {"granted": dict(self.granted), "refused": dict(self.refused)}


# ---- route handlers (routes.py) -------------------------------------------------------------
def authorizations_new(app: App, req: Req) -> Response:
    """`GET /oauth/authorizations/new`."""
    return app.oauth.authorize(req)


def tokens(app: App, req: Req) -> Response:
    """`POST /oauth/tokens`."""
    return app.oauth.token(req)


def admin(app: App, method: str, parts: list[str], body: bytes) -> Response | None:
    """`/__emulator/oauth` (GET stats + live tokens), `/__emulator/oauth/revoke`, `.../expire`."""
    server = app.oauth
    if parts == ["oauth"] and method == "GET":
        return json_response(200, {**server.stats(), **server.live()})
    if parts == ["oauth", "revoke"] and method == "POST":
        return json_response(200, {"revoked": server.revoke()})
    if parts == ["oauth", "expire"] and method == "POST":
        return json_response(200, {"expired": server.expire_access_tokens()})
    del body  # no admin call takes a body yet
    return None


__all__ = ["OAuthServer", "s256"]
