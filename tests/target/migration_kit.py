"""Helpers for the account-to-account migration tests: tap-shaped input with definitions, dumps.

The source emulator stays up while the target runs (it serves the attachments' content_url).
"""

from __future__ import annotations

import json
import time
import typing as t
from pathlib import Path

from tests.emulator import Emulator
from tests.emulator import attachments as emulator_files
from tests.demo import DEMO_STREAMS
from tests.target.conftest import write_singer

#: tap-zendesk's stream order for a migration: definitions, then people, comments, tickets.
MIGRATION_ORDER = DEMO_STREAMS
DUMPED = (*MIGRATION_ORDER,)


def migration_input(source: Emulator, path: Path, order: t.Sequence[str] = MIGRATION_ORDER) -> Path:
    """A .singer file of the source account's collections, in the tap's order."""
    return write_singer(path, {name: source.collection(name) for name in order})


def source_settings(source: Emulator) -> dict[str, t.Any]:
    """Target settings naming the source account (for attachment downloads)."""
    return {
        "source_api_url": source.url,
        "source_email": source.config.email,
        "source_api_token": source.config.api_token,
    }


def dump(emu: Emulator, path: Path) -> Path:
    """The account's collections as one JSON object (a dump `target_zendesk.verify` reads)."""
    path.write_text(json.dumps({name: emu.collection(name) for name in DUMPED}))
    return path


def uploads(emu: Emulator) -> int:
    """Files the account accepted through POST /uploads."""
    return emulator_files.counts(emu.app)["uploads"]


def downloads(emu: Emulator) -> int:
    """Attachment downloads the account served."""
    return emulator_files.counts(emu.app)["attachment_downloads"]


def live_files(source: Emulator) -> list[dict[str, t.Any]]:
    """Attachments on comments of the source's live (not deleted) tickets."""
    live = {t["id"] for t in source.collection("tickets") if t["status"] != "deleted"}
    return [
        a
        for c in source.collection("ticket_comments")
        if c["ticket_id"] in live
        for a in c.get("attachments") or []
    ]


def edit_comment(emu: Emulator, comment_id: int, body: str) -> None:
    """Change a comment in place (its row and its audit event, as a redaction would)."""
    store = emu.app.store
    with store.lock:
        comment = store.update("ticket_comments", comment_id, {"body": body, "plain_body": body,
                                                                "html_body": f"<p>{body}</p>"})
        audit = store.get("ticket_audits", comment["audit_id"])
        events = [
            {**e, "body": body, "plain_body": body, "html_body": f"<p>{body}</p>"}
            if e.get("type") == "Comment" and e.get("id") == comment_id
            else e
            for e in audit["events"]
        ]
        store.update("ticket_audits", audit["id"], {"events": events})


def wait_for(condition: t.Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll a condition (not a timing assertion: only bounds how long we wait)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)
