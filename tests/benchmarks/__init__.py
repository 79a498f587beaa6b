"""`make bench`: tap and target throughput, request efficiency, rate limits and memory at scale.

Not part of the test suite: `python -m tests.benchmarks` starts its own emulators, runs the tap,
a bare reference pager and the target as child processes, prints a table and writes
`bench-results.json`. `tests/e2e/test_bench_smoke.py` runs it at a tiny size.
"""
