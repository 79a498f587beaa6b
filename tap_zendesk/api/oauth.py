"""OAuth 2.0 with rotating refresh tokens, shared by every process that uses one account.

Zendesk swaps both tokens on each refresh and the old pair stops working at once (zendesk_api.md
1.2, trap 26). So the current pair lives in one token store per account and OAuth client, which
the tap, the target and every scheduled run read; a refresh happens under an exclusive file lock,
and the new pair is written to the store (temporary file, fsync, rename) before any request
carries the new access token, so a crash at any moment leaves a working refresh token on disk.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shlex
import tempfile
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError

from tap_zendesk.api.errors import AuthenticationError, scrub, zendesk_reason
from tap_zendesk.api.retry import retry_after_seconds
from tap_zendesk.api.urls import base_url, normalize_subdomain

#: Refresh this long before the access token expires ("a minute or two", issue 11), at most a
#: quarter of the token's lifetime so that short-lived tokens are not refreshed on every request.
REFRESH_MARGIN = 90.0
TOKEN_PATH = "/oauth/tokens"  # noqa: S105 - a URL path, not a password
AUTHORIZE_PATH = "/oauth/authorizations/new"
#: The login helper (console script; `python -m tap_zendesk.api.login` works everywhere).
LOGIN_COMMAND = "tap-zendesk-login"
LOGIN_MODULE = "python -m tap_zendesk.api.login"
STORE_VERSION = 1
#: Token-endpoint attempts on 429, 5xx and connection errors before the run stops.
TOKEN_TRIES = 4
_TRANSIENT = frozenset({429, 500, 502, 503, 504})
_MAX_REASON = 300

logger = logging.getLogger("tap_zendesk.oauth")


class OAuthError(AuthenticationError):
    """Raised when Zendesk refuses the OAuth client or refresh token, or the store is unusable."""


class TokenEndpointError(FatalAPIError):
    """Raised when `/oauth/tokens` stays unreachable or broken; the token store is unchanged."""


def fingerprint(secret: str) -> str:
    """SHA-256 of a refresh token: the store recognises a configured token without keeping it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, repr=False)
class TokenPair:
    """An access token, the refresh token issued with it, and when the access token expires."""

    access_token: str | None
    refresh_token: str | None
    #: Epoch seconds; None when Zendesk sent no `expires_in` (a non-expiring token).
    expires_at: float | None = None
    #: The `expires_in` it was issued with.
    lifetime: float | None = None
    scope: str | None = None
    #: Fingerprint of the refresh token this chain of rotations started from.
    origin: str | None = None

    def __repr__(self) -> str:
        return f"<TokenPair expires_at={self.expires_at!r}>"

    __str__ = __repr__

    def fresh(self, now: float, margin: float = REFRESH_MARGIN) -> bool:
        """True while the access token is present and outside the refresh margin of its expiry."""
        if not self.access_token:
            return False
        if self.expires_at is None:
            return True
        ahead = margin if not self.lifetime else min(margin, self.lifetime / 4)
        return now < self.expires_at - ahead

    @classmethod
    def from_token_response(
        cls, body: t.Any, now: float, *, previous: TokenPair | None = None, origin: str | None
    ) -> TokenPair:
        """Zendesk's token response; `expires_in` may be absent or null (never expires)."""
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            msg = "the token response holds no access_token"
            raise ValueError(msg)
        if not body["access_token"]:
            msg = "the token response holds no access_token"
            raise ValueError(msg)
        refresh = body.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            refresh = previous.refresh_token if previous is not None else None
        lifetime = body.get("expires_in")
        try:
            lifetime = float(lifetime) if lifetime is not None else None
        except (TypeError, ValueError):
            lifetime = None
        if lifetime is not None and lifetime <= 0:
            lifetime = None
        scope = body.get("scope") if isinstance(body.get("scope"), str) else None
        return cls(
            access_token=body["access_token"],
            refresh_token=refresh,
            expires_at=now + lifetime if lifetime is not None else None,
            lifetime=lifetime,
            scope=scope or (previous.scope if previous is not None else None),
            origin=origin,
        )


