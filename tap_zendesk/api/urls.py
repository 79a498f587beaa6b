"""Base URL from `api_url` or `subdomain`, and the check every URL we follow must pass."""

from __future__ import annotations

import ipaddress
import re
import typing as t
from urllib.parse import urlsplit

from singer_sdk.exceptions import FatalAPIError

# One DNS label (zendesk_api.md 1.1); Zendesk does not publish its own rule.
_SUBDOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class UnsafeURLError(FatalAPIError):
    """Raised when a URL points anywhere but the configured Zendesk host, or is plain http."""


def normalize_subdomain(value: str) -> str:
    """Return the lower-cased subdomain, or raise ValueError saying exactly what to type."""
    raw = str(value).strip()
    lowered = raw.lower()
    if "://" in lowered or lowered.endswith(".zendesk.com") or ".zendesk.com/" in lowered:
        host = urlsplit(lowered if "://" in lowered else f"https://{lowered}").hostname or ""
        guess = host.split(".")[0] if host.endswith(".zendesk.com") else ""
        hint = f"set `subdomain` to `{guess}`" if guess else "set `subdomain` to the account name"
        msg = (
            f"`subdomain` looks like a URL or host name ({raw!r}): {hint}, the part before "
            "`.zendesk.com`. To point at another host, use `api_url`."
        )
        raise ValueError(msg)
    if not _SUBDOMAIN_RE.match(lowered):
        msg = (
            f"`subdomain` {raw!r} is not valid: use letters, digits and hyphens only (the `acme` "
            "of https://acme.zendesk.com), at most 63 characters."
        )
        raise ValueError(msg)
    return lowered


def is_loopback(host: str | None) -> bool:
    """True for localhost and 127.0.0.0/8 or ::1: the only hosts allowed over plain http."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url(config: t.Mapping[str, t.Any]) -> str:
    """The API root (no trailing slash): `api_url` if set, else https://{subdomain}.zendesk.com."""
    api_url = config.get("api_url")
    if api_url:
        parts = urlsplit(str(api_url).strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            msg = f"`api_url` {api_url!r} is not an http(s) URL, e.g. https://acme.zendesk.com"
            raise ValueError(msg)
        if parts.username or parts.password or parts.query or parts.fragment:
            msg = "`api_url` must not carry credentials, a query or a fragment."
            raise ValueError(msg)
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            msg = (
                f"`api_url` uses plain http for {parts.hostname!r}: use https (plain http is "
                "allowed only for loopback hosts such as the local emulator)."
            )
            raise ValueError(msg)
        path = parts.path.rstrip("/")
        if path.endswith("/api/v2"):
            path = path[: -len("/api/v2")]
        netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        if ":" in (parts.hostname or "") and parts.port is not None:
            netloc = f"[{parts.hostname}]:{parts.port}"
        return f"{parts.scheme}://{netloc}{path}"
    return f"https://{normalize_subdomain(config['subdomain'])}.zendesk.com"


def check_url(url: str, base: str) -> str:
    """Return `url` if it is on the configured host with the same scheme; raise otherwise."""
    target = urlsplit(url)
    origin = urlsplit(base)
    same = (
        target.scheme == origin.scheme
        and (target.hostname or "").lower() == (origin.hostname or "").lower()
        and (target.port or _default_port(target.scheme))
        == (origin.port or _default_port(origin.scheme))
    )
    if not same:
        msg = (
            f"Refusing to follow a URL on another host or scheme "
            f"({target.scheme}://{target.hostname}{target.path}); only {origin.scheme}://"
            f"{origin.hostname} is trusted. Zendesk pagination links always stay on the account."
        )
        raise UnsafeURLError(msg)
    return url


def _default_port(scheme: str) -> int:
    """Port implied by a scheme, so `https://h` and `https://h:443` compare equal."""
    return 443 if scheme == "https" else 80


def path_of(url: str) -> str:
    """The path of a URL without its query (query strings can carry cursors; keep logs short)."""
    return urlsplit(url).path
