"""Write handlers: ticket import/create/update, users, organizations, bulk jobs."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .request import Req
from .util import (
    ApiError,
    ItemInvalid,
    Response,
    bad_request,
    iso,
    json_response,
    not_found,
    now,
    parse_iso,
)

if TYPE_CHECKING:
    from .app import App

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = (None, "urgent", "high", "normal", "low")
TYPES = (None, "problem", "incident", "question", "task")
ROLES = ("end-user", "agent", "admin")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_BULK = 100


# ---------------------------------------------------------------------------------------------
# small helpers


def text_to_html(text: str) -> str:
    """Render a plain comment body the way Zendesk stores html_body."""
    paras = [p for p in re.split(r"\n{2,}", text.strip())] or [""]
    inner = "".join(f'<p dir="auto">{html.escape(p).replace(chr(10), "<br>")}</p>'
                    for p in paras)
    return f'<div class="zd-comment" dir="auto">{inner}</div>'


def html_to_text(markup: str) -> str:
    """Derive the plain body of an html_body comment."""
    text = re.sub(r"<br\s*/?>", "\n", markup)
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _body(app: App, req: Req, key: str) -> dict:
    """The singular-root object of a write body, e.g. {"ticket": {...}}."""
    data = req.json()
    obj = data.get(key) if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise bad_request("InvalidParameter", f"Parameter {key} is required")
    return obj


def _bulk_body(req: Req, key: str, noun: str) -> list[dict]:
    """The plural-root list of a bulk body, at most 100 items."""
    data = req.json()
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request("InvalidParameter", f"Parameter {key} is required")
    if len(items) > MAX_BULK:
        raise bad_request("TooManyValues", f"Maximum {MAX_BULK} {noun} may be created per call"
                          if noun != "organizations" else
                          f"Parameter  cannot specify more than {MAX_BULK} values")
    return items


def _job_reply(app: App, job: dict) -> Response:
    """Reply of a job-creating endpoint, with the in-flight jobs header."""
    return json_response(200, {"job_status": job}, [app.jobs.inflight_header()])


def _failure(index: int, exc: ItemInvalid, error: str | None = None,
             **extra: Any) -> dict[str, Any]:
    """One failed item of a bulk job (index, error code, details string)."""
    row: dict[str, Any] = {"index": index, "error": error or exc.error,
                           "details": exc.description, "status": "Failed", "success": False}
    row.update({k: v for k, v in extra.items() if v is not None})
    return row


def _external_id(data: dict) -> dict[str, Any]:
    """The key a failed ticket or organization job row echoes."""
    return {"external_id": data.get("external_id")}


def _create_many_job(app: App, job_type: str, items: list[dict],
                     write: Callable[[int, dict], dict], *, failed_error: str | None,
                     echoed: Callable[[dict], dict[str, Any]]) -> Response:
    """The job of a `create_many` / `create_or_update_many`: `write(index, item)` commits one
    item and gives its result row; an invalid item gives a failed row with `failed_error` (else
    the validation's own error code) and the item's `echoed` keys."""

    def work() -> list[dict]:
        results = []
        for i, data in enumerate(items):
            try:
                results.append(write(i, data))
            except ItemInvalid as exc:
                results.append(_failure(i, exc, failed_error, **echoed(data)))
        return results

    return _job_reply(app, app.jobs.create(job_type, len(items), work))


def _check_user(app: App, uid: Any, label: str, agent: bool = False) -> dict:
    """A referenced user must exist (and be staff for assignees)."""
    user = app.store.get("users", uid) if uid is not None else None
    if user is None or (agent and user.get("role") not in ("agent", "admin")):
        raise ItemInvalid(label.lower(), f"{label}: is invalid")
    return user


def _field_values(app: App, holder: str, data: dict, existing: dict | None) -> dict[str, Any]:
    """The `user_fields` / `organization_fields` of a write: every defined field key, with the
    stored value, overwritten by the written one; keys of undefined fields are dropped."""
    defined = [f.get("key") for f in app.store.rows(holder) if f.get("key")]
    fields = dict.fromkeys(defined) | dict((existing or {}).get(holder) or {})
    for k, v in (data.get(holder) or {}).items():
        if k in defined:
            fields[k] = v
    return fields


def _insert_or_replace(app: App, collection: str, obj: dict) -> dict:
    """Store a built user or organization: a new one gets its id and API url, an existing one
    replaces its stored version."""
    with app.store.lock:
        if obj.get("id") is None:
            new_id = app.store.new_id(collection)
            obj["id"] = new_id
            obj["url"] = f"{app.base_url}/api/v2/{collection}/{new_id}.json"
            return app.store.insert(collection, obj)
        return app.store.replace(collection, obj)


def _write_one(app: App, data: dict, existing: dict | None,
               build: Callable[[App, dict, dict | None], dict],
               commit: Callable[[App, dict], dict]) -> dict:
    """Build and commit one user or organization of a single-object write (`POST /users`,
    `PUT /organizations/{id}` ...); an invalid one is the endpoint's 422 RecordInvalid."""
    try:
        with app.store.lock:
            return commit(app, build(app, data, existing))
    except ItemInvalid as exc:
        raise exc.api_error() from None


def _pairs_by_external_id(app: App, req: Req, exts: list[str], single: str,
                          collection: str) -> list[tuple[Any, dict]]:
    """(id, changes) pairs of `update_many?external_ids=...` with one {single: {...}} body: the
    same changes for each listed external id (id None where no record has it)."""
    if len(exts) > MAX_BULK:
        raise bad_request("TooManyValues", "Parameter external_ids cannot specify more "
                                           f"than {MAX_BULK} values")
    data = req.json()
    change = data.get(single) if isinstance(data, dict) else None
    if not isinstance(change, dict):
        raise bad_request("InvalidParameter", f"Parameter {single} is required")
    index = app.store.index_ci(collection, "external_id")
    return [((index.get(e.lower()) or {}).get("id"), change) for e in exts]


def _update_many_job(app: App, job_type: str, collection: str, pairs: list[tuple[Any, dict]],
                     build: Callable[[App, dict, dict | None], dict],
                     commit: Callable[[App, dict], dict], *, not_found: str,
                     not_found_error: str, failed_error: str) -> Response:
    """The job of a users/organizations `update_many`: one "Updated" row per written record, a
    failed row (error `not_found_error`, details `not_found`) per unknown id and one (error
    `failed_error`) per invalid change."""

    def work() -> list[dict]:
        results = []
        for i, (oid, change) in enumerate(pairs):
            existing = app.store.get(collection, oid) if oid is not None else None
            try:
                if existing is None:
                    raise ItemInvalid("id", not_found, not_found_error)
                with app.store.lock:
                    commit(app, build(app, change, existing))
                results.append({"id": existing["id"], "action": "update", "success": True,
                                "status": "Updated"})
            except ItemInvalid as exc:
                results.append(_failure(i, exc, failed_error if existing else not_found_error,
                                        id=oid))
        return results

    return _job_reply(app, app.jobs.create(job_type, len(pairs), work))


# ---------------------------------------------------------------------------------------------
# tickets


class TicketDraft:
    """A validated ticket write, committed only when the whole item is valid."""

    def __init__(self) -> None:
        self.ticket: dict[str, Any] = {}
        self.comments: list[dict] = []
        self.new_requester: dict | None = None
        self.archive = False


def _resolve_requester(app: App, data: dict, actor: int, draft: TicketDraft) -> int:
    """requester_id must exist; a requester object matches by email or creates a user."""
    if data.get("requester_id") is not None:
        return _check_user(app, data["requester_id"], "Requester")["id"]
    req_obj = data.get("requester")
    if isinstance(req_obj, dict):
        email = str(req_obj.get("email") or "").strip()
        if email and not EMAIL_RE.match(email):
            raise ItemInvalid("requester", f"Requester: Email {email} is not properly formatted")
        if email:
            found = app.store.index_ci("users", "email").get(email.lower())
            if found is not None:
                return found["id"]
        name = str(req_obj.get("name") or "").strip() or (email.split("@")[0] if email else "")
        if not name:
            raise ItemInvalid("requester",
                              "Requester: Name is too short (minimum one character)")
        draft.new_requester = {"name": name, "email": email or None,
                               "locale_id": req_obj.get("locale_id"), "role": "end-user"}
        return -1  # filled in at commit
    return actor


def _custom_fields(app: App, given: Any, old: list[dict] | None) -> tuple[list[dict], list[str]]:
    """Every active custom ticket field with its value, plus tags the values imply."""
    custom = [f for f in app.store.rows("ticket_fields")
              if f.get("removable", True) and f.get("active", True)
              and f.get("type") not in ("subject", "description", "status", "custom_status",
                                        "tickettype", "priority", "group", "assignee")]
    values = {c.get("id"): c.get("value") for c in (old or [])}
    if isinstance(given, list):
        known = {f["id"] for f in custom}
        for item in given:
            if isinstance(item, dict) and item.get("id") in known:
                values[item["id"]] = item.get("value")
    tags: list[str] = []
    out = []
    for f in custom:
        value = values.get(f["id"])
        out.append({"id": f["id"], "value": value})
        if f.get("type") in ("tagger", "multiselect") and value:
            tags += value if isinstance(value, list) else [str(value)]
        elif f.get("type") == "checkbox" and value and f.get("tag"):
            tags.append(f["tag"])
    return out, tags


def _default_status_id(app: App, status: str) -> int | None:
    """The default custom status of a status category (closed maps to solved)."""
    category = "solved" if status == "closed" else status
    for cs in app.store.rows("custom_statuses"):
        if cs.get("status_category") == category and cs.get("default"):
            return cs.get("id")
    return None


def _comment_from(app: App, raw: dict, author_default: int, public_default: bool,
                  created: int, uploads: Any = None) -> dict:
    """Validate one comment of a write and build the stored comment (without ids)."""
    if raw.get("html_body"):
        html_body = str(raw["html_body"])
        body = html_to_text(html_body)
    else:
        body = str(raw.get("body") if raw.get("body") is not None else raw.get("value") or "")
        html_body = text_to_html(body)
    if not body.strip() and not raw.get("uploads"):
        raise ItemInvalid("comment", "Comment: Value cannot be blank", "BlankValue")
    author = raw.get("author_id", author_default)
    if author != -1:  # -1: the requester this very write creates
        _check_user(app, author, "Author")
    attachments = [a for t in (raw.get("uploads") or uploads or []) if t in app.store.uploads
                   for a in app.store.uploads[t]["attachments"]]  # every file of each token
    return {"type": "Comment", "author_id": author, "body": body, "html_body": html_body,
            "plain_body": body, "public": bool(raw.get("public", public_default)),
            "attachments": attachments, "via": {"channel": "api", "source": {
                "from": {}, "to": {}, "rel": None}},
            "metadata": {"system": {"client": "zendesk-emulator", "ip_address": "127.0.0.1"},
                         "custom": {}},
            "created_at": iso(created)}


def _put_user_ids(app: App, entries: Any, label: str) -> list[int]:
    """`email_ccs` / `followers` items `{user_id or user_email, action}`: the ids put, in order."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ItemInvalid(label, f"{label}: must be an array")
    out: list[int] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("action", "put") != "put":
            continue
        user_id = entry.get("user_id")
        if user_id is None and entry.get("user_email"):
            email = str(entry["user_email"]).lower()
            user_id = next((u["id"] for u in app.store.rows("users")
                            if str(u.get("email") or "").lower() == email), None)
        if user_id is not None and user_id not in out:
            out.append(user_id)
    return out


def _people_lists(app: App, data: dict) -> dict[str, list[int]]:
    """CCs and followers as a write sets them (5.1): `email_ccs` / `followers`, and the legacy
    `collaborator_ids`. `email_cc_ids` and `follower_ids` are read-only, so a write that sends
    them changes nothing; `collaborator_ids` comes back as the union."""
    ccs = _put_user_ids(app, data.get("email_ccs"), "Email ccs")
    followers = _put_user_ids(app, data.get("followers"), "Followers")
    legacy = [u for u in (data.get("collaborator_ids") or []) if u not in ccs + followers]
    return {"collaborator_ids": legacy + ccs + followers, "follower_ids": followers,
            "email_cc_ids": ccs}


def draft_ticket(app: App, data: dict, *, importing: bool, actor: int) -> TicketDraft:
    """Validate a ticket create/import body into a draft (raises ItemInvalid)."""
    draft = TicketDraft()
    clock = now()
    requester = _resolve_requester(app, data, actor, draft)
    assignee = data.get("assignee_id")
    if assignee is not None:
        _check_user(app, assignee, "Assignee", agent=True)
    group = data.get("group_id")
    if group is not None and app.store.get("groups", group) is None:
        raise ItemInvalid("group", "Group: is invalid")
    for fname, col, label in (("brand_id", "brands", "Brand"),
                              ("ticket_form_id", "ticket_forms", "Ticket form"),
                              ("custom_status_id", "custom_statuses", "Custom status")):
        if data.get(fname) is not None and app.store.get(col, data[fname]) is None:
            raise ItemInvalid(fname.removesuffix("_id"), f"{label}: is invalid")
    org = data.get("organization_id")
    if org is not None and app.store.get("organizations", org) is None:
        raise ItemInvalid("organization", "Organization: is invalid")
    if org is None and requester > 0:
        org = (app.store.get("users", requester) or {}).get("organization_id")
    status = data.get("status") or ("open" if assignee else "new")
    if status not in STATUSES:
        raise ItemInvalid("status", f"Status: {status} is not a valid value")
    if status == "closed" and not importing:
        raise ItemInvalid("status", "Status: closed prevents ticket creation", "InvalidValue")
    if data.get("priority") not in PRIORITIES:
        raise ItemInvalid("priority", f"Priority: {data['priority']} is not a valid value")
    if data.get("type") not in TYPES:
        raise ItemInvalid("type", f"Type: {data['type']} is not a valid value")

    created = clock
    if importing and data.get("created_at") is not None:
        parsed = parse_iso(data["created_at"])
        if parsed is None:
            raise ItemInvalid("created_at", "Created at: is invalid")
        created = max(0, parsed)  # before 1970 is rounded up to 1970
    raw_comments: list[dict] = []
    if importing and isinstance(data.get("comments"), list):
        raw_comments = [c for c in data["comments"] if isinstance(c, dict)]
    elif isinstance(data.get("comment"), dict):
        raw_comments = [data["comment"]]
    if not raw_comments and str(data.get("description") or "").strip():
        raw_comments = [{"body": data["description"], "author_id": None}]
    if not raw_comments:
        raise ItemInvalid("description", "Description: cannot be blank", "BlankValue")
    public_default = bool(raw_comments[0].get("public", True))
    author_default = requester  # -1 stands for the requester this write creates
    for raw in raw_comments:
        c_created = created
        if importing and raw.get("created_at") is not None:
            parsed = parse_iso(raw["created_at"])
            if parsed is None:
                raise ItemInvalid("comments", "Comment: Created at is invalid")
            if parsed > clock + 60:
                raise ItemInvalid("comments", "Comment: Created at cannot be in the future")
            c_created = max(0, parsed)
        item = dict(raw)
        if item.get("author_id") is None:
            item["author_id"] = author_default
        draft.comments.append(_comment_from(app, item, author_default, public_default,
                                            c_created))
    updated = clock
    if importing and data.get("updated_at") is not None:
        updated = max(0, parse_iso(data["updated_at"]) or clock)
    custom, implied = _custom_fields(app, data.get("custom_fields") or data.get("fields"), None)
    tags = list(dict.fromkeys([str(t) for t in (data.get("tags") or [])] + implied))
    subject = data.get("subject")
    forms = app.store.rows("ticket_forms")
    brands = app.store.rows("brands")
    t = {
        "url": None, "id": None, "external_id": data.get("external_id"),
        "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": iso(created), "updated_at": iso(updated), "generated_timestamp": clock,
        "type": data.get("type"), "subject": subject, "raw_subject": subject,
        "description": draft.comments[0]["body"], "priority": data.get("priority"),
        "status": status, "recipient": data.get("recipient"), "requester_id": requester,
        "submitter_id": data.get("submitter_id", author_default), "assignee_id": assignee,
        "organization_id": org, "group_id": group,
        **_people_lists(app, data),
        "forum_topic_id": None, "problem_id": data.get("problem_id"), "has_incidents": False,
        "is_public": any(c["public"] for c in draft.comments),
        "due_at": data.get("due_at"), "tags": tags, "custom_fields": custom,
        "satisfaction_rating": None, "sharing_agreement_ids": [],
        "custom_status_id": data.get("custom_status_id") or _default_status_id(app, status),
        "fields": [dict(c) for c in custom], "followup_ids": [],
        "ticket_form_id": data.get("ticket_form_id") or next(
            (f["id"] for f in forms if f.get("default")), forms[0]["id"] if forms else None),
        "brand_id": data.get("brand_id") or next(
            (b["id"] for b in brands if b.get("default")), brands[0]["id"] if brands else None),
        "allow_channelback": False, "allow_attachments": True,
        "from_messaging_channel": False,
    }
    if importing and data.get("solved_at") is not None and parse_iso(data["solved_at"]) is None:
        raise ItemInvalid("solved_at", "Solved at: is invalid")
    # solved_at only feeds ticket metrics, which imported tickets do not get (section 6.1);
    # tests can still see what was sent through Emulator.write_log().
    draft.ticket = t
    return draft


def commit_ticket(app: App, draft: TicketDraft, *, importing: bool, actor: int) -> dict:
    """Store a validated draft: requester, ticket, comments, audits (and metrics if live)."""
    store = app.store
    clock = now()
    with store.lock:
        t = draft.ticket
        if draft.new_requester is not None:
            found = None
            email = draft.new_requester.get("email")
            if email:
                found = store.index_ci("users", "email").get(email.lower())
            user = found or commit_user(app, build_user(app, draft.new_requester, None))
            t["requester_id"] = user["id"]
            for c in draft.comments:
                if c["author_id"] == -1:
                    c["author_id"] = user["id"]
            if t.get("submitter_id") == -1:
                t["submitter_id"] = user["id"]
        tid = store.new_id("tickets")
        t["id"] = tid
        t["url"] = f"{app.base_url}/api/v2/tickets/{tid}.json"
        if draft.archive:
            store.archived.add(tid)
        store.insert("tickets", t)
        for n, c in enumerate(draft.comments):
            aid = store.new_id("ticket_audits")
            cid = store.new_id("ticket_comments")
            comment = {"id": cid, **c, "audit_id": aid, "ticket_id": tid}
            store.insert("ticket_comments", comment)
            events: list[dict] = [{**{k: v for k, v in comment.items() if k != "ticket_id"},
                                   "type": "Comment"}]
            if n == 0:
                for fname in ("requester_id", "subject", "status", "priority", "type",
                              "assignee_id", "group_id", "organization_id", "tags"):
                    if t.get(fname) not in (None, []):
                        value = t[fname]
                        events.append({"id": store.new_id("ticket_audits"), "type": "Create",
                                       "field_name": fname,
                                       "value": value if isinstance(value, list)
                                       else str(value)})
            audit = {"id": aid, "ticket_id": tid, "created_at": c["created_at"],
                     "author_id": c["author_id"] if n else (actor if not importing
                                                           else c["author_id"]),
                     "metadata": c["metadata"], "via": t["via"], "events": events}
            store.insert("ticket_audits", audit, ts=clock)
        if not importing:
            mid = store.new_id("ticket_metrics")
            store.insert("ticket_metrics", _new_metrics(app, mid, tid, clock))
        return store.get("tickets", tid) or t


def _new_metrics(app: App, mid: int, tid: int, clock: int) -> dict:
    """Fresh ticket metrics of a ticket created through the live API."""
    stamp = iso(clock)
    minutes = {"calendar": None, "business": None}
    return {"url": f"{app.base_url}/api/v2/ticket_metrics/{mid}.json", "id": mid,
            "ticket_id": tid, "created_at": stamp, "updated_at": stamp, "group_stations": 0,
            "assignee_stations": 0, "reopens": 0, "replies": 0, "assignee_updated_at": None,
            "requester_updated_at": stamp, "status_updated_at": stamp,
            "initially_assigned_at": None, "assigned_at": None, "solved_at": None,
            "latest_comment_added_at": stamp, "custom_status_updated_at": stamp,
            "reply_time_in_minutes": dict(minutes),
            "first_resolution_time_in_minutes": dict(minutes),
            "full_resolution_time_in_minutes": dict(minutes),
            "agent_wait_time_in_minutes": dict(minutes),
            "requester_wait_time_in_minutes": dict(minutes),
            "on_hold_time_in_minutes": dict(minutes), "reply_time_in_seconds": {"calendar": None}}


def _ticket_item(app: App, data: dict, importing: bool, actor: int, archive: bool) -> dict:
    """Validate and store one ticket; returns it (raises ItemInvalid)."""
    draft = draft_ticket(app, data, importing=importing, actor=actor)
    draft.archive = archive and draft.ticket["status"] == "closed"
    return commit_ticket(app, draft, importing=importing, actor=actor)


def import_ticket(app: App, req: Req) -> Response:
    """`POST /imports/tickets` -> 201 {"ticket"}."""
    data = _body(app, req, "ticket")
    try:
        ticket = _ticket_item(app, data, True, req.user_id or app.store.admin_id,
                              req.truthy("archive_immediately"))
    except ItemInvalid as exc:
        raise exc.api_error() from None
    return json_response(201, {"ticket": ticket},
                         [("Location", f"{app.base_url}/api/v2/tickets/{ticket['id']}.json")])


def _ticket_job(app: App, req: Req, importing: bool, job_type: str) -> Response:
    """Shared body of ticket create_many and import create_many."""
    items = _bulk_body(req, "tickets", "tickets")
    actor = req.user_id or app.store.admin_id
    archive = importing and req.truthy("archive_immediately")

    def created(i: int, data: dict) -> dict:
        ticket = _ticket_item(app, data, importing, actor, archive)
        return {"index": i, "id": ticket["id"]}

    return _create_many_job(app, job_type, items, created, failed_error="TicketCreateFailed",
                            echoed=_external_id)


def import_tickets_many(app: App, req: Req) -> Response:
    """`POST /imports/tickets/create_many` -> job."""
    return _ticket_job(app, req, True, "bulk_import_tickets")


def create_tickets_many(app: App, req: Req) -> Response:
    """`POST /tickets/create_many` -> job."""
    return _ticket_job(app, req, False, "bulk_create_tickets")


def create_ticket(app: App, req: Req) -> Response:
    """`POST /tickets` -> 201 {"ticket", "audit"}."""
    data = _body(app, req, "ticket")
    actor = req.user_id or app.store.admin_id
    try:
        ticket = _ticket_item(app, data, False, actor, False)
    except ItemInvalid as exc:
        raise exc.api_error() from None
    audit = app.store.group_by("ticket_audits", "ticket_id").get(ticket["id"], [None])[0]
    return json_response(201, {"ticket": ticket, "audit": audit},
                         [("Location", f"{app.base_url}/api/v2/tickets/{ticket['id']}.json")])


_UPDATABLE = ("subject", "status", "priority", "type", "assignee_id", "group_id",
              "organization_id", "requester_id", "external_id", "due_at", "tags",
              "custom_status_id", "problem_id", "brand_id", "ticket_form_id")


def apply_ticket_update(app: App, tid: Any, data: dict, actor: int) -> tuple[dict, dict]:
    """Apply one ticket update; returns (ticket, audit). Raises ApiError/ItemInvalid."""
    store = app.store
    with store.lock:
        ticket = store.get("tickets", tid)
        if ticket is None or ticket.get("status") == "deleted":
            raise not_found()
        if ticket.get("status") == "closed" or ticket["id"] in store.archived:
            raise ItemInvalid("status", "Status: closed prevents ticket update", "ClosedTicket")
        if data.get("safe_update") and data.get("updated_stamp") != ticket.get("updated_at"):
            raise ApiError(409, {"error": "UpdateConflict",
                                 "description": "Safe Update prevented the update due to "
                                                "outdated ticket data. Please fetch the latest "
                                                "ticket data and try again."})
        changes: dict[str, Any] = {}
        if data.get("status") is not None and data["status"] not in STATUSES:
            raise ItemInvalid("status", f"Status: {data['status']} is not a valid value")
        if data.get("priority") not in PRIORITIES:
            raise ItemInvalid("priority", f"Priority: {data['priority']} is not a valid value")
        if data.get("assignee_id") is not None:
            _check_user(app, data["assignee_id"], "Assignee", agent=True)
        if data.get("requester_id") is not None:
            _check_user(app, data["requester_id"], "Requester")
        for fname in _UPDATABLE:
            if fname in data and data[fname] != ticket.get(fname):
                changes[fname] = data[fname]
        tags = list(changes.get("tags", ticket.get("tags") or []))
        tags += [t for t in data.get("additional_tags") or [] if t not in tags]
        tags = [t for t in tags if t not in (data.get("remove_tags") or [])]
        if "custom_fields" in data or "fields" in data:
            custom, implied = _custom_fields(app, data.get("custom_fields") or data.get("fields"),
                                             ticket.get("custom_fields"))
            changes["custom_fields"] = custom
            changes["fields"] = [dict(c) for c in custom]
            tags += [t for t in implied if t not in tags]
        if tags != (ticket.get("tags") or []):
            changes["tags"] = tags
        if "status" in changes:
            changes["custom_status_id"] = data.get("custom_status_id") or \
                _default_status_id(app, changes["status"])
        clock = now()
        aid = store.new_id("ticket_audits")
        events: list[dict] = []
        comment = data.get("comment")
        if isinstance(comment, dict):
            c = _comment_from(app, {**comment, "author_id": comment.get("author_id", actor)},
                              actor, True, clock)
            cid = store.new_id("ticket_comments")
            stored = {"id": cid, **c, "audit_id": aid, "ticket_id": ticket["id"]}
            store.insert("ticket_comments", stored)
            events.append({**{k: v for k, v in stored.items() if k != "ticket_id"},
                           "type": "Comment"})
        for fname, value in changes.items():
            if fname in ("fields",):
                continue
            old = ticket.get(fname)
            events.append({"id": store.new_id("ticket_audits"), "type": "Change",
                           "field_name": fname,
                           "value": value if isinstance(value, (list, dict)) or value is None
                           else str(value),
                           "previous_value": old if isinstance(old, (list, dict)) or old is None
                           else str(old)})
        changes["updated_at"] = iso(clock)
        changes["generated_timestamp"] = clock
        ticket = store.update("tickets", ticket["id"], changes)
        audit = {"id": aid, "ticket_id": ticket["id"], "created_at": iso(clock),
                 "author_id": actor,
                 "metadata": {"system": {"client": "zendesk-emulator",
                                         "ip_address": "127.0.0.1"}, "custom": {}},
                 "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
                 "events": events}
        store.insert("ticket_audits", audit, ts=clock)
        return ticket, audit


def update_ticket(app: App, req: Req, **groups: str) -> Response:
    """`PUT /tickets/{id}` -> 200 {"ticket", "audit"}."""
    data = _body(app, req, "ticket")
    try:
        ticket, audit = apply_ticket_update(app, groups["id"], data,
                                            req.user_id or app.store.admin_id)
    except ItemInvalid as exc:
        raise exc.api_error() from None
    return json_response(200, {"ticket": ticket, "audit": audit})


def update_tickets_many(app: App, req: Req) -> Response:
    """`PUT /tickets/update_many` (`?ids=` + {"ticket"} or {"tickets": [{id, ...}]})."""
    pairs = _update_pairs(req, "ticket", "tickets", "ids")
    actor = req.user_id or app.store.admin_id

    def work() -> list[dict]:
        results = []
        for i, (tid, data) in enumerate(pairs):
            try:
                apply_ticket_update(app, tid, data, actor)
                results.append({"id": tid, "action": "update", "success": True,
                                "status": "Updated"})
            except ItemInvalid as exc:
                results.append(_failure(i, exc, "TicketUpdateFailed", id=tid))
            except ApiError as exc:
                results.append({"index": i, "id": tid, "error": "TicketUpdateFailed",
                                "details": str((exc.body or {}).get("description")),
                                "status": "Failed", "success": False})
        return results

    return _job_reply(app, app.jobs.create("bulk_update_tickets", len(pairs), work))


def _update_pairs(req: Req, single: str, plural: str, id_param: str) -> list[tuple[Any, dict]]:
    """(id, changes) pairs of an update_many body in either documented form."""
    data = req.json()
    ids = req.csv(id_param)
    if ids:
        if len(ids) > MAX_BULK:
            raise bad_request("TooManyValues",
                              f"Parameter {id_param} cannot specify more than {MAX_BULK} values")
        change = data.get(single) if isinstance(data, dict) else None
        if not isinstance(change, dict):
            raise bad_request("InvalidParameter", f"Parameter {single} is required")
        return [(int(i) if i.isdigit() else i, change) for i in ids]
    items = data.get(plural) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise bad_request("InvalidParameter", f"Parameter {plural} is required")
    if len(items) > MAX_BULK:
        raise bad_request("TooManyValues",
                          f"Parameter {plural} cannot specify more than {MAX_BULK} values")
    return [(item.get("id"), item) for item in items if isinstance(item, dict)]


# ---------------------------------------------------------------------------------------------
# users


def build_user(app: App, data: dict, existing: dict | None) -> dict:
    """Validate a user write and return the full new version (raises ItemInvalid)."""
    store = app.store
    clock = iso(now())
    email = data.get("email")
    if email is None and isinstance(data.get("identities"), list):
        email = next((i.get("value") for i in data["identities"]
                      if isinstance(i, dict) and i.get("type") == "email"), None)
    if email is not None:
        email = str(email).strip()
        if email and not EMAIL_RE.match(email):
            raise ItemInvalid("email", f"Email: {email} is not properly formatted")
        other = store.index_ci("users", "email").get(email.lower()) if email else None
        if other is not None and (existing is None or other["id"] != existing["id"]):
            raise ItemInvalid("email", f"Email: {email} is already being used by another user",
                              "DuplicateValue")
    ext = data.get("external_id")
    if ext not in (None, ""):
        other = store.index_ci("users", "external_id").get(str(ext).lower())
        if other is not None and (existing is None or other["id"] != existing["id"]):
            raise ItemInvalid("external_id", f"External: {ext} has already been taken",
                              "DuplicateValue")
    name = data.get("name", existing.get("name") if existing else None)
    if not str(name or "").strip():
        raise ItemInvalid("name", "Name: is too short (minimum one character)", "InvalidValue")
    role = data.get("role", existing.get("role") if existing else "end-user")
    if role not in ROLES:
        raise ItemInvalid("role", f"Role: {role} is not a valid value")
    org = data.get("organization_id")
    if org is not None and store.get("organizations", org) is None:
        raise ItemInvalid("organization_id", "Organization: is invalid")
    fields = _field_values(app, "user_fields", data, existing)
    base = existing or {
        "id": None, "url": None, "name": None, "email": None, "created_at": clock,
        "updated_at": clock, "time_zone": "Eastern Time (US & Canada)",
        "iana_time_zone": "America/New_York", "phone": None, "shared_phone_number": None,
        "photo": None, "locale_id": 1, "locale": "en-US", "organization_id": None,
        "role": "end-user", "verified": False, "external_id": None, "tags": [], "alias": None,
        "active": True, "shared": False, "shared_agent": False, "last_login_at": None,
        "two_factor_auth_enabled": False, "signature": None, "details": "", "notes": "",
        "role_type": None, "custom_role_id": None, "moderator": False,
        "ticket_restriction": "requested", "only_private_comments": False,
        "restricted_agent": True, "suspended": False, "default_group_id": None,
        "report_csv": False, "user_fields": {},
    }
    user = dict(base)
    for k in ("name", "external_id", "phone", "alias", "details", "notes", "time_zone",
              "locale", "locale_id", "verified", "suspended", "signature", "tags",
              "organization_id", "role", "moderator", "ticket_restriction",
              "only_private_comments", "default_group_id", "custom_role_id"):
        if k in data:
            user[k] = data[k]
    if email is not None:
        user["email"] = email or None
    if role != "end-user" and existing is None:
        user["restricted_agent"] = False
        user["ticket_restriction"] = None
    if data.get("skip_verify_email") or data.get("verified"):
        user["verified"] = True
    user["user_fields"] = fields
    user["updated_at"] = clock
    return user


def commit_user(app: App, user: dict) -> dict:
    """Insert or replace a built user."""
    return _insert_or_replace(app, "users", user)


def match_user(app: App, data: dict) -> dict | None:
    """Upsert match: external_id first, then email (both case-insensitive)."""
    ext = data.get("external_id")
    if ext not in (None, ""):
        found = app.store.index_ci("users", "external_id").get(str(ext).lower())
        if found is not None:
            return found
    email = data.get("email")
    if email:
        return app.store.index_ci("users", "email").get(str(email).lower())
    return None


def _upsert_user(app: App, data: dict) -> tuple[dict, bool]:
    """Create or update one user; returns (user, created)."""
    with app.store.lock:
        existing = match_user(app, data)
        return commit_user(app, build_user(app, data, existing)), existing is None


def create_user(app: App, req: Req) -> Response:
    """`POST /users` -> 201."""
    data = _body(app, req, "user")
    return json_response(201, {"user": _write_one(app, data, None, build_user, commit_user)})


def create_or_update_user(app: App, req: Req) -> Response:
    """`POST /users/create_or_update` -> 201 created / 200 updated."""
    data = _body(app, req, "user")
    try:
        user, created = _upsert_user(app, data)
    except ItemInvalid as exc:
        raise exc.api_error() from None
    return json_response(201 if created else 200, {"user": user})


def update_user(app: App, req: Req, **groups: str) -> Response:
    """`PUT /users/{id}`."""
    data = _body(app, req, "user")
    existing = app.store.get("users", groups["id"])
    if existing is None:
        raise not_found()
    return json_response(200, {"user": _write_one(app, data, existing, build_user, commit_user)})


def _user_keys(data: dict) -> dict[str, Any]:
    """Identifying keys echoed in user job results (the ones the item has)."""
    return {k: data[k] for k in ("email", "external_id") if data.get(k) is not None}


def create_users_many(app: App, req: Req) -> Response:
    """`POST /users/create_many` -> job."""
    items = _bulk_body(req, "users", "users")

    def created(i: int, data: dict) -> dict:
        with app.store.lock:
            user = commit_user(app, build_user(app, data, None))
        return {"index": i, "id": user["id"], "status": "Created", "success": True,
                **_user_keys(data)}

    return _create_many_job(app, "bulk_create_users", items, created, failed_error=None,
                            echoed=_user_keys)


def create_or_update_users_many(app: App, req: Req) -> Response:
    """`POST /users/create_or_update_many` -> job."""
    items = _bulk_body(req, "users", "users")

    def upserted(i: int, data: dict) -> dict:
        user, created = _upsert_user(app, data)
        return {"index": i, "id": user["id"], "action": "create" if created else "update",
                "status": "Created" if created else "Updated", "success": True,
                **_user_keys(data)}

    return _create_many_job(app, "bulk_create_or_update_users", items, upserted,
                            failed_error=None, echoed=_user_keys)


def update_users_many(app: App, req: Req) -> Response:
    """`PUT /users/update_many` (`?ids=`/`?external_ids=` + {"user"} or {"users": [...]})."""
    req.json()  # a malformed body is reported before too many external_ids (unlike organizations)
    exts = req.csv("external_ids")
    if exts:
        pairs = _pairs_by_external_id(app, req, exts, "user", "users")
    else:
        pairs = _update_pairs(req, "user", "users", "ids")
    return _update_many_job(app, "bulk_update_users", "users", pairs, build_user, commit_user,
                            not_found="User not found", not_found_error="UserNotFound",
                            failed_error="UserUpdateFailed")


# ---------------------------------------------------------------------------------------------
# organizations


def build_org(app: App, data: dict, existing: dict | None) -> dict:
    """Validate an organization write (unique name) and return the new version."""
    store = app.store
    clock = iso(now())
    name = data.get("name", existing.get("name") if existing else None)
    if not str(name or "").strip():
        raise ItemInvalid("name", "Name: cannot be blank", "BlankValue")
    other = store.index_ci("organizations", "name").get(str(name).lower())
    if other is not None and (existing is None or other["id"] != existing["id"]):
        raise ItemInvalid("name", f"Name:  {name} has already been taken", "DuplicateValue")
    group = data.get("group_id")
    if group is not None and store.get("groups", group) is None:
        raise ItemInvalid("group_id", "Group: is invalid")
    fields = _field_values(app, "organization_fields", data, existing)
    base = existing or {
        "url": None, "id": None, "name": None, "shared_tickets": False,
        "shared_comments": False, "external_id": None, "created_at": clock,
        "updated_at": clock, "domain_names": [], "details": None, "notes": None,
        "group_id": None, "tags": [], "organization_fields": {}, "deleted_at": None,
    }
    org = dict(base)
    for k in ("name", "external_id", "domain_names", "details", "notes", "group_id",
              "shared_tickets", "shared_comments", "tags"):
        if k in data:
            org[k] = data[k]
    org["organization_fields"] = fields
    org["updated_at"] = clock
    return org


def commit_org(app: App, org: dict) -> dict:
    """Insert or replace a built organization."""
    return _insert_or_replace(app, "organizations", org)


def create_org(app: App, req: Req) -> Response:
    """`POST /organizations` -> 201."""
    data = _body(app, req, "organization")
    return json_response(201, {"organization": _write_one(app, data, None, build_org, commit_org)})


def update_org(app: App, req: Req, **groups: str) -> Response:
    """`PUT /organizations/{id}`."""
    data = _body(app, req, "organization")
    existing = app.store.get("organizations", groups["id"])
    if existing is None:
        raise not_found()
    org = _write_one(app, data, existing, build_org, commit_org)
    return json_response(200, {"organization": org})


def create_or_update_org(app: App, req: Req) -> Response:
    """`POST /organizations/create_or_update`: matches id or external_id, never name."""
    data = _body(app, req, "organization")
    try:
        with app.store.lock:
            existing = None
            if data.get("id") is not None:
                existing = app.store.get("organizations", data["id"])
            if existing is None and data.get("external_id") not in (None, ""):
                existing = app.store.index_ci("organizations", "external_id").get(
                    str(data["external_id"]).lower())
            org = commit_org(app, build_org(app, data, existing))
    except ItemInvalid as exc:
        raise exc.api_error() from None
    return json_response(201 if existing is None else 200, {"organization": org})


def create_orgs_many(app: App, req: Req) -> Response:
    """`POST /organizations/create_many` -> job."""
    items = _bulk_body(req, "organizations", "organizations")

    def created(i: int, data: dict) -> dict:
        with app.store.lock:
            org = commit_org(app, build_org(app, data, None))
        return {"index": i, "id": org["id"], "status": "Created", "success": True}

    return _create_many_job(app, "bulk_create_organizations", items, created,
                            failed_error="OrganizationCreateFailed", echoed=_external_id)


def update_orgs_many(app: App, req: Req) -> Response:
    """`PUT /organizations/update_many`, both the ids/external_ids and the batch form."""
    exts = req.csv("external_ids")
    if exts:
        pairs = _pairs_by_external_id(app, req, exts, "organization", "organizations")
    else:
        pairs = _update_pairs(req, "organization", "organizations", "ids")
    return _update_many_job(app, "bulk_update_organizations", "organizations", pairs, build_org,
                            commit_org, not_found="Organization not found",
                            not_found_error="OrganizationUpdateFailed",
                            failed_error="OrganizationUpdateFailed")
