"""Auth-mode rules of validate_connection_config: exactly one mode; keys named, values never."""

from __future__ import annotations

import logging

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_zendesk.api import auth as auth_module
from tap_zendesk.api.auth import ZendeskAuth, warn_if_legacy
from tap_zendesk.api.oauth import TokenStore, save_login
from tap_zendesk.api.settings import CONNECTION_PROPERTIES, auth_mode, validate_connection_config

SECRETS = {"api_token": "tok-77Yh", "oauth_token": "oat-55Jk", "client_secret": "cs-33Lp",
           "refresh_token": "rt-11Qw"}


def _errors(config: dict) -> str:
    with pytest.raises(ConfigValidationError) as info:
        validate_connection_config(config)
    text = " ".join([str(info.value), *info.value.errors])
    for value in SECRETS.values():
        assert value not in text
    return text


def _oauth(tmp_path, **extra) -> dict:
    return {"subdomain": "acme", "client_id": "pipe", "client_secret": SECRETS["client_secret"],
            "refresh_token": SECRETS["refresh_token"],
            "token_store": str(tmp_path / "tokens.json"), **extra}


def test_the_refresh_flow_is_a_valid_auth_mode(tmp_path):
    """client_id + client_secret + refresh_token is enough."""
    validate_connection_config(_oauth(tmp_path))
    assert auth_mode(_oauth(tmp_path)) == "oauth_refresh"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"api_token": SECRETS["api_token"], "email": "a@b.c"}, "`api_token`"),
        ({"oauth_token": SECRETS["oauth_token"]}, "`oauth_token`"),
    ],
)
def test_mixing_the_refresh_flow_with_another_mode_names_both(tmp_path, extra, named):
    """Two modes at once: both sets of keys are named, no value is shown."""
    text = _errors(_oauth(tmp_path, **extra))
    assert named in text and "`client_id`" in text and "Several auth modes" in text


@pytest.mark.parametrize("missing", ["client_id", "client_secret"])
def test_a_partial_refresh_flow_names_the_missing_key(tmp_path, missing):
    """client_id without client_secret (or the reverse) names what is missing."""
    config = _oauth(tmp_path)
    del config[missing]
    assert f"`{missing}`" in _errors(config)


def test_refresh_token_may_be_left_out_only_when_the_store_holds_one(tmp_path):
    """No refresh_token and an empty store: the error names `refresh_token`, the store, the fix."""
    config = _oauth(tmp_path)
    del config["refresh_token"]
    text = _errors(config)
    assert "`refresh_token`" in text and config["token_store"] in text
    assert "tap-zendesk-login" in text
    save_login(TokenStore(config["token_store"]),
               {"access_token": "at-x", "refresh_token": "rt-x", "expires_in": 60},
               client_id="pipe", base="https://acme.zendesk.com", clock=lambda: 0.0)
    validate_connection_config(config)


def test_no_credentials_lists_every_mode():
    """An empty config names the three ways to authenticate."""
    text = _errors({"subdomain": "acme"})
    for key in ("`client_id`", "`oauth_token`", "`api_token`"):
        assert key in text


def test_new_settings_are_declared_once_with_secrets_marked():
    """client_secret and refresh_token are secret; client_id and token_store are not."""
    props = CONNECTION_PROPERTIES.to_dict()["properties"]
    assert props["client_secret"].get("secret") and props["refresh_token"].get("secret")
    assert not props["client_id"].get("secret") and not props["token_store"].get("secret")
    for name in ("client_id", "client_secret", "refresh_token", "token_store"):
        assert props[name]["description"]


def test_api_token_logs_one_deprecation_line_and_oauth_none(tmp_path, caplog, monkeypatch):
    """The legacy mode warns once with the retirement date; the refresh flow does not warn."""
    monkeypatch.setattr(auth_module, "_warned", False)
    log = logging.getLogger("test.legacy")
    with caplog.at_level(logging.WARNING, logger="test.legacy"):
        warn_if_legacy(ZendeskAuth(_oauth(tmp_path)), log)
        assert not caplog.records
        legacy = ZendeskAuth({"subdomain": "acme", "email": "a@b.c", "api_token": "t"})
        warn_if_legacy(legacy, log)
        warn_if_legacy(legacy, log)
    assert len(caplog.records) == 1 and "2027-04-30" in caplog.records[0].getMessage()
