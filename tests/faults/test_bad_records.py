"""Bad records into target-zendesk, through the real process at DEBUG: each bad record is
rejected with its stream, key, field and a reason that says what to fix; everything else is
written exactly (unicode intact); the exit status says whether the run finished; nothing already
accepted is lost; no secret and no 2 MB body in the output.

Covered elsewhere and not repeated: each payload rule on its own (tests/target/test_payloads.py),
the basic bad-records file and the 70 KB body (tests/target/test_ticket_import_sink.py),
`fail_on_rejects` exit status (tests/target/test_target_faults.py), everyday accents and emoji
(tests/target/test_target_standard.py `zendesk_special_chars`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

from target_zendesk.verify import load_account
from tests.conftest import zendesk_session
from tests.faults.conftest import (
    API_TOKEN,
    KNOBS,
    OAUTH_TOKEN,
    SECRET_EMAIL,
    STREAMS,
    assert_destination_exact,
    assert_no_secrets,
    tap_config,
    target_config,
    ticket_key,
)
from tests.faults.test_crashes import Pipeline
from tests.tap.tapkit import catalog_for

BIN = Path(sys.executable).parent
SCHEMA = {"type": "object", "properties": {}}
#: Text that trips naive code: a ZWJ family emoji, combining accents, mathematical letters
#: (outside the BMP), right-to-left text, and U+2028 / U+0085, which str.splitlines() splits.
HARD_TEXT = "Zoë 👩‍👩‍👧 e\u0301 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 שלום ﷽ line\u2028sep next\u0085line"
TWO_MB = 2_000_000


def singer(*streams: tuple[str, list[dict]], state: dict | None = None) -> bytes:
    """SCHEMA + RECORDs per stream, then one STATE."""
    lines = []
    for stream, records in streams:
        lines.append({"type": "SCHEMA", "stream": stream, "schema": SCHEMA, "key_properties": []})
        lines += [{"type": "RECORD", "stream": stream, "record": r} for r in records]
    if state is not None:
        lines.append({"type": "STATE", "value": state})
    return b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)


def run_target_process(tmp: Path, config: dict, data: bytes) -> subprocess.CompletedProcess[bytes]:
    """`target-zendesk --config` at DEBUG with `data` on stdin."""
    (tmp / "config.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))}
    env["LOGLEVEL"] = "DEBUG"
    return subprocess.run(
        [str(BIN / "target-zendesk"), "--config", str(tmp / "config.json")],
        input=data,
        capture_output=True,
        cwd=tmp,
        env=env,
        timeout=120,
        check=False,
    )


def comment(cid: int, ticket: int, body: str, minute: int = 0) -> dict[str, t.Any]:
    """A ticket comment as tap-zendesk emits it."""
    return {
        "id": cid,
        "ticket_id": ticket,
        "author_id": 10,
        "body": body,
        "public": True,
        "created_at": f"2024-01-01T00:{minute:02d}:00Z",
    }


def ticket(tid: int, **fields: t.Any) -> dict[str, t.Any]:
    """A ticket whose comments come in the ticket_comments stream."""
    return {"id": tid, "subject": f"ticket {tid}", "status": "open", **fields}


MIXED = singer(
    ("organizations", [{"id": 1, "name": HARD_TEXT}, {"id": 2, "name": "Tagged", "tags": 7}]),
    (
        "users",
        [
            {"id": 10, "name": HARD_TEXT, "email": "zoe@x.test", "organization_id": 1},
            {"id": 11, "name": "Bad\u0000Name", "email": "nul@x.test"},
            {"id": 12, "name": "Wrong type", "email": 12345},
            {"id": 13, "email": "noname@x.test"},
        ],
    ),
    (
        "ticket_comments",
        [
            comment(1001, 100, "second, written later", minute=5),
            comment(1000, 100, HARD_TEXT, minute=1),
            comment(1010, 101, "x" * TWO_MB),
            comment(1020, 102, "nul\u0000in the body"),
            *(comment(1000 + 10 * n, 100 + n, "fine") for n in range(3, 8)),
        ],
    ),
    (
        "tickets",
        [
            ticket(100, subject=HARD_TEXT, requester_id=10, tags=["naïve", "日本"]),
            ticket(101, requester_id=10),
            ticket(102, requester_id=10),
            ticket(103, requester_id=999),
            ticket(104),
            ticket(105, requester_id=10, collaborator_ids="10,11"),
            ticket(106, requester_id=10, custom_fields={"a": 1}),
            ticket(107, requester_id=11),
        ],
    ),
    state={"bookmarks": {"tickets": {"cursor": "after-mixed"}}},
)

#: (stream, key, field, error) of every record MIXED must reject.
EXPECTED_REJECTS = {
    ("organizations", "2", "tags", "InvalidRecord"),
    ("users", "11", "name", "InvalidRecord"),
    ("users", "12", "email", "InvalidRecord"),
    ("users", "13", "name", "MissingField"),
    ("tickets", "101", "comments[0].body", "TooLarge"),
    ("tickets", "102", "comments[0].body", "InvalidRecord"),
    ("tickets", "103", "requester_id", "UnresolvedReference"),
    ("tickets", "104", "requester_id", "MissingField"),
    ("tickets", "105", "collaborator_ids", "InvalidRecord"),
    ("tickets", "106", "custom_fields", "InvalidRecord"),
    ("tickets", "107", "requester_id", "UnresolvedReference"),
}


def test_bad_records_are_rejected_one_by_one_and_the_rest_lands_exactly(dest, tmp_path):
    """Missing fields, wrong types, a 2 MB comment, NUL, an unknown requester: each rejected
    with its field and fix; unicode records land byte for byte; exit 0 with the STATE."""
    config = target_config(dest, tmp_path)
    done = run_target_process(tmp_path, config, MIXED)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "bookmarks": {"tickets": {"cursor": "after-mixed"}}
    }, "the STATE is relayed once everything else is written"

    lines = [json.loads(x) for x in Path(config["rejects_path"]).read_text().splitlines()]
    got = {(r["stream"], r.get("key"), r.get("field"), r["error"]) for r in lines}
    assert got == EXPECTED_REJECTS
    for line in lines:
        assert 20 < len(line["details"]) < 600, line  # a reason, never the record itself
    by_key = {(r["stream"], r["key"]): r["details"] for r in lines}
    assert (
        "2,000,000 bytes" in by_key["tickets", "101"]
        and "max_comment_bytes" in by_key["tickets", "101"]
    )
    assert "NUL" in by_key["users", "11"] and "remove them" in by_key["users", "11"]
    assert "send the user first" in by_key["tickets", "103"]
    assert "rejected records: 11" in stderr and config["rejects_path"] in stderr
    assert len(done.stderr) < TWO_MB / 4, "no record body in the logs, even at DEBUG"

    [org] = [o for o in dest.collection("organizations") if o.get("external_id") == "1"]
    assert org["name"] == HARD_TEXT
    [user] = [u for u in dest.collection("users") if u.get("external_id") == "10"]
    assert user["name"] == HARD_TEXT and user["organization_id"] == org["id"]
    tickets = {t["external_id"]: t for t in dest.collection("tickets")}
    assert set(tickets) == {"100"}
    assert tickets["100"]["subject"] == HARD_TEXT
    assert tickets["100"]["tags"] == ["naïve", "日本"]
    bodies = [
        c["body"]
        for c in sorted(dest.collection("ticket_comments"), key=lambda c: c["id"])
        if c["ticket_id"] == tickets["100"]["id"]
    ]
    assert bodies == [HARD_TEXT, "second, written later"], "comments complete, in order"
    assert_no_secrets(tmp_path, done.stdout.decode(), stderr)


def test_an_unknown_stream_stops_the_run_after_writing_what_came_before(dest, tmp_path):
    """A stream with no sink: exit 1 with the streams it writes and how to fix; the records and
    STATE that came before are written and emitted, so a rerun does not repeat them."""
    config = target_config(dest, tmp_path)
    good = singer(
        ("users", [{"id": 20, "name": "Ann", "email": "ann@x.test"}]),
        ("ticket_comments", [comment(2000, 200, "first comment") | {"author_id": 20}]),
        ("tickets", [ticket(200, requester_id=20)]),
        state={"bookmarks": {"tickets": {"cursor": "before-invoices"}}},
    )
    bad = singer(("invoices", [{"id": 1, "total": 9}]))
    done = run_target_process(tmp_path, config, good + bad)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1
    for text in (
        "cannot write stream 'invoices'",
        "organizations, users, ticket_comments, tickets",
        "`__alias__`",
        "deselect",
    ):
        assert text in stderr, text
    assert {t.get("external_id") for t in dest.collection("tickets")} == {"200"}
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "bookmarks": {"tickets": {"cursor": "before-invoices"}}
    }, "the accepted records' STATE reaches the state file"
    assert_no_secrets(tmp_path, done.stdout.decode(), stderr)


def test_a_lone_surrogate_is_replaced_and_the_record_written(dest, tmp_path):
    """A lone UTF-16 surrogate (half an emoji, which msgspec refuses) in a line: the character
    becomes U+FFFD with a warning and the record is written; the run goes on."""
    config = target_config(dest, tmp_path)
    before = singer(
        ("users", [{"id": 30, "name": "Ann", "email": "ann@x.test"}]),
        state={"bookmarks": {"users": {"cursor": "1"}}},
    )
    broken = (
        b'{"type": "RECORD", "stream": "users", "record": '
        b'{"id": 31, "name": "Bo\\ud83d", "email": "bo@x.test"}}\n'
    )
    done = run_target_process(tmp_path, config, before + broken)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, stderr[-3000:]
    assert "Replaced 1 broken character" in stderr
    users = {u.get("external_id"): u for u in dest.collection("users") if u.get("external_id")}
    assert sorted(users) == ["30", "31"]
    assert users["31"]["name"] == "Bo\ufffd"
    assert_no_secrets(tmp_path, stderr)


def test_a_line_that_is_not_json_stops_the_run_and_a_fixed_rerun_loses_nothing(dest, tmp_path):
    """A cut-off line: the run stops naming the line; once the producer is fixed, a rerun of
    the same input writes everything, each once."""
    config = target_config(dest, tmp_path)
    before = singer(
        ("users", [{"id": 32, "name": "Cy", "email": "cy@x.test"}]),
        state={"bookmarks": {"users": {"cursor": "1"}}},
    )
    whole = b'{"type": "RECORD", "stream": "users", "record": {"id": 33, "name": "Di"}}\n'
    done = run_target_process(tmp_path, config, before + whole[:40] + b"\n")
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1
    assert "Unable to parse line" in stderr, stderr[-2000:]
    again = run_target_process(tmp_path, config, before + whole)
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    users = [u.get("external_id") for u in dest.collection("users") if u.get("external_id")]
    assert {"32", "33"} <= set(users)
    assert_no_secrets(tmp_path, stderr, again.stderr.decode())


def test_text_that_trips_line_splitting_survives_tap_to_target(emulator_factory, tmp_path):
    """A source ticket whose subject and new comment hold U+2028/U+0085 (which str.splitlines()
    treats as line ends), emoji and RTL text goes through `tap-zendesk | target-zendesk`
    byte for byte, like every other ticket."""
    source = emulator_factory(tickets=30, **KNOBS)
    dest = emulator_factory(tickets=0, **KNOBS)
    live = [t for t in source.collection("tickets") if t["status"] in ("new", "open", "pending")]
    victim = next(t for t in live if t["id"] not in source.archived_ticket_ids)
    api = zendesk_session(source, SECRET_EMAIL, API_TOKEN)
    reply = api.put(
        f"{source.url}/api/v2/tickets/{victim['id']}.json",
        json={"ticket": {"subject": HARD_TEXT, "comment": {"body": HARD_TEXT, "public": True}}},
    )
    assert reply.status_code == 200, reply.text
    config = tap_config(source)
    catalog = catalog_for(config, only=set(STREAMS))
    pipe = Pipeline(
        tmp_path, "1", config, catalog, target_config(dest, tmp_path, oauth_token=OAUTH_TOKEN), None
    )
    assert pipe.wait() == (0, 0), (tmp_path / "target-1.log").read_text()[-3000:]
    assert_destination_exact(source, dest)
    [copy] = [t for t in dest.collection("tickets") if t["external_id"] == ticket_key(victim)]
    assert copy["subject"] == HARD_TEXT
    bodies = [c["body"] for c in dest.collection("ticket_comments") if c["ticket_id"] == copy["id"]]
    assert HARD_TEXT in bodies
    dump = tmp_path / "source.singer"  # what `python -m target_zendesk.verify` compares
    dump.write_bytes(b"".join(pipe.raw))
    tickets = {t["id"]: t for t in load_account(dump)["tickets"]}
    assert tickets[victim["id"]]["subject"] == HARD_TEXT
    assert_no_secrets(tmp_path)
