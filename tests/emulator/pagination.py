"""Cursor-based (CBP), offset and legacy-cursor paging over pre-sorted row lists."""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .store import _id_key_value, _sortable
from .util import ApiError, Page, bad_request


@dataclass
class Ordered:
    """Rows in ascending sort order plus the parallel comparable keys used for bisecting."""

    rows: list[dict]
    keys: list[tuple]
    field: str  # sort field ("id" when sorting by id only)


def order_rows(rows: list[dict], fieldname: str) -> Ordered:
    """Sort rows ascending by (field, id) and precompute keys once per data version."""
    decorated = sorted(((sort_key(r, fieldname), r) for r in rows), key=lambda t: t[0])
    return Ordered([t[1] for t in decorated], [t[0] for t in decorated], fieldname)


def sort_key(row: dict, fieldname: str) -> tuple:
    """Comparable key of a row for one sort field."""
    if fieldname == "id":
        return (_id_key_value(row.get("id")),)
    return (_sortable(row.get(fieldname)), _id_key_value(row.get("id")))


def _key_from_values(fieldname: str, values: list) -> tuple:
    """Rebuild a comparable key from the raw values stored in a cursor."""
    if fieldname == "id":
        return (_id_key_value(values[0]),)
    return (_sortable(values[0]), _id_key_value(values[1]))


def encode_cursor(order: str, row: dict, fieldname: str) -> str:
    """Opaque CBP cursor: base64 of {"o": order, "v": ...} like Zendesk's."""
    values = [row.get("id")] if fieldname == "id" else [row.get(fieldname), row.get("id")]
    inner = base64.b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()
    payload = json.dumps({"o": order, "v": inner}, separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode()


def decode_cursor(cursor: str, order: str, fieldname: str, param: str) -> tuple:
    """Turn a cursor back into a key; anything malformed or foreign is a 400."""
    try:
        outer = json.loads(base64.b64decode(cursor.encode(), validate=True))
        if outer.get("o") != order:
            raise ValueError("cursor for another sort order")
        values = json.loads(base64.b64decode(outer["v"].encode(), validate=True))
        if not isinstance(values, list) or len(values) != (1 if fieldname == "id" else 2):
            raise ValueError("bad cursor payload")
        return _key_from_values(fieldname, values)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error,
            UnicodeDecodeError):
        raise bad_request("InvalidPaginationParameter", f"{param} is not valid") from None


def peek_order(cursor: str) -> str | None:
    """The sort tag inside a cursor, or None when it is not one of ours."""
    try:
        return json.loads(base64.b64decode(cursor.encode(), validate=True)).get("o")
    except (ValueError, AttributeError, binascii.Error, UnicodeDecodeError):
        return None


def page_size(query: dict[str, str], maximum: int, default: int = 100) -> int:
    """Validate page[size]: larger than the maximum is a 400, never a silent clamp."""
    raw = query.get("page[size]")
    if raw is None or raw == "":
        return default
    try:
        size = int(raw)
    except ValueError:
        raise bad_request("InvalidPaginationParameter", "page[size] is not valid") from None
    if size > maximum:
        raise bad_request("InvalidPaginationParameter",
                          f"page[size] cannot be greater than {maximum}")
    if size < 1:
        raise bad_request("InvalidPaginationParameter", "page[size] must be positive")
    return size


def cbp_window(ordered: Ordered, size: int, order: str, descending: bool,
               after: str | None, before: str | None) -> tuple[list[dict], bool]:
    """Select one CBP page in the requested direction; returns (rows, has_more)."""
    rows, keys, fieldname = ordered.rows, ordered.keys, ordered.field
    n = len(rows)
    if after is not None and before is not None:
        raise bad_request("InvalidPaginationParameter",
                          "page[after] and page[before] cannot be used together")
    forward = before is None  # travelling in the sort direction
    cursor = after if after is not None else before
    if cursor is None:
        if not descending:
            return rows[:size], size < n
        lo = max(0, n - size)
        return rows[lo:][::-1], lo > 0
    key = decode_cursor(cursor, order, fieldname,
                        "page[after]" if after is not None else "page[before]")
    if forward != descending:  # ascending walk towards larger keys
        i = bisect_right(keys, key)
        chunk = rows[i:i + size]
        more = i + size < n
        return (chunk[::-1] if descending else chunk), more
    j = bisect_left(keys, key)
    lo = max(0, j - size)
    chunk = rows[lo:j]
    return (chunk[::-1] if descending else chunk), lo > 0


