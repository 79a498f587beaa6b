"""JobRunner against canned replies (`responses`): polling, result mapping, failures, the queue."""

from __future__ import annotations

import json
import typing as t

import pytest
import responses
from responses import matchers

from tap_zendesk.api.client import ZendeskClient
from tap_zendesk.api.governor import RateLimitGovernor
from tap_zendesk.api.retry import RetryPolicy
from target_zendesk.jobs import (
    Batch,
    Item,
    ItemResult,
    JobRunner,
    JobTimeoutError,
    RateLimitedError,
    map_results,
    unwrap_job,
)
from target_zendesk.journal import Journal

BASE = "https://acme.zendesk.com"
IMPORT = f"{BASE}/api/v2/imports/tickets/create_many"
SHOW_MANY = f"{BASE}/api/v2/job_statuses/show_many"
JOB_LIST = f"{BASE}/api/v2/job_statuses"


class FakeTime:
    """Clock and sleep for the runner: sleeping only moves the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Recorder:
    """A BatchHandler that remembers what the runner told it."""

    def __init__(self, found: dict[str, int] | None = None) -> None:
        self.results: dict[str, ItemResult] = {}
        self.refused: list[tuple[str, str, str]] = []
        self.reconciled: list[list[str]] = []
        self.found = found or {}

    def written(self, batch: Batch, pairs: list[tuple[Item, ItemResult]]) -> None:
        for item, result in pairs:
            self.results[item.key] = result

    def rejected(self, batch: Batch, items: list[Item], error: str, details: str) -> None:
        self.refused += [(i.key, error, details) for i in items]

    def reconcile(self, batch: Batch) -> list[ItemResult | None]:
        self.reconciled.append([i.key for i in batch.items])
        return [
            ItemResult(ok=True, dest_id=self.found[i.key]) if i.key in self.found else None
            for i in batch.items
        ]

    def rebatch(self, batch: Batch, items: list[Item]) -> list[Batch]:
        return [Batch(batch.stream, batch.operation, items, attempt=batch.attempt + 1)]

    @property
    def ids(self) -> dict[str, int | None]:
        return {k: r.dest_id for k, r in self.results.items()}


def make_runner(tmp_path, fake: FakeTime, **kwargs: t.Any) -> tuple[JobRunner, Journal]:
    """A runner on a real client (canned HTTP), a journal file and the fake clock."""
    config = {"subdomain": "acme", "email": "a@acme.test", "api_token": "tok", "max_retries": 2}
    client = ZendeskClient(
        config,
        governor=RateLimitGovernor(sleep=fake.sleep),
        policy=RetryPolicy(max_retries=2, base_wait=0.0, jitter=False),
    )
    journal = Journal(tmp_path / "journal.sqlite")
    runner = JobRunner(client, journal, clock=fake.clock, sleep=fake.sleep, **kwargs)
    return runner, journal


def batch(*keys: str) -> Batch:
    """A ticket import batch with one item per key (external_id = key)."""
    items = [Item(k, {"external_id": k}, external_id=k) for k in keys]
    return Batch("tickets", "tickets.import", items)


def posts() -> list[t.Any]:
    """The POSTs sent so far."""
    return [c for c in responses.calls if c.request.method == "POST"]


def job(job_id: str, status: str = "queued", results: t.Any = None, **extra: t.Any) -> dict:
    """A job_status object."""
    return {"id": job_id, "status": status, "results": results, **extra}


def polled(*jobs: dict[str, t.Any]) -> None:
    """Answer `job_statuses/show_many?ids=<these jobs' ids>` with these job statuses."""
    responses.get(
        SHOW_MANY,
        match=[matchers.query_param_matcher({"ids": ",".join(j["id"] for j in jobs)})],
        json={"job_statuses": list(jobs)},
    )


def created(job_id: str, *headers: tuple[str, str], remaining: int = 29) -> dict[str, t.Any]:
    """A job-creating reply with the inflight-jobs header."""
    return {
        "json": {"job_status": job(job_id)},
        "headers": {
            "Zendesk-RateLimit-inflight-jobs": f"total=30; remaining={remaining}; resets=5",
            **dict(headers),
        },
    }


@responses.activate
def test_runner_polls_several_jobs_with_one_show_many_and_maps_results_by_index(tmp_path):
    """Two jobs in flight cost one show_many; results in any order land on the right items."""
    fake = FakeTime()
    runner, journal = make_runner(tmp_path, fake, max_in_flight=2)
    responses.post(IMPORT, **created("j1"))
    responses.post(IMPORT, **created("j2"))
    responses.get(
        SHOW_MANY,
        match=[matchers.query_param_matcher({"ids": "j1,j2"})],
        json={
            "job_statuses": [
                job("j2", "completed", [{"index": 0, "id": 30}]),
                job("j1", "completed", [{"index": 1, "id": 20}, {"index": 0, "id": 10}]),
            ]
        },
    )
    h = Recorder()
    runner.run([batch("a", "b"), batch("c")], h)
    assert h.ids == {"a": 10, "b": 20, "c": 30}
    assert runner.polls == 1
    assert journal.open_batches() == []


def test_results_without_index_match_by_external_id_email_or_id():
    """Update results carry no index: external_id, email (any case) or the known id match."""
    items = [
        Item("1", {}, external_id="Crm-1"),
        Item("2", {}, email="b@x.test"),
        Item("3", {}, dest_id=77),
    ]
    results = [
        {"id": 77, "status": "Updated"},
        {"email": "B@X.TEST", "id": 5},
        {"external_id": "crm-1", "error": "InvalidValue", "details": "bad"},
    ]
    out = map_results(items, results)
    assert out[0] is not None and not out[0].ok and out[0].details == "bad"
    assert out[1] is not None and out[1].dest_id == 5 and out[1].ok
    assert out[2] is not None and out[2].action == "updated"


def test_job_status_without_wrapper_is_accepted():
    """One docs example has no `job_status` key: the top level is the job."""
    assert unwrap_job({"id": "x", "status": "completed"})["id"] == "x"
    assert unwrap_job({"job_status": {"id": "y"}})["id"] == "y"


@responses.activate
def test_failed_job_is_checked_by_external_id_then_sent_once_more(tmp_path):
    """`failed`: wait for a quiet queue, look the records up, resend only what is missing."""
    fake = FakeTime()
    runner, _ = make_runner(tmp_path, fake)
    responses.post(IMPORT, **created("j1"))
    polled(job("j1", "failed", None, message="boom"))
    responses.get(JOB_LIST, json={"job_statuses": [job("j1", "failed")]})
    responses.post(IMPORT, **created("j2"))
    polled(job("j2", "completed", [{"index": 0, "id": 2}]))
    h = Recorder(found={"a": 1})
    runner.run([batch("a", "b")], h)
    assert h.reconciled == [["a", "b"]]
    resent = json.loads(posts()[1].request.body)
    assert [x["external_id"] for x in resent["tickets"]] == ["b"]
    assert h.ids == {"a": 1, "b": 2}


@pytest.mark.parametrize("status", ["failed", "killed"])
@responses.activate
def test_job_that_ends_badly_twice_is_rejected_with_its_reason(tmp_path, status):
    """A second failed/killed job rejects its records with the job's status and message."""
    fake = FakeTime()
    runner, _ = make_runner(tmp_path, fake)
    for n in (1, 2):
        responses.post(IMPORT, **created(f"j{n}"))
        polled(job(f"j{n}", status, None, message="went away"))
        responses.get(JOB_LIST, json={"job_statuses": []})
    h = Recorder()
    runner.run([batch("a")], h)
    assert len(h.refused) == 1
    key, error, details = h.refused[0]
    assert key == "a" and error == ("JobFailed" if status == "failed" else "JobKilled")
    assert f"ended {status}: went away" in details


