"""Config -> the requests auth object every Zendesk call uses (tap streams and target sinks)."""

from __future__ import annotations

import base64
import logging
import typing as t

import requests

from tap_zendesk.api.oauth import RefreshingToken
from tap_zendesk.api.settings import auth_mode

API_TOKEN_RETIREMENT = "2027-04-30"
_warned = False


class ZendeskAuth(requests.auth.AuthBase):
    """Adds the Authorization header; its repr and str never show the credential.

    Modes: `api_token` (email + API token, legacy), `oauth_token` (a static bearer token) and
    `oauth_refresh` (client id + secret + refresh token: the access token comes from the shared
    token store and is refreshed ahead of expiry, see `tap_zendesk.api.oauth`).
    """

    def __init__(self, config: t.Mapping[str, t.Any], **refresh_options: t.Any) -> None:
        self.mode = auth_mode(config)
        self.tokens: RefreshingToken | None = None
        self._header = ""
        if self.mode == "oauth_refresh":
            self.tokens = RefreshingToken.from_config(config, **refresh_options)
        elif self.mode == "oauth_token":
            self._header = f"Bearer {config['oauth_token']}"
        elif self.mode == "api_token":
            raw = f"{config.get('email', '')}/token:{config['api_token']}".encode()
            self._header = "Basic " + base64.b64encode(raw).decode("ascii")
        else:
            msg = (
                "No Zendesk credentials configured (set email + api_token, oauth_token, or "
                "client_id + client_secret + refresh_token)."
            )
            raise ValueError(msg)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never reach a log line: headers, tokens, the client secret."""
        if self.tokens is not None:
            return self.tokens.secrets
        return (self._header, self._header.split(" ", 1)[1])

    @property
    def refreshable(self) -> bool:
        """True when a refused access token can be replaced by a refresh."""
        return self.tokens is not None

    def describe(self) -> str:
        """Human name of the auth mode, for error messages (never the value)."""
        if self.tokens is not None:
            return (
                f"the OAuth access token of client `{self.tokens.client_id}` (token store "
                f"{self.tokens.store.path}), refreshed just before"
            )
        return "an OAuth access token" if self.mode == "oauth_token" else "email + API token"

    def failure_hint(self) -> str | None:
        """What to do after a refreshed token was refused too (None: the default hint)."""
        if self.tokens is None:
            return None
        return (
            "Check that the user who authorized the OAuth client is still an active admin and "
            f"that the client has the `read write` scopes. {self.tokens.hint}"
        )

    def recover_from_401(self, response: requests.Response) -> bool:
        """After a 401: True when a fresh access token is ready (refreshed or another's)."""
        if self.tokens is None:
            return False
        return self.tokens.recover(_bearer_of(response))

    def confirm(self, response: requests.Response) -> None:
        """A 2xx reply: the token it was sent with works (ends the 'just refreshed' watch)."""
        if self.tokens is not None and self.tokens.awaiting_confirmation:
            self.tokens.confirm(_bearer_of(response))

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Attach the header to an outgoing request (refreshing an expiring token first)."""
        if self.tokens is not None:
            request.headers["Authorization"] = f"Bearer {self.tokens.current()}"
        else:
            request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return f"<ZendeskAuth mode={self.mode}>"

    __str__ = __repr__


def _bearer_of(response: requests.Response) -> str | None:
    """The access token a reply's request carried, if it was a bearer token."""
    request = response.request
    header = request.headers.get("Authorization", "") if request is not None else ""
    scheme, _, value = header.partition(" ")
    return value if scheme.lower() == "bearer" and value else None


def warn_if_legacy(auth: ZendeskAuth, logger: logging.Logger) -> None:
    """Log the API-token retirement once per process, so scheduled runs show it but do not spam."""
    global _warned  # noqa: PLW0603
    if auth.mode == "api_token" and not _warned:
        _warned = True
        logger.warning(
            "Using a Zendesk API token: Zendesk retires API tokens (every token fails from %s). "
            "Plan a move to OAuth (`client_id` + `client_secret` + `refresh_token`, see the "
            "README's 'Authenticate with OAuth').",
            API_TOKEN_RETIREMENT,
        )
