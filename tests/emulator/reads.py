"""Read handlers: one generic list handler and one generic show handler driven by route specs."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .pagination import (
    Ordered,
    cbp_page,
    cbp_window,
    encode_cursor,
    offset_page,
    order_rows,
    page_size,
    peek_order,
    whole_page,
)
from .request import Req
from .util import (
    Page,
    Response,
    bad_request,
    dumps,
    iso,
    json_response,
    not_found,
    now,
    parse_iso,
)

if TYPE_CHECKING:
    from .app import App

# linking fields the generator adds for the emulator's sake but the real API does not send
STRIP_FIELDS = {"ticket_comments": ("ticket_id",)}

Scope = Callable[["App", Req, dict[str, str]], list[dict]]


def serializer(app: App, name: str) -> Callable[[dict], bytes]:
    """Cached-bytes serialiser for rows of one collection."""
    strip = STRIP_FIELDS.get(name)
    build = (lambda o: dumps({k: v for k, v in o.items() if k not in strip})) if strip else None
    row_bytes = app.store.row_bytes
    return lambda obj: row_bytes(name, obj, None, build)


@dataclass(frozen=True)
class ListSpec:
    """How one list endpoint pages, filters and sorts a collection."""

    collection: str
    key: str
    paging: str = "dual"  # dual | cbp | offset | none | one_page | optional_cbp
    scope: Scope | None = None
    scope_params: tuple[str, ...] = ()  # query params the scope reads (index cache key)
    sorts: tuple[str, ...] = ("id", "created_at", "updated_at")
    default_sort: str = "id"
    descending: bool = False
    help_center: str | None = None  # help_center | community offset extras
    default_per_page: int = 100
    depth_limited: bool = True
    envelope: tuple[tuple[str, Any], ...] = ()  # extra keys on unpaginated replies
    count_in_envelope: bool = False  # unpaginated replies that still carry count
    sideloads: bool = False


def _ordered(app: App, spec: ListSpec, req: Req, groups: dict[str, str], sort: str) -> Ordered:
    """The scoped rows in ascending `sort` order, cached until the data changes."""
    deps = (spec.collection,) + _SCOPE_DEPS.get(spec.collection, ())
    key: Hashable = ("list", spec.collection, spec.scope, tuple(sorted(groups.items())),
                     tuple(req.query.get(p) for p in spec.scope_params), sort)

    def build() -> Ordered:
        rows = spec.scope(app, req, groups) if spec.scope else app.store.rows(spec.collection)
        return order_rows(rows, sort)

    return app.store.derived(key, deps, build)


# collections a scope also reads (so cached lists refresh when those change)
_SCOPE_DEPS = {"tickets": ("users",), "ticket_comments": ("tickets",),
               "ticket_audits": ("tickets",), "side_conversations": ("tickets",)}


def _cbp_sort(spec: ListSpec, req: Req) -> tuple[str, bool, str]:
    """Field, direction and cursor order tag from `sort=` (CBP)."""
    raw = req.query.get("sort") or ""
    if not raw:
        return spec.default_sort, spec.descending, ("-" if spec.descending else "") + \
            spec.default_sort
    desc = raw.startswith("-")
    fieldname = raw.lstrip("-")
    if fieldname not in spec.sorts:
        raise bad_request("InvalidPaginationParameter", f"sort is not valid: {raw}")
    return fieldname, desc, raw


def _offset_sort(spec: ListSpec, req: Req) -> tuple[str, bool]:
    """Field and direction from `sort_by`/`sort_order` (offset)."""
    fieldname = req.query.get("sort_by") or spec.default_sort
    if fieldname not in spec.sorts:
        fieldname = spec.default_sort
    order = (req.query.get("sort_order") or "").lower()
    desc = spec.descending if not order else order == "desc"
    return fieldname, desc


def list_handler(spec: ListSpec) -> Callable[..., Page]:
    """Make the handler for one list route from its spec."""

    def handle(app: App, req: Req, **groups: str) -> Page:
        ser = serializer(app, spec.collection)
        empty = req.flag("empty_page")
        wants_cbp = any(k.startswith("page[") for k in req.query)
        style = spec.paging
        if style == "optional_cbp":
            style = "cbp" if wants_cbp else "none"
        elif style == "dual":
            style = "cbp" if wants_cbp else "offset"
        if style == "cbp":
            fieldname, desc, order = _cbp_sort(spec, req)
            ordered = _ordered(app, spec, req, groups, fieldname)
            page = cbp_page(spec.key, ordered, req.query, req.link, ser,
                            max_size=app.cfg.cbp_max_size, order=order, descending=desc,
                            empty=empty)
        elif style == "offset":
            fieldname, desc = _offset_sort(spec, req)
            rows = _ordered(app, spec, req, groups, fieldname).rows
            if desc:
                rows = rows[::-1]
            max_page = app.cfg.offset_max_page if spec.depth_limited else None
            page = offset_page(spec.key, rows, req.query, req.link, ser, max_page=max_page,
                               default_per_page=spec.default_per_page,
                               help_center=spec.help_center, empty=empty)
        elif style == "one_page":
            rows = _ordered(app, spec, req, groups, spec.default_sort).rows
            page = whole_page(spec.key, [] if empty else rows, ser,
                              {"next_page": None, "previous_page": None, "count": len(rows)})
        else:
            rows = _ordered(app, spec, req, groups, spec.default_sort).rows
            env = dict(spec.envelope)
            if spec.count_in_envelope:
                env["count"] = len(rows)
            page = whole_page(spec.key, [] if empty else rows, ser, env)
        if spec.sideloads:
            add_sideloads(app, req, page, page.objs)
        return page

    handle.__name__ = f"list_{spec.key}"
    return handle


# include=... -> (top-level key, source collection, fields on the row holding the id)
SIDELOADS: dict[str, tuple[str, tuple[str, ...]]] = {
    "users": ("users", ("requester_id", "submitter_id", "assignee_id", "author_id", "user_id",
                        "updater_id")),
    "groups": ("groups", ("group_id",)),
    "organizations": ("organizations", ("organization_id",)),
    "brands": ("brands", ("brand_id",)),
}


def add_sideloads(app: App, req: Req, page: Page, objs: list[dict],
                  embedded: tuple[str, ...] = ()) -> None:
    """Attach `include=` sideloads as top-level arrays (they repeat across pages, as real)."""
    for inc in req.csv("include"):
        if inc in embedded:
            continue
        if inc == "metric_sets" and page.key == "tickets":
            by_ticket = app.store.group_by("ticket_metrics", "ticket_id")
            ser = serializer(app, "ticket_metrics")
            page.sideloads["metric_sets"] = [ser(m) for o in objs
                                             for m in by_ticket.get(o.get("id"), [])[:1]]
            continue
        spec = SIDELOADS.get(inc)
        if spec is None:
            continue
        coll, fields = spec
        seen: dict[Any, bytes] = {}
        ser = serializer(app, coll)
        for obj in objs:
            for f in fields:
                oid = obj.get(f)
                if oid is not None and oid not in seen:
                    row = app.store.get(coll, oid)
                    if row is not None:
                        seen[oid] = ser(row)
        page.sideloads[inc] = list(seen.values())


# ---------------------------------------------------------------------------------------------
# scopes (filters) used by the route table


def visible_tickets(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
    """`GET /tickets` leaves out archived and deleted tickets; `external_id` filters."""
    archived = app.store.archived
    ext = req.query.get("external_id")
    rows = [t for t in app.store.rows("tickets")
            if t.get("status") != "deleted" and t.get("id") not in archived]
    if ext is not None:
        rows = [t for t in rows if str(t.get("external_id") or "") == ext]
    return rows


def tickets_of(fieldname: str) -> Scope:
    """Tickets of one user/organization (archived and deleted left out)."""
    def scope(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
        owner = int(groups["id"])
        if fieldname == "organization_id" and app.store.get("organizations", owner) is None:
            raise not_found()
        if fieldname != "organization_id" and app.store.get("users", owner) is None:
            raise not_found()
        rows = visible_tickets(app, req, {})
        if fieldname == "collaborator_ids":
            return [t for t in rows if owner in (t.get("collaborator_ids") or [])]
        return [t for t in rows if t.get(fieldname) == owner]
    return scope


def live_ticket(app: App, groups: dict[str, str]) -> dict:
    """The ticket a child resource hangs off; deleted or unknown -> 404."""
    ticket = app.store.get("tickets", groups["ticket_id"])
    if ticket is None or ticket.get("status") == "deleted":
        raise not_found()
    return ticket


def children_of_ticket(collection: str) -> Scope:
    """Comments/audits/side conversations of one ticket (archived tickets still readable)."""
    def scope(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
        ticket = live_ticket(app, groups)
        return app.store.group_by(collection, "ticket_id").get(ticket["id"], [])
    return scope


def by_field(collection: str, fieldname: str, parent: str | None = None) -> Scope:
    """Rows whose `fieldname` equals the id in the path (404 when the parent is unknown)."""
    def scope(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
        oid = int(groups["id"])
        if parent is not None and app.store.get(parent, oid) is None:
            raise not_found()
        return app.store.group_by(collection, fieldname).get(oid, [])
    scope.__name__ = f"by_{collection}_{fieldname}"
    return scope


def users_filter(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
    """`role`, `role[]`, `roles`, `permission_set` and `external_id` filters of /users."""
    rows = app.store.rows("users")
    roles = req.csv("role") + req.csv("role[]") + req.csv("roles")
    if roles:
        rows = [u for u in rows if u.get("role") in roles]
    if "permission_set" in req.query:
        ps = req.query["permission_set"]
        rows = [u for u in rows if str(u.get("custom_role_id")) == ps]
    if "external_id" in req.query:
        ext = req.query["external_id"].lower()
        rows = [u for u in rows if str(u.get("external_id") or "").lower() == ext]
    return rows


def groups_filter(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
    """Deleted groups only appear with `exclude_deleted=false`."""
    rows = app.store.rows("groups")
    if req.truthy("exclude_deleted", True):
        rows = [g for g in rows if not g.get("deleted")]
    return rows


def active_only(collection: str) -> Scope:
    """`/macros/active`, `/views/active` and friends."""
    def scope(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
        return [r for r in app.store.rows(collection) if r.get("active", True)]
    scope.__name__ = f"active_{collection}"
    return scope


def satisfaction_filter(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
    """`score`, `start_time`, `end_time` filters of satisfaction ratings."""
    rows = app.store.rows("satisfaction_ratings")
    score = req.query.get("score")
    if score:
        rows = [r for r in rows if _score_matches(r, score)]
    tf = app.cfg.csat_time_field
    start, end = req.query.get("start_time"), req.query.get("end_time")
    if start or end:
        lo = int(start) if start else None
        hi = int(end) if end else None
        out = []
        for r in rows:
            ts = parse_iso(r.get(tf)) or 0
            if (lo is None or ts >= lo) and (hi is None or ts <= hi):
                out.append(r)
        rows = out
    return rows


def _score_matches(row: dict, score: str) -> bool:
    """Zendesk's compound score filters (received_with_comment and so on)."""
    s = row.get("score")
    has_comment = bool(row.get("comment"))
    if score.endswith("_without_comment"):
        base, want = score[: -len("_without_comment")], False
    elif score.endswith("_with_comment"):
        base, want = score[: -len("_with_comment")], True
    else:
        base, want = score, None
    ok = s in ("good", "bad") if base == "received" else s == base
    return ok and (want is None or has_comment == want)