@responses.activate
def test_lost_job_status_is_reconciled_by_lookup_not_resent(tmp_path):
    """A job absent from show_many twice (404, past retention): records found are confirmed."""
    fake = FakeTime()
    runner, _ = make_runner(tmp_path, fake)
    responses.post(IMPORT, **created("j1"))
    responses.get(SHOW_MANY, json={"job_statuses": []})
    responses.get(SHOW_MANY, json={"job_statuses": []})
    responses.get(JOB_LIST, json={"job_statuses": []})
    h = Recorder(found={"a": 11})
    runner.run([batch("a")], h)
    assert h.reconciled == [["a"]]
    assert h.results["a"].dest_id == 11
    assert len(posts()) == 1


@pytest.mark.parametrize("status", [429, 422, 400, 403])
@responses.activate
def test_too_many_jobs_waits_for_one_of_ours_then_resubmits_without_a_long_sleep(
    tmp_path, status
):
    """TooManyJobs (its status is unconfirmed, 429 likely): poll our job, then resend; never a
    60 s pause, never a rejected batch."""
    fake = FakeTime()
    runner, _ = make_runner(tmp_path, fake, max_in_flight=5)
    responses.post(IMPORT, **created("j1"))
    responses.post(
        IMPORT,
        status=status,
        json={"error": "TooManyJobs", "description": "Too many jobs", "current_job_ids": ["j1"]},
        headers={"Zendesk-RateLimit-inflight-jobs": "total=30; remaining=0; resets=3"},
    )
    polled(job("j1", "completed", [{"index": 0, "id": 1}]))
    responses.post(IMPORT, **created("j2"))
    polled(job("j2", "completed", [{"index": 0, "id": 2}]))
    h = Recorder()
    runner.run([batch("a"), batch("b")], h)
    assert h.ids == {"a": 1, "b": 2}
    assert h.refused == []
    assert sum(fake.sleeps) < 5
    assert len(posts()) == 3


