"""One HTTP client for Zendesk: pooled session, auth, URL checks, governor, retries, errors.

The target's sinks use it directly; the tap's streams go through the SDK's request loop but plug
in the same pieces (auth, `check_url`, `RetryPolicy`, `RateLimitGovernor`, `errors`).
"""

from __future__ import annotations

import logging
import typing as t
from urllib.parse import urljoin

import backoff
import msgspec
import requests
from requests.adapters import HTTPAdapter
from singer_sdk.exceptions import RetriableAPIError

from tap_zendesk.api import jsontext
from tap_zendesk.api.auth import ZendeskAuth, warn_if_legacy
from tap_zendesk.api.errors import (
    AuthenticationError,
    CredentialsRefreshedError,
    ZendeskRequestError,
    auth_failure_message,
    describe_response,
)
from tap_zendesk.api.governor import RateLimitGovernor
from tap_zendesk.api.retry import RETRIABLE_EXCEPTIONS, RETRY_STATUSES, RetryPolicy, response_of
from tap_zendesk.api.urls import base_url, check_url, path_of

#: Request bodies are encoded with msgspec (requests' `json=` uses simplejson: ~10% of the
#: target's CPU per record); Decimals stay JSON numbers.
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_JSON_HEADERS = {"Content-Type": "application/json"}

#: Connections kept per host: the SDK drains up to 8 sinks in threads, plus polling.
POOL_SIZE = 16


