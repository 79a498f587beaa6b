"""Singer records -> Zendesk write payloads: keep what Zendesk accepts, map ids, name what is wrong.

Pure functions (no I/O), so every rule has a unit test. Records are tap-zendesk's API objects or
anything another tap sends with the fields Zendesk needs (zendesk_api.md 6.1, 6.3, 6.4).
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import time
import typing as t
from dataclasses import dataclass, field

import msgspec
import pendulum

#: Ticket fields copied as they are (an allow-list: read-only and computed fields such as `id`,
#: `url`, `via`, `metric_set`, `satisfaction_rating`, `fields` and `description` never pass).
TICKET_FIELDS = (
    "subject",
    "raw_subject",
    "type",
    "priority",
    "status",
    "recipient",
    "due_at",
    "created_at",
    "updated_at",
    "solved_at",
    "group_id",
    "brand_id",
    "ticket_form_id",
    "custom_status_id",
)
TICKET_USER_FIELDS = ("requester_id", "submitter_id", "assignee_id")
TICKET_USER_LISTS = ("collaborator_ids", "follower_ids", "email_cc_ids")
TICKET_LINKS = ("problem_id", "via_followup_source_id")
TICKET_STATUSES = frozenset({"new", "open", "pending", "hold", "solved", "closed"})
USER_FIELDS = (
    "name",
    "email",
    "role",
    "phone",
    "alias",
    "details",
    "notes",
    "tags",
    "user_fields",
    "verified",
    "time_zone",
    "locale_id",
    "signature",
    "suspended",
    "ticket_restriction",
    "only_private_comments",
    "moderator",
)
USER_ROLES = frozenset({"end-user", "agent", "admin"})
ORGANIZATION_FIELDS = (
    "name",
    "domain_names",
    "details",
    "notes",
    "tags",
    "organization_fields",
    "shared_tickets",
    "shared_comments",
    "group_id",
)
#: Fields that hold JSON objects or arrays; a string there is parsed (records from other taps).
STRUCTURED_FIELDS: dict[str, tuple[str, ...]] = {
    "tickets": (
        "requester",
        "custom_fields",
        "fields",
        "tags",
        "comments",
        "metric_set",
        *TICKET_USER_LISTS,
    ),
    "users": ("user_fields", "tags"),
    "organizations": ("organization_fields", "domain_names", "tags"),
    "ticket_comments": ("attachments",),
}
#: A ticket holds at most 5000 comments (zendesk_api.md 5.2).
MAX_COMMENTS = 5000
#: Bodies over about 64 KB are reportedly cut short without an error (zendesk_api.md 5.2).
DEFAULT_MAX_COMMENT_BYTES = 65536

_encoder = msgspec.json.Encoder(decimal_format="number", order="sorted")
_decoder = msgspec.json.Decoder()


class RecordError(Exception):
    """Raised when one record cannot be written as given; names the field and what to do."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "InvalidRecord"):
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class Options:
    """The config settings that shape payloads."""

    external_id_prefix: str = ""
    drop_fields: frozenset[str] = frozenset()
    max_comment_bytes: int = DEFAULT_MAX_COMMENT_BYTES
    json_fields: dict[str, frozenset[str]] = field(default_factory=dict)
    #: Tags added to every imported ticket (Zendesk advises tagging imports, 6.1).
    import_tags: tuple[str, ...] = ()


class Resolver(t.Protocol):
    """Source ids -> destination ids for one batch (raises RecordError when unresolvable)."""

    def user(self, source_id: t.Any, where: str) -> int:
        """Return the destination user id, or raise RecordError."""

    def organization(self, source_id: t.Any, where: str) -> int | None:
        """Return the destination organization id; None when deleted in the source."""

    def ticket(self, source_id: t.Any) -> int | None:
        """Return the destination id of an already imported ticket, else None."""


class Definitions(t.Protocol):
    """Source definitions -> the destination's (fields, groups, brands, forms, statuses).

    `target_zendesk.definitions.DefinitionMap` implements it; without one, ids and field
    values are written as they are.
    """

    def reference(self, kind: str, value: t.Any, where: str) -> int | None:
        """Return the destination id (None: leave the attribute out), or raise RecordError."""

    def ticket_custom_fields(
        self, values: list[dict[str, t.Any]], refs: Resolver, notes: list[str]
    ) -> list[dict[str, t.Any]] | None:
        """Return `custom_fields` in destination terms (None: unchanged), or raise."""

    def object_fields(
        self, kind: str, values: dict[str, t.Any], refs: Resolver, notes: list[str]
    ) -> dict[str, t.Any]:
        """Return `user_fields`/`organization_fields` in destination terms, or raise."""


