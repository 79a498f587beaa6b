"""Tap-shaped Singer input of any size for the target: `python -m tests.benchmarks.target_input`.

The emulator cannot hold a 1M-ticket account, and 1M tickets of real tap output would be a
5 GB file. This writes the same streams the tap emits for a migration, in the tap's order
(organizations, users, ticket_comments, tickets) with STATE every 1,000 records, to a file or a
FIFO, as it goes: records are copies of real tap output (the `--templates` file, e.g. a 10k
run's output) with fresh ids and every reference (requester, author, organization, CCs) pointing
at records emitted before. Attachments are left out (no source account serves them). Ratios
follow the emulator's accounts: one user per 4 tickets, one organization per 20 tickets,
1.8 comments per ticket.

    python -m tests.benchmarks.target_input --templates tap-output.singer --tickets 1000000 \\
        --out /tmp/input.fifo
"""

from __future__ import annotations

import argparse
import itertools
import typing as t
from pathlib import Path

import msgspec

STREAMS = ("organizations", "users", "ticket_comments", "tickets")
#: Records kept per stream from the templates file.
POOL = 200
#: Comments of consecutive tickets (1.8 per ticket on average, like the emulator's accounts).
COMMENTS_PER_TICKET = (1, 2, 2, 2, 2)
STATE_EVERY = 1000
#: First ids (the tap's ids are 64-bit; keep each kind in its own range).
ORG_ID, USER_ID, COMMENT_ID = 9 * 10**11, 8 * 10**11, 7 * 10**11
USER_LIST_FIELDS = ("collaborator_ids", "follower_ids", "email_cc_ids")
TICKET_USER_FIELDS = ("requester_id", "submitter_id", "assignee_id")


def sizes(tickets: int) -> dict[str, int]:
    """Records per stream for an account of `tickets` tickets."""
    comments = sum(COMMENTS_PER_TICKET[i % len(COMMENTS_PER_TICKET)] for i in range(tickets))
    return {
        "organizations": max(1, tickets // 20),
        "users": max(1, tickets // 4),
        "ticket_comments": comments,
        "tickets": tickets,
    }


def load_templates(path: Path) -> tuple[dict[str, bytes], dict[str, list[dict[str, t.Any]]]]:
    """SCHEMA lines and up to POOL records of each migrated stream from real tap output."""
    decoder = msgspec.json.Decoder()
    schemas: dict[str, bytes] = {}
    pools: dict[str, list[dict[str, t.Any]]] = {name: [] for name in STREAMS}
    with path.open("rb") as handle:
        for line in handle:
            message = decoder.decode(line)
            stream = message.get("stream")
            if stream not in pools:
                continue
            if message["type"] == "SCHEMA":
                schemas[stream] = line.rstrip(b"\n")
            elif message["type"] == "RECORD" and len(pools[stream]) < POOL:
                pools[stream].append(message["record"])
    missing = [name for name in STREAMS if name not in schemas or not pools[name]]
    if missing:
        msg = f"{path} has no SCHEMA or RECORD for {', '.join(missing)}: use a full sync's output"
        raise SystemExit(msg)
    return schemas, pools


def extract_templates(source: Path, destination: Path) -> Path:
    """Keep what `load_templates` reads of a (large) tap output in a small file."""
    schemas, pools = load_templates(source)
    encoder = msgspec.json.Encoder()
    with destination.open("wb") as out:
        for stream in STREAMS:
            out.write(schemas[stream] + b"\n")
            for record in pools[stream]:
                out.write(encoder.encode({"type": "RECORD", "stream": stream, "record": record}))
                out.write(b"\n")
    return destination


def records(
    tickets: int, pools: dict[str, list[dict[str, t.Any]]]
) -> t.Iterator[tuple[str, dict[str, t.Any]]]:
    """(stream, record) in the tap's order; every id is fresh and every reference resolvable."""
    n = sizes(tickets)
    orgs, users = n["organizations"], n["users"]
    for i in range(orgs):
        org = dict(pools["organizations"][i % len(pools["organizations"])])
        org.update(
            id=ORG_ID + i, name=f"Synthetic organization {i}", external_id=None, deleted_at=None
        )
        org["domain_names"] = []
        yield "organizations", org
    for i in range(users):
        user = dict(pools["users"][i % len(pools["users"])])
        user.update(
            id=USER_ID + i,
            name=f"Synthetic user {i}",
            email=f"user{i}@synthetic.example",
            external_id=None,
            organization_id=ORG_ID + i % orgs,
            active=True,
        )
        yield "users", user
    comment_id = itertools.count(COMMENT_ID)
    for ticket in range(1, tickets + 1):
        for k in range(COMMENTS_PER_TICKET[(ticket - 1) % len(COMMENTS_PER_TICKET)]):
            comment = dict(pools["ticket_comments"][(ticket + k) % len(pools["ticket_comments"])])
            comment.update(
                id=next(comment_id),
                ticket_id=ticket,
                author_id=USER_ID + (ticket + k) % users,
                attachments=[],
            )
            yield "ticket_comments", comment
    for ticket in range(1, tickets + 1):
        record = dict(pools["tickets"][ticket % len(pools["tickets"])])
        record.update(id=ticket, external_id=None, status=_live(record.get("status")))
        for k, name in enumerate(TICKET_USER_FIELDS):
            if name != "assignee_id" or record.get(name) is not None:
                record[name] = USER_ID + (ticket + k) % users
        for name in USER_LIST_FIELDS:
            record[name] = [USER_ID + (ticket + 7) % users] if record.get(name) else []
        # the requester's own organization (a ticket's organization must be one of theirs)
        record["organization_id"] = ORG_ID + (record["requester_id"] - USER_ID) % orgs
        for link in ("problem_id", "via_followup_source_id"):
            record[link] = None
        yield "tickets", record


def _live(status: t.Any) -> t.Any:
    """Deleted tickets are skipped by the target: keep every synthetic ticket importable."""
    return "closed" if status == "deleted" else status


def write(out: t.IO[bytes], tickets: int, templates: Path) -> int:
    """Write SCHEMA, RECORD and STATE lines to `out`; return the number of records."""
    schemas, pools = load_templates(templates)
    encoder = msgspec.json.Encoder()
    current = None
    count = 0
    buffer = bytearray()
    for stream, record in records(tickets, pools):
        if stream != current:
            buffer += schemas[stream] + b"\n"
            current = stream
        buffer += encoder.encode({"type": "RECORD", "stream": stream, "record": record}) + b"\n"
        count += 1
        if count % STATE_EVERY == 0:
            state = {"bookmarks": {stream: {"synthetic_records": count}}}
            buffer += encoder.encode({"type": "STATE", "value": state}) + b"\n"
            out.write(buffer)
            buffer.clear()
    state = {"bookmarks": {current or "tickets": {"synthetic_records": count}}}
    buffer += encoder.encode({"type": "STATE", "value": state}) + b"\n"
    out.write(buffer)
    out.flush()
    return count


def main(argv: list[str] | None = None) -> int:
    """Write the input to `--out` (a file or a FIFO the target reads)."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.target_input")
    parser.add_argument("--templates", required=True, type=Path, help="a full sync's tap output")
    parser.add_argument("--tickets", required=True, type=int)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    with args.out.open("wb") as out:
        try:
            write(out, args.tickets, args.templates)
        except BrokenPipeError:  # the reader stopped (a failed run): its error tells why
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
