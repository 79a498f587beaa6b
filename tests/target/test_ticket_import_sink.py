"""tap-shaped input into an empty destination emulator over real HTTP: faithful and idempotent."""

from __future__ import annotations

import collections
import json
import math
import typing as t

import pytest

from target_zendesk.target import UnsupportedStreamError
from tests.target.conftest import (
    DATA,
    SourceAccount,
    by_external_id,
    rejects,
    run_target,
    target_config,
    write_singer,
)


def ext(record: dict[str, t.Any]) -> str:
    """The external_id the target gives a source record: its own, else its source id."""
    return record.get("external_id") or str(record["id"])


def comments_by_ticket(rows: t.Iterable[dict[str, t.Any]]) -> dict[t.Any, list[dict[str, t.Any]]]:
    """Comments grouped per ticket id, in created_at then id order."""
    out: dict[t.Any, list[dict[str, t.Any]]] = collections.defaultdict(list)
    for row in sorted(rows, key=lambda c: (c["created_at"], c["id"])):
        out[row["ticket_id"]].append(row)
    return out


@pytest.fixture
def destination(emulator_factory):
    """A fresh, empty destination account per test."""
    return emulator_factory(tickets=0, seed=7, hold_back=0, job_delay=0.05)


@pytest.fixture
def migrated(destination, source_account: SourceAccount, tmp_path):
    """The source account migrated once; returns (config, input path, first run)."""
    path = write_singer(tmp_path / "migration.singer", source_account.streams())
    config = target_config(destination, tmp_path)
    return config, path, run_target(config, path)


def test_migration_imports_each_ticket_once_with_its_comments_in_order(
    migrated, destination, source_account
):
    """Every live source ticket lands once (by external_id); comments keep order and bodies."""
    _, _, result = migrated
    source = source_account.live_tickets
    tickets = by_external_id(destination, "tickets")
    assert set(tickets) == {ext(t) for t in source}
    assert result.count("tickets", "created") == len(source)
    src_comments = comments_by_ticket(source_account.collections["ticket_comments"])
    dst_comments = comments_by_ticket(destination.collection("ticket_comments"))
    for ticket in source:
        got = dst_comments[tickets[ext(ticket)]["id"]]
        want = src_comments[ticket["id"]] or [{"body": ticket["description"], "public": True}]
        assert [c["body"] for c in got] == [c["body"] for c in want], ticket["id"]
        assert [c["public"] for c in got] == [c["public"] for c in want]
        if src_comments[ticket["id"]]:
            assert [c["created_at"] for c in got] == [c["created_at"] for c in want]


def test_migration_maps_requesters_assignees_authors_and_organizations(
    migrated, destination, source_account
):
    """Destination owners are the destination copies of the source owners, never source ids."""
    users = {u["id"]: u for u in destination.collection("users")}
    orgs = {o["id"]: o for o in destination.collection("organizations")}
    source_users = {u["id"]: u for u in source_account.collections["users"]}
    orgs_by_id = {o["id"]: o for o in source_account.collections["organizations"]}
    dst_comments = comments_by_ticket(destination.collection("ticket_comments"))
    src_comments = comments_by_ticket(source_account.collections["ticket_comments"])
    checked = 0
    for ticket in source_account.live_tickets:
        copy = by_external_id(destination, "tickets")[ext(ticket)]
        requester = users[copy["requester_id"]]
        assert requester["email"] == source_users[ticket["requester_id"]]["email"]
        if ticket["assignee_id"]:
            assert (
                users[copy["assignee_id"]]["email"] == source_users[ticket["assignee_id"]]["email"]
            )
        if ticket["organization_id"]:
            source_org = orgs_by_id[ticket["organization_id"]]
            assert orgs[copy["organization_id"]]["external_id"] == ext(source_org)
        authors = [users[c["author_id"]]["email"] for c in dst_comments[copy["id"]]]
        if src_comments[ticket["id"]]:
            assert authors == [
                source_users[c["author_id"]]["email"] for c in src_comments[ticket["id"]]
            ]
        checked += 1
        if checked == 40:
            break
    assert checked == 40


