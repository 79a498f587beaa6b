"""Process-wide, thread-safe rate-limit governor: read Zendesk's headers, wait before the 429.

Each budget ("bucket") is tracked on its own (zendesk_api.md 2.3, trap 18): the account limit
(`X-Rate-Limit*`, `ratelimit-*`) and every `Zendesk-RateLimit-<name>` family
(`total=N; remaining=M; resets=S`). Before a request the governor spends one unit of each bucket
the request belongs to; when a bucket has nothing left it sleeps until that bucket resets, so a
long run against the limit meets at most the first 429 (when it started with no knowledge).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import typing as t
from collections import deque
from dataclasses import dataclass

import requests

_FAMILY_RE = re.compile(r"total=(\d+);\s*remaining=(\d+);\s*resets=(\d+)")
ACCOUNT = "account"
EXPORTS = "incremental-exports"
EXPORTS_CURSOR = "incremental-exports-cursor"
TICKETS_INDEX = "tickets-index"
#: Zendesk's windows are a minute long (zendesk_api.md 2.1).
DEFAULT_WINDOW = 60.0
#: Announce waits at INFO only when they are long enough for a person to wonder.
_ANNOUNCE_AFTER = 1.0


@dataclass
class _Bucket:
    """What we know of one budget: its size, what is left, and when it refills (monotonic)."""

    total: int | None = None
    remaining: int | None = None
    resets_at: float | None = None
    blocked_until: float = 0.0


INFLIGHT_JOBS_HEADER = "Zendesk-RateLimit-inflight-jobs"
#: Without Retry-After on a 429 Zendesk's own clients wait 60 s (zendesk_api.md 1.4).
DEFAULT_RATE_LIMIT_WAIT = 60.0


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Integer seconds from `Retry-After` (Zendesk never sends an HTTP date), else None."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def rate_limit_wait(response: requests.Response | None) -> float:
    """How long a 429 asks us to wait: `Retry-After`, else the spent budget's reset, else 60 s.

    Zendesk documents `Retry-After` on every 429 (2.4); a reply without it still says when its
    window ends in `ratelimit-reset` or a spent `Zendesk-RateLimit-*` family's `resets`.
    """
    wait = retry_after_seconds(response)
    if wait is not None or response is None:
        return DEFAULT_RATE_LIMIT_WAIT if wait is None else wait
    resets = []
    for key, value in response.headers.items():
        if key.lower().startswith("zendesk-ratelimit-"):
            match = _FAMILY_RE.search(value)
            if match and int(match.group(2)) == 0:
                resets.append(float(match.group(3)))
    if not resets and response.headers.get("ratelimit-remaining") == "0":
        try:
            resets.append(float(response.headers.get("ratelimit-reset", "")))
        except ValueError:
            pass
    return max(1.0, max(resets)) if resets else DEFAULT_RATE_LIMIT_WAIT


def is_too_many_jobs(response: requests.Response | None) -> bool:
    """Tell the queued-jobs refusal (`TooManyJobs`, zendesk_api.md 6.5) from a rate limit.

    It refuses one more job while 30 are queued, not the account's requests: nothing else
    should pause, and only the caller's own jobs ending makes room (so no blind retry).
    """
    if response is None or response.status_code not in (429, 503, 400, 403, 422):
        return False
    if b"TooManyJobs" not in (response.content or b""):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") == "TooManyJobs"


def inflight_jobs(response: requests.Response | None) -> tuple[int, int, int] | None:
    """Read (total, remaining, resets) from `Zendesk-RateLimit-inflight-jobs`, if present."""
    if response is None:
        return None
    match = _FAMILY_RE.search(response.headers.get(INFLIGHT_JOBS_HEADER, ""))
    if not match:
        return None
    total, remaining, resets = (int(g) for g in match.groups())
    return total, remaining, resets


def buckets_for(path: str) -> tuple[str, ...]:
    """Which budgets a request to `path` spends (the account budget always)."""
    if "/incremental/" in path and "/help_center/" not in path:
        if path.rstrip("/").removesuffix(".json").endswith("/users/cursor"):
            return (ACCOUNT, EXPORTS_CURSOR)
        return (ACCOUNT, EXPORTS)
    if path.rstrip("/").removesuffix(".json").endswith("/api/v2/tickets"):
        return (ACCOUNT, TICKETS_INDEX)
    return (ACCOUNT,)


class RateLimitGovernor:
    """Shared by every stream (and sink thread) of one process; all methods are thread-safe."""

    def __init__(
        self,
        *,
        account_limit: int | None = None,
        export_limit: int | None = None,
        logger: logging.Logger | None = None,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
        window: float = DEFAULT_WINDOW,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._window = window
        self.logger = logger or logging.getLogger("tap_zendesk.governor")
        self._buckets: dict[str, _Bucket] = {}
        #: The most recent waits (reason, seconds), for logs and tests; bounded.
        self.waits: deque[tuple[str, float]] = deque(maxlen=100)
        if account_limit:
            self._buckets[ACCOUNT] = _Bucket(total=account_limit, remaining=account_limit)
        if export_limit:
            self._buckets[EXPORTS] = _Bucket(total=export_limit, remaining=export_limit)

    # -- before a request -------------------------------------------------------------------
    def acquire(self, path: str) -> None:
        """Block until every budget `path` spends has a unit left, then spend it."""
        names = buckets_for(path)
        while True:
            with self._lock:
                now = self._clock()
                wait, reason = 0.0, ""
                for name in names:
                    bucket = self._buckets.get(name)
                    if bucket is None:
                        continue
                    self._refill(bucket, now)
                    if bucket.blocked_until > now and bucket.blocked_until - now > wait:
                        wait = bucket.blocked_until - now
                        reason = f"Zendesk asked to wait (429) on the {name} budget"
                    if bucket.remaining is not None and bucket.remaining <= 0:
                        until = bucket.resets_at if bucket.resets_at is not None else now
                        until = max(until, now + 0.05)
                        if until - now > wait:
                            wait = until - now
                            reason = (
                                f"the {name} budget is used up ({bucket.total} per window); "
                                f"it resets in {until - now:.1f} s"
                            )
                if wait <= 0:
                    for name in names:
                        bucket = self._buckets.get(name)
                        if bucket is not None and bucket.remaining is not None:
                            bucket.remaining -= 1
                            if bucket.resets_at is None:  # a configured limit: its window starts now
                                bucket.resets_at = now + self._window
                    return
            self._announce(wait, reason)
            self._sleep(wait)

    def _refill(self, bucket: _Bucket, now: float) -> None:
        """A window that has ended gives the whole budget back (until headers say otherwise)."""
        if bucket.resets_at is not None and now >= bucket.resets_at:
            bucket.remaining = bucket.total
            bucket.resets_at = now + self._window if bucket.total is not None else None

    def _announce(self, wait: float, reason: str) -> None:
        """Log how long and why; short pauses at DEBUG so logs stay readable."""
        self.waits.append((reason, wait))
        level = logging.INFO if wait >= _ANNOUNCE_AFTER else logging.DEBUG
        self.logger.log(level, "Rate limit: waiting %.1f s because %s.", wait, reason)

    # -- after a response -------------------------------------------------------------------
    def observe(self, response: requests.Response, path: str | None = None) -> None:
        """Update budgets from a reply's headers; header trouble is never fatal."""
        headers = response.headers
        now = self._clock()
        with self._lock:
            try:
                self._observe_account(headers, now)
                for key, value in headers.items():
                    low = key.lower()
                    if low.startswith("zendesk-ratelimit-"):
                        match = _FAMILY_RE.search(value)
                        if match:
                            name = low[len("zendesk-ratelimit-") :]
                            total, remaining, resets = (int(g) for g in match.groups())
                            self._set(name, total, remaining, resets, now)
                if response.status_code == 429 and not is_too_many_jobs(response):
                    self._block(response, path or response.url or "", now)
            except (ValueError, TypeError):  # pragma: no cover - defensive
                self.logger.debug("Ignoring an unreadable rate-limit header.")

    def _observe_account(self, headers: t.Mapping[str, str], now: float) -> None:
        """`ratelimit-*` (with reset seconds) wins over `X-Rate-Limit*` (no reset)."""
        total = headers.get("ratelimit-limit") or headers.get("X-Rate-Limit")
        remaining = headers.get("ratelimit-remaining") or headers.get("X-Rate-Limit-Remaining")
        if total is None or remaining is None:
            return
        reset = headers.get("ratelimit-reset")
        resets = float(reset) if reset is not None else self._window
        self._set(ACCOUNT, int(total), int(remaining), resets, now)

    def _set(self, name: str, total: int, remaining: int, resets: float, now: float) -> None:
        """Trust the server's numbers, but never forget units spent by requests still in flight."""
        bucket = self._buckets.setdefault(name, _Bucket())
        resets_at = now + max(0.0, float(resets))
        same_window = bucket.resets_at is not None and abs(bucket.resets_at - resets_at) < 2.0
        bucket.total = total
        if same_window and bucket.remaining is not None:
            bucket.remaining = min(bucket.remaining, remaining)
        else:
            bucket.remaining = remaining
        bucket.resets_at = resets_at

    def _block(self, response: requests.Response, path: str, now: float) -> None:
        """A 429: nobody in this process sends on that budget before Retry-After has passed."""
        retry_after = rate_limit_wait(response)
        names = buckets_for(path)
        # The budget that ran out shows remaining=0 in the reply's own headers; else block all.
        spent = [n for n in names if (b := self._buckets.get(n)) and b.remaining == 0]
        for name in spent or names:
            bucket = self._buckets.setdefault(name, _Bucket())
            bucket.blocked_until = max(bucket.blocked_until, now + retry_after)
            bucket.remaining = 0
            bucket.resets_at = now + retry_after

    def snapshot(self) -> dict[str, dict[str, t.Any]]:
        """Current knowledge, for logs and tests."""
        with self._lock:
            return {
                name: {"total": b.total, "remaining": b.remaining}
                for name, b in self._buckets.items()
            }