def cbp_page(key: str, ordered: Ordered, query: dict[str, str], link: Callable[..., str],
             serialize: Callable[[dict], bytes], *, max_size: int, order: str,
             descending: bool = False, empty: bool = False) -> Page:
    """Build a CBP reply: items, meta {has_more, after_cursor, before_cursor}, links."""
    size = page_size(query, max_size)
    after, before = query.get("page[after]"), query.get("page[before]")
    chunk, more = cbp_window(ordered, size, order, descending, after, before)
    if empty:  # fault: no items, but paging keys that re-request the same window
        meta: dict[str, Any] = {"has_more": True, "after_cursor": after,
                                "before_cursor": before}
        links = {"prev": link(**{"page[before]": before, "page[size]": size}) if before
                 else None,
                 "next": link(**{"page[after]": after, "page[size]": size})}
        return Page(key, [], {"meta": meta, "links": links}, ("links.next",))
    first = encode_cursor(order, chunk[0], ordered.field) if chunk else None
    last = encode_cursor(order, chunk[-1], ordered.field) if chunk else None
    meta = {"has_more": more, "after_cursor": last, "before_cursor": first}
    links = {
        "prev": link(**{"page[before]": first, "page[size]": size}) if first else None,
        # filled on the last page too, to catch clients that loop on links.next
        "next": link(**{"page[after]": last, "page[size]": size}) if last else None,
    }
    return Page(key, [serialize(r) for r in chunk], {"meta": meta, "links": links},
                ("links.next",), objs=chunk)


def offset_params(query: dict[str, str], default_per_page: int = 100) -> tuple[int, int]:
    """Parse page/per_page (per_page is clamped to 100 like Zendesk does)."""
    try:
        page = int(query.get("page") or 1)
        per_page = int(query.get("per_page") or default_per_page)
    except ValueError:
        raise bad_request("InvalidPaginationParameter", "page is not valid") from None
    return max(1, page), max(1, min(100, per_page))


def depth_error(max_page: int) -> ApiError:
    """400 InvalidPaginationDepth in the JSON:API error shape (C)."""
    return ApiError(400, {"errors": [{
        "code": "InvalidPaginationDepth",
        "title": f"Pagination requests using Offset Pagination are limited to {max_page} pages "
                 f"({max_page * 100} records). Please use Cursor Based Pagination instead."}]})


def offset_page(key: str, rows: list[dict], query: dict[str, str], link: Callable[..., str],
                serialize: Callable[[dict], bytes], *, max_page: int | None,
                default_per_page: int = 100, help_center: str | None = None,
                empty: bool = False) -> Page:
    """Build an offset reply: items, next_page/previous_page (absolute), count."""
    page, per_page = offset_params(query, default_per_page)
    if max_page is not None and page > max_page:
        raise depth_error(max_page)
    count = len(rows)
    start = (page - 1) * per_page
    chunk = rows[start:start + per_page]
    has_next = start + per_page < count
    if empty:
        chunk, has_next, next_no = [], True, page
    else:
        next_no = page + 1
    env: dict[str, Any] = {
        "next_page": link(page=next_no, per_page=per_page) if has_next else None,
        "previous_page": link(page=page - 1, per_page=per_page) if page > 1 else None,
        "count": count,
    }
    if help_center is not None:
        env["page"] = page
        env["per_page"] = per_page
        env["page_count"] = max(1, -(-count // per_page))
        if help_center == "help_center":
            env["sort_by"] = query.get("sort_by") or "position"
            env["sort_order"] = query.get("sort_order") or "asc"
    return Page(key, [serialize(r) for r in chunk], env, ("next_page",), objs=chunk)


def whole_page(key: str, rows: list[dict], serialize: Callable[[dict], bytes],
               envelope: dict[str, Any] | None = None) -> Page:
    """An unpaginated reply holding every row."""
    return Page(key, [serialize(r) for r in rows], dict(envelope or {}), objs=list(rows))
