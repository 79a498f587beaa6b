"""`target_zendesk.verify`: what counts as the same ticket, and what is reported as different."""

from __future__ import annotations

import copy
import json
import typing as t

import pytest

from target_zendesk.verify import compare, load_account, main

FIELDS = [
    {"id": 1, "type": "subject", "title": "Subject", "removable": False},
    {"id": 10, "type": "tagger", "title": "Plan", "custom_field_options": [
        {"name": "Gold", "value": "plan_gold"}, {"name": "Silver", "value": "plan_silver"}]},
    {"id": 11, "type": "integer", "title": "Seats"},
    {"id": 12, "type": "multiselect", "title": "Products", "custom_field_options": [
        {"name": "A", "value": "p_a"}, {"name": "B", "value": "p_b"}]},
    {"id": 13, "type": "lookup", "title": "Customer", "relationship_target_type": "zen:user"},
]


def _source() -> dict[str, list[dict[str, t.Any]]]:
    return {
        "ticket_fields": FIELDS,
        "groups": [{"id": 5, "name": "Billing"}],
        "users": [{"id": 7, "name": "Ann", "email": "ann@x.test"},
                  {"id": 8, "name": "Bo", "email": "bo@x.test"}],
        "tickets": [{
            "id": 100, "subject": "Printer", "description": "It broke.", "status": "open",
            "priority": "high", "type": "incident", "tags": ["b", "a"], "requester_id": 7,
            "group_id": 5, "email_cc_ids": [8],
            "custom_fields": [{"id": 1, "value": None}, {"id": 10, "value": "plan_gold"},
                              {"id": 11, "value": "745"}, {"id": 12, "value": ["p_b", "p_a"]},
                              {"id": 13, "value": 8}],
        }],
        "ticket_comments": [
            {"id": 1, "ticket_id": 100, "body": "It broke.", "public": True,
             "created_at": "2024-01-01T00:00:00Z", "attachments": [
                 {"file_name": "a.png", "size": 10}]},
            {"id": 2, "ticket_id": 100, "body": "Fixed", "public": False,
             "created_at": "2024-01-02T00:00:00Z", "attachments": []},
        ],
    }


def _destination() -> dict[str, list[dict[str, t.Any]]]:
    """The same account after a migration: other ids, values as Zendesk returns them."""
    fields = copy.deepcopy(FIELDS)
    for f in fields:
        f["id"] += 1000
    return {
        "ticket_fields": fields,
        "groups": [{"id": 55, "name": "Support"}, {"id": 56, "name": "Billing"}],
        "users": [{"id": 70, "name": "Ann", "email": "ann@x.test"},
                  {"id": 80, "name": "Bo", "email": "BO@x.test"}],
        "tickets": [{
            "id": 9, "external_id": "100", "subject": "Printer", "description": "It  broke.\n",
            "status": "open", "priority": "high", "type": "incident", "tags": ["a", "b"],
            "requester_id": 70, "group_id": 56, "email_cc_ids": [80],
            "custom_fields": [{"id": 1010, "value": "plan_gold"}, {"id": 1011, "value": 745},
                              {"id": 1012, "value": ["p_a", "p_b"]}, {"id": 1013, "value": 80}],
        }],
        "ticket_comments": [
            {"id": 31, "ticket_id": 9, "body": "It broke.", "public": True,
             "created_at": "2024-01-01T00:00:00Z", "attachments": [
                 {"file_name": "a.png", "size": 10}]},
            {"id": 32, "ticket_id": 9, "body": "Fixed", "public": False,
             "created_at": "2024-01-02T00:00:00Z", "attachments": []},
        ],
    }


