"""Record -> payload rules: which fields pass, how ids map, what is refused and how it is named."""

from __future__ import annotations

import typing as t

import pytest

from target_zendesk.payloads import (
    Options,
    RecordError,
    comment_order,
    organization_payload,
    parse_structured,
    source_key,
    staged_comment,
    ticket_payload,
    user_payload,
)

OPTIONS = Options(drop_fields=frozenset({"group_id", "brand_id", "ticket_form_id"}))


class FakeRefs:
    """Source id -> destination id: users +1000, organizations +5000; 'deleted' ones gone."""

    def __init__(self, deleted_users: t.Iterable[int] = (), deleted_orgs: t.Iterable[int] = ()):
        self.deleted_users = set(deleted_users)
        self.deleted_orgs = set(deleted_orgs)

    def user(self, source_id: t.Any, where: str) -> int:
        if source_id in self.deleted_users or source_id == 999:
            raise RecordError(
                f"`{where}` {source_id}: unknown", field=where, code="UnresolvedReference"
            )
        return int(source_id) + 1000

    def organization(self, source_id: t.Any, where: str) -> int | None:
        return None if source_id in self.deleted_orgs else int(source_id) + 5000

    def ticket(self, source_id: t.Any) -> int | None:
        return None


def ticket(**fields: t.Any) -> dict[str, t.Any]:
    base: dict[str, t.Any] = {
        "id": 42,
        "url": "https://src/api/v2/tickets/42.json",
        "subject": "Printer on fire",
        "description": "It burns",
        "status": "closed",
        "requester_id": 1,
        "submitter_id": 2,
        "assignee_id": 3,
        "organization_id": 7,
        "group_id": 9,
        "brand_id": 8,
        "via": {"channel": "email"},
        "satisfaction_rating": {"score": "good"},
        "generated_timestamp": 1700000000,
        "fields": [{"id": 5, "value": "x"}],
        "custom_fields": [{"id": 5, "value": "x"}],
        "has_incidents": False,
        "sharing_agreement_ids": [],
        "metric_set": {"solved_at": "2024-01-02T00:00:00Z"},
        "tags": ["a", "b"],
        "created_at": "2024-01-01T00:00:00Z",
        "is_public": True,
    }
    base.update(fields)
    return base


def test_ticket_payload_drops_read_only_and_source_account_fields():
    """Only writable import fields pass; id/url/via/metrics/fields and unmapped group go."""
    out = ticket_payload(ticket(), "42", [], FakeRefs(), OPTIONS)
    for name in (
        "id",
        "url",
        "via",
        "satisfaction_rating",
        "generated_timestamp",
        "fields",
        "has_incidents",
        "sharing_agreement_ids",
        "description",
        "group_id",
        "brand_id",
        "metric_set",
    ):
        assert name not in out, name
    assert out["custom_fields"] == [{"id": 5, "value": "x"}]
    assert out["solved_at"] == "2024-01-02T00:00:00Z"


def test_ticket_payload_sets_external_id_from_source_id_unless_the_record_has_one():
    """Source id (with the configured prefix) becomes external_id; an own external_id wins."""
    prefixed = Options(external_id_prefix="acme-")
    assert ticket_payload(ticket(), "42", [], FakeRefs(), prefixed)["external_id"] == "acme-42"
    own = ticket_payload(ticket(external_id="legacy-1"), "42", [], FakeRefs(), prefixed)
    assert own["external_id"] == "legacy-1"


def test_ccs_and_followers_are_written_through_email_ccs_and_followers():
    """`email_cc_ids`/`follower_ids` are read-only (5.1, trap 8): they go out as `email_ccs` /
    `followers` of {user_id, action: put}; the legacy union is then left out."""
    out = ticket_payload(
        ticket(collaborator_ids=[1, 3], email_cc_ids=[1], follower_ids=[3]),
        "42",
        [],
        FakeRefs(),
        OPTIONS,
    )
    assert out["email_ccs"] == [{"user_id": 1001, "action": "put"}]
    assert out["followers"] == [{"user_id": 1003, "action": "put"}]
    for read_only in ("email_cc_ids", "follower_ids", "collaborator_ids"):
        assert read_only not in out