def make_session(user_agent: str) -> requests.Session:
    """One pooled session per process: connection reuse matters at 1000s of requests."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    return session


def make_governor(config: t.Mapping[str, t.Any], logger: logging.Logger) -> RateLimitGovernor:
    """The process-wide governor, seeded with any limits the user told us."""
    return RateLimitGovernor(
        account_limit=config.get("rate_limit"),
        export_limit=config.get("export_rate_limit"),
        logger=logger,
    )


def retrying(
    func: t.Callable,
    policy: RetryPolicy,
    *,
    idempotent: bool = True,
    on_backoff: t.Callable[[t.Mapping[str, t.Any]], None] | None = None,
) -> t.Callable:
    """Wrap one attempt in `policy` (no extra jitter: Retry-After is waited exactly)."""
    return backoff.on_exception(
        lambda: policy.wait_gen(idempotent=idempotent),
        RETRIABLE_EXCEPTIONS,
        max_tries=None,
        jitter=None,
        on_backoff=on_backoff,
        on_giveup=note_give_up,
        logger=None,
    )(func)


def note_give_up(details: t.Mapping[str, t.Any]) -> None:
    """Add to the error that it ended a series of retries (it reads like a first failure)."""
    exc = details.get("exception")
    tries = int(details.get("tries") or 1)
    if (
        tries > 1
        and isinstance(exc, RETRIABLE_EXCEPTIONS)
        and not isinstance(exc, CredentialsRefreshedError)
        and exc.args
        and isinstance(exc.args[0], str)
    ):
        exc.args = (
            f"{exc.args[0]} (gave up after {tries} attempts; rerun later, or raise "
            "`max_retries`)",
            *exc.args[1:],
        )


def log_retry(logger: logging.Logger, what: str, details: t.Mapping[str, t.Any]) -> None:
    """One line per retry naming the cause and the wait; no URL query, no headers, no body."""
    exc = details.get("exception")
    response = response_of(exc) if exc is not None else None
    cause = f"HTTP {response.status_code}" if response is not None else type(exc).__name__
    logger.warning(
        "%s: retrying after %s, waiting %.1f s (attempt %d).",
        what,
        cause,
        details.get("wait", 0.0),
        details.get("tries", 0),
    )


def classify(response: requests.Response, *, host: str, auth: ZendeskAuth) -> None:
    """Raise the right exception for a non-2xx reply (shared by tap streams and the client).

    A 401 with OAuth refresh configured refreshes the access token once (or takes the one another
    process just saved) and raises `CredentialsRefreshedError`, which the retry policy resends at
    once; a 401 on a token refreshed for a 401 and not yet seen to work is fatal.
    """
    status = response.status_code
    if status < 400:
        auth.confirm(response)
        return
    if status in RETRY_STATUSES:
        raise RetriableAPIError(describe_response(response), response)
    if status == 401:
        if auth.recover_from_401(response):
            msg = (
                f"{describe_response(response)}; the OAuth access token was refreshed, resending."
            )
            raise CredentialsRefreshedError(msg, response)
        raise AuthenticationError(
            auth_failure_message(
                response, host=host, auth_mode=auth.describe(), hint=auth.failure_hint()
            )
        )
    raise ZendeskRequestError(describe_response(response), response)


class ZendeskClient:
    """Requests to one Zendesk account with the project's retry, pacing and error rules."""

    def __init__(
        self,
        config: t.Mapping[str, t.Any],
        *,
        logger: logging.Logger | None = None,
        session: requests.Session | None = None,
        governor: RateLimitGovernor | None = None,
        policy: RetryPolicy | None = None,
        user_agent: str = "target-zendesk",
    ) -> None:
        self.logger = logger or logging.getLogger("zendesk.client")
        self.base = base_url(config)
        self.auth = ZendeskAuth(config)
        warn_if_legacy(self.auth, self.logger)
        self.session = session or make_session(user_agent)
        self.governor = governor or make_governor(config, self.logger)
        self.policy = policy or RetryPolicy(max_retries=int(config.get("max_retries", 3)))
        self.timeout = float(config.get("request_timeout", 30))
        self.request_count = 0

    def url(self, path_or_url: str) -> str:
        """Absolute, checked URL: relative paths join the base; absolute ones must stay on it."""
        if path_or_url.startswith(("http://", "https://")):
            return check_url(path_or_url, self.base)
        return urljoin(self.base + "/", path_or_url.lstrip("/"))

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: t.Mapping[str, t.Any] | None = None,
        json: t.Any = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send with retries; raise `ZendeskRequestError`/`AuthenticationError` on refusal."""
        send = self._retrying(self._send, method, idempotent)
        return send(method.upper(), self.url(path_or_url), params, json)

    def request_json(
        self,
        method: str,
        path_or_url: str,
        *,
        params: t.Mapping[str, t.Any] | None = None,
        json: t.Any = None,
        idempotent: bool | None = None,
    ) -> dict[str, t.Any]:
        """Like `request`, decoding the body inside the retried attempt (truncated JSON retries)."""
        send = self._retrying(self._send_json, method, idempotent)
        return send(method.upper(), self.url(path_or_url), params, json)

    def _retrying(self, func: t.Callable, method: str, idempotent: bool | None) -> t.Callable:
        """Wrap one attempt in the retry policy; writes retry only when Zendesk refused them."""
        safe = method.upper() in ("GET", "HEAD") if idempotent is None else idempotent
        return retrying(func, self.policy, idempotent=safe, on_backoff=self._log_backoff)

    def _send_json(self, method: str, url: str, params: t.Any, body: t.Any) -> dict[str, t.Any]:
        """One attempt that must yield a JSON object (204 yields {})."""
        response = self._send(method, url, params, body)
        if response.status_code == 204 or not response.content:
            return {}
        return decode_json(response)

    def _send(self, method: str, url: str, params: t.Any, body: t.Any) -> requests.Response:
        """One attempt: pace, send, observe headers, classify."""
        path = path_of(url)
        self.governor.acquire(path)
        self.request_count += 1
        data, headers = (None, None) if body is None else (_ENCODER.encode(body), _JSON_HEADERS)
        response = self.session.request(
            method, url, params=params, data=data, headers=headers, auth=self.auth,
            timeout=self.timeout,
        )
        self.governor.observe(response, path)
        classify(response, host=self.base, auth=self.auth)
        return response

    def get_json(self, path_or_url: str, **params: t.Any) -> dict[str, t.Any]:
        """GET and decode; a body that is not a JSON object is retried like a 5xx."""
        return self.request_json("GET", path_or_url, params=params or None)

    def _log_backoff(self, details: t.Mapping[str, t.Any]) -> None:
        """One line per retry: what failed, how long we wait."""
        log_retry(self.logger, "Zendesk request", details)


def decode_json(response: requests.Response) -> dict[str, t.Any]:
    """Decode a reply body; truncated JSON or an HTML page with status 200 is retriable.

    msgspec rather than `response.json()` (simplejson): decoding is about a third of the tap's
    CPU per record. Zendesk sends UTF-8 JSON; msgspec's DecodeError is a ValueError. A lone
    UTF-16 surrogate (half an emoji) is repaired instead of failing the run (`jsontext`).
    """
    try:
        body = jsontext.decode(response.content)
    except ValueError as exc:
        msg = (
            f"Zendesk answered {response.status_code} on {path_of(response.url or '')} with a body "
            "that is not JSON (truncated reply or an HTML error page)"
        )
        raise RetriableAPIError(msg, response) from exc
    if not isinstance(body, dict):
        msg = f"Zendesk answered with a JSON {type(body).__name__}, expected an object"
        raise RetriableAPIError(msg, response)
    return body