def test_a_faithful_copy_with_other_ids_and_loosely_typed_values_matches():
    """Other ids, integer as number, multiselect order, whitespace, email case: all equal."""
    result = compare(_source(), _destination())
    assert result.ok, result.differences
    assert result.counts["tickets"] == {"source": 1, "destination": 1, "matched": 1,
                                        "missing": 0, "duplicated": 0, "differing": 0}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["tickets"][0].update(tags=["a"]), "tags"),
        (lambda d: d["tickets"][0]["custom_fields"][0].update(value="plan_silver"),
         "ticket field 'Plan' (tagger)"),
        (lambda d: d["tickets"][0]["custom_fields"][3].update(value=70), "'Customer'"),
        (lambda d: d["ticket_comments"][0]["attachments"][0].update(size=11),
         "comment 1 attachments differs"),
        (lambda d: d["ticket_comments"][1].update(public=True), "comment 2 public differs"),
        (lambda d: d["tickets"][0].update(group_id=55), "group"),
        (lambda d: d["tickets"][0].update(email_cc_ids=[]), "email_cc_ids"),
        (lambda d: d["ticket_comments"].pop(), "comments: 2 in the source, 1 in the destination"),
    ],
)
def test_each_kind_of_difference_fails_and_names_the_ticket(change, expected):
    """A changed tag, value, file, comment, group or CC: one difference naming ticket 100."""
    dest = _destination()
    change(dest)
    result = compare(_source(), dest)
    assert not result.ok
    assert len(result.differences) == 1
    assert result.differences[0].startswith("ticket 100 ")
    assert expected in result.differences[0]


def test_tags_the_target_added_are_ignored_when_named():
    """`import_tags` (`--ignore-tag`) are not a difference; unnamed extra tags still are."""
    dest = _destination()
    dest["tickets"][0]["tags"].append("imported")
    assert not compare(_source(), dest).ok
    assert compare(_source(), dest, ignore_tags=["Imported"]).ok


def test_missing_and_duplicated_tickets_and_unmapped_definitions_are_differences():
    """A ticket twice, another missing, a source group without counterpart."""
    source, dest = _source(), _destination()
    source["tickets"].append({**source["tickets"][0], "id": 101, "external_id": "legacy-101"})
    source["groups"].append({"id": 6, "name": "Hardware"})
    dest["tickets"].append({**dest["tickets"][0], "id": 10})
    result = compare(source, dest)
    text = "\n".join(result.differences)
    assert "ticket legacy-101: missing in the destination" in text
    assert "ticket 100: 2 copies in the destination (ids 9, 10)" in text
    assert "groups: the source group 'Hardware' has no counterpart" in text
    assert result.counts["tickets"]["missing"] == 1


def test_deleted_source_tickets_are_not_expected_and_the_prefix_is_applied():
    """`status: deleted` tickets are left out; `--external-id-prefix` names the copies."""
    source, dest = _source(), _destination()
    source["tickets"].append({**source["tickets"][0], "id": 102, "status": "deleted"})
    dest["tickets"][0]["external_id"] = "acme-100"
    assert compare(source, dest, prefix="acme-").ok


def test_the_command_reads_singer_and_json_dumps_and_exits_non_zero_on_a_difference(
    tmp_path, capsys
):
    """Source as tap-zendesk output, destination as a JSON object; exit 1 on a difference."""
    source = tmp_path / "source.singer"
    lines = []
    for stream, rows in _source().items():
        lines.append(json.dumps({"type": "SCHEMA", "stream": stream, "schema": {},
                                 "key_properties": ["id"]}))
        lines += [json.dumps({"type": "RECORD", "stream": stream, "record": r}) for r in rows]
    lines.append(json.dumps({"type": "STATE", "value": {}}))
    source.write_text("\n".join(lines) + "\n")
    assert load_account(source)["tickets"][0]["id"] == 100
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_destination()))
    assert main(["--source", str(source), "--destination", str(good)]) == 0
    assert "OK: the destination matches the source." in capsys.readouterr().out
    bad_data = _destination()
    bad_data["tickets"][0]["subject"] = "Scanner"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_data))
    out = tmp_path / "result.json"
    assert main(["--source", str(source), "--destination", str(bad), "--json", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "ticket 100 (source id 100, destination id 9): subject" in printed
    assert json.loads(out.read_text())["tickets_differing"] == ["100"]
