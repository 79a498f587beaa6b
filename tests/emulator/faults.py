"""Scheduled fault injection: which request gets which failure, decided before handling."""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset({
    "429", "500", "502", "503", "401", "reset", "stall", "truncated", "html200",
    "expired_cursor", "empty_page", "foreign_next_page", "duplicate_rows", "out_of_order",
    "job_failed", "job_killed",
})
# kinds that change the reply of the matched request (the rest only alter what is built)
JOB_KINDS = frozenset({"job_failed", "job_killed"})
FOREIGN_BASE = "https://evil.example.com"


@dataclass
class Fault:
    """One armed fault: fires at a global request number or on the next matching requests."""

    id: int
    kind: str
    path: str | None = None
    at_request: int | None = None
    times: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON view for the admin API."""
        return {"id": self.id, "kind": self.kind, "path": self.path,
                "at_request": self.at_request, "times": self.times, "fired": self.fired,
                **self.params}


class FaultRegistry:
    """Armed faults; `match` is called once per counted API request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self.ids = itertools.count(1)
        self.pending_job_faults: list[Fault] = []

    def add(self, kind: str, *, path: str | None = None, at_request: int | None = None,
            times: int = 1, **params: Any) -> Fault:
        """Arm a fault (see module docstring of server.py for the kinds)."""
        kind = str(kind)
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(KINDS)}")
        fault = Fault(next(self.ids), kind, path, at_request, max(1, int(times)), params)
        with self.lock:
            if kind in JOB_KINDS:
                self.pending_job_faults.append(fault)
            else:
                self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm everything."""
        with self.lock:
            self.faults.clear()
            self.pending_job_faults.clear()

    def match(self, number: int, path: str) -> list[Fault]:
        """Faults that fire on this request (global number `number`, canonical `path`)."""
        fired: list[Fault] = []
        with self.lock:
            for fault in list(self.faults):
                if fault.at_request is not None:
                    hit = number == fault.at_request and (
                        fault.path is None or path.startswith(fault.path))
                else:
                    hit = fault.path is None or path.startswith(fault.path)
                if not hit:
                    continue
                fault.fired += 1
                fired.append(fault)
                if fault.at_request is not None or fault.fired >= fault.times:
                    self.faults.remove(fault)
        return fired

    def take_job_fault(self) -> Fault | None:
        """The fault the next created job should end with, if one is armed."""
        with self.lock:
            if not self.pending_job_faults:
                return None
            fault = self.pending_job_faults[0]
            fault.fired += 1
            if fault.fired >= fault.times:
                self.pending_job_faults.pop(0)
            return fault

    def armed(self) -> list[dict[str, Any]]:
        """JSON view of every armed fault."""
        with self.lock:
            return [f.as_dict() for f in self.faults + self.pending_job_faults]


class Chaos:
    """Random 429/500/503 on a share of requests (the checklist's "chaos" mode)."""

    def __init__(self, rate: float, seed: int):
        self.rate = rate
        self.rnd = random.Random(seed)
        self.lock = threading.Lock()

    def pick(self) -> str | None:
        """A fault kind for this request, or None."""
        if self.rate <= 0:
            return None
        with self.lock:
            if self.rnd.random() >= self.rate:
                return None
            return self.rnd.choice(("429", "500", "503"))
