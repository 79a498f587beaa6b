"""A Zendesk error reply -> one actionable line: status, Zendesk's reason, path; never a secret."""

from __future__ import annotations

import json
import typing as t
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

_MAX_DETAIL = 400


class AuthenticationError(FatalAPIError):
    """Raised on 401: the credentials were refused; retrying cannot help."""


class CredentialsRefreshedError(RetriableAPIError):
    """Raised on a 401 once a fresh OAuth access token is ready: resend at once, without backoff."""


class ZendeskRequestError(FatalAPIError):
    """Raised when Zendesk refused a request for a reason retrying cannot fix (4xx)."""

    def __init__(self, message: str, response: requests.Response | None = None) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code if response is not None else None


class FatalSyncError(Exception):
    """Raised when a run must stop for a domain reason (rejected records, lost jobs...)."""


def zendesk_reason(response: requests.Response) -> str:
    """Read any of Zendesk's three error body shapes (A, B, C), falling back to short raw text."""
    text = response.text or ""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        return _reason_from_body(body)
    snippet = " ".join(text.split())
    if snippet.lower().startswith(("<!doctype", "<html")):
        return "an HTML page instead of JSON (a proxy or Zendesk outage page)"
    return snippet[:_MAX_DETAIL] or response.reason or "no body"


def _reason_from_body(body: dict[str, t.Any]) -> str:
    """Shape A {error, description, details}; B {error: {title, message}}; C {errors: [...]}."""
    error = body.get("error")
    parts: list[str] = []
    if isinstance(error, dict):  # shape B
        parts = [str(error[k]) for k in ("title", "message") if error.get(k)]
    elif error:  # shape A
        parts.append(str(error))
        if body.get("description"):
            parts.append(str(body["description"]))
        if body.get("error_description"):
            parts.append(str(body["error_description"]))
    elif isinstance(body.get("errors"), list):  # shape C
        for item in body["errors"][:3]:
            if isinstance(item, dict):
                parts.append(": ".join(str(item[k]) for k in ("code", "title") if item.get(k)))
    details = body.get("details")
    text = ": ".join(p for p in parts if p) or "no error text"
    if details:
        text += f" ({format_details(details)})"
    return text[: _MAX_DETAIL * 2]


def format_details(details: t.Any) -> str:
    """Zendesk `details`: {field: [{description, error}]} or a plain string -> one short line."""
    if isinstance(details, dict):
        items = []
        for field, entries in details.items():
            if isinstance(entries, list):
                for entry in entries:
                    desc = entry.get("description") if isinstance(entry, dict) else entry
                    items.append(f"{field}: {desc}")
            else:
                items.append(f"{field}: {entries}")
        return "; ".join(items)[:_MAX_DETAIL]
    return str(details)[:_MAX_DETAIL]


def describe_response(response: requests.Response, *, method: str | None = None) -> str:
    """`422 on POST /api/v2/x: RecordInvalid: ... [request id abc]` (path without query)."""
    request = response.request
    verb = method or (request.method if request is not None else "") or "GET"
    path = urlsplit(response.url or (request.url if request is not None else "") or "").path
    line = f"Zendesk answered {response.status_code} on {verb} {path}: {zendesk_reason(response)}"
    request_id = response.headers.get("X-Request-Id") or response.headers.get("x-zendesk-request-id")
    if request_id:
        line += f" [request id {request_id}]"
    return line


def auth_failure_message(
    response: requests.Response, *, host: str, auth_mode: str, hint: str | None = None
) -> str:
    """401: name the host and auth mode and the likely fixes, never the credential."""
    if hint is None:
        hint = (
            "Check that the OAuth token is current and was issued for this account (tokens "
            "expire or get revoked)."
            if "OAuth" in auth_mode
            else "Check that token access is enabled (Admin Center > Apps and integrations > "
            "Zendesk API), that `email` is the token owner's address (without /token), and that "
            "`api_token` is current."
        )
    return f"{describe_response(response)}. Zendesk refused {auth_mode} for {host}. {hint}"


def scrub(text: str, secrets: t.Iterable[str]) -> str:
    """Replace every secret occurrence in text (a last line of defence for exception text)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[REDACTED]")
    return text
