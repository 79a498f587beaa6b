"""Source downloads (unit, `responses`): which hosts get credentials, redirects, size, retries."""

from __future__ import annotations

import logging

import pytest
import responses

from tap_zendesk.api.auth import ZendeskAuth
from tap_zendesk.api.retry import RetryPolicy
from target_zendesk.attachments import AttachmentError, _Source
from target_zendesk.definitions import match

BASE = "https://acme.zendesk.com"
FILE = f"{BASE}/attachments/token/abc/?name=a.txt"


def _source(hosts: tuple[str, ...] = ()) -> _Source:
    auth = ZendeskAuth({"email": "a@acme.test", "api_token": "secret-token"})
    policy = RetryPolicy(max_retries=2, base_wait=0, jitter=False)
    return _Source(BASE, auth, hosts, logging.getLogger("test"), policy, 5.0)


@responses.activate
def test_a_redirect_to_a_listed_host_is_followed_without_credentials(tmp_path):
    """Source host: credentials; the listed blob host: none; the bytes land on disk."""
    responses.get(FILE, status=302, headers={"Location": "https://acme.zdusercontent.com/b/1"})
    responses.get("https://acme.zdusercontent.com/b/1", body=b"hello")
    got = _source(("acme.zdusercontent.com",)).download(FILE, tmp_path / "f", 100, "a.txt")
    assert got == 5 and (tmp_path / "f").read_bytes() == b"hello"
    first, second = (call.request for call in responses.calls)
    assert first.headers["Authorization"].startswith("Basic ")
    assert "Authorization" not in second.headers


@responses.activate
def test_a_redirect_to_any_other_host_rejects_the_file_without_following_it(tmp_path):
    """An unlisted host is never requested; the file is rejected naming the setting."""
    responses.get(FILE, status=302, headers={"Location": "https://evil.example.com/x"})
    with pytest.raises(AttachmentError, match="source_attachment_hosts") as caught:
        _source().download(FILE, tmp_path / "f", 100, "a.txt")
    assert caught.value.code == "UntrustedRedirect"
    assert len(responses.calls) == 1


@responses.activate
def test_a_body_larger_than_the_limit_stops_the_download(tmp_path):
    """A file whose `size` was wrong or missing is cut off at the limit, not kept."""
    responses.get(FILE, body=b"x" * 1000)
    with pytest.raises(AttachmentError, match="larger than 100 bytes") as caught:
        _source().download(FILE, tmp_path / "f", 100, "a.txt")
    assert caught.value.code == "TooLarge"


@responses.activate
def test_a_5xx_on_a_download_is_retried_then_succeeds(tmp_path):
    """Downloads retry like every other read."""
    responses.get(FILE, status=503)
    responses.get(FILE, body=b"ok")
    assert _source().download(FILE, tmp_path / "f", 100, "a.txt") == 2
    assert len(responses.calls) == 2


@responses.activate
def test_a_404_rejects_only_that_file(tmp_path):
    """A file gone from the source is a per-file rejection with Zendesk's answer."""
    responses.get(FILE, status=404, json={"error": "RecordNotFound", "description": "Not found"})
    with pytest.raises(AttachmentError, match="404") as caught:
        _source().download(FILE, tmp_path / "f", 100, "a.txt")
    assert caught.value.code == "DownloadFailed"


def test_fields_match_by_key_first_then_title_and_type_and_live_ones_win():
    """Key beats title; title+type must both agree; an inactive duplicate loses."""
    source = [
        {"id": 1, "type": "text", "title": "Order", "key": "order_no"},
        {"id": 2, "type": "tagger", "title": "Plan"},
        {"id": 3, "type": "integer", "title": "Plan"},
        {"id": 4, "type": "subject", "title": "Subject", "removable": False},
    ]
    dest = [
        {"id": 11, "type": "text", "title": "Renamed", "key": "order_no"},
        {"id": 12, "type": "tagger", "title": " plan ", "active": False},
        {"id": 13, "type": "tagger", "title": "Plan"},
        {"id": 14, "type": "subject", "title": "Betreff", "removable": False},
    ]
    pairs = match("ticket_fields", source, dest)
    assert {k: (v or {}).get("id") for k, v in pairs.items()} == {
        "1": 11, "2": 13, "3": None, "4": 14,
    }
    groups = match("groups", [{"id": 1, "name": "Billing"}],
                   [{"id": 7, "name": "billing", "deleted": True}, {"id": 8, "name": "BILLING"}])
    assert groups["1"]["id"] == 8
