"""Run every figure, print the table and write the JSON file (see the package docstring)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from tests.benchmarks import tap_bench, target_bench, target_input
from tests.benchmarks.harness import executable
from tests.benchmarks.report import checks, render

DEFAULT_OUT = "bench-results.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Sizes and switches; `--quick` is the smoke size (a few seconds per figure)."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--tickets", type=int, default=10_000,
                        help="account size for the CPU, request and target figures (10000)")
    parser.add_argument("--memory-sizes", default="10000,100000",
                        help="comma-separated account sizes for the peak-RSS figures")
    parser.add_argument("--big", action="store_true",
                        help="also peak RSS at 10k, 100k and 1M tickets: the tap on a "
                        "synthesized ticket export, the target on a synthesized migration "
                        "(the emulator cannot hold 1M tickets)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds of the side-by-side CPU runs; the least CPU counts (3)")
    parser.add_argument("--ratelimit-tickets", type=int, default=5000)
    parser.add_argument("--window", type=float, default=8.0,
                        help="rate-limit window in seconds, Zendesk's minute scaled down (8)")
    parser.add_argument("--job-delay", type=float, default=0.3,
                        help="seconds the emulator takes per bulk job (0.3)")
    parser.add_argument("--no-target", action="store_true", help="tap figures only")
    parser.add_argument("--figures", default="1,2,3,4,5",
                        help="which figures to measure, e.g. 1,3 (default: all)")
    parser.add_argument("--workdir", help="keep the runs' files here (default: a temp dir)")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"JSON results file ({DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.quick:
        args.tickets = 300
        args.memory_sizes = "300,1000"
        args.repeats = 1
        args.ratelimit_tickets = 1000
        args.window = 1.0
        args.job_delay = 0.02
    args.big_sizes = [300, 1000] if args.quick else [10_000, 100_000, 1_000_000]
    args.figures = {int(f) for f in args.figures.split(",") if f.strip()}
    args.sizes = sorted({args.tickets, *(int(s) for s in args.memory_sizes.split(",") if s)})
    return args


def machine() -> dict[str, t.Any]:
    """Where the figures were measured."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    """Measure, print, write."""
    args = parse_args(argv)
    started = time.perf_counter()
    temp = None
    if args.workdir:
        workdir = Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.mkdtemp(prefix="zendesk-bench-")
        workdir = Path(temp)
    results: dict[str, t.Any] = {
        "command": " ".join(
            ["python -m tests.benchmarks", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine(),
        "settings": {
            k: sorted(v) if isinstance(v, set) else v
            for k, v in vars(args).items()
            if k != "workdir"
        },
        "tap_cpu": None,
        "full_sync": {},
        "rate_limit": None,
        "target": {},
        "target_null": {},
        "synthetic_memory": None,
        "target_synthetic": {},
        "not_measured": {},
    }
    warm_up()
    want = args.figures
    templates: Path | None = None
    try:
        for size in args.sizes:
            if size != args.tickets and not want & {2, 4, 5}:
                continue
            _log(f"{size} tickets: starting the emulator")
            # A tiny window: the emulator reports Zendesk's nominal limits even when it does not
            # enforce them, and pacing by those headers would measure the window, not the tap.
            account = tap_bench.open_account(workdir / f"src-{size}", size, window_seconds=0.2)
            output = workdir / f"src-{size}" / "tap-output.singer"
            sync = None
            try:
                if size == args.tickets and 1 in want:
                    _log(f"{size} tickets: tap vs bare pager, {args.repeats} round(s)")
                    results["tap_cpu"] = tap_bench.tap_cpu(account, args.repeats)
                    save(args.out, results)
                if size == args.tickets and args.big and 4 in want:
                    _log(f"tickets-only sync of a synthesized export: {args.big_sizes}")
                    results["synthetic_memory"] = tap_bench.synthetic_memory(
                        account, args.big_sizes, workdir
                    )
                    save(args.out, results)
                if want & {2, 4, 5}:
                    _log(f"{size} tickets: full sync")
                    results["full_sync"][str(size)] = sync = tap_bench.full_sync(account, output)
                    save(args.out, results)
            finally:
                account.stop()
                del account
                gc.collect()
            if sync is not None and want & {4, 5} and not args.no_target:
                _log(f"{size} tickets: target into an empty emulator account")
                results["target"][str(size)] = target_bench.target_run(
                    output, sync["records"], workdir / f"dst-{size}",
                    job_delay=args.job_delay, rounds=args.repeats,
                )
                save(args.out, results)
                _log(f"{size} tickets: target into a null destination (HTTP nearly free)")
                results["target_null"][str(size)] = target_bench.target_run(
                    output, sync["records"], workdir / f"null-{size}", destination="null",
                    rounds=args.repeats,
                )
                save(args.out, results)
            if templates is None and output.exists():
                templates = target_input.extract_templates(output, workdir / "templates.singer")
            if not args.workdir:
                output.unlink(missing_ok=True)
        if args.big and 4 in want and not args.no_target and templates is not None:
            for size in args.big_sizes:
                _log(f"target on a synthesized migration of {size} tickets (null destination)")
                results["target_synthetic"][str(size)] = target_bench.synthetic_run(
                    templates, size, workdir / f"synthetic-{size}"
                )
                save(args.out, results)
        if 3 in want:
            _log(f"rate limits: {args.ratelimit_tickets} tickets, {args.window:g} s windows")
            results["rate_limit"] = tap_bench.rate_limit(
                workdir / "ratelimit",
                args.ratelimit_tickets,
                window=args.window,
                # At the smoke size, small pages make the export limit bind all the same.
                page_size=100 if args.quick else tap_bench.EXPORT_PAGE,
                rounds=args.repeats,
            )
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    results["checks"] = checks(results)
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    save(args.out, results)
    print(render(results))
    print(f"\nWrote {args.out} ({results['elapsed_s']} s).")
    return 0


def save(path: str, results: dict[str, t.Any]) -> None:
    """Write the results so far (a long run that fails later keeps what it measured)."""
    Path(path).write_text(json.dumps(results, indent=2), encoding="utf-8")


def warm_up() -> None:
    """Run both console scripts once (`--about`), so no figure pays for compiling bytecode."""
    for name in ("tap-zendesk", "target-zendesk"):
        subprocess.run([*executable(name), "--about"], capture_output=True, check=False)


def _log(message: str) -> None:
    """Progress on stderr, so the table on stdout stays clean."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
