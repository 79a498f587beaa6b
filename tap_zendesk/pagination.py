"""One paginator per Zendesk pagination style (zendesk_api.md sections 3-4; trap table in 8).

Every paginator decides "more?" from Zendesk's own flag and reads the decoded body that
`ZendeskStream.validate_response` cached on the response (decoding inside the retried request,
so a truncated page is retried instead of ending the sync).
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from singer_sdk.pagination import BaseAPIPaginator

_BODY_ATTR = "_zendesk_body"
#: An empty page in the middle of a list or export may hand back the position it was fetched
#: with (or none) while still saying "more": fetch it again, at most this many times in a row.
MAX_REPEATS = 3


def body_of(response: requests.Response) -> dict[str, t.Any]:
    """The decoded JSON object of a reply (cached by the stream; decoded here otherwise)."""
    body = getattr(response, _BODY_ATTR, None)
    if body is None:
        body = response.json()
        setattr(response, _BODY_ATTR, body)
    return body


def with_query(url: str, **params: t.Any) -> str:
    """Return `url` with some query parameters replaced (used to step past a stalled export)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: str(v) for k, v in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query)))


class _ZendeskPaginator(BaseAPIPaginator[t.Optional[str]]):
    """Keep paging past a page that yields no new records while Zendesk says there is more.

    The SDK stops at the first empty page; a Zendesk page can be empty (or hold only rows already
    emitted) in the middle of an export.
    """

    def __init__(self, start_value: str | None) -> None:
        super().__init__(start_value)
        self._repeats = 0

    def continue_if_empty(self, response: requests.Response) -> bool:
        """Zendesk's own "more" flag decides, not the record count."""
        return self.has_more(response)

    def advance(self, response: requests.Response) -> None:
        """Like the SDK's, but a page that says "more" and repeats its position is fetched again.

        The SDK raises "Loop detected" on a repeated token and stops on a missing one; an empty
        page that is not the last hands back the cursor (or URL) it was fetched with, or a null
        cursor (zendesk_api.md 4.3: keep the previous one). Either would end the sync early or
        drop the rest of the stream, so the same position is asked for again, a bounded number
        of times.
        """
        self._page_count += 1
        if not self.has_more(response):
            self._finished = True
            return
        new_value = self.get_next(response)
        if new_value and new_value != self._value:
            self._repeats = 0
            self._value = new_value
            return
        self._repeats += 1
        if self._repeats > MAX_REPEATS:
            msg = (
                f"Loop detected in pagination: Zendesk returned the same position "
                f"{self._repeats} times in a row while saying more rows follow."
            )
            raise RuntimeError(msg)


def sent_start_time(response: requests.Response) -> int | None:
    """The `start_time` the request for this reply carried."""
    value = dict(parse_qsl(urlsplit(response.request.url or "").query)).get("start_time")
    return int(value) if value is not None else None


def stalled_at(response: requests.Response) -> int | None:
    """`start_time + 1` when a time-based page did not move past its own start_time, else None."""
    body = body_of(response)
    sent = sent_start_time(response)
    end_time = body.get("end_time")
    if sent is None or end_time is None or body.get("end_of_stream") or int(end_time) > sent:
        return None
    if body.get("count") == 0:
        return None  # an empty page is no stall: nothing to step past, ask for it again
    return sent + 1


def next_start_time(response: requests.Response) -> int | None:
    """Where the next time-based request starts: next_page's start_time, stepped past a stall."""
    body = body_of(response)
    stepped = stalled_at(response)
    if stepped is not None:
        return stepped
    next_page = body.get("next_page")
    if next_page:
        value = dict(parse_qsl(urlsplit(next_page).query)).get("start_time")
        if value is not None:
            return int(value)
    end_time = body.get("end_time")
    return int(end_time) if end_time is not None else None


class CursorPaginator(_ZendeskPaginator):
    """Cursor-based pagination (CBP): `meta.after_cursor` -> `page[after]`, stop on has_more.

    Zendesk fills `links.next` even on the last page, so only `meta.has_more` ends the loop.
    """

    def __init__(self) -> None:
        super().__init__(None)

    def has_more(self, response: requests.Response) -> bool:
        """`meta.has_more` is the only reliable end marker."""
        return bool((body_of(response).get("meta") or {}).get("has_more"))

    def get_next(self, response: requests.Response) -> str | None:
        """The opaque cursor; never parsed or built."""
        return (body_of(response).get("meta") or {}).get("after_cursor")


