"""The benchmark (`make bench`) runs end to end at its smoke size and reports every figure.

Checks that each figure is present and sane (counts add up, ratios positive), never a timing
threshold: timings belong to `make bench` on a quiet machine, not to the test suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One `--quick --big` run of the benchmark, as a child process like `make bench`."""
    out = tmp_path_factory.mktemp("bench") / "bench-results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks", "--quick", "--big", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| Figure" in proc.stdout
    return json.loads(out.read_text(encoding="utf-8"))


def test_bench_reports_tap_cpu_beside_the_bare_pager(results: dict) -> None:
    """Figure 1: both sides read every row; µs per record and the ratio are positive."""
    cpu = results["tap_cpu"]
    assert cpu["rows"] == cpu["tickets"]
    assert cpu["tap_records"] == cpu["rows"]
    assert cpu["tap_us_per_record"] > 0
    assert cpu["bare_us_per_record"] > 0
    assert cpu["ratio"] > 0


def test_bench_counts_full_sync_requests_against_the_minimum(results: dict) -> None:
    """Figure 2: every export row became a record, and requests never undercut the minimum."""
    for sync in results["full_sync"].values():
        assert sync["records"]["tickets"] == sync["export_rows"]["tickets"]
        assert sync["records"]["users"] == sync["export_rows"]["users"]
        assert sync["records"]["organizations"] == sync["export_rows"]["organizations"]
        assert sync["records"]["ticket_comments"] > 0
        assert sync["requests"] >= sync["minimum_requests"] > 0
        assert sync["rate_limited"] == 0


def test_bench_measures_a_rate_limited_sync(results: dict) -> None:
    """Figure 3: a wall time, a positive limit-bound minimum, and a 429 count."""
    rl = results["rate_limit"]
    assert rl["wall_s"] > 0
    assert rl["limit_bound_minimum_s"] > 0
    assert rl["requests"] >= rl["requests_unlimited"] > 0
    assert rl["rate_limited"] >= 0


def test_bench_reports_peak_rss_of_tap_and_target_per_size(results: dict) -> None:
    """Figure 4: a peak RSS per size for the tap and the target, in a plausible range."""
    assert len(results["full_sync"]) >= 2
    for sync in results["full_sync"].values():
        assert 10 < sync["tap_max_rss_mb"] < 4000
    assert results["target_null"].keys() == results["full_sync"].keys()
    for target in results["target_null"].values():
        assert 10 < target["max_rss_mb"] < 4000
        assert target["rejected"] == 0
    for size, synthetic in results["synthetic_memory"].items():
        assert synthetic["records"] == int(size)
        assert 10 < synthetic["tap_max_rss_mb"] < 4000


def test_bench_reports_target_requests_and_cpu(results: dict) -> None:
    """Figure 5: the target wrote what it read and counted its requests and CPU."""
    assert results["target"]
    for size, target in results["target"].items():
        source = results["full_sync"][size]["records"]
        assert target["input_records"] == source
        assert 0 < target["written"]["tickets"] <= source["tickets"]
        assert target["rejected"] == 0
        assert target["ticket_job_requests"] >= target["ticket_minimum"] > 0
        assert target["requests"] >= target["minimum_requests"]
        assert target["cpu_s"] > target["http_cpu_s"] >= target["encode_cpu_s"] >= 0
        assert "us_per_record_excl_http" in target


def test_bench_runs_the_target_on_a_synthesized_migration(results: dict) -> None:
    """Figures 4 and 5 past what the emulator holds: every size read, written, measured."""
    assert results["target_synthetic"].keys() == {"300", "1000"}
    for size, run in results["target_synthetic"].items():
        assert run["input_records"]["tickets"] == int(size)
        assert run["rejected"] == 0
        assert run["requests"] >= int(size) // 100  # at least one import call per 100 tickets
        assert 10 < run["max_rss_mb"] < 4000
        assert run["us_per_record_excl_http"] > 0


def test_bench_checks_every_goal(results: dict) -> None:
    """The table holds a row for each of the five figures."""
    figures = {row["figure"].split(" ", 1)[0] for row in results["checks"]}
    assert figures == {"1", "2", "3", "4", "5"}
    assert results["machine"]["cpus"]