#: Record attributes holding the id of a definition, and its kind (`Definitions.reference`).
REFERENCE_FIELDS = {
    "group_id": "groups",
    "brand_id": "brands",
    "ticket_form_id": "ticket_forms",
    "custom_status_id": "custom_statuses",
}


# -- small helpers ---------------------------------------------------------------------------
def id_key(value: t.Any, where: str) -> str:
    """Return a source id as the journal's key (integers, non-empty strings; else an error)."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        text = value.strip()
        if text:
            return text
    elif isinstance(value, (float, decimal.Decimal)) and value == int(value):
        return str(int(value))
    raise RecordError(
        f"`{where}` must be an id (an integer or a non-empty string), got {_show(value)}",
        field=where,
    )


def _show(value: t.Any) -> str:
    """Describe a bad value for an error message, short and safe."""
    if isinstance(value, str):
        return repr(value[:40] + ("..." if len(value) > 40 else ""))
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    return repr(value)[:40]


def _text(value: t.Any, where: str) -> t.Any:
    """Reject NUL characters (Zendesk does not store them); pass everything else through."""
    if type(value) is str and "\x00" in value:
        raise _nul_error(where)
    return value


def _timestamp(value: t.Any) -> t.Any:
    """Return ISO-8601 text for Zendesk (a datetime from another reader is formatted)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _bool(value: t.Any, where: str) -> bool:
    """Read a JSON boolean (or 'true'/'false' text from CSV-like taps)."""
    if value is True or value is False:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise RecordError(f"`{where}` must be true or false, got {_show(value)}", field=where)


def parse_structured(record: dict[str, t.Any], stream: str, options: Options) -> None:
    """Parse, in place, JSON text found where an object or array belongs.

    A configured `json_fields` entry that is not a Zendesk field (e.g. a queue message or a
    JSON column holding the whole ticket) is parsed and its keys fill the record's gaps.
    """
    names = STRUCTURED_FIELDS.get(stream, ())
    extra = options.json_fields.get(stream)
    for name in (*names, *extra) if extra else names:
        value = record.get(name)
        if type(value) is not str:
            continue
        text = value.strip()
        configured = bool(extra) and name in extra
        if not configured and text[:1] not in ("{", "["):
            continue
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise RecordError(
                f"`{name}` holds text that is not valid JSON ({exc.msg} at character {exc.pos})",
                field=name,
            ) from None
        if configured and name not in names and isinstance(parsed, dict):
            del record[name]
            for key, inner in parsed.items():
                if record.get(key) is None:
                    record[key] = inner
        else:
            record[name] = parsed


def digest(payload: dict[str, t.Any]) -> str:
    """Fingerprint a payload, so an unchanged user or organization is not sent again."""
    return hashlib.blake2b(_encoder.encode(payload), digest_size=12).hexdigest()


def encode(value: t.Any) -> bytes:
    """Encode compact JSON for the journal."""
    return _encoder.encode(value)


def decode(blob: bytes) -> t.Any:
    """Decode what `encode` wrote."""
    return _decoder.decode(blob)


def _tags(value: t.Any, where: str = "tags") -> list[str]:
    """Return tags as a list of strings; a 'a b,c' string (CSV-like taps) is split."""
    if isinstance(value, list):
        for v in value:
            if type(v) is not str:
                raise RecordError(f"`{where}` must be a list of strings", field=where)
            if "\x00" in v:
                raise _nul_error(where)
        return list(value)
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    raise RecordError(f"`{where}` must be a list of strings, got {_show(value)}", field=where)


def external_id_of(record: dict[str, t.Any], key: str | None, options: Options) -> str | None:
    """Return the record's own external_id, else the prefixed source id (idempotency key)."""
    own = record.get("external_id")
    if own not in (None, ""):
        return str(own)
    if key is None:
        return None
    return f"{options.external_id_prefix}{key}"


