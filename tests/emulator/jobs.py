"""Background job statuses: queued -> working -> completed, with effects applied at completion."""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from .config import EmulatorConfig
from .faults import FaultRegistry
from .store import Store
from .util import ApiError

JOBS = "job_statuses"
Work = Callable[[], list[dict]]


class JobManager:
    """Creates jobs, advances them on a timer thread and enforces the in-flight cap."""

    def __init__(self, store: Store, cfg: EmulatorConfig, faults: FaultRegistry,
                 base_url: Callable[[], str]):
        self.store = store
        self.cfg = cfg
        self.faults = faults
        self.base_url = base_url
        self.lock = threading.Condition(threading.RLock())
        self.heap: list[tuple[float, int, str, str]] = []
        self.seq = itertools.count()
        self.work: dict[str, tuple[Work, int, Any]] = {}
        self.created_at: dict[str, float] = {}
        self.polls: dict[str, int] = {}
        self.due: dict[str, float] = {}
        self.created = 0
        self.max_inflight = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="emulator-jobs", daemon=True)
        self.thread.start()

    # ---- API used by handlers -----------------------------------------------------------
    def inflight(self) -> list[str]:
        """Ids of jobs still queued or working."""
        return [j["id"] for j in self.store.rows(JOBS)
                if j.get("status") in ("queued", "working")]

    def inflight_header(self) -> tuple[str, str]:
        """Zendesk-RateLimit-inflight-jobs header for job-creating replies."""
        ids = self.inflight()
        t = time.monotonic()
        dues = [self.due[i] for i in ids if i in self.due]
        resets = max(1, math.ceil(min(dues) - t)) if dues else 1
        remaining = max(0, self.cfg.max_jobs - len(ids))
        return ("Zendesk-RateLimit-inflight-jobs",
                f"total={self.cfg.max_jobs}; remaining={remaining}; resets={resets}")

    def create(self, job_type: str, total: int, work: Work) -> dict:
        """Queue a job; `work` runs at completion and returns the per-item results."""
        with self.lock:
            ids = self.inflight()
            if len(ids) >= self.cfg.max_jobs:
                raise ApiError(429, {
                    "error": "TooManyJobs",
                    "description": "Too many jobs are currently queued or running. "
                                   "Try again later.",
                    "current_job_ids": ids}, [self.inflight_header()])
            jid = self.cfg.job_id_prefix + uuid.uuid4().hex
            job = {"id": jid, "url": f"{self.base_url()}/api/v2/job_statuses/{jid}.json",
                   "job_type": job_type, "status": "queued", "total": total,
                   "progress": None, "message": None, "results": None}
            fault = self.faults.take_job_fault()
            self.store.insert(JOBS, job)
            self.created += 1
            self.work[jid] = (work, total, fault)
            t = time.monotonic()
            self.created_at[jid] = t
            self.max_inflight = max(self.max_inflight, len(ids) + 1)
            delay = max(0.0, self.cfg.job_delay)
            if self.cfg.job_polls > 0:
                self.polls[jid] = 0
            elif delay == 0:
                self._finish(jid)
            else:
                self.due[jid] = t + delay
                heapq.heappush(self.heap, (t + delay / 2, next(self.seq), jid, "working"))
                heapq.heappush(self.heap, (t + delay, next(self.seq), jid, "completed"))
                self.lock.notify()
            return job

    def get(self, jid: str) -> dict | None:
        """A job by id, or None once it is past retention (then it is forgotten)."""
        job = self.store.get(JOBS, jid)
        if job is None:
            return None
        born = self.created_at.get(jid)
        if born is not None and time.monotonic() - born > self.cfg.job_retention:
            self.store.delete(JOBS, jid)
            self.created_at.pop(jid, None)
            return None
        if jid in self.polls:
            return self._poll(jid)
        return job

    def _poll(self, jid: str) -> dict | None:
        """Poll-driven mode: the n-th poll moves the job on (halfway: working, last: done)."""
        with self.lock:
            seen = self.polls[jid] = self.polls[jid] + 1
            target = self.cfg.job_polls
            if seen >= target:
                self.polls.pop(jid, None)
                self._finish(jid)
            elif seen >= (target + 1) // 2:
                self._working(jid)
            return self.store.get(JOBS, jid)

    def stop(self) -> None:
        """Stop the timer thread."""
        with self.lock:
            self.stopped = True
            self.lock.notify()
        self.thread.join(timeout=2)

    # ---- internals ----------------------------------------------------------------------
    def _run(self) -> None:
        with self.lock:
            while not self.stopped:
                if not self.heap:
                    self.lock.wait()
                    continue
                due, _, jid, phase = self.heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self.lock.wait(wait)
                    continue
                heapq.heappop(self.heap)
                try:
                    if phase == "working":
                        self._working(jid)
                    else:
                        self._finish(jid)
                except Exception as exc:  # noqa: BLE001 - a broken job must not kill the timer
                    self.store.update(JOBS, jid, {"status": "failed", "message": repr(exc)})

    def _working(self, jid: str) -> None:
        job = self.store.get(JOBS, jid)
        if job is None or job.get("status") != "queued":
            return
        total = job.get("total") or 0
        self.store.update(JOBS, jid, {"status": "working", "progress": total // 2,
                                      "message": f"Working on item {total // 2 + 1}"})

    def _finish(self, jid: str) -> None:
        entry = self.work.pop(jid, None)
        self.due.pop(jid, None)
        if entry is None:
            return
        work, total, fault = entry
        stamp = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime())
        if fault is not None and fault.kind == "job_killed":
            changes = {"status": "killed", "progress": None, "results": None,
                       "message": f"Killed at {stamp}"}
        elif fault is not None and fault.kind == "job_failed":
            results = None
            if fault.params.get("results", "failed") != "null":
                results = [{"index": i, "error": "JobFailed", "status": "Failed",
                            "success": False, "details": "Job failed before this item ran"}
                           for i in range(total)]
            changes = {"status": "failed", "progress": 0, "results": results,
                       "message": f"Failed at {stamp}"}
        else:
            results = work()
            changes = {"status": "completed", "progress": total, "results": results,
                       "message": f"Completed at {stamp}"}
        self.store.update(JOBS, jid, changes)
