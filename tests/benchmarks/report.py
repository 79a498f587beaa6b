"""The goals of issue 7, checked against the figures, and the table printed at the end."""

from __future__ import annotations

import typing as t

#: Goals (issues 4, 5 and 7).
TAP_CPU_RATIO = 1.5
REQUEST_RATIO = 1.05
RATE_LIMIT_RATIO = 1.1
MAX_429 = 1
TAP_RSS_MB = 150
TARGET_RSS_MB = 200
#: "Flat": the largest account's peak RSS at most this much above the smallest one's.
FLAT_GROWTH = 1.25
TARGET_REQUEST_RATIO = 1.2
TARGET_US_PER_RECORD = 30


def _size(n: str | int) -> str:
    """10000 -> 10k, 1500 -> 1.5k, 1000000 -> 1M."""
    n = int(n)
    for unit, scale in (("M", 1_000_000), ("k", 1000)):
        if n >= scale:
            return f"{n / scale:g}{unit}"
    return str(n)


def _ratio(value: float | None) -> str:
    """A ratio for the table ("n/a" when it could not be measured)."""
    return "n/a" if value is None else f"{value:.2f}x"


def checks(results: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """One row per figure: what was measured, the goal, and whether it is met."""
    rows: list[dict[str, t.Any]] = []

    def add(figure: str, measured: str, goal: str, ok: bool | None) -> None:
        rows.append({"figure": figure, "measured": measured, "goal": goal, "ok": ok})

    cpu = results.get("tap_cpu")
    if cpu:
        add(
            f"1 tap CPU per ticket ({_size(cpu['tickets'])})",
            f"tap {cpu['tap_us_per_record']:.0f} µs, bare pager {cpu['bare_us_per_record']:.0f} "
            f"µs: {_ratio(cpu['ratio'])}",
            f"<= {TAP_CPU_RATIO}x",
            cpu["ratio"] is not None and cpu["ratio"] <= TAP_CPU_RATIO,
        )
    for size, sync in results.get("full_sync", {}).items():
        add(
            f"2 tap requests, full sync ({_size(size)})",
            f"{sync['requests']} vs minimum {sync['minimum_requests']}: {sync['ratio']:.2f}x",
            f"<= {REQUEST_RATIO}x",
            sync["ratio"] <= REQUEST_RATIO,
        )
    rl = results.get("rate_limit")
    if rl:
        add(
            f"3 rate limits ({_size(rl['tickets'])}, {rl['window_seconds']:g} s windows)",
            f"{rl['wall_s']:.1f} s vs {rl['limit_bound_minimum_s']:.1f} s: {rl['ratio']:.2f}x, "
            f"{rl['rate_limited']} x 429",
            f"<= {RATE_LIMIT_RATIO}x, <= {MAX_429} x 429",
            rl["ratio"] <= RATE_LIMIT_RATIO and rl["rate_limited"] <= MAX_429,
        )
    _memory(add, "tap", {s: v["tap_max_rss_mb"] for s, v in results.get("full_sync", {}).items()},
            TAP_RSS_MB)
    synthetic = results.get("synthetic_memory")
    if synthetic:
        _memory(add, "tap (tickets only, synthesized export)",
                {s: v["tap_max_rss_mb"] for s, v in synthetic.items()}, TAP_RSS_MB)
    targets = results.get("target", {})
    nulls = results.get("target_null", {})
    _memory(add, "target", {s: v["max_rss_mb"] for s, v in targets.items()}, TARGET_RSS_MB)
    for size, tg in targets.items():
        add(
            f"5 target requests for tickets ({_size(size)})",
            f"{tg['ticket_job_requests']} vs ceil(N/100) = {tg['ticket_minimum']}: "
            f"{tg['ticket_ratio']:.2f}x (all streams {tg['requests']} vs "
            f"{tg['minimum_requests']}: {tg['ratio_all']:.2f}x)",
            f"<= {TARGET_REQUEST_RATIO}x",
            tg["ticket_ratio"] <= TARGET_REQUEST_RATIO,
        )
        add(
            f"5 target CPU per record, HTTP excluded ({_size(size)})",
            f"{tg['us_per_record_excl_http']:.0f} µs ({tg['us_per_record_incl_http']:.0f} µs "
            "with HTTP)",
            f"<= {TARGET_US_PER_RECORD} µs",
            tg["us_per_record_excl_http"] <= TARGET_US_PER_RECORD,
        )
    for size, tg in nulls.items():
        add(
            f"5 target CPU per record, null destination ({_size(size)})",
            f"{tg['us_per_record_excl_http']:.0f} µs ({tg['us_per_record_incl_http']:.0f} µs "
            "with HTTP)",
            f"<= {TARGET_US_PER_RECORD} µs",
            tg["us_per_record_excl_http"] <= TARGET_US_PER_RECORD,
        )
    synthetic_target = results.get("target_synthetic", {})
    _memory(add, "target (synthesized migration, null destination)",
            {s: v["max_rss_mb"] for s, v in synthetic_target.items()}, TARGET_RSS_MB)
    for size, tg in synthetic_target.items():
        add(
            f"5 target CPU per record, synthesized migration ({_size(size)})",
            f"{tg['us_per_record_excl_http']:.0f} µs ({tg['us_per_record_incl_http']:.0f} µs "
            "with HTTP)",
            f"<= {TARGET_US_PER_RECORD} µs",
            tg["us_per_record_excl_http"] <= TARGET_US_PER_RECORD,
        )
    for what, why in results.get("not_measured", {}).items():
        add(f"4 memory, {what}", "not measured: " + why, "", None)
    return rows


def _memory(add: t.Callable, who: str, peaks: dict[str, float], limit: float) -> None:
    """Peak RSS per size, the limit, and flatness from the smallest to the largest size."""
    if not peaks:
        return
    sizes = sorted(peaks, key=int)
    growth = peaks[sizes[-1]] / peaks[sizes[0]] if peaks[sizes[0]] else float("inf")
    add(
        f"4 {who} peak RSS ({', '.join(_size(s) for s in sizes)})",
        ", ".join(f"{peaks[s]:.0f}" for s in sizes) + f" MB (x{growth:.2f})",
        f"<= {limit} MB, flat (<= x{FLAT_GROWTH})",
        max(peaks.values()) <= limit and (len(sizes) < 2 or growth <= FLAT_GROWTH),
    )


def render(results: dict[str, t.Any]) -> str:
    """A plain-text table (also valid Markdown) of the checks."""
    rows = results.get("checks") or checks(results)
    header = ("Figure", "Measured", "Goal", "Met")
    body = [
        (r["figure"], r["measured"], r["goal"], {True: "yes", False: "NO", None: "-"}[r["ok"]])
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]

    def line(cells: t.Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    m = results.get("machine", {})
    out = [
        f"Command: {results.get('command', '')}",
        f"Machine: {m.get('cpus')} CPUs, {m.get('cpu_model') or 'unknown CPU'}, "
        f"Python {m.get('python')}",
        "",
        line(header),
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        *(line(r) for r in body),
    ]
    return "\n".join(out)
