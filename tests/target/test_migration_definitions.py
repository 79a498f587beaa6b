"""Definitions across accounts: fields, dropdown tags, groups, brands, forms, statuses by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from target_zendesk.verify import compare
from tests.emulator import Emulator
from tests.target.conftest import (
    by_external_id,
    rejects,
    run_target,
    run_target_process,
    target_config,
)
from tests.target.migration_kit import dump, migration_input, source_settings

KNOBS = {"hold_back": 0, "job_delay": 0.02}


@pytest.fixture(scope="module")
def source() -> Iterator[Emulator]:
    """A 120-ticket source account; it serves attachments while the target runs."""
    with Emulator(tickets=120, seed=11, **KNOBS) as emu:
        yield emu


@pytest.fixture(scope="module")
def singer_input(source: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source as tap-zendesk emits it for a migration (definitions first)."""
    return migration_input(source, tmp_path_factory.mktemp("input") / "migration.singer")


def _names(emu: Emulator, collection: str, field: str = "name") -> dict[int, str]:
    return {row["id"]: row[field] for row in emu.collection(collection)}


def _live(source: Emulator) -> list[dict]:
    return [t for t in source.collection("tickets") if t["status"] != "deleted"]


def test_definitions_map_by_key_or_name_onto_a_destination_with_other_ids(
    emulator_factory, source, singer_input, tmp_path
):
    """Groups, brands, forms, statuses, custom fields and lookups land on the destination's ids."""
    dest = emulator_factory(tickets=0, seed=9, definitions="all", **KNOBS)
    config = target_config(dest, tmp_path, **source_settings(source))
    run_target(config, singer_input)
    assert rejects(config) == []
    src_fields = {f["id"]: f for f in source.collection("ticket_fields")}
    dst_fields = {f["id"]: f for f in dest.collection("ticket_fields")}
    assert not set(src_fields) & set(dst_fields), "the destination must use other ids"
    copies = by_external_id(dest, "tickets")
    src_users = {u["id"]: u["email"] for u in source.collection("users")}
    dst_users = {u["id"]: u["email"] for u in dest.collection("users")}
    names = {
        k: (_names(source, k, f), _names(dest, k, f))
        for k, f in (
            ("groups", "name"),
            ("brands", "name"),
            ("ticket_forms", "name"),
            ("custom_statuses", "agent_label"),
        )
    }
    checked = 0
    for ticket in _live(source):
        copy = copies[ticket.get("external_id") or str(ticket["id"])]
        for field, kind in (
            ("group_id", "groups"),
            ("brand_id", "brands"),
            ("ticket_form_id", "ticket_forms"),
            ("custom_status_id", "custom_statuses"),
        ):
            src_names, dst_names = names[kind]
            if ticket[field] is not None:
                assert dst_names[copy[field]] == src_names[ticket[field]], (ticket["id"], field)
        want = {
            src_fields[i["id"]]["title"]: i["value"]
            for i in ticket["custom_fields"]
            if i["value"] not in (None, False, [], "")
        }
        got = {
            dst_fields[i["id"]]["title"]: i["value"]
            for i in copy["custom_fields"]
            if i["value"] not in (None, False, [], "")
        }
        lookup = "Related customer"
        if lookup in want:
            assert dst_users[got.pop(lookup)] == src_users[want.pop(lookup)]
        assert got == want, ticket["id"]
        for field in ("email_cc_ids", "follower_ids", "collaborator_ids"):
            assert sorted(dst_users[u] for u in copy[field]) == sorted(
                src_users[u] for u in ticket[field]
            )
        checked += 1
    assert checked > 100
    # User lookups point at users written later in the run: filled in at the end.
    src_by_email = {u["email"]: u for u in source.collection("users")}
    for user in dest.collection("users"):
        original = src_by_email.get(user["email"])
        manager = (original or {}).get("user_fields", {}).get("account_manager")
        if manager:
            assert dst_users[user["user_fields"]["account_manager"]] == src_users[manager]
    result = compare(json.loads(dump(source, tmp_path / "a.json").read_text()),
                     json.loads(dump(dest, tmp_path / "b.json").read_text()))
    assert result.ok, result.differences[:5]


