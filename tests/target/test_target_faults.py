"""Bad nights on Zendesk's side (emulator faults): each record still lands exactly once."""

from __future__ import annotations

import json
import math
import signal
import time
import typing as t
from pathlib import Path

import pytest

from target_zendesk.jobs import RateLimitedError
from tests.emulator import Emulator
from tests.target.conftest import (
    SourceAccount,
    by_external_id,
    rejects,
    run_target,
    run_target_process,
    target_config,
    write_singer,
)

IMPORT_PATH = "/api/v2/imports/tickets/create_many"


def ticket_keys(source: SourceAccount) -> set[str]:
    """External ids the live source tickets must have in the destination."""
    return {t.get("external_id") or str(t["id"]) for t in source.live_tickets}


def split_inputs(source: SourceAccount, tmp_path: Path) -> tuple[Path, Path]:
    """Two inputs: organizations + users, then comments + tickets (as two tap runs)."""
    people = write_singer(tmp_path / "people.singer", source.streams(("organizations", "users")))
    tickets = write_singer(
        tmp_path / "tickets.singer", source.streams(("ticket_comments", "tickets"))
    )
    return people, tickets


def with_people(
    emulator_factory: t.Callable[..., Emulator],
    source: SourceAccount,
    tmp_path: Path,
    **knobs: t.Any,
) -> tuple[Emulator, dict[str, t.Any], Path]:
    """A destination that already holds the source's organizations and users."""
    knobs = {"tickets": 0, "seed": 7, "hold_back": 0, "job_delay": 0.05, **knobs}
    dest = emulator_factory(**knobs)
    config = target_config(dest, tmp_path)
    people, tickets = split_inputs(source, tmp_path)
    run_target(config, people)
    dest.reset_stats()
    return dest, config, tickets


def posts_to(dest: Emulator, path: str = IMPORT_PATH) -> int:
    """POSTs the destination received on a path."""
    return dest.requests_to(path, "POST")


def test_429_storm_on_imports_is_waited_out_without_duplicates(
    emulator_factory, source_account, tmp_path
):
    """Three 429s (Retry-After 1) on the import: waited out, every ticket once."""
    dest, config, tickets = with_people(emulator_factory, source_account, tmp_path)
    dest.add_fault("429", path=IMPORT_PATH, times=3, retry_after=1)
    run_target(config, tickets)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)
    assert dest.stats()["rate_limited"] == 3
    assert rejects(config) == []


def test_429_beyond_max_retries_stops_clearly_and_a_rerun_completes(
    emulator_factory, source_account, tmp_path
):
    """Still 429 after max_retries: RateLimitedError names the endpoint; a rerun finishes."""
    dest, config, tickets = with_people(emulator_factory, source_account, tmp_path)
    config["max_retries"] = 1
    dest.add_fault("429", path=IMPORT_PATH, times=5, retry_after=1)
    with pytest.raises(RateLimitedError, match="imports/tickets/create_many"):
        run_target(config, tickets)
    assert dest.collection("tickets") == []
    dest.clear_faults()
    run_target(config, tickets)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)


def test_500_on_an_import_is_looked_up_by_external_id_before_resending(
    emulator_factory, source_account, tmp_path
):
    """A 500 hides whether a job was made: tickets are looked up, then sent again, once each."""
    dest, config, tickets = with_people(emulator_factory, source_account, tmp_path)
    dest.add_fault("500", path=IMPORT_PATH, times=1)
    run_target(config, tickets)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)
    assert dest.requests_to("/api/v2/tickets") == 100  # one lookup per ticket of the batch
    assert rejects(config) == []


@pytest.mark.parametrize("kind", ["truncated", "reset"])
def test_lost_reply_to_an_import_that_did_create_a_job_is_not_resent(
    emulator_factory, source_account, tmp_path, kind
):
    """The job ran but its reply was cut: found by external_id, so nothing is sent twice."""
    dest, config, tickets = with_people(emulator_factory, source_account, tmp_path)
    config["request_timeout"] = 2  # a reset reply is waited out for up to request_timeout
    dest.add_fault(kind, path=IMPORT_PATH, times=1)
    run_target(config, tickets)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)
    batches = math.ceil(len(source_account.live_tickets) / 100)
    assert posts_to(dest) == batches