@dataclass(frozen=True, repr=False)
class StoreRecord:
    """What a token store holds: the pair, and the account and client it belongs to."""

    pair: TokenPair
    client_id: str | None
    host: str | None

    def __repr__(self) -> str:
        return f"<StoreRecord client_id={self.client_id!r} host={self.host!r}>"


class TokenStore:
    """The JSON file of one account's current pair: mode 0600, replaced atomically, locked."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"<TokenStore {self.path}>"

    def read(self) -> StoreRecord | None:
        """The stored record, None when there is no store yet; a broken file is an OAuthError."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            msg = f"Cannot read the token store {self.path} ({exc.strerror or type(exc).__name__})."
            raise OAuthError(msg) from None
        try:
            data = json.loads(text)
            pair = TokenPair(
                access_token=_opt_str(data.get("access_token")),
                refresh_token=_opt_str(data.get("refresh_token")),
                expires_at=_opt_float(data.get("expires_at")),
                lifetime=_opt_float(data.get("expires_in")),
                scope=_opt_str(data.get("scope")),
                origin=_opt_str(data.get("origin_sha256")),
            )
            return StoreRecord(pair, _opt_str(data.get("client_id")), _opt_str(data.get("host")))
        except (ValueError, TypeError, AttributeError):
            msg = f"The token store {self.path} is not a valid token store (not the JSON we write)."
            raise OAuthError(msg) from None

    def write(self, pair: TokenPair, *, client_id: str, host: str, now: float) -> None:
        """Replace the store atomically: temporary file (0600) in the same folder, fsync, rename."""
        data = {
            "version": STORE_VERSION,
            "host": host,
            "client_id": client_id,
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_at": pair.expires_at,
            "expires_in": pair.lifetime,
            "scope": pair.scope,
            "origin_sha256": pair.origin,
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        }
        folder = self._folder()
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    @contextlib.contextmanager
    def locked(self) -> t.Iterator[None]:
        """Exclusive lock (flock on a sidecar `.lock` file) around read-refresh-write."""
        self._folder()
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.info(
                    "Waiting for another process to finish its token refresh (%s).", self.lock_path
                )
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _folder(self) -> Path:
        """The store's folder, created private (0700) when missing."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder


def _opt_str(value: t.Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError
    return value or None


def _opt_float(value: t.Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError
    return float(value)


# -- where the store lives, and how to log in again --------------------------------------------
def _safe(text: str) -> str:
    """A file-name-safe form of a host or client id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"


def account_key(config: t.Mapping[str, t.Any]) -> str:
    """The account part of the default store name: the `api_url` host(_port), else subdomain."""
    if config.get("api_url"):
        parts = urlsplit(base_url(config))
        return _safe(f"{parts.hostname}_{parts.port}" if parts.port else str(parts.hostname))
    return _safe(normalize_subdomain(config["subdomain"]))


def default_token_store(config: t.Mapping[str, t.Any]) -> Path:
    """`$XDG_CONFIG_HOME/tap-zendesk/tokens-<account>-<client_id>.json` (~/.config by default)."""
    root = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    name = f"tokens-{account_key(config)}-{_safe(str(config.get('client_id') or ''))}.json"
    return Path(root) / "tap-zendesk" / name


def token_store_path(config: t.Mapping[str, t.Any]) -> Path:
    """`token_store` if set, else the default path for this account and client."""
    if config.get("token_store"):
        return Path(str(config["token_store"])).expanduser()
    return default_token_store(config)


def login_command(config: t.Mapping[str, t.Any]) -> str:
    """The login-helper command line for this config (no secret on it)."""
    parts = [LOGIN_COMMAND]
    if config.get("api_url"):
        parts += ["--api-url", shlex.quote(base_url(config))]
    elif config.get("subdomain"):
        parts += ["--subdomain", shlex.quote(str(config["subdomain"]))]
    parts += ["--client-id", shlex.quote(str(config.get("client_id") or "<client_id>"))]
    if config.get("token_store"):
        parts += ["--token-store", shlex.quote(str(token_store_path(config)))]
    return " ".join(parts)


