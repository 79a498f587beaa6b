"""Where requests may go: the subdomain cannot name another host, plain http only on loopback,
for the tap and the target alike; a refused config says why without echoing a credential.

Pagination links to another host are in the fault table (test_fault_matrix.py, outcome b:
refused, nothing sent there); the secret scans run at the end of every test of this suite.
Unit checks of the URL rules themselves: tests/shared/test_urls.py.
"""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_zendesk.api.urls import base_url
from tap_zendesk.tap import TapZendesk
from target_zendesk.target import TargetZendesk
from tests.faults.conftest import (
    API_TOKEN,
    SECRET_EMAIL,
    SECRETS,
    assert_no_secrets,
)

PLUGINS = {"tap": TapZendesk, "target": TargetZendesk}
CREDENTIALS = {"email": SECRET_EMAIL, "api_token": API_TOKEN}

#: Subdomains that would point requests at another host if pasted into a URL as they are.
INJECTIONS = [
    "evil.com#",
    "a.b",
    "..",
    "evil.com/",
    "evil.com?x=",
    "acme.evil.com#",
    "user@evil.com",
    "acme:443",
    "acme\n.evil.com",
    "",
]


def refused(plugin: str, config: dict) -> str:
    """The text of the ConfigValidationError the plugin raises (it must raise one)."""
    with pytest.raises(ConfigValidationError) as caught:
        PLUGINS[plugin](config=config, parse_env_config=False)
    return " ".join([str(caught.value), *(caught.value.errors or [])])


@pytest.mark.parametrize("plugin", sorted(PLUGINS))
@pytest.mark.parametrize("subdomain", INJECTIONS)
def test_a_subdomain_cannot_point_at_another_host(plugin, subdomain):
    """Anything but one DNS label is refused, naming `subdomain`, never a credential."""
    text = refused(plugin, {"subdomain": subdomain, **CREDENTIALS})
    assert "`subdomain`" in text, text
    assert_no_secrets(None, text)


@pytest.mark.parametrize("plugin", sorted(PLUGINS))
@pytest.mark.parametrize(
    "api_url",
    [
        "http://zendesk.example.com",
        "http://10.0.0.5:8080",
        "http://127.0.0.1.evil.com",
        "http://localhost.evil.com",
        "http://[2001:db8::1]",
        "ftp://127.0.0.1",
        "https://user:pass@acme.zendesk.com",
    ],
)
def test_plain_http_and_odd_urls_are_refused_off_loopback(plugin, api_url):
    """Plain http only to loopback; no other scheme, no credentials inside the URL."""
    text = refused(plugin, {"api_url": api_url, **CREDENTIALS})
    assert "`api_url`" in text, text
    assert "pass" not in text.replace("password", ""), "the URL's credentials are not echoed"
    assert_no_secrets(None, text)


@pytest.mark.parametrize(
    ("api_url", "base"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:8080/api/v2/", "http://localhost:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://acme.zendesk.com/", "https://acme.zendesk.com"),
    ],
)
def test_loopback_http_and_https_are_accepted(api_url, base):
    """The emulator's http://127.0.0.1 works; https anywhere; the base drops /api/v2."""
    # No field definitions read at discovery: nothing listens there.
    TapZendesk(
        config={"api_url": api_url, **CREDENTIALS, "type_custom_fields": False},
        parse_env_config=False,
    )
    TargetZendesk(config={"api_url": api_url, **CREDENTIALS}, parse_env_config=False)
    assert base_url({"api_url": api_url}) == base


def test_a_valid_subdomain_is_the_only_host():
    """`acme` -> https://acme.zendesk.com (upper case and spaces forgiven)."""
    assert base_url({"subdomain": " ACME "}) == "https://acme.zendesk.com"
    assert all(len(s) >= 16 for s in SECRETS), "the scanned secrets are distinctive"
