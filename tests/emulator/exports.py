"""Incremental exports: time-based (start_time/end_time/next_page) and cursor-based."""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .pagination import Ordered, cbp_page, sort_key
from .reads import add_sideloads, serializer
from .request import Req
from .util import ApiError, Page, bad_request, dumps, now

if TYPE_CHECKING:
    from .app import App

Keep = Callable[[dict], bool]
_CURSOR_RE = re.compile(r"^(\d+)\.0\|\|(\d+)\|$")


def _start_time(app: App, req: Req) -> int:
    """Validate start_time: required, an integer, and at least a minute old."""
    raw = req.query.get("start_time")
    if raw is None or raw == "":
        raise ApiError(400, {"error": "InvalidValue",
                             "description": "start_time is a required parameter"})
    try:
        start = int(float(raw))
    except ValueError:
        raise ApiError(422, {"error": "InvalidValue",
                             "description": "start_time must be an integer"}) from None
    if start > now() - app.cfg.start_time_min_age:
        raise ApiError(422, {"error": "InvalidValue",
                             "description": "Too recent start_time. Use a start_time older "
                                            f"than {_age_text(app.cfg.start_time_min_age)}"})
    return max(0, start)


def _age_text(seconds: int) -> str:
    """Zendesk phrases the threshold in minutes."""
    minutes = max(1, seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _per_page(app: App, req: Req) -> int:
    """per_page for exports: 1..1000 (default 1000), larger values are clamped."""
    try:
        value = int(req.query.get("per_page") or app.cfg.export_max_per_page)
    except ValueError:
        raise bad_request("InvalidPaginationParameter", "per_page is not valid") from None
    return max(1, min(app.cfg.export_max_per_page, value))


def _visible_end(app: App, keys: list[tuple[int, Any]]) -> int:
    """Index past the last item old enough to be shown (the recent-data hold-back)."""
    if app.cfg.hold_back <= 0:
        return len(keys)
    return bisect_left(keys, (now() - app.cfg.hold_back + 1,))


def _take(rows: list[dict], keys: list[tuple[int, Any]], start: int, stop: int, n: int,
          keep: Keep | None) -> tuple[list[int], int]:
    """Indexes of up to n kept rows from `start`; also the index where scanning stopped."""
    if keep is None:
        end = min(stop, start + n)
        return list(range(start, end)), end
    picked: list[int] = []
    i = start
    while i < stop and len(picked) < n:
        if keep(rows[i]):
            picked.append(i)
        i += 1
    return picked, i


def _any_left(rows: list[dict], start: int, stop: int, keep: Keep | None) -> bool:
    """Whether another kept row exists in [start, stop)."""
    if keep is None:
        return start < stop
    return any(keep(rows[i]) for i in range(start, stop))


def time_export(app: App, req: Req, name: str, key: str, serialize: Callable[[dict], bytes],
                *, keep: Keep | None = None, end_of_stream: bool = True,
                null_next_at_end: bool = False) -> Page:
    """Time-based export page; items sharing the boundary second stay together."""
    start = _start_time(app, req)
    per_page = _per_page(app, req)
    keys, rows = app.store.export_index(name)
    stop = _visible_end(app, keys)
    lo = bisect_left(keys, (start,))
    picked, scanned = _take(rows, keys, lo, stop, per_page, keep)
    if picked and not app.cfg.stall_same_second:
        last_ts = keys[picked[-1]][0]
        while scanned < stop and keys[scanned][0] == last_ts:  # keep the second together
            if keep is None or keep(rows[scanned]):
                picked.append(scanned)
            scanned += 1
    more = _any_left(rows, scanned, stop, keep)
    if req.flag("empty_page"):
        picked, more = [], True
    if picked:
        end_time = keys[picked[-1]][0]
        if more and not app.cfg.stall_same_second and keys[picked[0]][0] == end_time:
            end_time += 1  # a whole page of one second: move on, every item of it was sent
    else:
        end_time = start
    objs = [rows[i] for i in picked]
    env: dict[str, Any] = {"count": len(objs)}
    if end_of_stream:
        env["end_of_stream"] = not more
    given = req.query.get("per_page")
    env["next_page"] = None if (null_next_at_end and not more) else req.link(
        start_time=end_time, per_page=given)
    env["end_time"] = end_time
    page = Page(key, [serialize(o) for o in objs], env, ("next_page",), objs=objs)
    add_sideloads(app, req, page, objs, embedded=("metric_sets",))
    return page


def encode_export_cursor(ts: int, oid: Any) -> str:
    """Zendesk-like export cursor: base64 of `{ts}.0||{id}|`."""
    return base64.b64encode(f"{ts}.0||{oid}|".encode()).decode()


def decode_export_cursor(cursor: str) -> tuple[int, int]:
    """Decode an export cursor; anything else is a 400."""
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        m = _CURSOR_RE.match(text)
        if not m:
            raise ValueError(text)
        return int(m.group(1)), int(m.group(2))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_export_cursor() from None


def invalid_export_cursor() -> ApiError:
    """400 for a cursor the export cannot use."""
    return bad_request("InvalidPaginationParameter", "cursor is not valid")


def cursor_export(app: App, req: Req, name: str, key: str, serialize: Callable[[dict], bytes],
                  *, keep: Keep | None = None) -> Page:
    """Cursor-based export page (tickets and users)."""
    per_page = _per_page(app, req)
    keys, rows = app.store.export_index(name)
    stop = _visible_end(app, keys)
    cursor = req.query.get("cursor")
    if cursor:
        ts, oid = decode_export_cursor(cursor)
        lo = bisect_right(keys, (ts, oid))
        here = cursor
    else:
        start = _start_time(app, req)
        lo = bisect_left(keys, (start,))
        here = encode_export_cursor(max(0, start - 1), 10**19)  # just before start_time
    picked, scanned = _take(rows, keys, lo, stop, per_page, keep)
    more = _any_left(rows, scanned, stop, keep)
    if req.flag("empty_page"):
        picked, more = [], True
    objs = [rows[i] for i in picked]
    given = req.query.get("per_page")
    if objs:
        last = keys[picked[-1]]
        after = encode_export_cursor(last[0], last[1])
    elif req.flag("empty_page"):
        after = here  # re-requesting it yields the rows this faulty page left out
    elif app.cfg.cursor_null_on_empty:
        after = None
    else:
        after = cursor
    env: dict[str, Any] = {
        "after_url": req.link(cursor=after, per_page=given, start_time=None) if after else None,
        "before_url": None,
        "after_cursor": after,
        "before_cursor": None,
        "end_of_stream": not more,
    }
    page = Page(key, [serialize(o) for o in objs], env, ("after_url",), objs=objs)
    add_sideloads(app, req, page, objs, embedded=("metric_sets",))
    return page


# ---------------------------------------------------------------------------------------------
# per-resource serialisers and filters


def ticket_serializer(app: App, req: Req) -> Callable[[dict], bytes]:
    """Tickets, with `metric_set` embedded per ticket when include=metric_sets."""
    base = serializer(app, "tickets")
    if "metric_sets" not in req.csv("include"):
        return base
    metrics = app.store.group_by("ticket_metrics", "ticket_id")
    mser = serializer(app, "ticket_metrics")
    row_bytes = app.store.row_bytes

    def build(t: dict) -> bytes:
        found = metrics.get(t.get("id"))
        embedded = mser(found[0]) if found and t.get("status") != "deleted" else b"null"
        return base(t)[:-1] + b',"metric_set":' + embedded + b"}"

    return lambda t: row_bytes("tickets", t, "metric_set", build)


def _exclude_deleted(req: Req) -> Keep | None:
    """`exclude_deleted=true` drops deleted tickets."""
    if req.truthy("exclude_deleted"):
        return lambda t: t.get("status") != "deleted"
    return None


def tickets_time(app: App, req: Req) -> Page:
    """`/incremental/tickets`."""
    return time_export(app, req, "tickets", "tickets", ticket_serializer(app, req),
                       keep=_exclude_deleted(req))


def tickets_cursor(app: App, req: Req) -> Page:
    """`/incremental/tickets/cursor`."""
    return cursor_export(app, req, "tickets", "tickets", ticket_serializer(app, req),
                         keep=_exclude_deleted(req))


def users_time(app: App, req: Req) -> Page:
    """`/incremental/users`."""
    return time_export(app, req, "users", "users", serializer(app, "users"))


def users_cursor(app: App, req: Req) -> Page:
    """`/incremental/users/cursor`."""
    return cursor_export(app, req, "users", "users", serializer(app, "users"))


def organizations_time(app: App, req: Req) -> Page:
    """`/incremental/organizations`."""
    return time_export(app, req, "organizations", "organizations",
                       serializer(app, "organizations"))


def articles_time(app: App, req: Req) -> Page:
    """`/help_center/incremental/articles`: no end_of_stream, next_page null at the end."""
    return time_export(app, req, "articles", "articles", serializer(app, "articles"),
                       end_of_stream=False, null_next_at_end=True)


VIA_TEXT = {"web": "Web form", "email": "Mail", "api": "Web service", "rule": "Rule",
            "mobile": "Mobile", "mobile_sdk": "Mobile SDK", "voice": "Voice", "chat": "Chat",
            "twitter": "Twitter", "facebook": "Facebook", "sms": "Text",
            "sample_ticket": "Sample Ticket", "side_conversation": "Side conversation",
            "import": "Ticket import", "native_messaging": "Messaging"}


def via_text(via: Any) -> str:
    """Display string used as top-level `via` in ticket events."""
    if isinstance(via, str):
        return via
    channel = (via or {}).get("channel") if isinstance(via, dict) else None
    return VIA_TEXT.get(channel or "web", str(channel or "Web form").replace("_", " ").title())


_EVENT_SKIP = {"type", "field_name", "value", "previous_value"}


def audit_to_event(app: App, audit: dict, full_comments: bool) -> dict:
    """Turn a ticket audit into an incremental ticket event (section 4.7 shape)."""
    via = via_text(audit.get("via"))
    comments = app.store.cols.get("ticket_comments")
    children = []
    for ev in audit.get("events") or []:
        etype = ev.get("type") or ev.get("event_type") or "Unknown"
        child: dict[str, Any] = {"id": ev.get("id"), "via": via, "via_reference_id": None}
        if etype == "Comment":
            stored = comments.by_id.get(ev.get("id")) if comments is not None else None
            comment = {**stored, **ev} if stored else ev
            if full_comments:
                child.update({k: v for k, v in comment.items() if k != "ticket_id"})
                child.update({"event_type": "Comment", "type": "Comment",
                              "audit_id": audit.get("id")})
            else:
                child.update({"comment_present": True,
                              "comment_public": bool(comment.get("public", True)),
                              "event_type": "Comment"})
        elif etype in ("Create", "Change") and "field_name" in ev:
            child[str(ev["field_name"])] = ev.get("value")
            if etype == "Change":
                child["previous_value"] = ev.get("previous_value")
            child["event_type"] = etype
        else:
            child.update({k: v for k, v in ev.items() if k not in ("type",)})
            child["event_type"] = etype
        children.append(child)
    system = (audit.get("metadata") or {}).get("system") or {}
    return {
        "id": audit.get("id"), "ticket_id": audit.get("ticket_id"),
        "timestamp": app.store.ts_of("ticket_audits", audit),
        "created_at": audit.get("created_at"), "updater_id": audit.get("author_id"),
        "via": via,
        "system": {"client": system.get("client"), "ip_address": system.get("ip_address"),
                   "location": system.get("location"), "latitude": system.get("latitude"),
                   "longitude": system.get("longitude")},
        "metadata": audit.get("metadata") or {"custom": {}, "system": {}},
        "event_type": "Audit",
        "child_events": children,
    }


def ticket_events_time(app: App, req: Req) -> Page:
    """`/incremental/ticket_events` (include=comment_events for full comment children)."""
    full = "comment_events" in req.csv("include")
    row_bytes = app.store.row_bytes
    variant = "event_full" if full else "event"

    def ser(audit: dict) -> bytes:
        return row_bytes("ticket_audits", audit, variant,
                         lambda a: dumps(audit_to_event(app, a, full)))

    return time_export(app, req, "ticket_audits", "ticket_events", ser)


def ticket_metric_events(app: App, req: Req) -> Page:
    """`/incremental/ticket_metric_events`: time-based, or CBP when page[size] is sent."""
    ser = serializer(app, "ticket_metric_events")
    if not any(k.startswith("page[") for k in req.query):
        return time_export(app, req, "ticket_metric_events", "ticket_metric_events", ser)
    start = _start_time(app, req)
    keys, rows = app.store.export_index("ticket_metric_events")
    lo, hi = bisect_left(keys, (start,)), _visible_end(app, keys)
    ordered = Ordered(rows[lo:hi], [sort_key(r, "time") for r in rows[lo:hi]], "time")

    def link(**params: Any) -> str:
        return req.link(start_time=start, **params)

    return cbp_page("ticket_metric_events", ordered, req.query, link, ser,
                    max_size=app.cfg.cbp_max_size, order="time",
                    empty=req.flag("empty_page"))