def test_migration_counts_match_the_source(migrated, destination, source_account):
    """Organizations, active users, tickets and comments: same numbers on both sides."""
    _, _, result = migrated
    cols = source_account.collections
    live_orgs = [o for o in cols["organizations"] if not o.get("deleted_at")]
    active = [u for u in cols["users"] if u.get("active", True)]
    assert len(destination.collection("organizations")) == len(live_orgs)
    # The source admin shares the destination admin's email: matched, not duplicated.
    assert len(destination.collection("users")) == len(active)
    assert len(destination.collection("tickets")) == len(source_account.live_tickets)
    live_ids = {t["id"] for t in source_account.live_tickets}
    described = sum(
        1
        for t in source_account.live_tickets
        if not any(c["ticket_id"] == t["id"] for c in cols["ticket_comments"])
    )
    comments = [c for c in cols["ticket_comments"] if c["ticket_id"] in live_ids]
    assert len(destination.collection("ticket_comments")) == len(comments) + described
    assert result.count("ticket_comments", "created") == len(comments) + described
    assert rejects(migrated[0]) == []


def test_migration_emits_the_last_state_after_the_writes(migrated):
    """STATE comes out only after the drain: the last one is the input's last STATE."""
    _, _, result = migrated
    assert result.states[-1] == {"bookmarks": {"tickets": {"done": 1}}}


def test_ticket_imports_cost_one_call_per_hundred_plus_few_polls(migrated, source_account):
    """Requests for tickets: ceil(N/100) imports + job polls, at most 1.2x + 1."""
    _, _, result = migrated
    imports = math.ceil(len(source_account.live_tickets) / 100)
    spent = result.target._runtime.jobs.requests_by_stream["tickets"]
    assert imports <= spent <= math.ceil(imports * 1.2) + 1


def test_second_run_of_the_same_input_writes_nothing(migrated, destination):
    """Rerun: no POST or PUT at all; tickets skipped as imported, users/orgs unchanged."""
    config, path, _ = migrated
    destination.reset_stats()
    before = {c: len(destination.collection(c)) for c in ("tickets", "users", "organizations")}
    result = run_target(config, path)
    writes = {
        k: v for k, v in destination.stats()["requests"].items() if k.startswith(("POST", "PUT"))
    }
    assert writes == {}
    assert before == {c: len(destination.collection(c)) for c in before}
    assert result.count("tickets", "created") == 0
    assert result.count("users", "unchanged") > 0


def test_tickets_before_their_comments_wait_for_the_end_of_input(
    destination, source_account, tmp_path
):
    """Input with tickets first: tickets wait on disk and import with all comments at the end."""
    order = ("organizations", "users", "tickets", "ticket_comments")
    path = write_singer(tmp_path / "reversed.singer", source_account.streams(order))
    result = run_target(target_config(destination, tmp_path), path)
    live_ids = {t["id"] for t in source_account.live_tickets}
    comments = [
        c for c in source_account.collections["ticket_comments"] if c["ticket_id"] in live_ids
    ]
    assert result.count("tickets", "waiting for comments") == len(
        source_account.collections["tickets"]
    )
    assert len(destination.collection("tickets")) == len(live_ids)
    assert len(destination.collection("ticket_comments")) >= len(comments)
    assert rejects(target_config(destination, tmp_path)) == []


def test_ticket_from_another_tap_with_requester_object_and_json_text(destination, tmp_path):
    """A CRM-style ticket: requester {name, email}, custom_fields and tags as text, no id."""
    config = target_config(destination, tmp_path, json_fields=["tickets.payload"])
    run_target(config, DATA / "tickets_from_another_tap.singer")
    tickets = by_external_id(destination, "tickets")
    assert set(tickets) == {"crm-1", "crm-2"}
    users = {u["id"]: u for u in destination.collection("users")}
    assert users[tickets["crm-1"]["requester_id"]]["email"] == "ann@customer.test"
    assert tickets["crm-1"]["tags"][:2] == ["vip", "imported"]
    assert tickets["crm-2"]["status"] == "solved"
    assert rejects(config) == []