def test_import_tags_are_added_once_to_every_imported_ticket():
    """`import_tags` join the ticket's own tags (no repeat), also on a ticket without tags."""
    tagged = Options(import_tags=("imported", "b"))
    assert ticket_payload(ticket(), "42", [], FakeRefs(), tagged)["tags"] == ["a", "b", "imported"]
    bare = ticket_payload(ticket(tags=None), "42", [], FakeRefs(), tagged)
    assert bare["tags"] == ["imported", "b"]
    assert ticket_payload(ticket(), "42", [], FakeRefs(), OPTIONS)["tags"] == ["a", "b"]


def test_ticket_payload_maps_owners_and_comment_authors_through_the_id_map():
    """requester/submitter/assignee/org/CCs and every comment author get destination ids."""
    comments = [
        {"author_id": 1, "html_body": "<p>hi</p>", "public": True, "created_at": "2024-01-01"},
        {"author_id": 3, "body": "internal", "public": False},
    ]
    out = ticket_payload(ticket(collaborator_ids=[1, 3]), "42", comments, FakeRefs(), OPTIONS)
    assert (out["requester_id"], out["submitter_id"], out["assignee_id"]) == (1001, 1002, 1003)
    assert out["organization_id"] == 5007
    assert out["collaborator_ids"] == [1001, 1003]
    assert out["comments"] == [
        {"public": True, "author_id": 1001, "html_body": "<p>hi</p>", "created_at": "2024-01-01"},
        {"public": False, "author_id": 1003, "body": "internal"},
    ]


def test_ticket_payload_rejects_an_unresolvable_owner_naming_the_field():
    """A requester the id map does not know is a rejection, never a wrong owner."""
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(requester_id=999), "42", [], FakeRefs(), OPTIONS)
    assert err.value.field == "requester_id"
    assert err.value.code == "UnresolvedReference"


def test_ticket_payload_drops_the_link_to_an_organization_deleted_in_the_source():
    """A deleted organization cannot be referenced; the ticket still imports without it."""
    out = ticket_payload(ticket(), "42", [], FakeRefs(deleted_orgs={7}), OPTIONS)
    assert "organization_id" not in out


def test_description_becomes_the_only_comment_when_no_comments_were_staged():
    """No staged comments: one public comment from description, by the submitter."""
    out = ticket_payload(ticket(), "42", [], FakeRefs(), OPTIONS)
    assert out["comments"] == [
        {
            "public": True,
            "author_id": 1002,
            "body": "It burns",
            "created_at": "2024-01-01T00:00:00Z",
        }
    ]


def test_ticket_without_comments_and_description_is_refused():
    """Zendesk needs at least one comment: the message names `description`."""
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(description=None), "42", [], FakeRefs(), OPTIONS)
    assert err.value.field == "description"
    assert "at least one comment" in str(err.value)


def test_ticket_without_any_requester_is_refused():
    """No requester_id and no requester object: MissingField on requester_id."""
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(requester_id=None), "42", [], FakeRefs(), OPTIONS)
    assert (err.value.field, err.value.code) == ("requester_id", "MissingField")


def test_requester_object_from_another_tap_is_passed_as_name_and_email():
    """`requester: {name, email}` is sent as is (Zendesk matches or creates the user)."""
    record = ticket(requester_id=None, requester={"name": "Ann", "email": "ann@x.test", "x": 1})
    out = ticket_payload(record, "42", [], FakeRefs(), OPTIONS)
    assert out["requester"] == {"name": "Ann", "email": "ann@x.test"}
    assert "requester_id" not in out


def test_comment_body_over_the_limit_is_refused_with_its_size():
    """A body Zendesk would cut short silently is a TooLarge rejection naming the comment."""
    big = [{"author_id": 1, "body": "é" * 40000}]
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(), "42", big, FakeRefs(), OPTIONS)
    assert (err.value.field, err.value.code) == ("comments[0].body", "TooLarge")
    assert "80,000 bytes" in str(err.value)
    unlimited = Options(max_comment_bytes=0)
    assert ticket_payload(ticket(), "42", big, FakeRefs(), unlimited)["comments"]


