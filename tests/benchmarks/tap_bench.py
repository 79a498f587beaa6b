"""Tap figures: CPU per record against a bare pager, requests against the minimum, rate-limit
efficiency against the limit-bound minimum, and peak RSS of a full sync.
"""

from __future__ import annotations

import math
import sys
import time
import typing as t
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import msgspec
import requests

from tests.benchmarks.harness import (
    API_TOKEN,
    EMAIL,
    Run,
    best_of,
    connection_config,
    count_records,
    discover,
    executable,
    run_measured,
    select,
    start_emulator,
    write_json,
)

if t.TYPE_CHECKING:
    from tests.emulator import Emulator

BARE_PAGER = Path(__file__).with_name("bare_pager.py")
#: The streams of "a full sync" (figure 2 and the target's input).
FULL_SYNC = ("tickets", "users", "organizations", "ticket_comments")
#: Figure 3 adds a CBP list so that the account budget is spent as well as the export budget.
RATE_LIMIT_SYNC = (*FULL_SYNC, "ticket_metrics")
#: Zendesk's export and CBP page sizes (zendesk_api.md 3.1, 4.1).
EXPORT_PAGE = 1000
CBP_PAGE = 100
#: Emulator path of each export, how it pages, and the rate-limit bucket it spends.
EXPORTS = {
    "tickets": ("/api/v2/incremental/tickets/cursor.json", "cursor", "incremental"),
    "users": ("/api/v2/incremental/users/cursor.json", "cursor", "incremental_cursor"),
    "organizations": ("/api/v2/incremental/organizations.json", "time", "incremental"),
    "ticket_comments": ("/api/v2/incremental/ticket_events.json", "time", "incremental"),
}
#: List endpoints a full sync reads: the custom field definitions (typed schemas) and metrics.
LISTS = {
    "ticket_fields": "/api/v2/ticket_fields.json",
    "user_fields": "/api/v2/user_fields.json",
    "organization_fields": "/api/v2/organization_fields.json",
    "ticket_metrics": "/api/v2/ticket_metrics.json",
}
FIELD_LISTS = ("ticket_fields", "user_fields", "organization_fields")


@dataclass
class Account:
    """One emulator plus the files the tap needs to sync it."""

    emu: Emulator
    tickets: int
    workdir: Path
    config: Path
    catalog: dict[str, t.Any]

    def catalog_file(self, streams: t.Iterable[str]) -> Path:
        """A catalog with exactly `streams` selected."""
        names = sorted(streams)
        path = self.workdir / f"catalog-{'-'.join(names)}.json"
        if not path.exists():
            write_json(path, select(self.catalog, names))
        return path

    def config_file(self, name: str, **extra: t.Any) -> Path:
        """Another config for the same account."""
        return write_json(self.workdir / f"{name}.json", connection_config(self.emu, **extra))

    def stop(self) -> None:
        """Stop the emulator."""
        self.emu.stop()


def open_account(workdir: Path, tickets: int, **knobs: t.Any) -> Account:
    """Start an emulator of `tickets` tickets and discover its catalog once."""
    workdir.mkdir(parents=True, exist_ok=True)
    emu = start_emulator(tickets=tickets, **knobs)
    config = write_json(workdir / "config.json", connection_config(emu))
    return Account(emu, tickets, workdir, config, discover(config))


def tap_cmd(config: Path, catalog: Path) -> list[str]:
    """The tap's command line."""
    return [*executable("tap-zendesk"), "--config", str(config), "--catalog", str(catalog)]


def recent_start() -> tuple[int, str]:
    """A start two minutes ago: an export run that finds nothing (start-up cost only)."""
    epoch = int(time.time()) - 120
    return epoch, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _per_record(cpu: float, startup_cpu: float, rows: int) -> float:
    """µs per row with start-up subtracted; at smoke sizes, where the start-up noise can exceed
    the work itself, the whole run's CPU per row instead (an upper bound, never <= 0)."""
    work = cpu - startup_cpu
    return (work if work > 0 else cpu) / max(1, rows) * 1e6