def test_bad_records_are_rejected_naming_stream_key_and_field(destination, tmp_path):
    """Each bad record is a line in the rejects file; the good ones are written."""
    config = target_config(destination, tmp_path)
    run_target(config, DATA / "bad_records.singer")
    lines = rejects(config)
    got = {(r["stream"], r.get("key"), r.get("field"), r["error"]) for r in lines}
    assert got == {
        ("tickets", "2", "description", "MissingField"),
        ("tickets", "3", "requester_id", "MissingField"),
        ("tickets", "4", "requester_id", "UnresolvedReference"),
        ("tickets", "5", "subject", "InvalidRecord"),
        ("tickets", "6", "status", "InvalidRecord"),
        ("tickets", None, "id", "MissingField"),
        ("tickets", "8", "requester_id", "InvalidRecord"),
        ("users", "12", "name", "MissingField"),
        ("organizations", "21", "name", "MissingField"),
        ("ticket_comments", None, "ticket_id", "MissingField"),
    }
    assert all(r["details"] for r in lines)
    assert set(by_external_id(destination, "tickets")) == {"1"}


def test_oversized_comment_rejects_its_ticket_with_the_size(destination, tmp_path):
    """A 70 KB body (Zendesk would cut it silently) is refused, naming the comment."""
    streams = {
        "users": [{"id": 1, "name": "Ann", "email": "ann@x.test"}],
        "ticket_comments": [
            {
                "id": 1,
                "ticket_id": 9,
                "author_id": 1,
                "body": "x" * 70_000,
                "public": True,
                "created_at": "2024-01-01T00:00:00Z",
            }
        ],
        "tickets": [{"id": 9, "subject": "big", "requester_id": 1, "status": "open"}],
    }
    config = target_config(destination, tmp_path)
    run_target(config, write_singer(tmp_path / "big.singer", streams))
    [line] = rejects(config)
    assert (line["key"], line["field"], line["error"]) == ("9", "comments[0].body", "TooLarge")
    assert "70,000 bytes" in line["details"]
    assert destination.collection("tickets") == []


def test_deleted_source_records_are_skipped_counted_and_never_owners(destination, tmp_path):
    """Deleted org/user/ticket are not written; a ticket of a deleted user is rejected."""
    streams = {
        "organizations": [{"id": 1, "name": "Gone", "deleted_at": "2024-01-01T00:00:00Z"}],
        "users": [
            {"id": 1, "name": "Ann", "email": "ann@x.test", "organization_id": 1},
            {"id": 2, "name": "Bob", "email": None, "active": False},
        ],
        "ticket_comments": [],
        "tickets": [
            {
                "id": 1,
                "subject": "ok",
                "requester_id": 1,
                "description": "d",
                "status": "open",
                "organization_id": 1,
            },
            {
                "id": 2,
                "subject": "gone",
                "requester_id": 1,
                "description": "d",
                "status": "deleted",
            },
            {"id": 3, "subject": "orphan", "requester_id": 2, "description": "d"},
        ],
    }
    config = target_config(destination, tmp_path)
    result = run_target(config, write_singer(tmp_path / "deleted.singer", streams))
    assert destination.collection("organizations") == []
    assert {u.get("external_id") for u in destination.collection("users")} == {None, "1"}
    assert set(by_external_id(destination, "tickets")) == {"1"}
    assert result.count("tickets", "skipped") == 1
    assert result.count("users", "skipped") == 1
    assert result.count("organizations", "skipped") == 1
    [line] = rejects(config)
    assert (line["key"], line["field"]) == ("3", "requester_id")
    assert "deleted in the source" in line["details"]


def test_item_zendesk_refuses_inside_a_job_goes_to_the_rejects_file(destination, tmp_path):
    """An end-user as assignee fails inside the job: Zendesk's error and details are kept."""
    streams = {
        "users": [{"id": 1, "name": "Ann", "email": "ann@x.test", "role": "end-user"}],
        "ticket_comments": [],
        "tickets": [
            {"id": 1, "subject": "fine", "requester_id": 1, "description": "d"},
            {"id": 2, "subject": "bad", "requester_id": 1, "assignee_id": 1, "description": "d"},
        ],
    }
    config = target_config(destination, tmp_path)
    result = run_target(config, write_singer(tmp_path / "item.singer", streams))
    [line] = rejects(config)
    assert (line["stream"], line["key"], line["external_id"]) == ("tickets", "2", "2")
    assert line["error"] == "TicketCreateFailed"
    assert "Assignee" in line["details"] and line["job_id"]
    assert set(by_external_id(destination, "tickets")) == {"1"}
    assert result.count("tickets", "rejected") == 1