def test_nul_characters_are_refused_naming_the_field():
    """U+0000 in a subject or a body cannot be stored: the field is named."""
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(subject="a\x00b"), "42", [], FakeRefs(), OPTIONS)
    assert err.value.field == "subject"
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(), "42", [{"body": "x\x00"}], FakeRefs(), OPTIONS)
    assert err.value.field == "comments[0].body"
    custom = [{"id": 1, "value": "ok"}, {"id": 2, "value": "bad\x00"}]
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(custom_fields=custom), "42", [], FakeRefs(), OPTIONS)
    assert err.value.field == "custom_fields[1].value"
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(tags=["vip", "x\x00"]), "42", [], FakeRefs(), OPTIONS)
    assert err.value.field == "tags"


def test_tags_must_be_strings_and_are_copied_not_shared():
    """A list with a non-string is refused; the payload's list is its own (import_tags extends it)."""
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(tags=["vip", 7]), "42", [], FakeRefs(), OPTIONS)
    assert err.value.field == "tags"
    record = ticket(tags=["vip"])
    out = ticket_payload(record, "42", [], FakeRefs(), OPTIONS)
    assert out["tags"] == ["vip"] and out["tags"] is not record["tags"]


def test_wrong_types_are_refused_with_the_expected_type():
    """A status that is not text, or an id that is an object, names the field."""
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(status="burning"), "42", [], FakeRefs(), OPTIONS)
    assert err.value.field == "status"
    with pytest.raises(RecordError) as err:
        source_key({"id": {"nested": 1}}, "tickets")
    assert "must be an id" in str(err.value)


def test_public_is_always_sent_explicitly():
    """A comment without `public` is sent public: true (Zendesk would copy the first one's)."""
    out = ticket_payload(ticket(), "42", [{"body": "x"}, {"body": "y"}], FakeRefs(), OPTIONS)
    assert [c["public"] for c in out["comments"]] == [True, True]


def test_json_text_where_an_object_belongs_is_parsed():
    """`requester` and `custom_fields` holding JSON text (another tap) become objects."""
    record = {
        "requester": '{"name": "Bo", "email": "bo@x.test"}',
        "custom_fields": '[{"id": 1, "value": 2}]',
        "payload": '{"a": 1}',
    }
    parse_structured(record, "tickets", Options())
    assert record["requester"] == {"name": "Bo", "email": "bo@x.test"}
    assert record["custom_fields"] == [{"id": 1, "value": 2}]
    assert record["payload"] == '{"a": 1}'
    parse_structured(record, "tickets", Options(json_fields={"tickets": frozenset({"payload"})}))
    assert record["a"] == 1 and "payload" not in record


def test_configured_json_field_holding_the_whole_record_fills_its_gaps():
    """`json_fields: [tickets.payload]`: the payload's keys fill the record, never override."""
    record = {
        "external_id": "x",
        "subject": None,
        "payload": '{"subject": "Hi", "external_id": "other", "status": "open"}',
    }
    parse_structured(record, "tickets", Options(json_fields={"tickets": frozenset({"payload"})}))
    assert record == {"external_id": "x", "subject": "Hi", "status": "open"}


def test_broken_json_text_in_a_configured_field_is_refused():
    """Unparsable JSON text names the field and where the syntax breaks."""
    with pytest.raises(RecordError) as err:
        parse_structured({"requester": "{oops"}, "tickets", Options())
    assert err.value.field == "requester"


def test_staged_comments_sort_by_created_at_then_numeric_id():
    """Comments attach in created_at order; same second: by id, numerically."""
    rows = [
        ("2024-01-01T00:00:01Z", "10", b""),
        ("2024-01-01T00:00:01Z", "9", b""),
        ("2024-01-01T00:00:00Z", "11", b""),
    ]
    assert [r[1] for r in sorted(rows, key=comment_order)] == ["11", "9", "10"]


