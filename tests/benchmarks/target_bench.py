"""Target figures: requests per N tickets against ceil(N/100), CPU per record with HTTP excluded,
and peak RSS, from the tap's full-sync output written into an empty emulator.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import typing as t
from pathlib import Path

from tests.benchmarks.harness import (
    Run,
    connection_config,
    run_measured,
    start_emulator,
    write_json,
)

TIMED_ENTRY = Path(__file__).with_name("timed_entry.py")
#: Zendesk's bulk calls take at most 100 records (zendesk_api.md 6.1).
BULK = 100
#: The target's own summary line: job requests (submissions + status reads) per stream.
_PER_STREAM = re.compile(r"job requests \(submissions \+ status reads\) per stream: (.*)")
WRITTEN = ("organizations", "users", "tickets")


def net(cpu: float, http: dict[str, float]) -> float:
    """CPU less the time inside requests, JSON body encoding kept as the caller's work."""
    return cpu - (http.get("http_cpu", 0.0) - http.get("encode_cpu", 0.0))


def _timed_run(config: Path, stdin: Path, workdir: Path, label: str) -> tuple[Run, dict]:
    """The target under `timed_entry`: the run's rusage plus the CPU spent inside requests."""
    result = workdir / f"http-{label}.json"
    cmd = [sys.executable, str(TIMED_ENTRY), str(result), "target-zendesk", "--config", str(config)]
    run = run_measured(cmd, stdin=stdin)
    http = json.loads(result.read_text(encoding="utf-8")) if result.exists() else {}
    return run, http


def _job_requests(stderr: str) -> dict[str, int]:
    """Per-stream job requests from the target's summary (submissions + status reads)."""
    match = None
    for match in _PER_STREAM.finditer(stderr):
        pass
    if match is None:
        return {}
    pairs = (item.split("=", 1) for item in match.group(1).split(",") if "=" in item)
    return {k.strip(): int(v) for k, v in pairs}


def target_run(
    source: Path,
    records: dict[str, int],
    workdir: Path,
    *,
    job_delay: float = 0.3,
    destination: str = "emulator",
    rounds: int = 2,
) -> dict[str, t.Any]:
    """Write `source` (tap output) into an empty account; count requests, CPU and memory.

    `destination` is "emulator" (an empty emulator account: real jobs, real request counts) or
    "null" (`synthetic.NullDestination`: every job done at once, HTTP nearly free; for the
    sizes the emulator's write path cannot take).

    CPU per record, HTTP excluded: the target's CPU, less the thread CPU spent inside
    `requests.Session.request` (request building, urllib3, sockets, reading replies; JSON
    encoding of request bodies stays counted as the target's), less the same for a run on empty
    input (interpreter, imports, config), divided by the records read.
    """
    from tests.benchmarks.synthetic import NullDestination

    workdir.mkdir(parents=True, exist_ok=True)
    if destination == "null":
        dest: t.Any = NullDestination().start()
    else:
        dest = start_emulator(tickets=0, job_delay=job_delay, window_seconds=0.2)
    try:
        config = write_json(
            workdir / "target-config.json",
            connection_config(
                dest,
                journal_path=str(workdir / "journal.sqlite"),
                rejects_path=str(workdir / "rejects.jsonl"),
            ),
        )
        empty = workdir / "empty.singer"
        empty.write_bytes(b"")
        # Start-up on empty input, `rounds` times (the least counts).
        base, base_http = min(
            (_timed_run(config, empty, workdir, f"empty-{i}") for i in range(rounds)),
            key=lambda pair: net(pair[0].cpu, pair[1]),
        )
        if destination == "null":
            sizes: dict[str, int] = {}
            before = {"requests": {}, "total_requests": dest.requests}
        else:
            sizes = {name: len(dest.collection(name)) for name in WRITTEN}
            before = dest.stats()
        run, http = _timed_run(config, source, workdir, "full")
        if destination == "null":
            after = {"requests": {}, "total_requests": dest.requests}
            written = {}
        else:
            after = dest.stats()
            written = {name: len(dest.collection(name)) - sizes[name] for name in WRITTEN}
    finally:
        dest.stop()
    n_records = sum(records.values())
    work = net(run.cpu, http) - net(base.cpu, base_http)
    if work <= 0:  # smoke sizes: start-up noise exceeds the work; the whole run (upper bound)
        work = net(run.cpu, http)
    rejects = workdir / "rejects.jsonl"
    out: dict[str, t.Any] = {
        "destination": destination,
        "input_records": records,
        "cpu_s": round(run.cpu, 3),
        "http_cpu_s": round(http.get("http_cpu", 0.0), 3),
        "encode_cpu_s": round(http.get("encode_cpu", 0.0), 3),
        "http_calls": http.get("http_calls", 0),
        "startup_cpu_s": round(net(base.cpu, base_http), 3),
        "us_per_record_excl_http": round(work / max(1, n_records) * 1e6, 1),
        "us_per_record_incl_http": round(
            (run.cpu - base.cpu if run.cpu > base.cpu else run.cpu) / max(1, n_records) * 1e6, 1
        ),
        "wall_s": round(run.wall, 2),
        "max_rss_mb": round(run.max_rss_mb, 1),
        "rejected": sum(1 for _ in rejects.open("rb")) if rejects.exists() else 0,
        "requests": after["total_requests"] - before["total_requests"],
    }
    if destination == "null":
        return out
    per_path = {
        path: n - before["requests"].get(path, 0)
        for path, n in after["requests"].items()
        if n - before["requests"].get(path, 0)
    }
    jobs = _job_requests(run.stderr_tail)
    minimum = {name: math.ceil(n / BULK) for name, n in written.items()}
    ticket_requests = jobs.get("tickets")
    if ticket_requests is None:  # no summary line: count ticket imports and every status read
        ticket_requests = sum(
            n for p, n in per_path.items() if "imports/tickets" in p or "job_statuses" in p
        )
    out.update(
        {
            "written": written,
            "requests_per_path": per_path,
            "job_requests_per_stream": jobs,
            "minimum_requests": sum(minimum.values()),
            "ratio_all": round(out["requests"] / max(1, sum(minimum.values())), 3),
            "ticket_job_requests": ticket_requests,
            "ticket_minimum": minimum["tickets"],
            "ticket_ratio": round(ticket_requests / max(1, minimum["tickets"]), 3),
            "max_jobs_in_flight": after.get("max_jobs_in_flight"),
            "job_delay_s": job_delay,
        }
    )
    return out


def synthetic_run(templates: Path, tickets: int, workdir: Path) -> dict[str, t.Any]:
    """The target on `target_input`'s synthesized migration of `tickets` tickets, null destination.

    The input is written into a FIFO by another process as the target reads it (1M tickets of
    tap output would be a 5 GB file); the writer's CPU is its own, not the target's.
    """
    from tests.benchmarks import target_input

    workdir.mkdir(parents=True, exist_ok=True)
    fifo = workdir / "input.fifo"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    writer = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "tests.benchmarks.target_input", "--templates", str(templates),
         "--tickets", str(tickets), "--out", str(fifo)],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        out = target_run(
            fifo, target_input.sizes(tickets), workdir, destination="null", rounds=1
        )
    finally:
        try:
            writer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait()
        fifo.unlink(missing_ok=True)
    out["input"] = "synthesized (tests/benchmarks/target_input.py)"
    return out
