"""`python -m tests.emulator.bench`: rows/s the emulator serves through the cursor ticket export.

Starts a 20,000-ticket account in-process and pages through
`/api/v2/incremental/tickets/cursor?per_page=1000` with plain `requests` on one keep-alive
connection, twice: the first pass fills the per-row JSON cache, the second shows the steady
state. Prints rows/s for the transfer alone and including the client's JSON parsing.
"""

from __future__ import annotations

import argparse
import time

import requests

from .server import Emulator


def run_pass(session: requests.Session, url: str, parse: bool) -> tuple[int, int, float]:
    """Page to end_of_stream; returns (rows, requests, seconds)."""
    rows = pages = 0
    nxt = f"{url}/api/v2/incremental/tickets/cursor?start_time=0&per_page=1000"
    t0 = time.perf_counter()
    while True:
        r = session.get(nxt)
        r.raise_for_status()
        pages += 1
        if parse:
            body = r.json()
            rows += len(body["tickets"])
            if body["end_of_stream"]:
                break
            nxt = body["after_url"]
        else:
            raw = r.content
            rows += raw.count(b'"generated_timestamp":')
            tail = raw[-400:]
            if b'"end_of_stream":true' in tail:
                break
            start = raw.rindex(b'"after_url":"') + len(b'"after_url":"')
            nxt = raw[start:raw.index(b'"', start)].decode()
    return rows, pages, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per pass."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    with Emulator(tickets=args.tickets, seed=args.seed, hold_back=0) as emu:
        print(f"started {args.tickets} tickets in {time.perf_counter() - t0:.2f}s at {emu.url}")
        session = requests.Session()
        session.auth = ("demo@example.com/token", "demo")
        for label, parse in (("cold (fills row cache), transfer only", False),
                             ("warm, transfer only", False),
                             ("warm, transfer + client json parse", True)):
            rows, pages, secs = run_pass(session, emu.url, parse)
            print(f"{label:40s} {rows:6d} rows {pages:3d} pages {secs:6.2f}s "
                  f"{rows / secs:10,.0f} rows/s")
        conns = emu.stats()["total_requests"]
        print(f"requests served: {conns}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