def test_staged_comment_keeps_html_body_author_and_visibility():
    """What the import needs is staged: html_body (formatting), author, public, created_at."""
    key, cid, created, payload = staged_comment(
        {
            "id": 5,
            "ticket_id": 42,
            "author_id": 1,
            "body": "hi",
            "html_body": "<p>hi</p>",
            "public": False,
            "created_at": "2024-01-01T00:00:00Z",
            "metadata": {"x": 1},
        }
    )
    assert (key, cid, created) == ("42", "5", "2024-01-01T00:00:00Z")
    assert payload == {
        "html_body": "<p>hi</p>",
        "author_id": 1,
        "public": False,
        "created_at": "2024-01-01T00:00:00Z",
    }


def test_user_payload_maps_organization_and_never_mails_a_verification_link():
    """organization_id is mapped; skip_verify_email is always set; source id -> external_id."""
    out = user_payload(
        {
            "id": 3,
            "name": "Ann",
            "email": "a@x.test",
            "organization_id": 7,
            "role": "agent",
            "url": "u",
            "custom_role_id": 1,
        },
        "3",
        FakeRefs(),
        Options(),
    )
    assert out == {
        "name": "Ann",
        "email": "a@x.test",
        "role": "agent",
        "external_id": "3",
        "organization_id": 5007,
        "skip_verify_email": True,
    }


def test_user_and_organization_without_name_are_refused():
    """Zendesk needs a name to create either."""
    with pytest.raises(RecordError) as err:
        user_payload({"id": 1, "email": "a@x.test"}, "1", FakeRefs(), Options())
    assert err.value.field == "name"
    with pytest.raises(RecordError) as err:
        organization_payload({"id": 1}, "1", Options())
    assert err.value.field == "name"


def test_organization_payload_keeps_writable_fields_and_drops_group():
    """Writable organization fields pass; group_id (source account) is dropped by default."""
    out = organization_payload(
        {
            "id": 7,
            "name": "Acme",
            "domain_names": ["acme.test"],
            "group_id": 1,
            "url": "x",
            "deleted_at": None,
            "tags": "vip gold",
        },
        "7",
        Options(drop_fields=frozenset({"group_id"})),
    )
    assert out == {
        "external_id": "7",
        "name": "Acme",
        "domain_names": ["acme.test"],
        "tags": ["vip", "gold"],
    }


def test_source_key_falls_back_to_external_id_then_email():
    """Records from other taps may lack `id`: external_id, then (users) email name them."""
    assert source_key({"external_id": "crm-1"}, "tickets") == "crm-1"
    assert source_key({"email": " Ann@X.test "}, "users") == "ann@x.test"
    with pytest.raises(RecordError) as err:
        source_key({"subject": "x"}, "tickets")
    assert err.value.code == "MissingField"


def test_a_comment_dated_in_the_future_is_refused_naming_it():
    """Zendesk refuses imported comments dated later than now (6.1): the ticket is rejected."""
    import datetime

    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    comments = [
        {"author_id": 1, "body": "old", "created_at": "2019-03-01T09:00:00Z"},
        {"author_id": 1, "body": "new", "created_at": soon.strftime("%Y-%m-%dT%H:%M:%SZ")},
    ]
    with pytest.raises(RecordError) as err:
        ticket_payload(ticket(), "42", comments, FakeRefs(), OPTIONS)
    assert (err.value.field, err.value.code) == ("comments[1].created_at", "InvalidValue")
    assert "in the future" in str(err.value)


def test_comments_dated_now_or_with_offsets_or_as_loose_text_pass():
    """Recent times (clocks drift a little), other offsets and non-ISO text are sent as they are."""
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc)
    east = now.astimezone(datetime.timezone(datetime.timedelta(hours=14)))
    values = [
        now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        (now + datetime.timedelta(minutes=2)).isoformat(),
        east.isoformat(),  # tomorrow's date on the calendar, yet now
        "March 1st",
        now - datetime.timedelta(hours=1),  # a datetime from another reader
    ]
    comments = [{"author_id": 1, "body": f"c{n}", "created_at": v} for n, v in enumerate(values)]
    sent = ticket_payload(ticket(), "42", comments, FakeRefs(), OPTIONS)["comments"]
    assert [c["created_at"] for c in sent][:4] == values[:4]
    assert sent[4]["created_at"] == values[4].isoformat()