# -- figure 1 ---------------------------------------------------------------------------------
def tap_cpu(account: Account, repeats: int) -> dict[str, t.Any]:
    """CPU µs per ticket of the tap and of the bare pager, start-up subtracted, side by side.

    Each side runs twice per round: over the whole export, and from two minutes ago (nothing to
    export: the start-up cost, discovery requests included). Per record is the difference over
    the rows; the least CPU of the rounds counts, since noise only ever adds.
    """
    catalog = account.catalog_file(["tickets"])
    epoch, iso = recent_start()
    empty_config = account.config_file("config-empty", start_date=iso)
    url = account.emu.url
    bare = [sys.executable, str(BARE_PAGER), url, "0"]
    bare_empty = [sys.executable, str(BARE_PAGER), url, str(epoch)]
    runs: dict[str, list[Run]] = defaultdict(list)
    for _ in range(repeats):
        runs["tap"].append(run_measured(tap_cmd(account.config, catalog)))
        runs["bare"].append(run_measured(bare))
        runs["tap_empty"].append(run_measured(tap_cmd(empty_config, catalog)))
        runs["bare_empty"].append(run_measured(bare_empty))
    best = {name: best_of(group) for name, group in runs.items()}
    rows = best["bare"].lines - best["bare_empty"].lines
    tap_records = best["tap"].records - best["tap_empty"].records
    tap_us = _per_record(best["tap"].cpu, best["tap_empty"].cpu, rows)
    bare_us = _per_record(best["bare"].cpu, best["bare_empty"].cpu, rows)
    return {
        "tickets": account.tickets,
        "rows": rows,
        "tap_records": tap_records,
        "repeats": repeats,
        "tap_us_per_record": round(tap_us, 1),
        "bare_us_per_record": round(bare_us, 1),
        "ratio": round(tap_us / bare_us, 3) if bare_us > 0 else None,
        "tap_startup_cpu_s": round(best["tap_empty"].cpu, 3),
        "bare_startup_cpu_s": round(best["bare_empty"].cpu, 3),
        "tap_records_per_s_wall": round(rows / max(1e-9, best["tap"].wall)),
        "bare_records_per_s_wall": round(rows / max(1e-9, best["bare"].wall)),
        "tap_bytes_per_record": round(best["tap"].bytes / max(1, rows)),
        "bare_bytes_per_record": round(best["bare"].bytes / max(1, rows)),
        "runs": {name: [r.as_dict() for r in group] for name, group in runs.items()},
    }


# -- figures 2 and 4 -------------------------------------------------------------------------
def export_rows(emu: Emulator) -> dict[str, int]:
    """Rows in each export of a full sync, read here with a plain pager (not counted)."""
    session = requests.Session()
    session.auth = (f"{EMAIL}/token", API_TOKEN)
    decode = msgspec.json.decode
    rows: dict[str, int] = {}
    for stream, (path, style, _bucket) in EXPORTS.items():
        key = "tickets" if stream == "tickets" else stream
        key = "ticket_events" if stream == "ticket_comments" else key
        url: str | None = f"{emu.url}{path}"
        params: dict[str, t.Any] | None = {"start_time": 0, "per_page": EXPORT_PAGE}
        if stream == "ticket_comments":
            params["include"] = "comment_events"  # type: ignore[index]
        total = 0
        while url:
            body = decode(session.get(url, params=params, timeout=60).content)
            total += len(body[key])
            if body.get("end_of_stream"):
                break
            url, params = (body["after_url"] if style == "cursor" else body["next_page"]), None
        rows[stream] = total
    return rows


def list_pages(emu: Emulator, names: t.Iterable[str]) -> dict[str, int]:
    """Pages each list endpoint needs at Zendesk's CBP size (unpaged lists: 1)."""
    pages = {}
    for name in names:
        size = len(emu.collection(name))
        pages[name] = 1 if name == "ticket_fields" else max(1, math.ceil(size / CBP_PAGE))
    return pages


