"""Connection settings shared by tap and target: declared once, validated once."""

from __future__ import annotations

import copy
import difflib
import typing as t

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_zendesk.api.oauth import OAuthError, TokenStore, login_command, token_store_path
from tap_zendesk.api.urls import base_url, normalize_subdomain

#: Every credential key; used by the secret scrubber and by config error messages.
SECRET_KEYS = ("api_token", "oauth_token", "client_secret", "refresh_token")
#: Auth mode -> the keys that select it (exactly one mode per config). `email` belongs to the
#: API-token mode but selects nothing on its own; `token_store` has a default.
AUTH_MODES = {
    "oauth_refresh": ("client_id", "client_secret", "refresh_token"),
    "oauth_token": ("oauth_token",),
    "api_token": ("api_token",),
}

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
        "client_id",
        th.StringType,
        description=(
            "Unique identifier of your Zendesk OAuth client (Admin Center > Apps and "
            "integrations > APIs > OAuth clients), e.g. `acme-pipeline`. With `client_secret` "
            "and a refresh token: OAuth whose tokens are refreshed and rotated unattended."
        ),
    ),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        description="Secret of the OAuth client `client_id`.",
    ),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        description=(
            "Initial OAuth refresh token. Zendesk swaps it on every refresh, so it is used only "
            "until `token_store` holds a newer one. Optional once `tap-zendesk-login` has "
            "filled the token store."
        ),
    ),
    th.Property(
        "token_store",
        th.StringType,
        description=(
            "Path of the JSON file (mode 0600) that holds the current OAuth access and refresh "
            "token, shared by the tap, the target and every run. Default: "
            "`~/.config/tap-zendesk/tokens-<subdomain>-<client_id>.json`."
        ),
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


def auth_mode(config: t.Mapping[str, t.Any]) -> str | None:
    """The configured auth mode (`oauth_refresh`, `oauth_token`, `api_token`), None if none."""
    for mode, keys in AUTH_MODES.items():
        if any(config.get(key) for key in keys):
            return mode
    return None


def has_credentials(config: t.Mapping[str, t.Any]) -> bool:
    """True when some auth mode is configured (discovery may then read field definitions)."""
    return auth_mode(config) is not None


def validate_connection_config(config: t.Mapping[str, t.Any]) -> None:
    """Check the cross-field rules the JSON schema cannot express; name keys, never values."""
    errors: list[str] = []
    found = {mode: [key for key in keys if config.get(key)] for mode, keys in AUTH_MODES.items()}
    present = {mode: keys for mode, keys in found.items() if keys}
    if len(present) > 1:
        keys = ", ".join(f"`{key}`" for keys in present.values() for key in keys)
        errors.append(
            f"Several auth modes are set ({keys}): keep exactly one of `client_id` + "
            "`client_secret` + `refresh_token` (OAuth), `oauth_token`, or `email` + `api_token` "
            "(legacy), and remove the other keys."
        )
    elif not present:
        errors.append(
            "No credentials: set `client_id` + `client_secret` + `refresh_token` (OAuth, see "
            "the README), `oauth_token`, or `email` + `api_token` (legacy) (env: "
            "TAP_ZENDESK_CLIENT_ID / TARGET_ZENDESK_CLIENT_ID, ...)."
        )
    elif "oauth_refresh" in present:
        errors += _refresh_flow_errors(config)
    if config.get("api_token") and not config.get("email"):
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
        raise config_error("Invalid Zendesk connection settings", errors)


def _refresh_flow_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """OAuth refresh: client id and secret, and a refresh token in the config or the store."""
    missing = [f"`{key}`" for key in ("client_id", "client_secret") if not config.get(key)]
    if missing:
        return [
            f"OAuth with a refresh token also needs {' and '.join(missing)}: set `client_id`, "
            "`client_secret` and `refresh_token` (or fill the token store with "
            "`tap-zendesk-login`)."
        ]
    if config.get("refresh_token") or not (config.get("subdomain") or config.get("api_url")):
        return []
    try:
        path = token_store_path(config)
        record = TokenStore(path).read()
    except ValueError:
        return []  # a bad subdomain or api_url has its own message
    except OAuthError as exc:
        return [str(exc)]
    if record is None or not record.pair.refresh_token:
        return [
            f"`refresh_token` is not set and the token store {path} holds none: run "
            f"`{login_command(config)}` once, or set `refresh_token`."
        ]
    return []


def unknown_settings(config: t.Mapping[str, t.Any], plugin: t.Any) -> list[str]:
    """Return one line per config key `plugin` does not read, naming the closest known key.

    JSON Schema lets unknown keys through, so a misspelt optional setting (`page_sise`) would
    be ignored without a word.
    """
    schema = copy.deepcopy(plugin.config_jsonschema)
    plugin.append_builtin_config(schema)  # stream_maps, flattening, batch_size_rows, ...
    known = sorted(schema.get("properties") or {})
    lines = []
    for key in sorted(k for k in config if k not in known):
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
        fix = (
            f"did you mean `{close[0]}`?"
            if close
            else f"remove it (`{plugin.name} --about` lists the settings)."
        )
        lines.append(f"`{key}` is not a {plugin.name} setting and is ignored; {fix}")
    return lines


def config_error(summary: str, errors: list[str]) -> ConfigValidationError:
    """A ConfigValidationError whose text lists every problem.

    The SDK prints `errors` only on some CLI paths (not `--discover`); with the problems in the
    message itself every path shows what to fix.
    """
    return ConfigValidationError(f"{summary}: " + " ".join(errors), errors=errors)
