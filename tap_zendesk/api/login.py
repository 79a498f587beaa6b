"""`tap-zendesk-login`: the OAuth authorization-code grant with PKCE, once, into the token store.

    tap-zendesk-login --subdomain acme --client-id acme-pipeline
    python -m tap_zendesk.api.login --api-url http://127.0.0.1:8080 --client-id demo-client

Prints the authorization URL (and opens it unless `--no-browser`), receives Zendesk's redirect on
a loopback port, exchanges the code with the PKCE verifier, and writes the token store that the
tap and the target then keep refreshing. The client secret comes from the environment or a
prompt, never from the command line; no token is ever printed.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import os
import secrets
import sys
import threading
import time
import typing as t
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests

from tap_zendesk.api.oauth import (
    AUTHORIZE_PATH,
    TOKEN_PATH,
    OAuthError,
    TokenEndpointError,
    TokenStore,
    post_token,
    save_login,
    token_reason,
    token_store_path,
)
from tap_zendesk.api.urls import base_url

#: Register `http://127.0.0.1:8765/callback` as a redirect URL of the OAuth client.
DEFAULT_PORT = 8765
CALLBACK_PATH = "/callback"
DEFAULT_SCOPE = "read write"
#: Environment variables the client secret is read from, first set wins.
SECRET_ENV = ("TAP_ZENDESK_CLIENT_SECRET", "TARGET_ZENDESK_CLIENT_SECRET", "ZENDESK_CLIENT_SECRET")
_PAGE = (
    b"<!DOCTYPE html><html><head><title>tap-zendesk login</title></head><body>"
    b"<p>%s</p></body></html>"
)


class LoginError(Exception):
    """Raised when the login cannot finish; the message says why and never holds a secret."""


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier (RFC 7636: 43-128 characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _Callback(BaseHTTPRequestHandler):
    """Receives the one redirect from Zendesk and hands its query to the waiting login."""

    server: _CallbackServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self.send_error(404)
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        ok = "code" in query and query.get("state") == self.server.state
        text = (
            b"Zendesk authorization received. You can close this window."
            if ok
            else b"This was not the expected Zendesk redirect; the login goes on waiting."
        )
        body = _PAGE % text
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        if ok or "error" in query:
            self.server.result = query
            self.server.done.set()

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the request line holds the authorization code."""


class _CallbackServer(HTTPServer):
    """A loopback listener for exactly one redirect."""

    def __init__(self, host: str, port: int, state: str) -> None:
        super().__init__((host, port), _Callback)
        self.state = state
        self.result: dict[str, str] | None = None
        self.done = threading.Event()