def _requests_since(emu: Emulator, before: dict[str, t.Any]) -> tuple[int, dict[str, int], int]:
    """Requests (total, per path) and 429s since the `before` stats snapshot."""
    after = emu.stats()
    per_path = {
        path: count - before["requests"].get(path, 0)
        for path, count in after["requests"].items()
        if count - before["requests"].get(path, 0)
    }
    return (
        after["total_requests"] - before["total_requests"],
        per_path,
        after["rate_limited"] - before["rate_limited"],
    )


def full_sync(account: Account, output: Path) -> dict[str, t.Any]:
    """Figure 2 (requests against the minimum) and the tap's peak RSS, from one full sync."""
    rows = export_rows(account.emu)
    lists = list_pages(account.emu, FIELD_LISTS)
    minimum = sum(math.ceil(n / EXPORT_PAGE) or 1 for n in rows.values()) + sum(lists.values())
    before = account.emu.stats()
    run = run_measured(tap_cmd(account.config, account.catalog_file(FULL_SYNC)), stdout=output)
    made, per_path, limited = _requests_since(account.emu, before)
    records = count_records(output)
    return {
        "tickets": account.tickets,
        "streams": list(FULL_SYNC),
        "export_rows": rows,
        "records": records,
        "minimum_requests": minimum,
        "minimum_breakdown": {
            **{s: math.ceil(n / EXPORT_PAGE) or 1 for s, n in rows.items()},
            **lists,
        },
        "requests": made,
        "requests_per_path": per_path,
        "ratio": round(made / minimum, 3),
        "rate_limited": limited,
        "tap_max_rss_mb": round(run.max_rss_mb, 1),
        "tap_cpu_s": round(run.cpu, 2),
        "tap_wall_s": round(run.wall, 2),
        "output_mb": round(run.bytes / 2**20, 1),
    }


# -- figure 3 ---------------------------------------------------------------------------------
def _bucket_of(path: str) -> str | None:
    """The emulator's endpoint bucket of a stats path (None: account budget only)."""
    for _stream, (export_path, _style, bucket) in EXPORTS.items():
        if path.endswith(export_path.removesuffix(".json")):
            return bucket
    return None


