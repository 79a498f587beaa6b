"""Rate limits enforced by the emulator: a run spanning several windows meets at most one 429,
and still delivers every row. Counts are asserted, never times."""

from __future__ import annotations

import pytest

from tests.tap.tapkit import pages, run_tap, start_emulator, tap_config

EXPORT_PATHS = (
    "/api/v2/incremental/organizations",
    "/api/v2/incremental/tickets/cursor",
    "/api/v2/incremental/ticket_events",
    "/api/v2/incremental/ticket_metric_events",
)
EXPORTS = {
    # stream -> collection it must match
    "tickets": "tickets",
    "users": "users",
    "organizations": "organizations",
    "ticket_comments": "ticket_comments",
    "ticket_metric_events": "ticket_metric_events",
}


@pytest.mark.parametrize("told", [False, True], ids=["learned-from-headers", "told-in-config"])
def test_a_run_over_several_rate_windows_meets_at_most_one_429(emulator_factory, told):
    """3 export requests and 25 requests per 2 s window: paced, complete, at most one 429."""
    emu = start_emulator(
        emulator_factory,
        tickets=300,
        seed=17,
        export_rate_limit=3,
        cursor_export_rate_limit=3,
        rate_limit=25,
        window_seconds=2,
    )
    overrides = {"page_size": 200}
    if told:
        overrides.update(rate_limit=25, export_rate_limit=3)
    emu.reset_stats()
    run = run_tap(tap_config(emu, **overrides))
    assert run.error is None, repr(run.error)

    stats = emu.stats()
    export_requests = sum(emu.requests_to(path) for path in EXPORT_PATHS)
    assert export_requests > 2 * 3, f"premise: {export_requests} export requests need 3+ windows"
    assert stats["total_requests"] > 25, "premise: more requests than one account window allows"
    assert stats["rate_limited"] <= 1, f"{stats['rate_limited']} 429s"
    if told:
        assert stats["rate_limited"] == 0, "with the limits in config the first 429 is avoided too"
    assert run.tap.connection.governor.waits, "the governor paced the run (waits announced)"
    assert any("Rate limit: waiting" in line for line in run.logs)

    for stream, collection in EXPORTS.items():
        got = run.ids(stream)
        assert len(got) == len(set(got)), stream
        assert set(got) == {row["id"] for row in emu.collection(collection)}, stream
    for stream in ("ticket_metrics", "satisfaction_ratings", "groups", "macros"):
        assert len(run.ids(stream)) == len(emu.collection(stream)), stream
    # No request was repeated beyond the (at most one) refused one.
    assert emu.requests_to("/api/v2/incremental/tickets/cursor") <= pages(300, 200) + 1
