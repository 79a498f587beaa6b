"""Zendesk bulk jobs: submit batches, keep a few jobs in flight, poll them all to a final status.

zendesk_api.md 6.5: a bulk call answers with a `job_status` to poll; `completed` jobs can still
hold failed items (matched back by `index`, then `external_id`/`email`/`id`); `failed`/`killed`
end a whole batch; statuses vanish after a day (404 = lost); at most 30 jobs may be queued per
account (`TooManyJobs`, header `Zendesk-RateLimit-inflight-jobs`). A POST whose reply we never
read may or may not have created a job, so it is never blindly resent: we wait until the
account's job queue is quiet, then look the records up by external_id (trap 33).
"""

from __future__ import annotations

import json
import logging
import time
import typing as t
from collections import Counter, deque
from dataclasses import dataclass, field

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_zendesk.api.client import ZendeskClient, decode_json
from tap_zendesk.api.errors import (
    FatalSyncError,
    ZendeskRequestError,
    format_details,
    zendesk_reason,
)
from tap_zendesk.api.governor import inflight_jobs, is_too_many_jobs
from tap_zendesk.api.retry import (
    is_rate_limited,
    never_sent,
    response_of,
    retry_after_seconds,
)
from target_zendesk.journal import Journal

#: Job statuses after which nothing changes (`killed` is reported by some sources, 6.5).
FINAL_STATUSES = frozenset({"completed", "failed", "killed"})
#: `show_many` takes at most 100 ids (zendesk_api.md 1.3).
SHOW_MANY_LIMIT = 100
JOB_STATUSES_PATH = "/api/v2/job_statuses"


#: Our jobs queued or running at once by default. Zendesk allows 30 per account, shared with every
#: other integration (zendesk_api.md 6.5); 10 keeps a margin while a drain's 10 imports cost about
#: one status poll (requests per N tickets about 1.1 x ceil(N/100) instead of 1.2 x with 5).
DEFAULT_MAX_JOBS_IN_FLIGHT = 10
#: Seconds a write whose reply was lost gets before we look it up: a request cut off on our side
#: may still be queued and processed by Zendesk well after our timeout (a too-short wait resent
#: tickets that then landed twice).
DEFAULT_LOST_REPLY_GRACE = 60.0


class JobTimeoutError(FatalSyncError):
    """Raised when a job is not final by the deadline; the journal keeps it for the next run."""


class RateLimitedError(FatalSyncError):
    """Raised when Zendesk still refuses a write (429 / 503) after `max_retries` retries."""


class OutcomeUnknownError(FatalSyncError):
    """Raised when we cannot tell whether Zendesk wrote a batch and must not guess."""


class EndpointRefusedError(FatalSyncError):
    """Raised when a bulk endpoint answers 403/404: no record of any batch can be written."""


@dataclass(frozen=True)
class Operation:
    """One bulk endpoint: how to call it and whether resending the same body is harmless."""

    method: str
    path: str
    body_key: str
    idempotent: bool


OPERATIONS: dict[str, Operation] = {
    # zendesk_api.md 6.1: ticket import; a resend creates duplicates.
    "tickets.import": Operation("POST", "/api/v2/imports/tickets/create_many", "tickets", False),
    # 6.3: upsert by external_id or email, so a resend updates the same users.
    "users.upsert": Operation("POST", "/api/v2/users/create_or_update_many", "users", True),
    # 6.4: no create_or_update_many for organizations; create_many + batch update_many.
    "organizations.create": Operation(
        "POST", "/api/v2/organizations/create_many", "organizations", False
    ),
    "organizations.update": Operation(
        "PUT", "/api/v2/organizations/update_many", "organizations", True
    ),
}

#: One-at-a-time fallbacks of bulk operations an account can have switched off (zendesk_api.md
#: 6.3: bulk user import answers 403 on some accounts, trial ones included).
SINGLE_FALLBACKS: dict[str, Operation] = {
    "users.upsert": Operation("POST", "/api/v2/users/create_or_update", "user", True),
}
#: Seconds between single `create_or_update` calls: Zendesk allows 1 request/second per account
#: on that endpoint (2.2), with no header to pace on; a little over 1 s keeps arrivals apart.
SINGLE_INTERVAL = 1.05


