"""What is retriable, how long to wait (Retry-After first), and when to give up."""

from __future__ import annotations

import random
import typing as t
from dataclasses import dataclass

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_zendesk.api.errors import CredentialsRefreshedError
from tap_zendesk.api.governor import (
    is_too_many_jobs,
    rate_limit_wait,
    retry_after_seconds,
)

#: Statuses worth another try. 409: edit conflicts clear up (zendesk_api.md 1.4).
RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})
#: Resends of one request with a refreshed OAuth token; a second 401 right after a refresh is
#: fatal already (`RefreshingToken.recover`), so this only bounds tokens rotated by others.
MAX_CREDENTIAL_RESENDS = 3

#: Exceptions the retry loop catches; everything else propagates at once.
RETRIABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def response_of(exc: BaseException) -> requests.Response | None:
    """The HTTP response an exception carries, if any."""
    response = getattr(exc, "response", None)
    return response if isinstance(response, requests.Response) else None


def is_rate_limited(exc: BaseException) -> bool:
    """429, or 503 with Retry-After: Zendesk refused the request, so it is safe to resend."""
    response = response_of(exc)
    if response is None:
        return False
    if response.status_code == 429:
        return True
    return response.status_code == 503 and retry_after_seconds(response) is not None


def never_sent(exc: BaseException) -> bool:
    """True when the request surely never reached Zendesk (connect phase failed)."""
    return isinstance(exc, requests.exceptions.ConnectTimeout) or (
        isinstance(exc, requests.exceptions.ConnectionError)
        and not isinstance(exc, requests.exceptions.ReadTimeout)
        and "Connection refused" in str(exc)
    )


@dataclass
class RetryPolicy:
    """Retry budget and waits; one policy for the tap's streams and the target's client.

    `max_retries` bounds, separately, the 429/Retry-After waits and the other transient failures,
    so a long 429 storm cannot use up the budget meant for 5xx and vice versa.
    """

    max_retries: int = 5
    base_wait: float = 1.0
    max_wait: float = 60.0
    jitter: bool = True
    rng: random.Random | None = None

    def is_retriable(self, exc: BaseException, *, idempotent: bool = True) -> bool:
        """Reads retry on any transient failure; writes only when Zendesk surely refused them.

        `TooManyJobs` goes back to the caller at once: only its own jobs ending make room.
        """
        if is_too_many_jobs(response_of(exc)):
            return False
        if idempotent:
            return isinstance(exc, RETRIABLE_EXCEPTIONS)
        # A 401 means Zendesk refused the request: resending a write cannot duplicate it.
        refused = isinstance(exc, CredentialsRefreshedError)
        return refused or is_rate_limited(exc) or never_sent(exc)

    def backoff_wait(self, attempt: int) -> float:
        """Exponential backoff with full-range jitter: base * 2^(attempt-1), capped."""
        wait = min(self.max_wait, self.base_wait * (2 ** max(0, attempt - 1)))
        if self.jitter:
            wait = (self.rng or random).uniform(wait / 2, wait)
        return wait

    def wait_gen(self, *, idempotent: bool = True) -> t.Generator[float, BaseException, None]:
        """A `backoff` wait generator: receives each exception, yields seconds, stops = give up."""
        rate_limited = 0
        transient = 0
        resent = 0
        exc = yield  # type: ignore[misc]  # primed by backoff with None
        while True:
            if not self.is_retriable(exc, idempotent=idempotent):
                return
            if isinstance(exc, CredentialsRefreshedError):
                resent += 1
                if resent > MAX_CREDENTIAL_RESENDS:
                    return
                exc = yield 0.0
                continue
            if is_rate_limited(exc):
                rate_limited += 1
                if rate_limited > self.max_retries:
                    return
                exc = yield rate_limit_wait(response_of(exc))
                continue
            transient += 1
            if transient > self.max_retries:
                return
            wait = retry_after_seconds(response_of(exc))
            exc = yield self.backoff_wait(transient) if wait is None else wait