def test_unmapped_definitions_reject_their_records_with_one_message_listing_them(
    emulator_factory, source, singer_input, tmp_path
):
    """Some fields, options, a group, a form and a status missing: one warning, clear rejects."""
    dest = emulator_factory(tickets=0, seed=9, definitions="some", **KNOBS)
    config = target_config(
        dest, tmp_path, copy_attachments=False, report_path=str(tmp_path / "report.json")
    )
    done = run_target_process(config, singer_input, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    stderr = done.stderr.decode()
    warnings = [line for line in stderr.splitlines() if "have no counterpart" in line]
    assert len(warnings) == 1, warnings
    for name in ("'Internal notes'", "plan_bronze", "group 'Hardware'", "'Billing request'",
                 "'Awaiting vendor'", "key bio", "create_missing_definitions"):
        assert name in warnings[0], name
    lines = rejects(config)
    tickets = [r for r in lines if r["stream"] == "tickets"]
    assert tickets, "tickets using missing definitions must be rejected"
    # Users lacking a field are rejected too, and so are the tickets they own.
    assert {r["error"] for r in lines} <= {"UnmappedDefinition", "UnresolvedReference"}
    unmapped = [r for r in tickets if r["error"] == "UnmappedDefinition"]
    assert all("create_missing_definitions" in r["details"] for r in unmapped)
    assert any(r["field"] == "group_id" and "group 'Hardware'" in r["details"] for r in unmapped)
    assert any(r["field"] == "custom_fields" and "plan_bronze" in r["details"] for r in unmapped)
    rejected = {r["key"] for r in tickets}
    keys = {str(t["id"]): t.get("external_id") or str(t["id"]) for t in _live(source)}
    landed = set(by_external_id(dest, "tickets"))
    assert not landed & {keys[k] for k in rejected}
    assert len(landed) + len(rejected) == len(keys)  # every ticket landed or is accounted for
    report = json.loads((tmp_path / "report.json").read_text())
    assert "group 'Hardware'" in report["unmapped"]["groups"]
    assert report["streams"]["tickets"]["rejected"] == len(tickets)
    assert report["streams"]["tickets"]["rejected_reasons"]


def test_create_missing_definitions_creates_them_with_options_and_every_record_lands(
    emulator_factory, source, singer_input, tmp_path
):
    """With the option on, missing definitions and options are created first; a rerun adds none."""
    dest = emulator_factory(tickets=0, seed=9, definitions="some", **KNOBS)
    config = target_config(dest, tmp_path, copy_attachments=False, create_missing_definitions=True)
    run_target(config, singer_input)
    assert [r for r in rejects(config) if r["stream"] != "attachments"] == []
    titles = {f["title"]: f for f in dest.collection("ticket_fields")}
    assert {"Internal notes", "Card used", "Related customer"} <= set(titles)
    assert "plan_bronze" in {o["value"] for o in titles["Plan"]["custom_field_options"]}
    assert "Hardware" in _names(dest, "groups").values()
    assert "Billing request" in _names(dest, "ticket_forms").values()
    billing = next(f for f in dest.collection("ticket_forms") if f["name"] == "Billing request")
    assert billing["ticket_field_ids"] and set(billing["ticket_field_ids"]) <= set(
        f["id"] for f in dest.collection("ticket_fields")
    )
    assert set(by_external_id(dest, "tickets")) == {
        t.get("external_id") or str(t["id"]) for t in _live(source)
    }
    sizes = {k: len(dest.collection(k)) for k in ("ticket_fields", "groups", "user_fields")}
    run_target(config, singer_input)
    assert {k: len(dest.collection(k)) for k in sizes} == sizes


def test_without_definition_streams_ids_of_the_source_are_left_out_with_a_warning(
    emulator_factory, source, tmp_path
):
    """No groups stream in the input: group ids are not sent (they name source objects)."""
    dest = emulator_factory(tickets=0, seed=9, **KNOBS)
    path = migration_input(
        source, tmp_path / "plain.singer", ("organizations", "users", "ticket_comments", "tickets")
    )
    config = target_config(dest, tmp_path, copy_attachments=False)
    done = run_target_process(config, path, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert b"Select the tap's `groups` stream" in done.stderr
    sent = [
        ticket
        for w in dest.write_log()
        if w["path"] == "/api/v2/imports/tickets/create_many"
        for ticket in w["body"]["tickets"]
    ]
    assert sent and not any("group_id" in t or "brand_id" in t for t in sent)
