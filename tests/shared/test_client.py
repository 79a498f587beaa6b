"""ZendeskClient: retries, pacing, URL checks and secret-free errors, against `responses`."""

import logging

import pytest
import requests
import responses

from tap_zendesk.api.client import ZendeskClient
from tap_zendesk.api.errors import AuthenticationError, ZendeskRequestError
from tap_zendesk.api.retry import RetryPolicy
from tap_zendesk.api.urls import UnsafeURLError

BASE = "https://acme.zendesk.com"
CONFIG = {"subdomain": "acme", "email": "ops@example.com", "api_token": "s3cr3t-token-value"}


def _client(**kw):
    client = ZendeskClient(CONFIG, policy=RetryPolicy(max_retries=2, base_wait=0, jitter=False), **kw)
    client.governor._sleep = lambda s: None
    return client


@responses.activate
def test_client_sends_basic_auth_and_retries_429_after_retry_after(monkeypatch):
    """A 429 is retried after Retry-After; the credential goes in the Authorization header."""
    slept = []
    monkeypatch.setattr("time.sleep", slept.append)
    responses.get(f"{BASE}/api/v2/groups", status=429, headers={"Retry-After": "2"}, body="slow")
    responses.get(f"{BASE}/api/v2/groups", json={"groups": []})
    body = _client().get_json("/api/v2/groups")
    assert body == {"groups": []}
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert 2.0 in slept


@responses.activate
def test_client_does_not_resend_a_post_that_failed_with_500(monkeypatch):
    """A write that may have reached Zendesk is not retried (duplicates), it raises."""
    monkeypatch.setattr("time.sleep", lambda s: None)
    responses.post(f"{BASE}/api/v2/imports/tickets/create_many", status=500, body="boom")
    with pytest.raises(Exception, match="500"):
        _client().request_json("POST", "/api/v2/imports/tickets/create_many", json={"tickets": []})
    assert len(responses.calls) == 1


@responses.activate
def test_client_retries_truncated_json_on_reads(monkeypatch):
    """A cut-off body on a GET is retried like a 5xx."""
    monkeypatch.setattr("time.sleep", lambda s: None)
    responses.get(f"{BASE}/api/v2/brands", body='{"brands": [', status=200)
    responses.get(f"{BASE}/api/v2/brands", json={"brands": [{"id": 1}]})
    assert _client().get_json("/api/v2/brands")["brands"] == [{"id": 1}]


@responses.activate
def test_client_401_names_host_and_mode_but_no_secret(caplog):
    """401 stops with the host, the auth mode and a fix, and no credential in text or logs."""
    caplog.set_level(logging.DEBUG)
    responses.get(f"{BASE}/api/v2/groups", status=401, json={"error": "Couldn't authenticate you"})
    with pytest.raises(AuthenticationError) as info:
        _client().get_json("/api/v2/groups")
    text = str(info.value)
    assert "acme.zendesk.com" in text and "API token" in text
    for secret in ("s3cr3t-token-value", "b3BzQGV4YW1wbGUuY29tL3Rva2VuOnMzY3IzdC10b2tlbi12YWx1ZQ=="):
        assert secret not in text and secret not in caplog.text
    assert len(responses.calls) == 1


@responses.activate
def test_client_refuses_next_page_on_another_host():
    """An absolute URL off the configured host is refused before any request is sent."""
    with pytest.raises(UnsafeURLError):
        _client().get_json("https://evil.example.com/api/v2/groups?page=2")
    assert len(responses.calls) == 0


@responses.activate
def test_client_422_raises_request_error_with_zendesk_details():
    """A validation failure is not retried and carries Zendesk's reason."""
    responses.post(
        f"{BASE}/api/v2/users/create_or_update",
        status=422,
        json={"error": "RecordInvalid", "description": "Record validation errors",
              "details": {"email": [{"description": "Email is invalid", "error": "InvalidValue"}]}},
    )
    with pytest.raises(ZendeskRequestError, match="Email is invalid") as info:
        _client().request_json("POST", "/api/v2/users/create_or_update", json={"user": {}})
    assert info.value.status_code == 422


def test_client_auth_repr_hides_the_credential():
    """Printing the auth object (as debuggers and loggers do) shows no credential."""
    client = _client()
    assert "s3cr3t" not in repr(client.auth) and "Basic" not in repr(client.auth)
    assert isinstance(client.session, requests.Session)


def test_a_lone_surrogate_in_a_reply_is_repaired_not_retried(caplog):
    """Half an emoji (a lone `\\ud83d` escape) becomes U+FFFD; the body is kept, and the tap's
    msgspec writer can encode it. A body that is not JSON at all still retries."""
    import msgspec
    from singer_sdk.exceptions import RetriableAPIError

    from tap_zendesk.api.client import decode_json

    reply = requests.Response()
    reply.status_code = 200
    reply.url = f"{BASE}/api/v2/incremental/tickets/cursor.json"
    reply._content = b'{"tickets": [{"id": 1, "subject": "Hi \\ud83d", "tags": ["ok"]}], "count": 1}'
    with caplog.at_level("WARNING"):
        body = decode_json(reply)
    assert body["tickets"][0]["subject"] == "Hi \ufffd"
    assert body["tickets"][0]["tags"] == ["ok"] and body["count"] == 1
    assert "Replaced 1 broken character" in caplog.text
    assert msgspec.json.encode(body)  # what the tap writes
    reply._content = b'{"tickets": [{"id": 1, "subject": "Hi \\ud83d'  # cut off
    with pytest.raises(RetriableAPIError):
        decode_json(reply)