class NextPagePaginator(_ZendeskPaginator):
    """Offset pagination and single-page lists: follow the absolute `next_page` URL until null."""

    def __init__(self) -> None:
        super().__init__(None)

    def has_more(self, response: requests.Response) -> bool:
        """End on a null `next_page` (the SDK's default says "always more")."""
        return bool(body_of(response).get("next_page"))

    def get_next(self, response: requests.Response) -> str | None:
        """`next_page` already carries every parameter; None ends the loop."""
        return body_of(response).get("next_page") or None


class LegacyCursorPaginator(_ZendeskPaginator):
    """`/ticket_audits`: replies may use `meta`/`links` or top-level `after_cursor`/`after_url`."""

    def __init__(self) -> None:
        super().__init__(None)

    def has_more(self, response: requests.Response) -> bool:
        """Stop on has_more false, on a null next link, or on an empty page (5.3)."""
        body = body_of(response)
        meta = body.get("meta")
        if isinstance(meta, dict) and "has_more" in meta:
            return bool(meta["has_more"])
        return bool(body.get("after_url") or body.get("after_cursor"))

    def continue_if_empty(self, response: requests.Response) -> bool:
        """End the audit list on an empty page (5.3), whatever next link it still carries."""
        return False

    def get_next(self, response: requests.Response) -> str | None:
        """An absolute URL to follow (links.next or after_url)."""
        body = body_of(response)
        return (body.get("links") or {}).get("next") or body.get("after_url")


class IncrementalCursorPaginator(_ZendeskPaginator):
    """Cursor-based incremental export: `after_cursor` -> `cursor`, stop on `end_of_stream`.

    A null cursor on an empty page keeps the previous one (zendesk_api.md 4.3).
    """

    def __init__(self, start_cursor: str | None = None) -> None:
        super().__init__(start_cursor)

    def has_more(self, response: requests.Response) -> bool:
        """`end_of_stream` is the end marker; `after_cursor` is still sent at the end.

        A page that is not the end but carries no cursor is fetched again with the previous one.
        """
        return not body_of(response).get("end_of_stream", True)

    def get_next(self, response: requests.Response) -> str | None:
        """The next cursor (opaque)."""
        return body_of(response).get("after_cursor") or self.current_value


class IncrementalTimePaginator(_ZendeskPaginator):
    """Time-based incremental export: follow `next_page`; stop on `end_of_stream`.

    `next_page` is present even at the end, so it never ends the loop by itself. Without
    `end_of_stream` (older replies, Help Center) stop on a null `next_page` or `count < per_page`.
    A page whose `end_time` does not move past the request's `start_time` is a stall (more than
    a page of rows in one second on some accounts): step `start_time` forward by one second and
    warn, rather than loop for ever (zendesk_api.md 4.2 rule 5).
    """

    def __init__(self, per_page: int, on_stall: t.Callable[[int], None] | None = None) -> None:
        super().__init__(None)
        self.per_page = per_page
        self.on_stall = on_stall

    def has_more(self, response: requests.Response) -> bool:
        """End on Zendesk's flag, else on the documented fallbacks."""
        body = body_of(response)
        if "end_of_stream" in body:
            return not body["end_of_stream"]
        if not body.get("next_page"):
            return False
        count = body.get("count")
        return count is not None and count >= self.per_page

    def get_next(self, response: requests.Response) -> str | None:
        """`next_page`, or `start_time + 1` when the export stalled on one second."""
        next_page = body_of(response).get("next_page")
        if not next_page:
            return None
        stepped = stalled_at(response)
        if stepped is None:
            return next_page
        if self.on_stall:
            self.on_stall(stepped)
        return with_query(next_page, start_time=stepped)


class ExportOrCursorPaginator(IncrementalTimePaginator):
    """ticket_metric_events: the reply may be time-based or CBP; stop on whichever flag it has."""

    def has_more(self, response: requests.Response) -> bool:
        """`end_of_stream`, `meta.has_more == false`, or an empty page ends it (4.8)."""
        body = body_of(response)
        meta = body.get("meta")
        if isinstance(meta, dict):
            return bool(meta.get("has_more"))
        if "end_of_stream" in body:
            return not body["end_of_stream"]
        # No end marker and an undocumented page size: a short page is not the end, an empty
        # one is (a page that does not move on is handled as a stall or a repeat).
        return bool(body.get("next_page")) and bool(body.get("count"))

    def get_next(self, response: requests.Response) -> str | None:
        """A CBP reply names its next page in `links.next`; a time-based one in `next_page`."""
        body = body_of(response)
        if isinstance(body.get("meta"), dict):
            return (body.get("links") or {}).get("next")
        return super().get_next(response)