def test_unknown_stream_stops_with_the_list_of_supported_streams(destination, tmp_path):
    """A stream with no sink is an error that lists what the target writes."""
    path = tmp_path / "unknown.singer"
    path.write_text(
        json.dumps(
            {
                "type": "SCHEMA",
                "stream": "invoices",
                "key_properties": ["id"],
                "schema": {"properties": {"id": {"type": "integer"}}},
            }
        )
        + "\n"
    )
    with pytest.raises(UnsupportedStreamError) as err:
        run_target(target_config(destination, tmp_path), path)
    assert "'invoices'" in str(err.value)
    assert "organizations, users, ticket_comments, tickets" in str(err.value)


def test_known_tap_streams_the_target_does_not_write_are_skipped_and_counted(destination, tmp_path):
    """ticket_metrics from tap-zendesk: counted as skipped, nothing written, no error."""
    path = write_singer(tmp_path / "metrics.singer", {"ticket_metrics": [{"id": 1}, {"id": 2}]})
    result = run_target(target_config(destination, tmp_path), path)
    assert result.count("ticket_metrics", "skipped") == 2
    assert not any(k.startswith("POST") for k in destination.stats()["requests"])


def test_import_tags_mark_every_imported_ticket_and_keep_its_own(
    destination, source_account: SourceAccount, tmp_path
):
    """`import_tags: ["imported"]`: each ticket carries it next to its source tags."""
    path = write_singer(tmp_path / "migration.singer", source_account.streams())
    run_target(target_config(destination, tmp_path, import_tags=["imported"]), path)
    tickets = by_external_id(destination, "tickets")
    assert len(tickets) == len(source_account.live_tickets)
    for ticket in source_account.live_tickets:
        tags = tickets[ext(ticket)]["tags"]
        assert "imported" in tags
        assert set(ticket.get("tags") or []) <= set(tags)


def test_a_ticket_changed_after_its_import_is_reported_not_dropped(
    migrated, destination, source_account, tmp_path
):
    """The import API cannot update: the change goes to the rejects file with both versions."""
    config, _, _ = migrated
    live = source_account.live_tickets
    changed, same = dict(live[0]), live[1]
    changed["updated_at"] = "2099-01-01T00:00:00Z"
    changed["status"] = "solved"
    new_comment = {
        "id": 99_000_001, "ticket_id": changed["id"], "author_id": changed["requester_id"],
        "body": "A comment added after the import", "public": True,
        "created_at": "2099-01-01T00:00:00Z",
    }
    before = len(destination.collection("tickets"))
    rerun = write_singer(
        tmp_path / "changed.singer",
        {"ticket_comments": [new_comment], "tickets": [changed, same]},
    )
    result = run_target(config, rerun)

    lines = [r for r in rejects(config) if r["stream"] == "tickets"]
    assert [(r["key"], r["error"]) for r in lines] == [(str(changed["id"]), "ChangedAfterImport")]
    assert "2099-01-01T00:00:00Z" in lines[0]["details"]
    assert str(live[0]["updated_at"]) in lines[0]["details"]
    assert result.count("tickets", "rejected") == 1
    assert result.count("tickets", "skipped") == 1  # the unchanged one
    assert len(destination.collection("tickets")) == before  # nothing written twice


def test_a_ticket_deleted_after_its_import_is_reported_with_its_destination_id(
    migrated, destination, source_account, tmp_path
):
    config, _, _ = migrated
    gone = dict(source_account.live_tickets[2], status="deleted")
    dest_id = by_external_id(destination, "tickets")[ext(gone)]["id"]
    result = run_target(config, write_singer(tmp_path / "deleted.singer", {"tickets": [gone]}))

    lines = [r for r in rejects(config) if r["stream"] == "tickets"]
    assert [(r["key"], r["error"]) for r in lines] == [(str(gone["id"]), "DeletedAfterImport")]
    assert str(dest_id) in lines[0]["details"]
    assert result.count("tickets", "skipped") == 0