@responses.activate
def test_full_queue_header_holds_the_next_submission_until_a_job_ends(tmp_path):
    """`remaining=0` on a job-creating reply: the next POST waits for a poll showing room."""
    fake = FakeTime()
    runner, _ = make_runner(tmp_path, fake, max_in_flight=5)
    responses.post(IMPORT, **created("j1", remaining=0))
    polled(job("j1", "completed", [{"index": 0, "id": 1}]))
    responses.post(IMPORT, **created("j2"))
    polled(job("j2", "completed", [{"index": 0, "id": 2}]))
    runner.run([batch("a"), batch("b")], Recorder())
    methods = [c.request.method for c in responses.calls]
    assert methods == ["POST", "GET", "POST", "GET"]


@responses.activate
def test_job_not_final_by_the_deadline_raises_and_stays_in_the_journal(tmp_path):
    """A job still `working` after job_timeout stops the run; the journal keeps its id."""
    fake = FakeTime()
    runner, journal = make_runner(tmp_path, fake, job_timeout=30)
    responses.post(IMPORT, **created("j1"))
    responses.get(SHOW_MANY, json={"job_statuses": [job("j1", "working")]})
    with pytest.raises(JobTimeoutError, match="j1"):
        runner.run([batch("a")], Recorder())
    assert [b.job_id for b in journal.open_batches()] == ["j1"]
    assert max(fake.sleeps) <= 5.0


@responses.activate
def test_post_without_a_readable_reply_is_looked_up_before_anything_is_resent(tmp_path):
    """A 500 on the POST may hide a created job: quiet queue, lookup, resend only the missing."""
    fake = FakeTime()
    runner, _ = make_runner(tmp_path, fake)
    responses.post(IMPORT, status=500, body="<html>oops</html>")
    responses.get(JOB_LIST, json={"job_statuses": [job("x", "working")]})
    responses.get(JOB_LIST, json={"job_statuses": [job("x", "completed")]})
    responses.post(IMPORT, **created("j2"))
    responses.get(
        SHOW_MANY, json={"job_statuses": [job("j2", "completed", [{"index": 0, "id": 9}])]}
    )
    h = Recorder(found={"a": 8})
    runner.run([batch("a", "b")], h)
    resent = json.loads(posts()[1].request.body)
    assert [x["external_id"] for x in resent["tickets"]] == ["b"]
    assert h.ids == {"a": 8, "b": 9}


@responses.activate
def test_write_still_rate_limited_after_max_retries_raises_a_clear_error(tmp_path):
    """429 beyond max_retries: a RateLimitedError naming the endpoint; no open batch left."""
    fake = FakeTime()
    runner, journal = make_runner(tmp_path, fake)
    for _ in range(3):
        responses.post(IMPORT, status=429, body="Too many", headers={"Retry-After": "0"})
    with pytest.raises(RateLimitedError, match="imports/tickets/create_many.*max_retries"):
        runner.run([batch("a")], Recorder())
    assert len(responses.calls) == 3
    assert journal.open_batches() == []


@responses.activate
def test_resume_polls_the_jobs_an_earlier_run_left_open(tmp_path):
    """Recovery: a journaled job id is polled and its results handed over, nothing resent."""
    fake = FakeTime()
    runner, journal = make_runner(tmp_path, fake)
    b = batch("a")
    b.journal_id = journal.begin_batch("tickets", "tickets.import", b.items)
    journal.set_job(b.journal_id, "old")
    b.job_id = "old"
    responses.get(
        SHOW_MANY, json={"job_statuses": [job("old", "completed", [{"index": 0, "id": 5}])]}
    )
    h = Recorder()
    runner.resume([b], h)
    assert h.results["a"].dest_id == 5
    assert journal.open_batches() == []


