"""Fixed-window request buckets that produce Zendesk's rate-limit headers and 429s."""

from __future__ import annotations

import math
import threading
import time

from .config import EmulatorConfig, nominal
from .util import ApiError

TOO_MANY = b"Number of allowed API requests per minute exceeded"


class Bucket:
    """One fixed-window counter; `limit` None means count and report but never refuse."""

    def __init__(self, name: str, total: int, limit: int | None, window: float, t0: float):
        self.name = name
        self.total = total
        self.limit = limit
        self.window = window
        self.t0 = t0
        self.index = -1
        self.used = 0

    def _roll(self, t: float) -> None:
        idx = int((t - self.t0) // self.window)
        if idx != self.index:
            self.index = idx
            self.used = 0

    def resets(self, t: float) -> int:
        """Whole seconds until this window ends (at least 1, as Retry-After must be)."""
        end = self.t0 + (self.index + 1) * self.window
        return max(1, math.ceil(end - t))

    def take(self, t: float) -> bool:
        """Count one request; False when the enforced limit is already used up."""
        self._roll(t)
        if self.limit is not None and self.used >= self.limit:
            return False
        self.used += 1
        return True

    def remaining(self) -> int:
        """Requests left in the window as the headers report it.

        An unenforced bucket counts down realistically but never below half its total, so
        clients that pace on the headers do not slow down against a limit that is off.
        """
        left = max(0, self.total - self.used)
        return left if self.limit is not None else max(left, self.total // 2)

    def header_value(self, t: float) -> str:
        """`total=N; remaining=M; resets=S` as in Zendesk-RateLimit-* headers."""
        return f"total={self.total}; remaining={self.remaining()}; resets={self.resets(t)}"


# export family -> (bucket name, header name)
ENDPOINT_BUCKETS = {
    "incremental": ("export_rate_limit", "Zendesk-RateLimit-incremental-exports"),
    "incremental_cursor": ("cursor_export_rate_limit",
                           "Zendesk-RateLimit-incremental-exports-cursor"),
    "tickets_index": ("tickets_index_rate_limit", "Zendesk-RateLimit-tickets-index"),
}

# Per-second endpoint limits that Zendesk enforces without a header of their own (2.2):
# family -> (knob, window seconds, not scaled by window_seconds).
QUIET_BUCKETS = {
    "user_upsert": ("user_upsert_rate_limit", 1.0),
}


class RateLimiter:
    """The account bucket plus the endpoint buckets of one emulated account."""

    def __init__(self, cfg: EmulatorConfig):
        self.cfg = cfg
        self.lock = threading.Lock()
        t0 = time.monotonic()
        self.account = Bucket("account", cfg.nominal_rate_limit, cfg.rate_limit,
                              cfg.window_seconds, t0)
        self.endpoint = {
            fam: Bucket(fam, nominal(cfg, knob), getattr(cfg, knob), cfg.window_seconds, t0)
            for fam, (knob, _hdr) in ENDPOINT_BUCKETS.items()
        }
        self.quiet = {
            fam: Bucket(fam, getattr(cfg, knob) or 0, getattr(cfg, knob), window, t0)
            for fam, (knob, window) in QUIET_BUCKETS.items()
            if getattr(cfg, knob)
        }

    def check(self, family: str | None) -> list[tuple[str, str]]:
        """Count a request and return its headers, or raise the 429 reply."""
        t = time.monotonic()
        with self.lock:
            acct = self.account
            ok = acct.take(t)
            headers = self._account_headers(t)
            quiet = self.quiet.get(family) if family else None
            if ok and quiet is not None and not quiet.take(t):
                raise ApiError(429, TOO_MANY, headers + [("Retry-After", str(quiet.resets(t)))])
            bucket = self.endpoint.get(family) if family else None
            if ok and bucket is not None:
                ok = bucket.take(t)
                limited = bucket if not ok else None
            else:
                limited = None if ok else acct
                if bucket is not None:
                    bucket._roll(t)
            if bucket is not None:
                headers.append((ENDPOINT_BUCKETS[family][1], bucket.header_value(t)))
            if not ok:
                wait = (limited or acct).resets(t)
                raise ApiError(429, TOO_MANY, headers + [("Retry-After", str(wait))])
            return headers

    def _account_headers(self, t: float) -> list[tuple[str, str]]:
        a = self.account
        rem, reset = str(a.remaining()), str(a.resets(t))
        return [("X-Rate-Limit", str(a.total)), ("X-Rate-Limit-Remaining", rem),
                ("ratelimit-limit", str(a.total)), ("ratelimit-remaining", rem),
                ("ratelimit-reset", reset)]