def stalled_import(
    emulator_factory: t.Callable[..., Emulator],
    source: SourceAccount,
    tmp_path: Path,
    grace: float,
) -> tuple[Emulator, dict[str, t.Any]]:
    """Run the tickets into a destination that takes the first import 6 s after our timeout."""
    dest, config, tickets = with_people(emulator_factory, source, tmp_path)
    config.update(request_timeout=1, lost_reply_grace_seconds=grace)
    dest.add_fault("stall", path=IMPORT_PATH, times=1, seconds=6)
    run_target(config, tickets)
    return dest, config


def test_an_import_zendesk_processes_after_our_timeout_is_found_not_resent(
    emulator_factory, source_account, tmp_path
):
    """Zendesk takes the POST 6 s after we gave up (1 s timeout); the 8 s grace finds it."""
    dest, config = stalled_import(emulator_factory, source_account, tmp_path, grace=8)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)
    assert posts_to(dest) == math.ceil(len(source_account.live_tickets) / 100)
    assert rejects(config) == []


def test_a_grace_shorter_than_zendesks_delay_lands_tickets_twice(
    emulator_factory, source_account, tmp_path
):
    """Why the grace defaults to 60 s: looked up too early, a late-processed import is resent."""
    dest, _ = stalled_import(emulator_factory, source_account, tmp_path, grace=1)
    expected = ticket_keys(source_account)
    assert len(dest.collection("tickets")) == len(expected)  # the resend landed first
    # ...then Zendesk gets to the stalled request and its job runs: the batch is there twice.
    wait_for(lambda: len(dest.collection("tickets")) >= len(expected) + 100, timeout=20)
    keys = [row.get("external_id") for row in dest.collection("tickets")]
    assert set(keys) == expected
    assert len(keys) == len(expected) + 100


def test_5xx_on_job_status_polls_is_retried(emulator_factory, source_account, tmp_path):
    """Two 500s on show_many: GETs are retried; the run completes with every ticket once."""
    dest, config, tickets = with_people(emulator_factory, source_account, tmp_path)
    dest.add_fault("500", path="/api/v2/job_statuses/show_many", times=2)
    run_target(config, tickets)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)
    assert dest.stats()["faults_fired"] == {"500": 2}


@pytest.mark.parametrize("kind", ["job_failed", "job_killed"])
def test_failed_or_killed_import_job_is_retried_once(
    emulator_factory, source_account, tmp_path, kind
):
    """One failed/killed job: checked by external_id, sent again, all tickets land once."""
    dest, config, tickets = with_people(emulator_factory, source_account, tmp_path)
    dest.add_fault(kind, times=1)
    run_target(config, tickets)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)
    assert rejects(config) == []
    assert posts_to(dest) == math.ceil(len(source_account.live_tickets) / 100) + 1


def test_job_killed_twice_rejects_its_tickets_with_the_reason(
    emulator_factory, source_account, tmp_path
):
    """Killed again on the retry: the batch's tickets go to the rejects file as JobKilled."""
    dest, config, _ = with_people(emulator_factory, source_account, tmp_path)
    one = source_account.live_tickets[:5]
    path = write_singer(tmp_path / "five.singer", {"ticket_comments": [], "tickets": one})
    dest.add_fault("job_killed", times=2)
    run_target(config, path)
    lines = rejects(config)
    assert sorted(r["key"] for r in lines) == sorted(str(t["id"]) for t in one)
    assert {r["error"] for r in lines} == {"JobKilled"}
    assert all("ended killed" in r["details"] for r in lines)
    assert dest.collection("tickets") == []


