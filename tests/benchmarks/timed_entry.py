"""Run a console script with the CPU spent inside `requests` counted apart.

`python -m tests.benchmarks.timed_entry RESULT_FILE target-zendesk --config ...` runs the
entry point in this process with `requests.Session.request` wrapped: the thread CPU time of
every call (building the request, urllib3, sockets, reading the reply) is summed, and so is
the part of it spent encoding JSON request bodies, which we count as the caller's work. At exit
both totals go to RESULT_FILE. Thread CPU time, so sleeping (job polls, rate-limit waits) and
waiting on the socket cost nothing, and the SDK's sink threads are counted correctly.
"""

from __future__ import annotations

import atexit
import json
import sys
import threading
import time
from importlib.metadata import entry_points

import requests
import requests.models

_totals = {"http_cpu": 0.0, "encode_cpu": 0.0, "http_calls": 0}
_lock = threading.Lock()


def _timed(func, key, count=False):  # noqa: ANN001, ANN202 - a tiny decorator
    """Wrap `func` so that its thread CPU time adds to `_totals[key]`."""

    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        start = time.thread_time()
        try:
            return func(*args, **kwargs)
        finally:
            spent = time.thread_time() - start
            with _lock:
                _totals[key] += spent
                if count:
                    _totals["http_calls"] += 1

    return wrapper


def main() -> None:
    """Patch, register the report, then hand over to the entry point (which exits)."""
    result, name, *args = sys.argv[1:]
    requests.Session.request = _timed(requests.Session.request, "http_cpu", count=True)
    requests.models.complexjson.dumps = _timed(requests.models.complexjson.dumps, "encode_cpu")

    def report() -> None:
        """Write the totals for the benchmark to read."""
        with open(result, "w", encoding="utf-8") as f:
            json.dump(_totals, f)

    atexit.register(report)
    (entry,) = [e for e in entry_points(group="console_scripts") if e.name == name]
    sys.argv = [name, *args]
    entry.load()()


if __name__ == "__main__":
    main()