@dataclass(slots=True)
class Item:
    """One record of a batch: its journal key, the body item sent, and how to find it again."""

    key: str
    payload: dict[str, t.Any] | None
    external_id: str | None = None
    email: str | None = None
    dest_id: int | None = None
    digest: str | None = None
    status: str | None = None


@dataclass(slots=True)
class ItemResult:
    """What Zendesk said about one item."""

    ok: bool
    dest_id: int | None = None
    action: str = "created"
    error: str | None = None
    details: str | None = None


@dataclass
class Batch:
    """Up to 100 items for one bulk call, and where it stands."""

    stream: str
    operation: str
    items: list[Item]
    params: dict[str, t.Any] | None = None
    attempt: int = 1
    journal_id: int | None = None
    job_id: str | None = None
    submitted_at: float = 0.0
    misses: int = 0
    reason: str = ""
    error: str = "OutcomeUnknown"
    #: Look the items up before resending (always for non-idempotent writes and lost jobs).
    lookup: bool = False
    #: Clock time before which a lookup could miss a request Zendesk is still processing.
    settle_after: float = 0.0
    #: Wall time the batch was journaled (an earlier run's batch; 0 = this run).
    journaled_at: float = 0.0
    extra: dict[str, t.Any] = field(default_factory=dict)


class BatchHandler(t.Protocol):
    """What a sink does with outcomes; the runner only moves batches and jobs."""

    def written(self, batch: Batch, pairs: list[tuple[Item, ItemResult]]) -> None:
        """Zendesk answered for these items (ok or with a per-item error)."""

    def rejected(self, batch: Batch, items: list[Item], error: str, details: str) -> None:
        """Report items not written, for a reason that concerns the whole batch."""

    def reconcile(self, batch: Batch) -> list[ItemResult | None]:
        """Look items up in the destination (by external_id): found, or None."""

    def rebatch(self, batch: Batch, items: list[Item]) -> list[Batch]:
        """Return new batches sending `items` again (attempt + 1); [] to send nothing."""


def unwrap_job(body: dict[str, t.Any]) -> dict[str, t.Any]:
    """Accept a job with or without the `job_status` wrapper (one docs example has none, 6.5)."""
    inner = body.get("job_status")
    return inner if isinstance(inner, dict) else body


def to_result(raw: dict[str, t.Any]) -> ItemResult:
    """Turn one `results` element into an ItemResult (`error`, `success: false`, Failed)."""
    error = raw.get("error")
    status = str(raw.get("status") or "")
    ok = not error and raw.get("success") is not False and status.lower() not in ("failed",)
    updated = raw.get("action") == "update" or status == "Updated"
    dest = raw.get("id")
    details = raw.get("details")
    return ItemResult(
        ok=ok,
        dest_id=dest if type(dest) is int else None,
        action="updated" if updated else "created",
        error=str(error) if error else (None if ok else "Failed"),
        details=None if details is None else format_details(details),
    )


def map_results(items: list[Item], results: t.Any) -> list[ItemResult | None]:
    """Match `results` to items by `index`, else external_id, email or id; None = no result."""
    out: list[ItemResult | None] = [None] * len(items)
    if not isinstance(results, list):
        return out
    by_ext: dict[str, int] | None = None
    by_email: dict[str, int] | None = None
    by_id: dict[int, int] | None = None
    for raw in results:
        if not isinstance(raw, dict):
            continue
        n = raw.get("index")
        if not (type(n) is int and 0 <= n < len(items) and out[n] is None):
            n = None
            if raw.get("external_id") is not None:
                by_ext = by_ext if by_ext is not None else _positions(items, "external_id")
                n = by_ext.get(str(raw["external_id"]).lower())
            if n is None and raw.get("email"):
                by_email = by_email if by_email is not None else _positions(items, "email")
                n = by_email.get(str(raw["email"]).lower())
            if n is None and raw.get("id") is not None:
                if by_id is None:
                    by_id = {i.dest_id: p for p, i in enumerate(items) if i.dest_id is not None}
                n = by_id.get(raw["id"])
        if n is not None and out[n] is None:
            out[n] = to_result(raw)
    return out