def limit_bound_minimum(
    sequence: list[str | None],
    limits: dict[str, int],
    window: float,
    start: float,
    startup: float,
    work: float,
) -> float:
    """Seconds an ideal sequential client needs for `sequence` under fixed-window limits.

    It starts at `start` (seconds since the emulator's windows began), spends `startup`, sends
    each request at the first moment every budget it spends has a unit left in the current
    window, and spends `work` seconds on each reply. The emulator's windows are fixed, so the
    ideal client gets no benefit from knowing more than the real one does.
    """
    used: dict[tuple[str, int], int] = defaultdict(int)
    now = start + startup
    for bucket in sequence:
        names = ("account",) if bucket is None else ("account", bucket)
        while True:
            index = int(now // window)
            if all(used[(n, index)] < limits[n] for n in names if n in limits):
                break
            now = (index + 1) * window
        for name in names:
            used[(name, index)] += 1
        now += work
    return now - start


def rate_limit(
    workdir: Path,
    tickets: int,
    *,
    window: float,
    export_limit: int = 10,
    cursor_limit: int = 20,
    account_limit: int = 40,
    page_size: int = EXPORT_PAGE,
    rounds: int = 2,
) -> dict[str, t.Any]:
    """Figure 3: one sync against enforced limits, beside the same sync without limits.

    The unlimited run (same seed and size; a tiny window so header pacing costs nothing) gives
    the request sequence, the start-up and the work per request; the limit-bound minimum is an
    ideal client's wall time for that sequence under the enforced windows.
    """
    from tap_zendesk.streams import STREAM_TYPES

    order = [cls.name for cls in STREAM_TYPES]
    streams = RATE_LIMIT_SYNC
    free = open_account(workdir / "free", tickets, window_seconds=0.2)
    try:
        catalog = free.catalog_file(streams)
        _epoch, iso = recent_start()
        empty_config = free.config_file("empty", start_date=iso, page_size=page_size)
        config = free.config_file("paged", page_size=page_size)
        empty = min(
            (run_measured(tap_cmd(empty_config, catalog)) for _ in range(rounds)),
            key=lambda r: r.wall,
        )
        free_runs = []
        for _ in range(rounds):
            before = free.emu.stats()
            free_runs.append(run_measured(tap_cmd(config, catalog)))
            made, per_path, _ = _requests_since(free.emu, before)
        free_run = min(free_runs, key=lambda r: r.wall)
    finally:
        free.stop()
    # Request sequence in sync order: field definitions at discovery, then streams in order.
    stream_of = {**{p.removesuffix(".json"): s for s, (p, _, _) in EXPORTS.items()},
                 **{p.removesuffix(".json"): s for s, p in LISTS.items()}}
    rank = {s: i for i, s in enumerate(order)}
    paths = sorted(
        per_path,
        key=lambda p: (
            stream_of.get(p.split(" ", 1)[-1], "") not in FIELD_LISTS,
            rank.get(stream_of.get(p.split(" ", 1)[-1], ""), len(rank)),
        ),
    )
    sequence: list[str | None] = []
    for path in paths:
        sequence += [_bucket_of(path.split(" ", 1)[-1])] * per_path[path]
    work = max(0.0, free_run.wall - empty.wall) / max(1, made)

    limits = {"account": account_limit, "incremental": export_limit,
              "incremental_cursor": cursor_limit}
    limited = open_account(
        workdir / "limited",
        tickets,
        window_seconds=window,
        rate_limit=account_limit,
        export_rate_limit=export_limit,
        cursor_export_rate_limit=cursor_limit,
    )
    try:
        catalog = limited.catalog_file(streams)
        config = limited.config_file("paged", page_size=page_size)
        before = limited.emu.stats()
        t0 = _windows_origin(limited.emu)
        started = time.monotonic()
        run = run_measured(tap_cmd(config, catalog))
        made_limited, _, n429 = _requests_since(limited.emu, before)
    finally:
        limited.stop()
    # Discovery ran on this emulator before the timed run; its requests spent the same windows.
    minimum = limit_bound_minimum(
        sequence, limits, window, started - t0, empty.wall, work
    )
    return {
        "tickets": tickets,
        "streams": list(streams),
        "window_seconds": window,
        "page_size": page_size,
        "limits_per_window": limits,
        "requests": made_limited,
        "requests_unlimited": made,
        "wall_s": round(run.wall, 2),
        "wall_unlimited_s": round(free_run.wall, 2),
        "limit_bound_minimum_s": round(minimum, 2),
        "ratio": round(run.wall / minimum, 3),
        "rate_limited": n429,
    }


def _windows_origin(emu: Emulator) -> float:
    """When the emulator's rate-limit windows began (its limiter's monotonic origin)."""
    limiter = getattr(getattr(emu, "app", None), "limiter", None)
    return float(limiter.account.t0) if limiter is not None else time.monotonic()


# -- figure 4 beyond the emulator --------------------------------------------------------------
def synthetic_memory(template_from: Account, sizes: list[int], workdir: Path) -> dict[str, t.Any]:
    """Peak RSS of a tickets-only sync from `synthetic.SyntheticExport`, per size.

    The same tickets-only sync at every size (the emulator cannot hold 1M tickets), so the
    figures compare with each other, not with the full-sync ones above.
    """
    from tests.benchmarks.synthetic import SyntheticExport, capture

    template, lists = capture(template_from.emu.url)
    out: dict[str, t.Any] = {}
    for size in sizes:
        server = SyntheticExport(template, lists, size).start()
        try:
            config = write_json(workdir / f"synthetic-{size}.json", connection_config(server))
            catalog = write_json(
                workdir / "synthetic-catalog.json", select(template_from.catalog, ["tickets"])
            )
            run = run_measured(tap_cmd(config, catalog))
        finally:
            server.stop()
        out[str(size)] = {
            "records": run.records,
            "requests": server.requests,
            "tap_max_rss_mb": round(run.max_rss_mb, 1),
            "tap_cpu_s": round(run.cpu, 2),
            "tap_wall_s": round(run.wall, 2),
        }
    return out
