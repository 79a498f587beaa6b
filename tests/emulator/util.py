"""Small shared helpers: time formats, compact JSON, API errors and the response value types."""

from __future__ import annotations

import calendar
import json
import time
from dataclasses import dataclass, field
from typing import Any

_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


def dumps(obj: Any) -> bytes:
    """Serialise compactly; every body the emulator sends goes through here or the row cache."""
    return _DUMPS(obj).encode("utf-8")


def iso(ts: float) -> str:
    """Format epoch seconds the way Zendesk objects do (UTC, whole seconds, Z)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def parse_iso(text: Any) -> int | None:
    """Parse the ISO-8601 timestamps clients send; None when absent or unparseable."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return int(text)
    s = str(text).strip()
    if s.endswith("Z"):
        s = s[:-1]
    elif len(s) > 6 and s[-6] in "+-" and s[-3] == ":":
        s = s[:-6]  # offsets other than UTC are rare in practice; treat as UTC
    s = s.split(".")[0]
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return calendar.timegm(time.strptime(s, fmt))
        except ValueError:
            continue
    return None


def now() -> int:
    """Whole-second wall clock, the resolution Zendesk timestamps have."""
    return int(time.time())


@dataclass
class Response:
    """A finished reply: status, body bytes and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    """Wrap a JSON-serialisable object as a reply."""
    return Response(status, dumps(obj), headers=list(headers or []))


@dataclass
class Page:
    """A list reply before serialisation, so faults can still reshape items and links."""

    key: str
    rows: list[bytes]
    envelope: dict[str, Any]
    next_fields: tuple[str, ...] = ()  # envelope paths holding "next" URLs ("links.next")
    sideloads: dict[str, list[bytes]] = field(default_factory=dict)
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    objs: list[dict] = field(default_factory=list)  # the rows behind `rows` (for sideloads)

    def render(self) -> bytes:
        """Join cached row bytes into the final body without re-encoding the rows."""
        parts = [b'{"', self.key.encode(), b'":[', b",".join(self.rows), b"]"]
        for name, rows in self.sideloads.items():
            parts += [b',"', name.encode(), b'":[', b",".join(rows), b"]"]
        if self.envelope:
            parts += [b",", dumps(self.envelope)[1:]]
        else:
            parts.append(b"}")
        return b"".join(parts)


class ApiError(Exception):
    """An error reply raised from anywhere in a handler."""

    def __init__(self, status: int, body: Any, headers: list[tuple[str, str]] | None = None):
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body
        self.headers = headers or []

    def response(self) -> Response:
        """Render the error the way Zendesk does (JSON, or plain text for 429s)."""
        if isinstance(self.body, bytes):
            return Response(self.status, self.body, "text/plain; charset=utf-8", self.headers)
        return json_response(self.status, self.body, self.headers)


def not_found() -> ApiError:
    """404 for an unknown id (shape A)."""
    return ApiError(404, {"error": "RecordNotFound", "description": "Not found"})


def invalid_endpoint() -> ApiError:
    """404 for an unknown path (shape A)."""
    return ApiError(404, {"error": "InvalidEndpoint", "description": "Not found"})


def forbidden() -> ApiError:
    """403 shape B, used for role and plan gating."""
    return ApiError(403, {"error": {
        "title": "Forbidden",
        "message": "You do not have access to this page. Please contact the account owner of "
                   "this help desk for further help."}})


def bad_request(error: str, description: str) -> ApiError:
    """400 shape A."""
    return ApiError(400, {"error": error, "description": description})


def record_invalid(details: dict[str, list[dict[str, str]]]) -> ApiError:
    """422 RecordInvalid with Zendesk's `details` map of field -> [{description, error}]."""
    return ApiError(422, {"error": "RecordInvalid", "description": "Record validation errors",
                          "details": details})


class ItemInvalid(Exception):
    """A validation failure of one written record; single writes map it to 422, jobs to a row."""

    def __init__(self, fieldname: str, description: str, error: str = "InvalidValue"):
        super().__init__(description)
        self.field = fieldname
        self.description = description
        self.error = error

    def api_error(self) -> ApiError:
        """The 422 a single-object write answers with."""
        return record_invalid({self.field: [{"description": self.description,
                                             "error": self.error}]})
