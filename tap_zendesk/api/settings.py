"""Connection settings shared by tap and target: declared once, validated once."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_zendesk.api.urls import base_url, normalize_subdomain

#: Every credential key; used by the secret scrubber and by config error messages.
SECRET_KEYS = ("api_token", "oauth_token")

CONNECTION_PROPERTIES = th.PropertiesList(
    th.Property(
        "subdomain",
        th.StringType,
        description=(
            "Your Zendesk subdomain: the `acme` of `https://acme.zendesk.com`. Letters, digits and "
            "hyphens only; not a URL."
        ),
    ),
    th.Property(
        "email",
        th.StringType,
        description=(
            "Email address of the agent or admin who owns `api_token` (without `/token`). "
            "Used only with `api_token`."
        ),
    ),
    th.Property(
        "api_token",
        th.StringType,
        secret=True,
        description=(
            "Zendesk API token (Admin Center > Apps and integrations > Zendesk API). Legacy: "
            "Zendesk retires API tokens (no new ones from 2026-10-27; all fail from 2027-04-30)."
        ),
    ),
    th.Property(
        "oauth_token",
        th.StringType,
        secret=True,
        description="OAuth access token, sent as `Authorization: Bearer ...`. Use instead of "
        "`email` + `api_token`.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        description=(
            "Optional override of the API host, e.g. `http://127.0.0.1:8080` for the local "
            "emulator. Must be `https` unless the host is loopback. Wins over `subdomain`."
        ),
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=30,
        description="Seconds to wait for Zendesk to answer one request before retrying it.",
    ),
    th.Property(
        "rate_limit",
        th.IntegerType,
        description=(
            "Your plan's account-wide limit in requests per minute (e.g. 200, 400, 700, 2500). "
            "Optional: without it the limit is learned from Zendesk's response headers."
        ),
    ),
    th.Property(
        "export_rate_limit",
        th.IntegerType,
        description=(
            "Incremental-export limit in requests per minute (10, or 30 with the High Volume "
            "add-on). Optional: learned from response headers otherwise."
        ),
    ),
)


def validate_connection_config(config: t.Mapping[str, t.Any]) -> None:
    """Check the cross-field rules the JSON schema cannot express; name keys, never values."""
    errors: list[str] = []
    has_token = bool(config.get("api_token"))
    has_oauth = bool(config.get("oauth_token"))
    if has_token and has_oauth:
        errors.append(
            "Both `api_token` and `oauth_token` are set: choose one auth mode and remove the "
            "other key."
        )
    elif not has_token and not has_oauth:
        errors.append(
            "No credentials: set `email` + `api_token`, or `oauth_token` "
            "(env: TAP_ZENDESK_API_TOKEN / TARGET_ZENDESK_API_TOKEN, ...)."
        )
    if has_token and not config.get("email"):
        errors.append("`api_token` needs `email`: set `email` to the address of the token's owner.")
    if not config.get("subdomain") and not config.get("api_url"):
        errors.append("Set `subdomain` (the `acme` of acme.zendesk.com), or `api_url`.")
    if config.get("subdomain"):
        try:
            normalize_subdomain(config["subdomain"])
        except ValueError as exc:
            errors.append(str(exc))
    if config.get("api_url"):
        try:
            base_url(config)
        except ValueError as exc:
            errors.append(str(exc))
    timeout = config.get("request_timeout", 30)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        errors.append("`request_timeout` must be a positive number of seconds.")
    if errors:
        raise ConfigValidationError("Invalid Zendesk connection settings", errors=errors)
