"""URL rules: subdomain validation, api_url scheme rules, and the follow-only-our-host check."""

import pytest

from tap_zendesk.api.urls import UnsafeURLError, base_url, check_url, normalize_subdomain


@pytest.mark.parametrize("value", ["acme", "ACME", "a-b-1", "x" * 63])
def test_normalize_subdomain_accepts_dns_labels(value):
    """Letters, digits and hyphens are accepted and lower-cased."""
    assert normalize_subdomain(value) == value.lower()


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("https://acme.zendesk.com/", "`acme`"),
        ("acme.zendesk.com", "`acme`"),
        ("http://acme.zendesk.com/api/v2", "`acme`"),
    ],
)
def test_normalize_subdomain_explains_what_to_type_when_given_a_url(value, hint):
    """A pasted URL gets an error that names the subdomain to type instead."""
    with pytest.raises(ValueError, match=hint):
        normalize_subdomain(value)


@pytest.mark.parametrize("value", ["evil.com#", "a.b", "..", "-acme", "acme-", "", "a b", "x" * 64])
def test_normalize_subdomain_rejects_host_injection(value):
    """Anything that could change the host is refused."""
    with pytest.raises(ValueError, match="subdomain"):
        normalize_subdomain(value)


def test_base_url_prefers_api_url_and_allows_http_only_on_loopback():
    """api_url wins; plain http is fine for 127.0.0.1 and localhost, not elsewhere."""
    assert base_url({"subdomain": "acme"}) == "https://acme.zendesk.com"
    assert base_url({"subdomain": "acme", "api_url": "http://127.0.0.1:8080/"}) == (
        "http://127.0.0.1:8080"
    )
    assert base_url({"api_url": "http://localhost:9"}) == "http://localhost:9"
    assert base_url({"api_url": "https://acme.zendesk.com/api/v2"}) == "https://acme.zendesk.com"
    with pytest.raises(ValueError, match="plain http"):
        base_url({"api_url": "http://acme.zendesk.com"})
    with pytest.raises(ValueError, match="credentials"):
        base_url({"api_url": "https://user:pw@acme.zendesk.com"})


def test_check_url_refuses_other_hosts_schemes_and_ports():
    """Pagination links are followed only on the configured scheme, host and port."""
    base = "https://acme.zendesk.com"
    assert check_url("https://acme.zendesk.com/api/v2/x?cursor=1", base)
    assert check_url("https://ACME.zendesk.com:443/api/v2/x", base)
    for bad in (
        "https://evil.example.com/api/v2/x",
        "http://acme.zendesk.com/api/v2/x",
        "https://acme.zendesk.com:8443/api/v2/x",
        "https://acme.zendesk.com.evil.com/api/v2/x",
    ):
        with pytest.raises(UnsafeURLError):
            check_url(bad, base)