def login_hint(config: t.Mapping[str, t.Any]) -> str:
    """One sentence telling the user how to get a new refresh token into the store."""
    return (
        f"Log in again with `{login_command(config)}` (or `{LOGIN_MODULE}` with the same "
        "options), then rerun."
    )


# -- the token endpoint --------------------------------------------------------------------------
def post_token(
    session: requests.Session,
    url: str,
    body: dict[str, t.Any],
    *,
    timeout: float,
    sleep: t.Callable[[float], None] = time.sleep,
    tries: int = TOKEN_TRIES,
) -> requests.Response:
    """POST to `/oauth/tokens`, retrying 429, 5xx and connection errors; return the last reply."""
    host = urlsplit(url).netloc
    for attempt in range(1, tries + 1):
        try:
            response = session.post(url, json=body, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            if attempt == tries:
                msg = (
                    f"Could not reach Zendesk's token endpoint on {host} ({type(exc).__name__}) "
                    f"after {tries} tries; the token store is unchanged. Rerun later."
                )
                raise TokenEndpointError(msg) from None
            sleep(float(2 ** (attempt - 1)))
            continue
        if response.status_code in _TRANSIENT and attempt < tries:
            wait = retry_after_seconds(response)
            sleep(float(2 ** (attempt - 1)) if wait is None else min(wait, 60.0))
            continue
        return response
    raise AssertionError  # pragma: no cover - the loop always returns or raises


def token_reason(response: requests.Response, secrets: t.Iterable[str]) -> str:
    """Zendesk's `error`/`error_description` of a refused token request, scrubbed and short."""
    return scrub(zendesk_reason(response), secrets)[:_MAX_REASON]


# -- the refreshing access token -------------------------------------------------------------------
class RefreshingToken:
    """The current access token of one OAuth client: refreshed ahead of expiry or after a 401."""

    def __init__(
        self,
        *,
        base: str,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        seed_refresh_token: str | None = None,
        hint: str = "",
        timeout: float = 30.0,
        clock: t.Callable[[], float] = time.time,
        sleep: t.Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        margin: float = REFRESH_MARGIN,
        log: logging.Logger | None = None,
    ) -> None:
        self.base = base
        self.host = urlsplit(base).netloc
        self.client_id = client_id
        self._client_secret = client_secret
        self.store = store
        self._seed = seed_refresh_token or None
        self.hint = hint
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.session = session or requests.Session()
        self.margin = margin
        self.logger = log or logger
        self._pair: TokenPair | None = None
        self._lock = threading.RLock()
        #: Access tokens obtained because of a 401 that no request has succeeded with yet.
        self._unconfirmed: set[str] = set()
        self._known: list[str] = [s for s in (client_secret, self._seed) if s]
        #: A refresh token Zendesk refused, and the error said then: never sent twice.
        self._refused_token: str | None = None
        self._refused_error: OAuthError | None = None
        #: Refreshes this process made, and pairs it took over from the store.
        self.refreshes = 0
        self.adopted = 0

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any], **kwargs: t.Any) -> RefreshingToken:
        """Build from the connection settings (`client_id`, `client_secret`, ...)."""
        return cls(
            base=base_url(config),
            client_id=str(config["client_id"]),
            client_secret=str(config["client_secret"]),
            store=TokenStore(token_store_path(config)),
            seed_refresh_token=config.get("refresh_token") or None,
            hint=login_hint(config),
            timeout=float(config.get("request_timeout", 30)),
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"<RefreshingToken client_id={self.client_id!r} store={self.store.path}>"

    __str__ = __repr__

    @property
    def secrets(self) -> tuple[str, ...]:
        """The client secret and every token this process has seen (for scrubbing)."""
        return tuple(self._known)

    # -- used by ZendeskAuth and classify() ------------------------------------------------
    def current(self) -> str:
        """The access token to send now, refreshed first when it is within the margin of expiry."""
        pair = self._pair
        if pair is not None and pair.access_token and pair.fresh(self.clock(), self.margin):
            return pair.access_token
        with self._lock:
            pair = self._pair
            if pair is not None and pair.access_token and pair.fresh(self.clock(), self.margin):
                return pair.access_token
            stale = pair.access_token if pair is not None else None
            return t.cast(str, self._renew(stale=stale, after_401=False).access_token)

    def recover(self, sent: str | None) -> bool:
        """After a 401 on `sent`: True when a different token is ready to resend with."""
        with self._lock:
            if sent is not None and sent in self._unconfirmed:
                return False  # refreshed for a 401 and refused again: refreshing more cannot help
            return self._renew(stale=sent, after_401=True).access_token != sent

    @property
    def awaiting_confirmation(self) -> bool:
        """True while a token obtained after a 401 has not been seen to work."""
        return bool(self._unconfirmed)

    def confirm(self, sent: str | None) -> None:
        """A request with `sent` succeeded: a later 401 on it may be refreshed again."""
        if sent is not None:
            self._unconfirmed.discard(sent)

    # -- the refresh -----------------------------------------------------------------------
    def _renew(self, *, stale: str | None, after_401: bool) -> TokenPair:
        """Under the store lock: take a fresher pair from the store, else refresh and persist."""
        with self.store.locked():
            pair, from_config = self._starting_pair()
            now = self.clock()
            if pair.access_token and pair.access_token != stale and pair.fresh(now, self.margin):
                # Another process (or thread) rotated already: use its pair, never refresh twice.
                self._use(pair)
                self.adopted += 1
                self.logger.debug("Using the OAuth access token saved in %s.", self.store.path)
                return pair
            if not pair.refresh_token:
                msg = (
                    f"The token store {self.store.path} holds no refresh token for {self.host} "
                    f"(OAuth client `{self.client_id}`). {self.hint}"
                )
                raise OAuthError(msg)
            if pair.refresh_token == self._refused_token and self._refused_error is not None:
                raise self._refused_error  # a refused token stays refused; do not ask again
            new = self._refresh(pair, from_config=from_config)
            try:
                self.store.write(new, client_id=self.client_id, host=self.base, now=self.clock())
            except OSError as exc:
                msg = (
                    f"Refreshed the OAuth token for {self.host} but could not save it to "
                    f"{self.store.path} ({exc.strerror or type(exc).__name__}); the previous "
                    f"refresh token no longer works. Fix the folder, then: {self.hint}"
                )
                raise OAuthError(msg) from None
            self._use(new)
            self.refreshes += 1
            if after_401:
                self._unconfirmed.add(t.cast(str, new.access_token))
            self.logger.info(
                "Refreshed the Zendesk OAuth access token (%s); saved the new pair to %s.",
                f"expires in {new.lifetime:.0f} s" if new.lifetime else "does not expire",
                self.store.path,
            )
            return new

    def _starting_pair(self) -> tuple[TokenPair, bool]:
        """The store's pair, or the configured refresh token when the store has not seen it."""
        record = self.store.read()
        if record is not None:
            self._check_owner(record)
            self._remember(record.pair)
        # A store deleted during the run: the pair in memory is still the current one.
        stored = record.pair if record is not None else self._pair
        if self._seed:
            origin = fingerprint(self._seed)
            if stored is None or (stored.origin != origin and stored.refresh_token != self._seed):
                return TokenPair(None, self._seed, origin=origin), True
        if stored is None:
            msg = (
                f"No OAuth tokens for {self.host}: the token store {self.store.path} does not "
                f"exist and `refresh_token` is not set. {self.hint}"
            )
            raise OAuthError(msg)
        return stored, False

    def _check_owner(self, record: StoreRecord) -> None:
        """A store written for another client or host is refused (its tokens would not work)."""
        if record.client_id and record.client_id != self.client_id:
            msg = (
                f"The token store {self.store.path} holds tokens of OAuth client "
                f"`{record.client_id}`, not `{self.client_id}`: point `token_store` at another "
                f"file, or {self.hint[0].lower()}{self.hint[1:]}"
            )
            raise OAuthError(msg)
        if record.host and record.host.rstrip("/") != self.base.rstrip("/"):
            msg = (
                f"The token store {self.store.path} holds tokens for {record.host}, not "
                f"{self.base}: point `token_store` at another file, or "
                f"{self.hint[0].lower()}{self.hint[1:]}"
            )
            raise OAuthError(msg)

    def _refresh(self, pair: TokenPair, *, from_config: bool) -> TokenPair:
        """`POST /oauth/tokens` with `grant_type=refresh_token`; a refusal is one clear error."""
        body = {
            "grant_type": "refresh_token",
            "refresh_token": pair.refresh_token,
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        response = post_token(
            self.session, self.base + TOKEN_PATH, body, timeout=self.timeout, sleep=self.sleep
        )
        if response.status_code in (400, 401, 403):
            try:
                self._refused(response, from_config=from_config)
            except OAuthError as exc:
                self._refused_token, self._refused_error = pair.refresh_token, exc
                raise
        if response.status_code != 200:
            msg = (
                f"Zendesk answered {response.status_code} on POST {TOKEN_PATH} ({self.host}) "
                f"after {TOKEN_TRIES} tries; the token store {self.store.path} is unchanged. "
                "Rerun later."
            )
            raise TokenEndpointError(msg)
        try:
            new = TokenPair.from_token_response(
                response.json(), self.clock(), previous=pair, origin=pair.origin
            )
        except ValueError:
            msg = (
                f"Zendesk answered POST {TOKEN_PATH} ({self.host}) with a body that is not a "
                f"token response; the token store {self.store.path} is unchanged. If the next "
                f"run fails too: {self.hint}"
            )
            raise TokenEndpointError(msg) from None
        self._remember(new)
        return new

    def _refused(self, response: requests.Response, *, from_config: bool) -> t.NoReturn:
        """Raise the one clear error for a refused client or refresh token."""
        reason = token_reason(response, self._known)
        if "invalid_client" in reason:
            msg = (
                f"Zendesk refused OAuth client `{self.client_id}` on {self.host} ({reason}): check "
                f"`client_id` and `client_secret` (Admin Center > Apps and integrations > APIs > "
                f"OAuth clients). The token store {self.store.path} is unchanged."
            )
            raise OAuthError(msg)
        source = (
            "the `refresh_token` setting (the token store had not seen it; update or remove that "
            "setting)"
            if from_config
            else f"the token store {self.store.path}"
        )
        msg = (
            f"Zendesk refused the OAuth refresh token from {source} for {self.host} ({reason}): "
            f"it was revoked, expired, or already used by another copy of the store. The token "
            f"store {self.store.path} is unchanged. {self.hint}"
        )
        raise OAuthError(msg)

    def _use(self, pair: TokenPair) -> None:
        self._remember(pair)
        self._pair = pair

    def _remember(self, pair: TokenPair) -> None:
        for secret in (pair.access_token, pair.refresh_token):
            if secret and secret not in self._known:
                self._known.append(secret)


def save_login(
    store: TokenStore, body: t.Any, *, client_id: str, base: str, clock: t.Callable[[], float]
) -> TokenPair:
    """Write a login's token response to the store (under its lock); return the pair."""
    now = clock()
    refresh = body.get("refresh_token") if isinstance(body, dict) else None
    origin = fingerprint(refresh) if isinstance(refresh, str) and refresh else None
    pair = TokenPair.from_token_response(body, now, origin=origin)
    with store.locked():
        store.write(pair, client_id=client_id, host=base, now=now)
    return pair