def client_secret_from_env(names: t.Sequence[str]) -> str | None:
    """The client secret from the first set environment variable, else a prompt on a terminal."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    if sys.stdin.isatty():
        return getpass.getpass("OAuth client secret (empty for a public PKCE client): ") or None
    return None


def login(
    *,
    config: t.Mapping[str, t.Any],
    client_secret: str | None,
    port: int = DEFAULT_PORT,
    scope: str = DEFAULT_SCOPE,
    open_browser: bool = True,
    timeout: float = 300.0,
    out: t.TextIO = sys.stdout,
    session: requests.Session | None = None,
) -> TokenStore:
    """Run the authorization-code grant with PKCE and write the token store; return it."""
    base = base_url(config)
    client_id = str(config["client_id"])
    store = TokenStore(token_store_path(config))
    state = secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    server = _CallbackServer("127.0.0.1", port, state)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}{CALLBACK_PATH}"
    url = f"{base}{AUTHORIZE_PATH}?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        print("Open this URL in a browser, sign in to Zendesk and allow access:", file=out)
        print(url, file=out, flush=True)
        print(f"Waiting for Zendesk's redirect to {redirect_uri} ...", file=out, flush=True)
        if open_browser:
            webbrowser.open(url)
        if not server.done.wait(timeout):
            msg = f"No redirect from Zendesk within {timeout:.0f} s; nothing was saved."
            raise LoginError(msg)
    finally:
        server.shutdown()
        server.server_close()
    result = server.result or {}
    if "error" in result:
        msg = (
            f"Zendesk did not grant access ({result.get('error')}: "
            f"{result.get('error_description', 'no description')}); nothing was saved."
        )
        raise LoginError(msg)
    body = {
        "grant_type": "authorization_code",
        "code": result["code"],
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "code_verifier": verifier,
    }
    if client_secret:
        body["client_secret"] = client_secret
    response = post_token(session or requests.Session(), base + TOKEN_PATH, body, timeout=30.0)
    if response.status_code != 200:
        reason = token_reason(response, [s for s in (client_secret, result["code"]) if s])
        msg = (
            f"Zendesk refused the authorization code on POST {TOKEN_PATH} "
            f"({response.status_code}: {reason}); nothing was saved. Check `--client-id`, the "
            "client secret and that the redirect URL is registered on the OAuth client."
        )
        raise LoginError(msg)
    try:
        pair = save_login(store, response.json(), client_id=client_id, base=base, clock=time.time)
    except ValueError:
        msg = f"Zendesk's reply to POST {TOKEN_PATH} is not a token response; nothing was saved."
        raise LoginError(msg) from None
    expiry = f"expires in {pair.lifetime:.0f} s" if pair.lifetime else "does not expire"
    refresh = "with a refresh token" if pair.refresh_token else "WITHOUT a refresh token"
    print(
        f"Saved the OAuth tokens for {urlsplit(base).netloc} to {store.path} (mode 0600; "
        f"access token {expiry}; {refresh}).",
        file=out,
    )
    also = f" and `token_store` = {store.path}" if config.get("token_store") else ""
    print(
        f"Configure tap-zendesk and target-zendesk with the same `client_id` and `client_secret`"
        f"{also}; `refresh_token` is not needed: both keep the store current.",
        file=out,
        flush=True,
    )
    return store


def build_parser() -> argparse.ArgumentParser:
    """The command line of the login helper."""
    parser = argparse.ArgumentParser(
        prog="tap-zendesk-login",
        description=(
            "Authorize tap-zendesk / target-zendesk with a Zendesk OAuth client once (the "
            "authorization-code grant with PKCE) and save the tokens to the token store. The "
            f"client secret is read from {', '.join(SECRET_ENV)} or prompted for."
        ),
    )
    parser.add_argument("--subdomain", help="the `acme` of https://acme.zendesk.com")
    parser.add_argument("--api-url", help="API host override (e.g. the local emulator)")
    parser.add_argument("--client-id", required=True, help="the OAuth client's unique identifier")
    parser.add_argument(
        "--token-store",
        help="token store path (default ~/.config/tap-zendesk/tokens-<subdomain>-<client_id>.json)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"loopback port of the redirect URL http://127.0.0.1:PORT{CALLBACK_PATH} "
        f"(default {DEFAULT_PORT}; 0 = any free port)",
    )
    parser.add_argument("--scope", default=DEFAULT_SCOPE, help="scopes (default 'read write')")
    parser.add_argument(
        "--no-browser", action="store_true", help="only print the URL, do not open a browser"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the redirect"
    )
    parser.add_argument(
        "--client-secret-env",
        metavar="NAME",
        help="read the client secret from this environment variable instead",
    )
    return parser


def main(argv: t.Sequence[str] | None = None) -> int:
    """Console entry point: 0 when the token store was written."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.subdomain and not args.api_url:
        parser.error("set --subdomain (the `acme` of acme.zendesk.com) or --api-url")
    config = {
        "subdomain": args.subdomain,
        "api_url": args.api_url,
        "client_id": args.client_id,
        "token_store": args.token_store,
    }
    try:
        base_url(config)
    except ValueError as exc:
        parser.error(str(exc))
    names = (args.client_secret_env,) if args.client_secret_env else SECRET_ENV
    try:
        login(
            config=config,
            client_secret=client_secret_from_env(names),
            port=args.port,
            scope=args.scope,
            open_browser=not args.no_browser,
            timeout=args.timeout,
        )
    except (LoginError, OAuthError, TokenEndpointError, OSError) as exc:
        print(f"tap-zendesk-login: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
