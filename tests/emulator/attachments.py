"""Attachments: `content_url` downloads of generated files and `POST /uploads` (zendesk_api.md 6.1).

Generated comments carry attachment objects whose bytes are made on request from the attachment
id (deterministic, so a test can compare what a destination received with what the source
served). Uploads keep no bytes, only size and SHA-256, plus a per-file size limit knob.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .util import ApiError, Response, iso, json_response, now

if TYPE_CHECKING:
    from collections.abc import Callable

    from .app import App
    from .request import Req

#: Zendesk's upload tokens live for 60 minutes (zendesk_api.md 6.1, unconfirmed; some help
#: articles say three days).
UPLOAD_TOKEN_SECONDS = 3600
_COUNT_LOCK = threading.Lock()


def content(attachment_id: int, size: int) -> bytes:
    """The bytes of a generated attachment: a 4 KB block derived from its id, repeated."""
    block = hashlib.sha256(str(attachment_id).encode()).digest() * 128
    reps = -(-size // len(block)) if size > 0 else 0
    return (block * reps)[:size]


def content_digest(attachment_id: int, size: int) -> str:
    """SHA-256 of `content(attachment_id, size)`, for tests comparing source and destination."""
    return hashlib.sha256(content(attachment_id, size)).hexdigest()


def _key(url: str) -> tuple[str, str]:
    """(token, name) of a content_url: thumbnails share their image's token, not its name."""
    parts = urlsplit(url)
    token = parts.path.rstrip("/").rsplit("/", 1)[-1]
    name = parts.query.partition("name=")[2]
    return token, name


def _index(app: App) -> dict[tuple[str, str], dict[str, Any]]:
    """content_url (token, name) -> attachment object, over every comment of the account."""

    def build() -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for comment in app.store.rows("ticket_comments"):
            for att in comment.get("attachments") or ():
                out[_key(att["content_url"])] = att
                for thumb in att.get("thumbnails") or ():
                    out[_key(thumb["content_url"])] = thumb
        return out

    return app.store.derived(("attachments_by_url",), ("ticket_comments",), build)


def download(app: App, req: Req, **groups: str) -> Response:
    """`GET /attachments/token/{token}/?name=`: the file's bytes (credentials if the knob says)."""
    if app.cfg.attachment_auth:
        user_id, failure = app.authenticate(req.headers.get("authorization", ""))
        if user_id is None:
            raise ApiError(401, failure)
    att = _index(app).get((groups["id"], req.query.get("name", "")))
    if att is None:
        raise ApiError(404, {"error": "RecordNotFound", "description": "Not found"})
    _bump(app, "attachment_downloads")
    return Response(200, content(att["id"], int(att["size"])), str(att["content_type"]),
                    [("Content-Disposition", f'attachment; filename="{att["file_name"]}"')])


def upload(app: App, req: Req) -> Response:
    """`POST /uploads?filename=[&token=]` with raw bytes -> 201 {"upload": {token, attachment}}.

    A given `token` adds the file to that upload (several files per token, one comment).
    """
    name = req.query.get("filename") or ""
    if not name:
        raise ApiError(400, {"error": "InvalidParameter", "description": "filename is required"})
    limit = app.cfg.max_upload_bytes
    if len(req.body) > limit:
        # Zendesk's exact reply to an oversized file is unconfirmed; a JSON 413 here.
        raise ApiError(413, {"error": "AttachmentTooLarge",
                             "description": f"File {name} is {len(req.body)} bytes; the "
                                            f"account accepts at most {limit} bytes per file"})
    token = req.query.get("token") or uuid.uuid4().hex[:24]
    store = app.store
    with store.lock:
        entry = store.uploads.get(token)
        if req.query.get("token") and entry is None:
            raise ApiError(404, {"error": "RecordNotFound", "description": "Not found"})
        aid = store.new_id("attachments")
        ctype = req.headers.get("content-type", "application/binary")
        url = f"{app.base_url}/attachments/token/{uuid.uuid4().hex[:24]}/?name={name}"
        attachment = {
            "url": f"{app.base_url}/api/v2/attachments/{aid}.json", "id": aid,
            "file_name": name, "content_url": url, "mapped_content_url": url,
            "content_type": ctype, "size": len(req.body), "width": None, "height": None,
            "inline": False, "deleted": False, "malware_access_override": False,
            "malware_scan_result": "malware_not_found", "thumbnails": []}
        attachments = (entry["attachments"] if entry else []) + [attachment]
        upload_obj = {"token": token, "expires_at": iso(now() + UPLOAD_TOKEN_SECONDS),
                      "attachments": attachments, "attachment": attachment}
        store.uploads[token] = upload_obj
        digests = _state(app).setdefault("upload_sha256", {})
        digests[aid] = hashlib.sha256(req.body).hexdigest()
    _bump(app, "uploads")
    return json_response(201, {"upload": upload_obj})


def upload_digests(app: App) -> dict[int, str]:
    """Destination attachment id -> SHA-256 of the uploaded bytes."""
    return dict(_state(app).get("upload_sha256", {}))


def counts(app: App) -> dict[str, int]:
    """Downloads served and files uploaded so far."""
    state = _state(app)
    return {"attachment_downloads": state.get("attachment_downloads", 0),
            "uploads": state.get("uploads", 0)}


def _state(app: App) -> dict[str, Any]:
    """Per-account bookkeeping of this module (kept on the store)."""
    state = getattr(app.store, "attachment_state", None)
    if state is None:
        state = app.store.attachment_state = {}  # type: ignore[attr-defined]
    return state


def _bump(app: App, name: str) -> None:
    with _COUNT_LOCK:
        state = _state(app)
        state[name] = state.get(name, 0) + 1


def register(route: Callable[..., None]) -> None:
    """Add this module's endpoints to the route table."""
    route("GET", "/attachments/token/{uuid}", download, public=True)
    route("POST", "/api/v2/uploads", upload, "uploads")