def ticket_version(record: dict[str, t.Any]) -> str | None:
    """The source version of a ticket: its `updated_at` as text (kept with its import)."""
    value = _timestamp(record.get("updated_at"))
    return value if isinstance(value, str) and value else None


def newer_version(new: str | None, old: str | None) -> bool:
    """Whether `new` is a later `updated_at` than `old`; unknown or unreadable: not newer."""
    if not new or not old or new == old:
        return False
    try:
        return bool(pendulum.parse(new) > pendulum.parse(old))
    except (ValueError, TypeError):
        return False


# -- keys ------------------------------------------------------------------------------------
def source_key(record: dict[str, t.Any], stream: str) -> str:
    """Return the key naming a record in the journal and messages: id, external_id, email."""
    if record.get("id") is not None:
        return id_key(record["id"], "id")
    if record.get("external_id") not in (None, ""):
        return id_key(record["external_id"], "external_id")
    if stream == "users" and isinstance(record.get("email"), str) and record["email"].strip():
        return record["email"].strip().lower()
    fields = "`id`, `external_id` or `email`" if stream == "users" else "`id` or `external_id`"
    raise RecordError(
        f"The record has no {fields}: the target needs one to write it exactly once",
        field="id",
        code="MissingField",
    )


# -- comments --------------------------------------------------------------------------------
def staged_comment(record: dict[str, t.Any]) -> tuple[str, str, str, dict[str, t.Any]]:
    """Turn a comment into (ticket_key, comment_key, created_at, what the import needs)."""
    if record.get("ticket_id") is None:
        raise RecordError(
            "The comment has no `ticket_id`: it cannot be attached to a ticket",
            field="ticket_id",
            code="MissingField",
        )
    ticket_key = id_key(record["ticket_id"], "ticket_id")
    created_at = _timestamp(record.get("created_at")) or ""
    if not isinstance(created_at, str):
        raise RecordError(
            f"`created_at` must be an ISO-8601 timestamp, got {_show(created_at)}",
            field="created_at",
        )
    body_key, body = _comment_body(record)
    if record.get("id") is not None:
        comment_key = id_key(record["id"], "id")
    else:
        comment_key = digest({"c": created_at, "b": body})
    payload: dict[str, t.Any] = {body_key: body}
    for name in ("author_id", "public"):
        value = record.get(name)
        if value is not None:
            payload[name] = value
    if record.get("created_at") is not None:
        payload["created_at"] = created_at
    if record.get("attachments"):
        payload["attachments"] = record["attachments"]
    return ticket_key, comment_key, created_at, payload


def _comment_body(record: dict[str, t.Any]) -> tuple[str, t.Any]:
    """Pick `html_body` (keeps formatting), else `body`, `plain_body` or `value`."""
    for name in ("html_body", "body", "plain_body", "value"):
        value = record.get(name)
        if value not in (None, ""):
            return ("html_body" if name == "html_body" else "body"), value
    return "body", ""


def comment_order(row: tuple[str, str, t.Any]) -> tuple[str, int, str]:
    """Sort staged comments by created_at, then id (numeric ids compare by length first)."""
    created_at, comment_key, _ = row
    return created_at, len(comment_key), comment_key


def import_comment(
    comment: dict[str, t.Any], n: int, refs: Resolver, options: Options
) -> dict[str, t.Any]:
    """Build one element of the import's `comments`: author mapped, `public` explicit."""
    public = comment.get("public", True)
    if public is not True and public is not False:
        public = _bool(public, f"comments[{n}].public")
    out: dict[str, t.Any] = {"public": public}
    author = comment.get("author_id")
    if author is not None:
        out["author_id"] = refs.user(author, f"comments[{n}].author_id")
    body_key, body = _comment_body(comment)
    if type(body) is not str:
        where = f"comments[{n}].{body_key}"
        raise RecordError(f"`{where}` must be text, got {_show(body)}", field=where)
    if not body or body.isspace():
        if not comment.get("uploads") and not comment.get("attachments"):
            raise RecordError(
                f"`comments[{n}]` has an empty body; Zendesk refuses blank comments",
                field=f"comments[{n}].{body_key}",
                code="BlankValue",
            )
    elif "\x00" in body:
        raise _nul_error(f"comments[{n}].{body_key}")
    limit = options.max_comment_bytes
    if limit and len(body) * 4 > limit:
        size = len(body.encode("utf-8"))
        if size > limit:
            where = f"comments[{n}].{body_key}"
            raise RecordError(
                f"`{where}` is {size:,} bytes; Zendesk cuts bodies over {limit:,} bytes "
                "without an error, so the ticket is not imported (raise `max_comment_bytes` to "
                "send it anyway)",
                field=where,
                code="TooLarge",
            )
    out[body_key] = body
    created_at = comment.get("created_at")
    if created_at is not None:
        created_at = out["created_at"] = _timestamp(created_at)
        if type(created_at) is str and created_at[:10] >= _recent_day():
            _refuse_future(created_at, f"comments[{n}].created_at")
    if comment.get("uploads"):
        out["uploads"] = comment["uploads"]
    return out