def articles_in_category(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
    """`/help_center/categories/{id}/articles`: articles of every section of the category."""
    oid = int(groups["id"])
    if app.store.get("categories", oid) is None:
        raise not_found()
    sections = {s["id"] for s in app.store.group_by("sections", "category_id").get(oid, [])}
    return [a for a in app.store.rows("articles") if a.get("section_id") in sections]


def posts_of_user(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
    """`/community/users/{id}/posts`."""
    oid = int(groups["id"])
    return [p for p in app.store.rows("posts") if p.get("author_id") == oid]


def jobs_newest_first(app: App, req: Req, groups: dict[str, str]) -> list[dict]:
    """Job statuses (CBP only)."""
    return app.store.rows("job_statuses")


# ---------------------------------------------------------------------------------------------
# show endpoints and small specials


@dataclass(frozen=True)
class ShowSpec:
    """One `GET /{collection}/{id}` endpoint."""

    collection: str
    key: str
    hide: Callable[[App, dict], bool] | None = None  # rows that answer 404 anyway
    parent: str | None = None  # group name of a parent ticket id that must match


def show_handler(spec: ShowSpec) -> Callable[..., Any]:
    """Make the handler for one show route from its spec."""

    def handle(app: App, req: Req, **groups: str) -> Any:
        row = app.store.get(spec.collection, groups["id"])
        if row is None or (spec.hide is not None and spec.hide(app, row)):
            raise not_found()
        if spec.parent and str(row.get("ticket_id")) != groups[spec.parent]:
            raise not_found()
        if spec.parent:
            live_ticket(app, groups)
        body = b'{"' + spec.key.encode() + b'":' + serializer(app, spec.collection)(row) + b"}"
        return Response(200, body)

    handle.__name__ = f"show_{spec.key}"
    return handle


def deleted_ticket(app: App, row: dict) -> bool:
    """Deleted tickets answer 404 on show."""
    return row.get("status") == "deleted"


def users_me(app: App, req: Req) -> Any:
    """The authenticated user, or the anonymous user when credentials were wrong."""
    if req.user_id is None:
        return json_response(200, {"user": {
            "id": None, "url": None, "name": "Anonymous user", "email": "invalid@example.com",
            "created_at": None, "updated_at": None, "time_zone": "UTC",
            "iana_time_zone": "Etc/UTC", "phone": None, "shared_phone_number": None,
            "photo": None, "locale_id": 1, "locale": "en-US", "organization_id": None,
            "role": "end-user", "verified": False, "authenticity_token": "anonymous"}})
    user = dict(app.store.get("users", req.user_id) or {"id": req.user_id})
    user["role"] = app.cfg.role
    return json_response(200, {"user": user})


def show_many(collection: str, key: str, external: bool) -> Callable[..., Page]:
    """`show_many?ids=` (and `external_ids=` for users/organizations), offset-shaped."""

    def handle(app: App, req: Req) -> Page:
        ids, exts = req.csv("ids"), req.csv("external_ids") if external else []
        if len(ids) > 100 or len(exts) > 100:
            raise bad_request("TooManyValues", "Parameter ids cannot specify more than 100 "
                                               "values")
        rows: list[dict] = []
        for oid in ids:
            row = app.store.get(collection, oid)
            if row is not None and not (collection == "tickets" and deleted_ticket(app, row)):
                rows.append(row)
        if exts:
            index = app.store.index_ci(collection, "external_id")
            rows += [index[e.lower()] for e in exts if e.lower() in index]
        return whole_page(key, rows, serializer(app, collection),
                          {"next_page": None, "previous_page": None, "count": len(rows)})

    handle.__name__ = f"show_many_{key}"
    return handle


def users_search(app: App, req: Req) -> Page:
    """`/users/search?external_id=` or `?query=` (email, name or free text)."""
    rows = app.store.rows("users")
    if "external_id" in req.query:
        ext = req.query["external_id"].lower()
        rows = [u for u in rows if str(u.get("external_id") or "").lower() == ext]
    elif "query" in req.query:
        rows = _match_query(rows, req.query["query"], ("email", "name", "external_id"))
    else:
        raise bad_request("InvalidParameter", "query or external_id is required")
    return offset_page("users", sorted(rows, key=lambda r: r["id"]), req.query, req.link,
                       serializer(app, "users"), max_page=app.cfg.offset_max_page)


def organizations_search(app: App, req: Req) -> Page:
    """`/organizations/search?external_id=` or `?name=` (exact, case-insensitive)."""
    rows = app.store.rows("organizations")
    if "external_id" in req.query:
        ext = req.query["external_id"].lower()
        rows = [o for o in rows if str(o.get("external_id") or "").lower() == ext]
    elif "name" in req.query:
        name = req.query["name"].lower()
        rows = [o for o in rows if str(o.get("name") or "").lower() == name]
    else:
        raise bad_request("InvalidParameter", "name or external_id is required")
    return offset_page("organizations", sorted(rows, key=lambda r: r["id"]), req.query,
                       req.link, serializer(app, "organizations"),
                       max_page=app.cfg.offset_max_page)


def _match_query(rows: list[dict], query: str, fields: tuple[str, ...]) -> list[dict]:
    """Tiny search: `field:value` terms or a bare value matched against several fields."""
    terms = query.split()
    out = rows
    for term in terms:
        if ":" in term:
            fname, _, value = term.partition(":")
            if fname == "type":
                continue
            value = value.strip('"').lower()
            out = [r for r in out if str(r.get(fname) or "").lower() == value]
        else:
            value = term.strip('"').lower()
            out = [r for r in out
                   if any(value == str(r.get(f) or "").lower() for f in fields)
                   or value in str(r.get("name") or "").lower()]
    return out


def counter(collection: str) -> Callable[..., Any]:
    """`/{collection}/count` -> {"count": {"value", "refreshed_at"}}."""

    def handle(app: App, req: Req) -> Any:
        if collection == "tickets":
            value = len(visible_tickets(app, req, {}))
        else:
            value = len(app.store.rows(collection))
        return json_response(200, {"count": {"value": value, "refreshed_at": iso(now())}})

    handle.__name__ = f"count_{collection}"
    return handle


def ticket_metrics_of(app: App, req: Req, **groups: str) -> Any:
    """`/tickets/{id}/metrics` -> {"ticket_metric": {...}} (imported tickets have none)."""
    ticket = live_ticket(app, groups)
    rows = app.store.group_by("ticket_metrics", "ticket_id").get(ticket["id"])
    if not rows:
        raise not_found()
    return json_response(200, {"ticket_metric": rows[0]})


def ticket_tags(app: App, req: Req, **groups: str) -> Any:
    """`/tickets/{id}/tags`."""
    ticket = live_ticket(app, groups)
    return json_response(200, {"tags": ticket.get("tags") or []})


def comments_count(app: App, req: Req, **groups: str) -> Any:
    """`/tickets/{id}/comments/count`."""
    ticket = live_ticket(app, groups)
    n = len(app.store.group_by("ticket_comments", "ticket_id").get(ticket["id"], []))
    return json_response(200, {"count": {"value": n, "refreshed_at": iso(now())}})


def ticket_audits_all(app: App, req: Req) -> Page:
    """`/ticket_audits`: newest first, archived tickets left out, legacy or CBP envelope."""
    legacy_params = "cursor" in req.query or "limit" in req.query
    if "page[size]" in req.query or "page[after]" in req.query or "page[before]" in req.query:
        size = page_size(req.query, app.cfg.cbp_max_size)
    else:
        try:
            size = min(1000, max(1, int(req.query.get("limit") or 1000)))
        except ValueError:
            raise bad_request("InvalidPaginationParameter", "limit is not valid") from None

    def build() -> Ordered:
        archived = app.store.archived
        tickets = app.store.cols["tickets"].by_id if "tickets" in app.store.cols else {}
        rows = [a for a in app.store.rows("ticket_audits")
                if a.get("ticket_id") not in archived
                and (tickets.get(a.get("ticket_id")) or {}).get("status") != "deleted"]
        return order_rows(rows, "created_at")

    ordered = app.store.derived(("ticket_audits_all",), ("ticket_audits", "tickets"), build)
    order, back = "-created_at", "before:-created_at"
    after = req.query.get("page[after]")
    before = req.query.get("page[before]")
    cursor = req.query.get("cursor") if legacy_params else None
    if cursor and peek_order(cursor) == back:
        chunk, more = cbp_window(ordered, size, back, True, None, cursor)
    elif cursor:
        chunk, more = cbp_window(ordered, size, order, True, cursor, None)
    else:
        chunk, more = cbp_window(ordered, size, order, True, after, before)
    if req.flag("empty_page"):
        chunk = []
    ser = serializer(app, "ticket_audits")
    last = encode_cursor(order, chunk[-1], "created_at") if chunk else None
    first = encode_cursor(order, chunk[0], "created_at") if chunk else None
    page = Page("audits", [ser(a) for a in chunk], {}, objs=chunk)
    if app.cfg.audits_style == "cbp" and not legacy_params:
        page.envelope = {
            "meta": {"has_more": more, "after_cursor": last, "before_cursor": first},
            "links": {"prev": req.link(**{"page[before]": first, "page[size]": size})
                      if first else None,
                      "next": req.link(**{"page[after]": last, "page[size]": size})
                      if last else None}}
        page.next_fields = ("links.next",)
    else:
        first_back = encode_cursor(back, chunk[0], "created_at") if chunk else None
        page.envelope = {
            "after_cursor": last if more else None,
            "after_url": req.link(cursor=last, limit=size) if (last and more) else None,
            "before_cursor": first_back,
            "before_url": req.link(cursor=first_back, limit=size) if first_back else None,
        }
        page.next_fields = ("after_url",)
    add_sideloads(app, req, page, chunk)
    return page


def job_status_show(app: App, req: Req, **groups: str) -> Any:
    """`/job_statuses/{id}` (404 after retention)."""
    job = app.jobs.get(groups["id"])
    if job is None:
        raise not_found()
    return json_response(200, {"job_status": job})


def job_status_show_many(app: App, req: Req) -> Any:
    """`/job_statuses/show_many?ids=`."""
    jobs = [j for j in (app.jobs.get(i) for i in req.csv("ids")) if j is not None]
    return json_response(200, {"job_statuses": jobs})
