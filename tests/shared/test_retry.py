"""Retry policy: Retry-After first, exponential backoff otherwise, writes only when refused."""

import random

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_zendesk.api.retry import RetryPolicy, retry_after_seconds


def _response(status: int, retry_after: str | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def _error(status: int, retry_after: str | None = None) -> RetriableAPIError:
    return RetriableAPIError("x", _response(status, retry_after))


def _prime(gen):
    gen.send(None)
    return gen


def test_retry_after_is_read_as_integer_seconds():
    """Retry-After seconds are parsed; missing or junk gives None."""
    assert retry_after_seconds(_response(429, "7")) == 7.0
    assert retry_after_seconds(_response(429)) is None
    assert retry_after_seconds(_response(429, "soon")) is None


def test_wait_gen_waits_exactly_retry_after_on_429_and_503():
    """429 and 503 with Retry-After wait exactly that long, with no jitter."""
    gen = _prime(RetryPolicy(max_retries=3).wait_gen())
    assert gen.send(_error(429, "3")) == 3.0
    assert gen.send(_error(503, "2")) == 2.0


def test_wait_gen_falls_back_to_exponential_backoff_for_5xx_and_connection_errors():
    """Other transient failures back off exponentially, capped, with jitter inside [w/2, w]."""
    policy = RetryPolicy(max_retries=4, base_wait=1, max_wait=5, rng=random.Random(1))
    gen = _prime(policy.wait_gen())
    waits = [gen.send(_error(500)), gen.send(requests.ConnectionError()), gen.send(_error(502))]
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2 and 2 <= waits[2] <= 4


def test_wait_gen_gives_up_after_max_retries_per_kind():
    """The budget is counted separately for 429s and for other failures, then it stops."""
    gen = _prime(RetryPolicy(max_retries=2, jitter=False).wait_gen())
    gen.send(_error(429, "1"))
    gen.send(_error(429, "1"))
    gen.send(_error(500))  # a different budget
    with pytest.raises(StopIteration):
        gen.send(_error(429, "1"))


def test_writes_retry_only_when_zendesk_refused_them():
    """A POST is resent after 429/503+Retry-After, never after a 500 or a read timeout."""
    policy = RetryPolicy()
    assert policy.is_retriable(_error(429, "1"), idempotent=False)
    assert policy.is_retriable(_error(503, "1"), idempotent=False)
    assert not policy.is_retriable(_error(500), idempotent=False)
    assert not policy.is_retriable(requests.exceptions.ReadTimeout(), idempotent=False)
    assert policy.is_retriable(requests.exceptions.ConnectTimeout(), idempotent=False)
    assert policy.is_retriable(requests.exceptions.ReadTimeout(), idempotent=True)


def test_too_many_jobs_is_handed_back_at_once():
    """A TooManyJobs 429 is not waited out blindly: the job runner waits for its own jobs."""
    refusal = _response(429, "60")
    refusal._content = b'{"error": "TooManyJobs", "description": "Number of allowed jobs exceeded"}'
    gen = _prime(RetryPolicy(max_retries=3).wait_gen(idempotent=False))
    with pytest.raises(StopIteration):
        gen.send(RetriableAPIError("x", refusal))
    assert RetryPolicy().is_retriable(_error(429, "60"), idempotent=False)


def test_a_429_without_retry_after_waits_for_the_spent_budget_to_reset():
    """No Retry-After: the spent family's `resets`, else `ratelimit-reset`, else 60 s."""
    from tap_zendesk.api.retry import rate_limit_wait

    family = _response(429)
    family.headers["Zendesk-RateLimit-incremental-exports"] = "total=10; remaining=0; resets=17"
    family.headers["ratelimit-remaining"] = "600"
    assert rate_limit_wait(family) == 17.0
    account = _response(429)
    account.headers.update({"ratelimit-remaining": "0", "ratelimit-reset": "23"})
    assert rate_limit_wait(account) == 23.0
    assert rate_limit_wait(_response(429)) == 60.0
    assert rate_limit_wait(_response(429, "4")) == 4.0
    gen = _prime(RetryPolicy(max_retries=3).wait_gen())
    assert gen.send(RetriableAPIError("x", account)) == 23.0