#: How far past the target's clock a comment may be dated (clocks of two systems drift).
FUTURE_TOLERANCE = datetime.timedelta(minutes=10)
_RECENT: list[t.Any] = [0, ""]


def _recent_day() -> str:
    """Yesterday's date (UTC) as ISO text: an ISO timestamp of an earlier day is in the past
    whatever its offset, so only later ones are parsed (recomputed once a minute)."""
    minute = int(time.time() // 60)
    if _RECENT[0] != minute:
        yesterday = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
        _RECENT[:] = [minute, yesterday.date().isoformat()]
    return str(_RECENT[1])


def _refuse_future(value: str, where: str) -> None:
    """Zendesk refuses comments dated in the future (zendesk_api.md 6.1): name the comment.

    Text that is not an ISO timestamp is left for Zendesk to judge.
    """
    try:
        when = pendulum.parse(value)  # ISO 8601 / RFC 3339; no offset reads as UTC
    except (ValueError, TypeError):
        return
    if isinstance(when, datetime.datetime) and when > pendulum.now("UTC") + FUTURE_TOLERANCE:
        raise RecordError(
            f"`{where}` {value} is in the future; Zendesk refuses imported comments dated "
            "later than now, so the ticket is not imported: fix the date in the source or with "
            "a stream map",
            field=where,
            code="InvalidValue",
        )


# -- tickets ---------------------------------------------------------------------------------
def _kept(fields: tuple[str, ...], drop: frozenset[str]) -> tuple[str, ...]:
    """Return `fields` without the dropped ones (computed once per settings, not per record)."""
    key = (fields, drop)
    kept = _KEPT.get(key)
    if kept is None:
        kept = _KEPT[key] = tuple(f for f in fields if f not in drop)
    return kept


_KEPT: dict[tuple[tuple[str, ...], frozenset[str]], tuple[str, ...]] = {}


def _nul_error(where: str) -> RecordError:
    """Explain a NUL character (Zendesk cannot store U+0000)."""
    return RecordError(
        f"`{where}` contains NUL characters (U+0000), which Zendesk cannot store: remove them "
        "in the source or with a stream map",
        field=where,
    )


def ticket_payload(
    record: dict[str, t.Any],
    key: str,
    comments: list[dict[str, t.Any]],
    refs: Resolver,
    options: Options,
    defs: Definitions | None = None,
    notes: list[str] | None = None,
) -> dict[str, t.Any]:
    """Build an item of `imports/tickets/create_many`; RecordError names a bad field.

    With `defs`, group, brand, form and status ids and custom fields are mapped to the
    destination's; what had to be left out is appended to `notes`.
    """
    drop = options.drop_fields
    get = record.get
    out: dict[str, t.Any] = {"external_id": external_id_of(record, key, options)}
    for name in _kept(TICKET_FIELDS, drop):
        value = get(name)
        if value is not None:
            if type(value) is str:
                if "\x00" in value:
                    raise _nul_error(name)
            elif isinstance(value, datetime.datetime):
                value = value.isoformat()
            out[name] = value
    status = out.get("status")
    if status is not None and status not in TICKET_STATUSES:
        raise RecordError(
            f"`status` {_show(status)} is not one of {', '.join(sorted(TICKET_STATUSES))}",
            field="status",
        )
    if defs is not None:
        _map_references(out, defs)
    if "solved_at" not in out:
        metric_set = get("metric_set")
        if isinstance(metric_set, dict) and metric_set.get("solved_at"):
            out["solved_at"] = _timestamp(metric_set["solved_at"])

    requester = get("requester_id")
    if requester is not None:
        out["requester_id"] = refs.user(requester, "requester_id")
    elif isinstance(get("requester"), dict) and (
        record["requester"].get("email") or record["requester"].get("name")
    ):
        out["requester"] = {
            k: _text(record["requester"][k], f"requester.{k}")
            for k in ("name", "email", "locale_id")
            if record["requester"].get(k) is not None
        }
    else:
        raise RecordError(
            "The ticket has no requester: send `requester_id` (a user of the `users` stream) or "
            "`requester` as {name, email}",
            field="requester_id",
            code="MissingField",
        )
    for name in _kept(TICKET_USER_FIELDS[1:], drop):
        value = get(name)
        if value is not None:
            out[name] = refs.user(value, name)
    org = get("organization_id")
    if org is not None and "organization_id" not in drop:
        org = refs.organization(org, "organization_id")
        if org is not None:
            out["organization_id"] = org
    _people(out, record, refs, drop)
    for name in _kept(TICKET_LINKS, drop):
        value = get(name)
        if value is not None:
            linked = refs.ticket(value)
            if linked is not None:
                out[name] = linked
    tags = get("tags")
    if tags is not None and "tags" not in drop:
        out["tags"] = _tags(tags)
    if options.import_tags:
        kept_tags = out.get("tags") or []
        out["tags"] = [*kept_tags, *(tag for tag in options.import_tags if tag not in kept_tags)]
    custom = get("custom_fields")
    if custom is None:
        custom = get("fields")
    if custom is not None and "custom_fields" not in drop:
        if type(custom) is not list:
            raise RecordError(
                "`custom_fields` must be a list of {id, value} objects", field="custom_fields"
            )
        for item in custom:
            if type(item) is not dict:
                raise RecordError(
                    "`custom_fields` must be a list of {id, value} objects", field="custom_fields"
                )
            value = item.get("value")
            if type(value) is str and "\x00" in value:
                raise _nul_error(f"custom_fields[{custom.index(item)}].value")
        mapped = (
            custom
            if defs is None
            else defs.ticket_custom_fields(custom, refs, [] if notes is None else notes)
        )
        if mapped is None:
            mapped = custom  # no source definitions: the ids are taken as destination ids
        if mapped:
            out["custom_fields"] = mapped

    if not comments:
        comments = _inline_comments(record, out)
    if len(comments) > MAX_COMMENTS:
        raise RecordError(
            f"The ticket has {len(comments):,} comments; Zendesk allows at most {MAX_COMMENTS:,}",
            field="comments",
            code="TooLarge",
        )
    out["comments"] = [import_comment(c, n, refs, options) for n, c in enumerate(comments)]
    return out


#: Read-only id lists of a ticket -> the write-only property that sets them (5.1, trap 8).
WRITTEN_AS = {"email_cc_ids": "email_ccs", "follower_ids": "followers"}


def _people(
    out: dict[str, t.Any], record: dict[str, t.Any], refs: Resolver, drop: frozenset[str]
) -> None:
    """CCs and followers as Zendesk takes them: `email_ccs` / `followers` of `{user_id, action}`.

    `email_cc_ids` and `follower_ids` are read-only; `collaborator_ids` (their legacy union) is
    written only when a record has neither, as records from older tools may.
    """
    split = False
    legacy: list[int] | None = None
    for name in _kept(TICKET_USER_LISTS, drop):
        values = record.get(name)
        if values:
            if type(values) is not list:
                raise RecordError(f"`{name}` must be a list of user ids", field=name)
            ids = [refs.user(v, name) for v in values]
            written = WRITTEN_AS.get(name)
            if written is None:
                legacy = ids
            else:
                split = True
                out[written] = [{"user_id": i, "action": "put"} for i in dict.fromkeys(ids)]
    if not split and legacy is not None:
        out["collaborator_ids"] = legacy


def _inline_comments(record: dict[str, t.Any], out: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """Without staged comments use the record's `comments`, else one from `description`."""
    inline = record.get("comments")
    if isinstance(inline, list) and inline:
        if not all(isinstance(c, dict) for c in inline):
            raise RecordError("`comments` must be a list of objects", field="comments")
        return inline
    description = record.get("description")
    if isinstance(description, str) and description.strip():
        first: dict[str, t.Any] = {
            "body": description,
            "public": record.get("is_public", True) is not False,
        }
        if record.get("submitter_id") is not None:
            first["author_id"] = record["submitter_id"]
        if out.get("created_at"):
            first["created_at"] = out["created_at"]
        return [first]
    raise RecordError(
        "The ticket has no comments and no `description`: Zendesk needs at least one comment "
        "(send `ticket_comments` records before the tickets, or a `description`)",
        field="description",
        code="MissingField",
    )


def _map_references(out: dict[str, t.Any], defs: Definitions) -> None:
    """Swap source ids of groups, brands, forms and statuses for the destination's."""
    for name, kind in REFERENCE_FIELDS.items():
        value = out.get(name)
        if value is None:
            continue
        mapped = defs.reference(kind, value, name)
        if mapped is None:
            del out[name]
        else:
            out[name] = mapped


# -- users and organizations -----------------------------------------------------------------
def user_payload(
    record: dict[str, t.Any],
    key: str,
    refs: Resolver,
    options: Options,
    defs: Definitions | None = None,
    notes: list[str] | None = None,
) -> dict[str, t.Any]:
    """Build an item of `users/create_or_update_many` (matched by external_id, then email)."""
    drop = options.drop_fields
    out: dict[str, t.Any] = {}
    for name in USER_FIELDS:
        value = record.get(name)
        if value is not None and name not in drop:
            out[name] = _text(value, name)
    if "locale_id" not in out and record.get("locale") and "locale" not in drop:
        out["locale"] = record["locale"]
    if record.get("id") is not None or record.get("external_id") not in (None, ""):
        out["external_id"] = external_id_of(record, key, options)
    if not isinstance(out.get("name"), str) or not out["name"].strip():
        raise RecordError(
            "The user has no `name`; Zendesk needs one to create a user",
            field="name",
            code="MissingField",
        )
    if "email" in out and not isinstance(out["email"], str):
        raise RecordError(f"`email` must be text, got {_show(out['email'])}", field="email")
    if "role" in out and out["role"] not in USER_ROLES:
        raise RecordError(
            f"`role` {_show(out['role'])} is not one of end-user, agent, admin", field="role"
        )
    if "tags" in out:
        out["tags"] = _tags(out["tags"])
    if "user_fields" in out and not isinstance(out["user_fields"], dict):
        raise RecordError("`user_fields` must be an object", field="user_fields")
    if "user_fields" in out and defs is not None:
        out["user_fields"] = defs.object_fields(
            "user_fields", out["user_fields"], refs, [] if notes is None else notes
        )
    if record.get("organization_id") is not None and "organization_id" not in drop:
        org = refs.organization(record["organization_id"], "organization_id")
        if org is not None:
            out["organization_id"] = org
    # A migration must not mail every customer a verification link.
    out["skip_verify_email"] = True
    return out


def organization_payload(
    record: dict[str, t.Any],
    key: str,
    options: Options,
    defs: Definitions | None = None,
    refs: Resolver | None = None,
    notes: list[str] | None = None,
) -> dict[str, t.Any]:
    """Build an item of `organizations/create_many` (`update_many` adds an `id`)."""
    drop = options.drop_fields
    out: dict[str, t.Any] = {"external_id": external_id_of(record, key, options)}
    for name in ORGANIZATION_FIELDS:
        value = record.get(name)
        if value is not None and name not in drop:
            out[name] = _text(value, name)
    if not isinstance(out.get("name"), str) or not out["name"].strip():
        raise RecordError(
            "The organization has no `name`; Zendesk needs a unique name",
            field="name",
            code="MissingField",
        )
    if "tags" in out:
        out["tags"] = _tags(out["tags"])
    if "domain_names" in out:
        out["domain_names"] = _tags(out["domain_names"], "domain_names")
    if "organization_fields" in out and not isinstance(out["organization_fields"], dict):
        raise RecordError("`organization_fields` must be an object", field="organization_fields")
    if defs is not None:
        _map_references(out, defs)
        if "organization_fields" in out and refs is not None:
            out["organization_fields"] = defs.object_fields(
                "organization_fields",
                out["organization_fields"],
                refs,
                [] if notes is None else notes,
            )
    return out
