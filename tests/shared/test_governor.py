"""Rate-limit governor: reads every header family and waits before the budget runs out."""

import requests

from tap_zendesk.api.governor import EXPORTS, RateLimitGovernor, buckets_for, inflight_jobs


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def _response(status=200, **headers):
    response = requests.Response()
    response.status_code = status
    response.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    return response


def test_buckets_for_export_paths_include_the_export_budget():
    """Exports spend the account and export budgets; the cursor user export has its own."""
    assert buckets_for("/api/v2/incremental/tickets/cursor.json") == ("account", EXPORTS)
    assert buckets_for("/api/v2/incremental/users/cursor") == ("account", "incremental-exports-cursor")
    assert buckets_for("/api/v2/help_center/incremental/articles") == ("account",)
    assert buckets_for("/api/v2/groups") == ("account",)


def test_governor_sleeps_until_reset_when_export_budget_is_spent():
    """With remaining=0 in the export header the next export request waits `resets` seconds."""
    clock = FakeClock()
    gov = RateLimitGovernor(clock=clock, sleep=clock.sleep)
    gov.observe(
        _response(**{"Zendesk-RateLimit-incremental-exports": "total=10; remaining=0; resets=42"}),
        "/api/v2/incremental/tickets/cursor",
    )
    gov.acquire("/api/v2/groups")  # other budgets are unaffected
    assert clock.slept == []
    gov.acquire("/api/v2/incremental/organizations")
    assert clock.slept == [42.0]


def test_governor_counts_requests_in_flight_between_headers():
    """A configured limit of 3 lets 3 requests through, then waits for the window."""
    clock = FakeClock()
    gov = RateLimitGovernor(export_limit=3, clock=clock, sleep=clock.sleep, window=60)
    for _ in range(3):
        gov.acquire("/api/v2/incremental/tickets")
    assert clock.slept == []
    gov.acquire("/api/v2/incremental/tickets")
    assert len(clock.slept) == 1 and clock.slept[0] >= 0.05


def test_governor_blocks_everyone_after_a_429_for_retry_after():
    """After a 429 no request on that budget goes out before Retry-After has passed."""
    clock = FakeClock()
    gov = RateLimitGovernor(clock=clock, sleep=clock.sleep)
    gov.observe(_response(429, Retry_After="5", X_Rate_Limit="700", X_Rate_Limit_Remaining="0"), "/api/v2/groups")
    gov.acquire("/api/v2/users")
    assert clock.slept and abs(sum(clock.slept) - 5.0) < 0.1


def test_governor_reads_ratelimit_headers_and_never_fails_on_junk():
    """ratelimit-* sets the account budget; unreadable headers are ignored."""
    clock = FakeClock()
    gov = RateLimitGovernor(clock=clock, sleep=clock.sleep)
    gov.observe(_response(**{"ratelimit-limit": "700", "ratelimit-remaining": "5", "ratelimit-reset": "9"}))
    assert gov.snapshot()["account"] == {"total": 700, "remaining": 5}
    gov.observe(_response(**{"Zendesk-RateLimit-tickets-index": "garbage"}))


def test_a_too_many_jobs_refusal_pauses_nothing_but_its_headers_count():
    """TooManyJobs (30 jobs queued, 6.5) refuses a job, not the account: no wait for others."""
    clock = FakeClock()
    gov = RateLimitGovernor(clock=clock, sleep=clock.sleep)
    refusal = _response(
        429, Retry_After="60", ratelimit_limit="700", ratelimit_remaining="650", ratelimit_reset="30"
    )
    refusal._content = b'{"error": "TooManyJobs", "description": "Number of allowed jobs exceeded"}'
    gov.observe(refusal, "/api/v2/imports/tickets/create_many")
    assert gov.snapshot()["account"] == {"total": 700, "remaining": 650}
    gov.acquire("/api/v2/job_statuses/show_many")
    assert clock.slept == []
    assert inflight_jobs(
        _response(**{"Zendesk-RateLimit-inflight-jobs": "total=30; remaining=0; resets=12"})
    ) == (30, 0, 12)


def test_a_429_without_retry_after_blocks_until_the_window_resets():
    """The reply's own `ratelimit-reset` (remaining 0) says how long, not a blind 60 s."""
    clock = FakeClock()
    gov = RateLimitGovernor(clock=clock, sleep=clock.sleep)
    gov.observe(
        _response(429, ratelimit_limit="700", ratelimit_remaining="0", ratelimit_reset="9"),
        "/api/v2/groups",
    )
    gov.acquire("/api/v2/users")
    assert abs(sum(clock.slept) - 9.0) < 0.1
