"""Contract tests of the emulator's rate limiting: headers, buckets, 429 with Retry-After."""

from __future__ import annotations

import re
import time

from tests.conftest import zendesk_session

HEADER_RE = re.compile(r"total=(\d+); remaining=(\d+); resets=(\d+)")


def hit_until_429(api, url, limit):
    """Request until a 429 arrives (at most `limit` tries); return all responses."""
    seen = []
    for _ in range(limit):
        r = api.get(url)
        seen.append(r)
        if r.status_code == 429:
            break
    return seen


def test_every_response_carries_the_account_rate_headers(emulator_factory):
    """X-Rate-Limit(-Remaining) and the ratelimit-* trio come on every API reply."""
    emu = emulator_factory(tickets=10, hold_back=0)
    api = zendesk_session(emu)
    first = api.get(f"{emu.url}/api/v2/groups")
    second = api.get(f"{emu.url}/api/v2/users/9999999")
    for r in (first, second):
        assert r.headers["X-Rate-Limit"] == "700"
        assert r.headers["ratelimit-limit"] == "700"
        assert 1 <= int(r.headers["ratelimit-reset"]) <= 60
    assert int(second.headers["X-Rate-Limit-Remaining"]) == \
        int(first.headers["X-Rate-Limit-Remaining"]) - 1
    assert second.headers["ratelimit-remaining"] == second.headers["X-Rate-Limit-Remaining"]


def test_list_tickets_carries_the_tickets_index_header(emulator_factory):
    """`GET /tickets` has its own Zendesk-RateLimit-tickets-index bucket header."""
    emu = emulator_factory(tickets=10, hold_back=0)
    r = zendesk_session(emu).get(f"{emu.url}/api/v2/tickets.json")
    assert HEADER_RE.fullmatch(r.headers["Zendesk-RateLimit-tickets-index"])


def test_account_limit_answers_429_with_retry_after_and_plain_text(emulator_factory):
    """Over the account limit: 429, integer Retry-After within the window, text body."""
    emu = emulator_factory(tickets=5, hold_back=0, rate_limit=3, window_seconds=5)
    api = zendesk_session(emu)
    seen = hit_until_429(api, f"{emu.url}/api/v2/groups", 10)
    limited = seen[-1]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 5
    assert limited.text == "Number of allowed API requests per minute exceeded"
    assert limited.headers["Content-Type"].startswith("text/plain")
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"
    assert emu.stats()["rate_limited"] >= 1


def test_waiting_retry_after_lets_requests_through_again(emulator_factory):
    """After the window resets the same request succeeds."""
    emu = emulator_factory(tickets=5, hold_back=0, rate_limit=2, window_seconds=1)
    api = zendesk_session(emu)
    limited = hit_until_429(api, f"{emu.url}/api/v2/groups", 10)[-1]
    assert limited.status_code == 429
    time.sleep(int(limited.headers["Retry-After"]))
    assert api.get(f"{emu.url}/api/v2/groups").status_code == 200


def test_export_limit_is_separate_from_the_account_limit(emulator_factory):
    """Exports have their own bucket; other endpoints keep working when it is empty."""
    emu = emulator_factory(tickets=5, hold_back=0, export_rate_limit=2, window_seconds=5)
    api = zendesk_session(emu)
    url = f"{emu.url}/api/v2/incremental/tickets?start_time=0"
    seen = hit_until_429(api, url, 10)
    assert seen[-1].status_code == 429
    assert 1 <= int(seen[-1].headers["Retry-After"]) <= 5
    total, remaining, _ = HEADER_RE.fullmatch(
        seen[-1].headers["Zendesk-RateLimit-incremental-exports"]).groups()
    assert (total, remaining) == ("2", "0")
    assert api.get(f"{emu.url}/api/v2/groups").status_code == 200
    cursor_users = api.get(f"{emu.url}/api/v2/incremental/users/cursor?start_time=0")
    assert cursor_users.status_code == 200


def test_cursor_user_export_has_its_own_bucket(emulator_factory):
    """The cursor user export is limited separately and reports -incremental-exports-cursor."""
    emu = emulator_factory(tickets=5, hold_back=0, cursor_export_rate_limit=1,
                           window_seconds=5)
    api = zendesk_session(emu)
    seen = hit_until_429(api, f"{emu.url}/api/v2/incremental/users/cursor?start_time=0", 5)
    assert seen[-1].status_code == 429
    assert "Zendesk-RateLimit-incremental-exports-cursor" in seen[-1].headers
    assert api.get(f"{emu.url}/api/v2/incremental/users?start_time=0").status_code == 200


def test_unenforced_buckets_never_report_zero_remaining(emulator_factory):
    """With limits off, headers never tell a pacing client to wait."""
    emu = emulator_factory(tickets=5, hold_back=0)
    api = zendesk_session(emu)
    for _ in range(12):
        r = api.get(f"{emu.url}/api/v2/incremental/tickets?start_time=0")
        assert r.status_code == 200
    _, remaining, _ = HEADER_RE.fullmatch(
        r.headers["Zendesk-RateLimit-incremental-exports"]).groups()
    assert int(remaining) == 5