def test_queued_job_cap_of_the_account_is_never_exceeded(
    emulator_factory, source_account, tmp_path
):
    """Account cap 2 (max_jobs), target allows 5: the target waits; all tickets land once."""
    dest, config, tickets = with_people(
        emulator_factory, source_account, tmp_path, max_jobs=2, job_delay=0.3
    )
    config["batch_size"] = 10
    run_target(config, tickets)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)
    assert dest.stats()["max_jobs_in_flight"] <= 2


def test_jobs_in_flight_stay_within_max_jobs_in_flight(emulator_factory, source_account, tmp_path):
    """max_jobs_in_flight 3 with 12 batches: pipelined (more than 1) but never above 3."""
    dest, config, tickets = with_people(emulator_factory, source_account, tmp_path, job_delay=0.3)
    config.update(batch_size=10, max_jobs_in_flight=3)
    run_target(config, tickets)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)
    assert 1 < dest.stats()["max_jobs_in_flight"] <= 3


def test_lost_job_status_is_reconciled_not_resent(emulator_factory, source_account, tmp_path):
    """Job statuses gone at once (404 as after a day): records found by external_id."""
    dest, config, _ = with_people(emulator_factory, source_account, tmp_path, job_retention=0.0)
    # 60 tickets: one lookup each stays within the emulator's tickets-index budget (100/min).
    some = source_account.live_tickets[:60]
    path = write_singer(tmp_path / "sixty.singer", {"ticket_comments": [], "tickets": some})
    run_target(config, path)
    assert set(by_external_id(dest, "tickets")) == {
        t.get("external_id") or str(t["id"]) for t in some
    }
    assert posts_to(dest) == 1


def wait_for(condition: t.Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll a condition (not a timing assertion: only bounds how long we wait)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.mark.parametrize("moment", ["job_submitted", "reply_pending"])
def test_kill_mid_batch_then_rerun_creates_no_duplicates_and_misses_nothing(
    emulator_factory, source_account, tmp_path, moment
):
    """SIGKILL after a job was queued, or while its POST hangs; the rerun finishes the job."""
    dest, config, tickets = with_people(emulator_factory, source_account, tmp_path, job_delay=1.5)
    # A request cut off by the kill may still be processed for up to request_timeout.
    config["request_timeout"] = 3
    if moment == "reply_pending":
        dest.add_fault("stall", path=IMPORT_PATH, times=1, seconds=1.0)
    proc = run_target_process(config, tickets, tmp_path, wait=False)
    try:
        if moment == "job_submitted":
            wait_for(lambda: dest.stats()["jobs_created"] >= 1)
        else:
            wait_for(lambda: posts_to(dest) >= 1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    dest.config.job_delay = 0.05  # the rerun's own jobs need not be slow
    run_target(config, tickets)
    assert set(by_external_id(dest, "tickets")) == ticket_keys(source_account)
    assert len(dest.collection("tickets")) == len(source_account.live_tickets)


def test_fail_on_rejects_exits_non_zero_after_writing_everything_else(emulator_factory, tmp_path):
    """fail_on_rejects: exit status 1, STATE still emitted, good records written."""
    dest = emulator_factory(tickets=0, hold_back=0, job_delay=0.05)
    streams = {
        "users": [{"id": 1, "name": "Ann", "email": "ann@x.test"}],
        "ticket_comments": [],
        "tickets": [
            {"id": 1, "subject": "ok", "requester_id": 1, "description": "d"},
            {"id": 2, "subject": "bad", "requester_id": 404, "description": "d"},
        ],
    }
    path = write_singer(tmp_path / "mixed.singer", streams)
    config = target_config(dest, tmp_path, fail_on_rejects=True)
    done = run_target_process(config, path, tmp_path)
    assert done.returncode == 1
    assert json.loads(done.stdout.decode().splitlines()[-1]) == {
        "bookmarks": {"tickets": {"done": 1}}
    }
    assert b"fail_on_rejects" in done.stderr
    assert set(by_external_id(dest, "tickets")) == {"1"}
    assert [r["key"] for r in rejects(config)] == ["2"]