def _positions(items: list[Item], attr: str) -> dict[str, int]:
    """Map case-insensitive keys to positions (Zendesk matches external_id, email so)."""
    out: dict[str, int] = {}
    for p, item in enumerate(items):
        value = getattr(item, attr)
        if value:
            out.setdefault(str(value).lower(), p)
    return out


class JobRunner:
    """Submits batches with at most `max_in_flight` of our jobs queued, and sees each job end.

    In flight we count our jobs not yet seen final, bounded by the account's own count from the
    `inflight-jobs` header of each job-creating reply; so when jobs finish faster than we submit,
    no poll is needed to go on, and one `show_many` later fetches up to 100 results at once.
    """

    def __init__(
        self,
        client: ZendeskClient,
        journal: Journal,
        *,
        max_in_flight: int = 5,
        job_timeout: float = 900.0,
        logger: logging.Logger | None = None,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
        min_poll: float = 0.2,
        max_poll: float = 5.0,
        max_attempts: int = 2,
        lost_reply_grace: float = DEFAULT_LOST_REPLY_GRACE,
    ) -> None:
        self.client = client
        self.journal = journal
        self.max_in_flight = max(1, max_in_flight)
        self.job_timeout = job_timeout
        self.logger = logger or logging.getLogger("target_zendesk.jobs")
        self._clock = clock
        self._sleep_for = sleep
        self.min_poll = min_poll
        self.max_poll = max_poll
        self.max_attempts = max_attempts
        #: A request cut off on our side may still be processed by Zendesk after we gave up on it.
        self.grace = max(float(getattr(client, "timeout", 30.0)), float(lost_reply_grace))
        self.first_poll = min_poll
        self.polls = 0
        self.submissions = 0
        self.requests_by_stream: Counter[str] = Counter()
        self.max_seen_in_flight = 0
        self._wait = min_poll
        self._account_inflight: int | None = None
        self._queue_full = False
        self._full_since: float | None = None
        self._room_wait = 1.0
        #: Operations sent one record at a time for the rest of the run (bulk refused, 403).
        self.singly: set[str] = set()
        self._next_single = 0.0

    # -- entry points ----------------------------------------------------------------------
    def run(self, batches: t.Iterable[Batch], handler: BatchHandler) -> None:
        """Submit every batch and return when each of its records is final."""
        self._loop(deque(batches), {}, [], handler)

    def resume(self, batches: t.Iterable[Batch], handler: BatchHandler) -> None:
        """Finish batches of an earlier run: poll known jobs, reconcile the ones without."""
        unconfirmed: dict[str, Batch] = {}
        unknown: list[Batch] = []
        now = self._clock()
        for batch in batches:
            if batch.job_id:
                batch.submitted_at = now
                unconfirmed[batch.job_id] = batch
            else:
                batch.lookup = True
                age = time.time() - batch.journaled_at if batch.journaled_at else self.grace
                batch.settle_after = now + max(0.0, self.grace - age)
                unknown.append(batch)
        self._loop(deque(), unconfirmed, unknown, handler)

    # -- the loop --------------------------------------------------------------------------
    def _sleep(self, seconds: float) -> None:
        """Write the job ids noted since the last transaction, then wait."""
        self.journal.flush_jobs()
        self._sleep_for(seconds)

    def _ours_in_flight(self, unconfirmed: dict[str, Batch]) -> int:
        """Bound our queued/running jobs: not seen final, and not above the header's count."""
        if self._account_inflight is None:
            return len(unconfirmed)
        return min(len(unconfirmed), self._account_inflight)

    def _room(self, unconfirmed: dict[str, Batch]) -> bool:
        """Tell whether one more job may be queued now."""
        if self._queue_full:
            return False
        return self._ours_in_flight(unconfirmed) < self.max_in_flight

    def _loop(
        self,
        pending: deque[Batch],
        unconfirmed: dict[str, Batch],
        unknown: list[Batch],
        handler: BatchHandler,
    ) -> None:
        while pending or unconfirmed or unknown:
            while pending and self._room(unconfirmed) and len(unconfirmed) < SHOW_MANY_LIMIT:
                self._submit(pending, unconfirmed, unknown, handler)
            if unconfirmed and (
                not pending or not self._room(unconfirmed) or len(unconfirmed) >= SHOW_MANY_LIMIT
            ):
                self._poll(unconfirmed, unknown, handler)
            elif unknown and not unconfirmed:
                self._settle(unknown, pending, handler)
            elif pending and not unconfirmed:
                self._wait_for_room()

    # -- submitting ------------------------------------------------------------------------
    def _submit(
        self,
        pending: deque[Batch],
        unconfirmed: dict[str, Batch],
        unknown: list[Batch],
        handler: BatchHandler,
    ) -> None:
        """POST one batch; a refusal puts it back, an unreadable reply makes it 'unknown'."""
        batch = pending.popleft()
        if batch.operation in self.singly:
            self._write_singly(batch, handler)
            return
        op = OPERATIONS[batch.operation]
        batch.journal_id = self.journal.begin_batch(batch.stream, batch.operation, batch.items)
        body = {op.body_key: [item.payload for item in batch.items]}
        try:
            response = self.client.request(
                op.method, op.path, params=batch.params, json=body, idempotent=False
            )
            reply = decode_json(response)
        except ZendeskRequestError as exc:
            self.journal.end_batch(batch.journal_id)
            if is_too_many_jobs(exc.response):  # its status is unconfirmed (6.5): any 4xx
                pending.appendleft(batch)
                self._note_full(exc.response)
                return
            if exc.status_code == 403 and batch.operation in SINGLE_FALLBACKS:
                self._fall_back(batch, exc)
                self._write_singly(batch, handler)
                return
            if exc.status_code in (403, 404):
                raise EndpointRefusedError(
                    f"{exc} Nothing can be written through {op.method} {op.path}: check that the "
                    "credentials belong to an admin and that the feature is enabled on the account."
                ) from None
            handler.rejected(batch, batch.items, "BatchRefused", str(exc))
            return
        except (RetriableAPIError, requests.RequestException, ConnectionError) as exc:
            refused = response_of(exc)
            if is_too_many_jobs(refused):
                self.journal.end_batch(batch.journal_id)
                pending.appendleft(batch)
                self._note_full(refused)
                return
            if is_rate_limited(exc) or never_sent(exc):
                self.journal.end_batch(batch.journal_id)
                raise RateLimitedError(
                    f"Zendesk kept refusing {op.method} {op.path} after "
                    f"{self.client.policy.max_retries} retries ({_what(exc)}); nothing of this "
                    "batch was written. Rerun later, or raise `max_retries`."
                ) from None
            batch.reason = (
                f"the reply to {op.method} {op.path} was lost ({_what(exc)}); Zendesk may or may "
                "not have queued the job"
            )
            batch.lookup = not op.idempotent
            if refused is None:  # no reply at all: Zendesk may still be working on it
                batch.settle_after = self._clock() + self.grace
            unknown.append(batch)
            self.logger.warning(
                "Batch of %d %s: %s. Checking by external_id before sending again.",
                len(batch.items),
                batch.stream,
                batch.reason,
            )
            return
        self.submissions += 1
        self.requests_by_stream[batch.stream] += 1
        self._note_inflight(response)
        job = unwrap_job(reply)
        job_id = job.get("id")
        if not job_id:
            batch.reason = f"the reply to {op.method} {op.path} carried no job id"
            batch.lookup = not op.idempotent
            unknown.append(batch)
            return
        batch.job_id = str(job_id)
        batch.submitted_at = self._clock()
        self.journal.set_job(batch.journal_id, batch.job_id)
        self._wait = self.first_poll
        if job.get("status") in FINAL_STATUSES and job.get("results") is not None:
            self._final(batch, job, unknown, handler)
            return
        unconfirmed[batch.job_id] = batch
        self.max_seen_in_flight = max(self.max_seen_in_flight, self._ours_in_flight(unconfirmed))

    # -- one at a time (bulk import switched off) ------------------------------------------
    def _fall_back(self, batch: Batch, exc: ZendeskRequestError) -> None:
        """Switch an operation to single calls for the rest of the run, saying so once."""
        op, single = OPERATIONS[batch.operation], SINGLE_FALLBACKS[batch.operation]
        self.singly.add(batch.operation)
        self.logger.warning(
            "Zendesk refused %s %s with 403 (%s): bulk import is off on this account (or not "
            "allowed for these credentials). Falling back to one %s %s per record at 1 "
            "request/second (about an hour per 3,600 records); ask Zendesk support to enable "
            "bulk user import (and use an admin) to write 100 per call.",
            op.method,
            op.path,
            exc.response is not None and zendesk_reason(exc.response) or exc,
            single.method,
            single.path,
        )

    def _write_singly(self, batch: Batch, handler: BatchHandler) -> None:
        """Send each item on its own, paced; per-item 4xx is that record's rejection.

        The single upsert matches by external_id or email like the bulk one, so a resend
        after a lost reply or a crash updates the same record: no journal entry is needed.
        """
        op = SINGLE_FALLBACKS[batch.operation]
        pairs: list[tuple[Item, ItemResult]] = []
        try:
            for item in batch.items:
                pairs.append((item, self._send_one(op, item, batch.stream)))
        finally:
            if pairs:
                handler.written(batch, pairs)

    def _send_one(self, op: Operation, item: Item, stream: str) -> ItemResult:
        """One paced call; the reply's status tells created (201) from updated (200)."""
        wait = self._next_single - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._next_single = self._clock() + SINGLE_INTERVAL
        self.submissions += 1
        self.requests_by_stream[stream] += 1
        try:
            response = self.client.request(
                op.method, op.path, json={op.body_key: item.payload}, idempotent=True
            )
            reply = decode_json(response)
        except ZendeskRequestError as exc:
            if exc.status_code in (401, 403, 404):
                raise EndpointRefusedError(
                    f"{exc} Nothing can be written through {op.method} {op.path} either: check "
                    "that the credentials belong to an admin."
                ) from None
            return ItemResult(
                ok=False,
                error=_error_code(exc.response) or f"HTTP {exc.status_code}",
                details=zendesk_reason(exc.response) if exc.response is not None else str(exc),
            )
        except (RetriableAPIError, requests.RequestException, ConnectionError) as exc:
            raise RateLimitedError(
                f"Zendesk kept refusing {op.method} {op.path} after "
                f"{self.client.policy.max_retries} retries ({_what(exc)}); the records before "
                "this one were written. Rerun later (upserts: nothing is duplicated), or raise "
                "`max_retries`."
            ) from None
        obj = reply.get(op.body_key) if isinstance(reply, dict) else None
        dest = obj.get("id") if isinstance(obj, dict) else None
        if type(dest) is not int:
            return ItemResult(
                ok=False,
                error="UnexpectedReply",
                details=f"{op.method} {op.path} answered {response.status_code} without an id",
            )
        return ItemResult(
            ok=True, dest_id=dest, action="created" if response.status_code == 201 else "updated"
        )

    def _note_inflight(self, response: requests.Response) -> None:
        """Read the account's queue from a job-creating reply."""
        header = inflight_jobs(response)
        if header is None:
            self._account_inflight = None
            return
        total, remaining, _ = header
        self._account_inflight = max(0, total - remaining)
        if remaining <= 0:
            self._note_full(response)

    def _note_full(self, response: requests.Response | None) -> None:
        """Note a full job queue: wait for a job to end before the next POST."""
        self._queue_full = True
        if self._full_since is None:
            self._full_since = self._clock()
        header = inflight_jobs(response)
        wait = retry_after_seconds(response)
        if wait is None and header is not None:
            wait = float(header[2])
        self._room_wait = min(30.0, max(self.min_poll, wait if wait else self._room_wait))
        self.logger.info("Zendesk's job queue is full; waiting for a job to finish.")

    def _room_found(self) -> None:
        """Try submitting again: a job ended (or we waited)."""
        self._queue_full = False
        self._full_since = None

    def _wait_for_room(self) -> None:
        """None of our jobs runs but the queue is full (other integrations): wait, bounded."""
        if self._full_since is not None and self._clock() - self._full_since > self.job_timeout:
            raise JobTimeoutError(
                f"Zendesk's job queue stayed full for {self.job_timeout:.0f} s with none of our "
                "jobs in it (other integrations hold the 30-job limit). Rerun later."
            )
        self._sleep(self._room_wait)
        self._room_wait = min(30.0, self._room_wait * 2)
        self._queue_full = False

    # -- polling ---------------------------------------------------------------------------
    def _poll(
        self, unconfirmed: dict[str, Batch], unknown: list[Batch], handler: BatchHandler
    ) -> None:
        """Wait, then read every unconfirmed job with `show_many` and handle the final ones."""
        self._sleep(self._wait)
        ids = list(unconfirmed)
        seen: dict[str, dict[str, t.Any]] = {}
        for start in range(0, len(ids), SHOW_MANY_LIMIT):
            chunk = ids[start : start + SHOW_MANY_LIMIT]
            body = self.client.get_json(f"{JOB_STATUSES_PATH}/show_many", ids=",".join(chunk))
            self.polls += 1
            self.requests_by_stream[unconfirmed[chunk[0]].stream] += 1
            for job in body.get("job_statuses") or []:
                if isinstance(job, dict) and job.get("id") is not None:
                    seen[str(job["id"])] = job
        now = self._clock()
        progress = False
        waiting = False
        finals: list[tuple[Batch, dict[str, t.Any]]] = []
        late: JobTimeoutError | None = None
        for job_id in ids:
            batch = unconfirmed[job_id]
            job = seen.get(job_id)
            if job is None:
                batch.misses += 1
                if batch.misses >= 2:  # twice absent: the status is gone (404 after a day)
                    del unconfirmed[job_id]
                    batch.reason = f"the status of job {job_id} is gone (404)"
                    batch.lookup = True  # the job ran long ago: what it wrote is there
                    unknown.append(batch)
                    progress = True
                continue
            batch.misses = 0
            if job.get("status") in FINAL_STATUSES:
                del unconfirmed[job_id]
                finals.append((batch, job))
                progress = True
            elif now - batch.submitted_at <= self.job_timeout:
                waiting = True
            elif late is None:
                late = JobTimeoutError(
                    f"Job {job_id} ({batch.stream}, {len(batch.items)} records) is still "
                    f"{job.get('status')} after {self.job_timeout:.0f} s. The journal keeps it: "
                    "rerun later and the target picks it up where it stands."
                )
        if finals:  # the outcomes of one poll in one journal transaction (a commit each cost more)
            with self.journal.transaction():
                for batch, job in finals:
                    self._final(batch, job, unknown, handler)
        if late is not None:
            raise late
        self._learn(progress, waiting)

    def _learn(self, progress: bool, waiting: bool) -> None:
        """Adapt the first wait to the slowest job, so a round of jobs costs about one poll."""
        if waiting:
            self.first_poll = min(self.max_poll, self.first_poll * 1.25)
        else:
            self.first_poll = max(self.min_poll, self.first_poll * 0.98)
        if progress:
            self._wait = self.first_poll
            self._room_found()
        else:
            self._wait = min(self.max_poll, self._wait * 2)

    def _final(
        self, batch: Batch, job: dict[str, t.Any], unknown: list[Batch], handler: BatchHandler
    ) -> None:
        """Hand results to the sink; items without a good result get one more careful try."""
        status = job.get("status")
        mapped = map_results(batch.items, job.get("results"))
        with self.journal.transaction():
            self._settle_final(batch, job, status, mapped, unknown, handler)

    def _settle_final(
        self,
        batch: Batch,
        job: dict[str, t.Any],
        status: t.Any,
        mapped: list[ItemResult | None],
        unknown: list[Batch],
        handler: BatchHandler,
    ) -> None:
        """Write outcomes and end the batch in one journal transaction."""
        done: list[tuple[Item, ItemResult]] = []
        retry: list[Item] = []
        for item, result in zip(batch.items, mapped, strict=True):
            if result is not None and (status == "completed" or result.ok):
                done.append((item, result))
            else:
                retry.append(item)
        if done:
            handler.written(batch, done)
        if retry:
            if status == "completed":
                reason = f"job {batch.job_id} completed without a result for this record"
                error = "NoResult"
            else:
                message = job.get("message") or "no message"
                reason = f"job {batch.job_id} ended {status}: {message}"
                error = "JobFailed" if status == "failed" else "JobKilled"
            self.logger.warning("%d %s records: %s.", len(retry), batch.stream, reason)
            again = Batch(
                batch.stream,
                batch.operation,
                retry,
                params=batch.params,
                attempt=batch.attempt,
                reason=reason,
                error=error,
                extra=batch.extra,
                lookup=not OPERATIONS[batch.operation].idempotent,
            )
            again.journal_id = self.journal.begin_batch(again.stream, again.operation, retry)
            unknown.append(again)
        if batch.journal_id is not None:
            self.journal.end_batch(batch.journal_id)

    # -- records whose fate is unknown -----------------------------------------------------
    def _settle(self, unknown: list[Batch], pending: deque[Batch], handler: BatchHandler) -> None:
        """Look records up once the queue is quiet; resend what is missing, once."""
        batches = list(unknown)
        unknown.clear()
        if any(b.lookup for b in batches):
            pause = max(b.settle_after for b in batches) - self._clock()
            if pause > 0:
                self.logger.info(
                    "Waiting %.1f s so Zendesk finishes any request of ours it still holds.", pause
                )
                self._sleep(pause)
            self._wait_quiet_queue()
        for batch in batches:
            found = handler.reconcile(batch) if batch.lookup else [None] * len(batch.items)
            pairs = [(i, r) for i, r in zip(batch.items, found, strict=True) if r is not None]
            if pairs:
                handler.written(batch, pairs)
            rest = [i for i, r in zip(batch.items, found, strict=True) if r is None]
            if rest:
                if batch.attempt >= self.max_attempts:
                    handler.rejected(batch, rest, batch.error, batch.reason)
                else:
                    pending.extend(handler.rebatch(batch, rest))
            if batch.journal_id is not None:
                self.journal.end_batch(batch.journal_id)

    def _wait_quiet_queue(self) -> None:
        """Wait until no job is queued or running on the account, so a lost one has ended."""
        deadline = self._clock() + self.job_timeout
        wait = self.min_poll
        while True:
            body = self.client.get_json(JOB_STATUSES_PATH, **{"page[size]": 100})
            self.polls += 1
            busy = [
                j
                for j in body.get("job_statuses") or []
                if isinstance(j, dict) and j.get("status") in ("queued", "working")
            ]
            if not busy:
                return
            if self._clock() >= deadline:
                raise OutcomeUnknownError(
                    f"{len(busy)} jobs are still queued on the account after "
                    f"{self.job_timeout:.0f} s, so we cannot tell whether a batch whose reply was "
                    "lost was written. The journal keeps it: rerun later."
                )
            self._sleep(wait)
            wait = min(self.max_poll, wait * 2)


def _error_code(response: requests.Response | None) -> str | None:
    """Zendesk's error code of a refusal (`RecordInvalid`, ...) when the body has one."""
    try:
        body = json.loads(response.content) if response is not None else None
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _what(exc: BaseException) -> str:
    """Name the cause of a failed request: status or exception class, never URL or header."""
    response = response_of(exc)
    if response is not None:
        return f"HTTP {response.status_code}"
    return type(exc).__name__
