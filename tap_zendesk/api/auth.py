"""Config -> the requests auth object every Zendesk call uses (tap streams and target sinks)."""

from __future__ import annotations

import base64
import logging
import typing as t

import requests

API_TOKEN_RETIREMENT = "2027-04-30"
_warned = False


class ZendeskAuth(requests.auth.AuthBase):
    """Adds the Authorization header; its repr and str never show the credential."""

    def __init__(self, config: t.Mapping[str, t.Any]) -> None:
        if config.get("oauth_token"):
            self.mode = "oauth_token"
            self._header = f"Bearer {config['oauth_token']}"
        elif config.get("api_token"):
            self.mode = "api_token"
            raw = f"{config.get('email', '')}/token:{config['api_token']}".encode()
            self._header = "Basic " + base64.b64encode(raw).decode("ascii")
        else:
            msg = "No Zendesk credentials configured (set email + api_token, or oauth_token)."
            raise ValueError(msg)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never reach a log line: the header and its credential part."""
        return (self._header, self._header.split(" ", 1)[1])

    def describe(self) -> str:
        """Human name of the auth mode, for error messages (never the value)."""
        return "an OAuth access token" if self.mode == "oauth_token" else "email + API token"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Attach the header to an outgoing request."""
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return f"<ZendeskAuth mode={self.mode}>"

    __str__ = __repr__


def warn_if_legacy(auth: ZendeskAuth, logger: logging.Logger) -> None:
    """Log the API-token retirement once per process, so scheduled runs show it but do not spam."""
    global _warned  # noqa: PLW0603
    if auth.mode == "api_token" and not _warned:
        _warned = True
        logger.warning(
            "Using a Zendesk API token: Zendesk retires API tokens (every token fails from %s). "
            "Plan a move to OAuth (`oauth_token`).",
            API_TOKEN_RETIREMENT,
        )