# -- journal writes per batch (issue 7: a commit costs more than the row) --------------------
def _job_ids_on_disk(path) -> list[str | None]:
    """The job ids another connection sees in the journal file (what a crash would leave)."""
    import sqlite3

    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT job_id FROM batches ORDER BY id")]


def test_a_job_id_is_written_with_the_next_transaction_or_before_the_runner_waits(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite")
    first = journal.begin_batch("tickets", "tickets.import", batch("a").items)
    journal.set_job(first, "j1")
    assert _job_ids_on_disk(tmp_path / "journal.sqlite") == [None]  # only noted so far

    journal.begin_batch("tickets", "tickets.import", batch("b").items)  # the next transaction
    assert _job_ids_on_disk(tmp_path / "journal.sqlite") == ["j1", None]

    journal.set_job(first + 1, "j2")
    journal.flush_jobs()
    assert _job_ids_on_disk(tmp_path / "journal.sqlite") == ["j1", "j2"]
    assert [b.job_id for b in journal.open_batches()] == ["j1", "j2"]


@responses.activate
def test_the_runner_writes_job_ids_before_it_waits_for_them(tmp_path):
    """A crash while waiting on a job finds its id in the journal (the job is read, not looked up)."""
    fake = FakeTime()
    runner, journal = make_runner(tmp_path, fake, job_timeout=30)
    on_disk: list[list[str | None]] = []
    sleep = runner._sleep_for

    def watching_sleep(seconds: float) -> None:
        on_disk.append(_job_ids_on_disk(tmp_path / "journal.sqlite"))
        sleep(seconds)

    runner._sleep_for = watching_sleep
    responses.post(IMPORT, **created("j1"))
    responses.get(SHOW_MANY, json={"job_statuses": [job("j1", "working")]})
    with pytest.raises(JobTimeoutError):
        runner.run([batch("a")], Recorder())
    assert on_disk and on_disk[0] == ["j1"]


@responses.activate
def test_outcomes_read_in_one_poll_are_written_in_one_transaction(tmp_path):
    fake = FakeTime()
    runner, journal = make_runner(tmp_path, fake, max_in_flight=3)
    for n in (1, 2, 3):
        responses.post(IMPORT, **created(f"j{n}"))
    polled(*(job(f"j{n}", "completed", [{"index": 0, "id": 100 + n}]) for n in (1, 2, 3)))
    commits: list[str] = []
    journal._db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)

    h = Recorder()
    runner.run([batch("a"), batch("b"), batch("c")], h)

    assert h.ids == {"a": 101, "b": 102, "c": 103}
    assert journal.open_batches() == []
    # A commit per submitted batch (each carries the job id noted before it), one for the last
    # job id before the wait, one for the poll's three outcomes; a commit each was 3 + 3 + 3.
    assert len(commits) == 3 + 1 + 1


@responses.activate
def test_a_job_past_its_deadline_stops_the_run_after_the_polls_finished_jobs_are_settled(
    tmp_path,
):
    fake = FakeTime()
    runner, journal = make_runner(tmp_path, fake, max_in_flight=2, job_timeout=30)
    responses.post(IMPORT, **created("slow"))
    responses.post(IMPORT, **created("done"))
    responses.get(
        SHOW_MANY,
        json={"job_statuses": [job("slow", "working"), job("done", "queued")]},
    )
    responses.get(
        SHOW_MANY,
        json={
            "job_statuses": [
                job("slow", "working"),
                job("done", "completed", [{"index": 0, "id": 7}]),
            ]
        },
    )
    fake.now = 0.0
    h = Recorder()
    orig = runner._sleep_for

    def slow_clock(seconds: float) -> None:
        orig(seconds + 20)  # each wait takes 20 s more: the second poll is past the deadline

    runner._sleep_for = slow_clock
    with pytest.raises(JobTimeoutError, match="slow"):
        runner.run([batch("a"), batch("b")], h)
    assert h.ids == {"b": 7}  # the finished job of the same poll was settled first
    assert [b.job_id for b in journal.open_batches()] == ["slow"]
