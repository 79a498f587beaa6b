"""ZendeskStream and one base class per pagination family; every stream inherits from one."""

from __future__ import annotations

import json
import logging
import threading
import time
import typing as t
from collections import deque
from functools import cached_property
from importlib import resources
from urllib.parse import urlsplit

import pendulum
import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import resolve_schema_references

from tap_zendesk import pagination as zp
from tap_zendesk.api.client import classify, decode_json, log_retry, retrying
from tap_zendesk.api.errors import describe_response
from tap_zendesk.api.urls import check_url

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator
    from singer_sdk.streams.rest import HTTPRequest, PageContext

    from tap_zendesk.tap import Connection

#: Zendesk refuses a start_time within the last minute and holds that minute back (4.4).
EXPORT_SAFETY_SECONDS = 70
#: CBP pages hold at most 100 rows (3.1); 101 gets a 400.
CBP_PAGE_SIZE = 100
#: How many pages back we remember emitted keys: exports repeat the boundary rows (4.2).
DEDUPE_PAGES = 3
#: A stored export cursor Zendesk rejects restarts this far before the bookmark's time (4.3).
CURSOR_RESTART_MARGIN = 3600
PROGRESS_EVERY_SECONDS = 5.0
#: Replies that mean "this export variant is not offered here" rather than a broken request.
GONE_STATUSES = frozenset({403, 404, 410})


class _CursorExportRefused(Exception):
    """The first request of a cursor export was refused: read the time-based export instead."""


class ZendeskSchemaDirectory(SchemaDirectory):
    """SchemaDirectory that also resolves our `shared/*.json` `$ref`s (the SDK's does not)."""

    @cached_property
    def _refs(self) -> dict[str, dict]:
        """Every shared schema, keyed as the streams' `$ref`s name them."""
        shared = self.dir_path.joinpath("shared")
        return {
            f"shared/{entry.name}": json.loads(entry.read_text(encoding="utf-8"))
            for entry in shared.iterdir()
            if entry.name.endswith(".json")
        }

    def fetch_schema(self, key: str) -> dict:
        """Load `<key>.json` and inline its `$ref`s."""
        return resolve_schema_references(super().fetch_schema(key), self._refs)


SCHEMAS = ZendeskSchemaDirectory(resources.files("tap_zendesk") / "schemas")


class ZendeskStream(RESTStream):
    """A Zendesk collection; leaves state only what differs: name, path, pagination family."""

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    schema = StreamSchema(SCHEMAS)
    #: Zendesk's collection key in the reply, when it is not the stream name.
    collection: str | None = None
    #: Plan-gated products answer 403/404 on accounts without them: skip with a warning (10.6).
    optional: bool = True
    #: Query parameters every first request carries.
    extra_params: t.ClassVar[dict[str, t.Any]] = {}

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._ended_quietly = False
        self._quiet_lock = threading.Lock()
        self._conformance: tuple[dict, TypeConformanceLevel] | None = None

    @property
    def TYPE_CONFORMANCE_LEVEL(self) -> TypeConformanceLevel:  # type: ignore[override] # noqa: N802
        """NONE while the schema in effect lets every object keep undeclared keys (ours do).

        Records are decoded JSON, so the SDK's recursive conformance could only drop keys the
        schema does not allow, turn non-booleans in boolean fields into booleans and NaN into
        null; with every key allowed it copies each record dict by dict, which cost about 70%
        of the tap's CPU. A catalog that disallows extra keys somewhere gets it back.
        """
        schema = self.effective_schema
        if self._conformance is None or self._conformance[0] is not schema:
            level = (
                TypeConformanceLevel.NONE
                if allows_undeclared_keys(schema)
                else TypeConformanceLevel.RECURSIVE
            )
            self._conformance = (schema, level)
        return self._conformance[1]

    # -- connection: one per process, shared by all streams ---------------------------------
    @property
    def connection(self) -> Connection:
        """The tap's one connection (session, auth, governor, retry policy)."""
        return self._tap.connection  # type: ignore[attr-defined]

    @property
    def url_base(self) -> str:
        """`api_url` or https://{subdomain}.zendesk.com, for every request (10.3)."""
        return self.connection.base

    @property
    def authenticator(self) -> requests.auth.AuthBase:
        """The shared auth object; its repr hides the credential."""
        return self.connection.auth

    @property
    def requests_session(self) -> requests.Session:
        """One pooled session per process; the SDK would make one per stream."""
        return self.connection.session

    @property
    def timeout(self) -> float:
        """`request_timeout` from config; the SDK default is 300 s."""
        return float(self.config.get("request_timeout", 30))

    @property
    def records_key(self) -> str:
        """Where the rows sit in a reply: Zendesk's collection key."""
        return self.collection or self.name

    @property
    def records_jsonpath(self) -> str:
        """Derived from the collection key."""
        return f"$.{self.records_key}[*]"

    # -- requests ---------------------------------------------------------------------------
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """First-page parameters; later pages follow Zendesk's own links or cursors."""
        return dict(self.extra_params)

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """A URL token (next_page, after_url) replaces the request URL once its host checks out."""
        request = super().get_http_request(page=page)
        token = page.next_page_token
        if isinstance(token, str) and token.startswith(("http://", "https://")):
            request.url = check_url(token, self.url_base)
            request.params = {}
        return request

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Pace through the governor, then retry by our policy: Retry-After exactly (10.2)."""

        def paced(prepared_request: requests.PreparedRequest, context: Context | None) -> t.Any:
            self.connection.governor.acquire(urlsplit(prepared_request.url or "").path)
            return func(prepared_request, context)

        return retrying(paced, self.connection.policy, on_backoff=self.backoff_handler)

    def backoff_handler(self, details: t.Mapping[str, t.Any]) -> None:
        """One line per retry naming the cause and the wait (the SDK's logs the call's args)."""
        log_retry(self.logger, self.name, details)

    def validate_response(self, response: requests.Response) -> None:
        """Feed the governor, classify, and decode the body inside the retried attempt."""
        self.connection.governor.observe(response, urlsplit(response.url or "").path)
        if self._ends_quietly(response):
            setattr(response, zp._BODY_ATTR, {})
            return
        classify(response, host=self.url_base, auth=self.connection.auth)
        setattr(response, zp._BODY_ATTR, decode_json(response))

    def _ends_quietly(self, response: requests.Response) -> bool:
        """Plan-gated streams (403/404) end with one warning instead of failing the run."""
        if self.optional and response.status_code in (403, 404):
            if self.parent_stream_type is not None and "RecordNotFound" in (response.text or ""):
                # One parent (a ticket deleted since the export read it) is gone, not the product.
                self.logger.info("%s: %s; skipped.", self.name, describe_response(response))
                return True
            # Per-ticket children ask from several threads: one warning per run, not per ticket.
            with self._quiet_lock:
                first, self._ended_quietly = not self._ended_quietly, True
            if first:
                self.logger.warning(
                    "Skipping stream '%s': Zendesk answered %s (%s). The product or add-on is "
                    "probably not enabled on this account, or the user lacks access.",
                    self.name,
                    response.status_code,
                    describe_response(response),
                )
            return True
        return False

    def response_error_message(self, response: requests.Response) -> str:
        """Zendesk's reason and the path, without body dumps or header names."""
        return describe_response(response)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Rows from the body decoded in `validate_response` (no second parse, no Decimal)."""
        rows = zp.body_of(response).get(self.records_key) or ()
        return rows if isinstance(rows, list) else ()


class CursorListStream(ZendeskStream):
    """Lists with cursor-based pagination (CBP): `page[size]=100`, stop on `meta.has_more`."""

    def get_new_paginator(self) -> BaseAPIPaginator:
        """CBP paginator."""
        return zp.CursorPaginator()

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """`page[size]` turns CBP on (without it Zendesk falls back to offset paging)."""
        params = {**self.extra_params, "page[size]": CBP_PAGE_SIZE}
        if next_page_token:
            params["page[after]"] = next_page_token
        return params


class NextPageListStream(ZendeskStream):
    """Offset-paged or unpaginated lists: follow `next_page` until null."""

    def get_new_paginator(self) -> BaseAPIPaginator:
        """next_page paginator."""
        return zp.NextPagePaginator()


class LegacyCursorListStream(ZendeskStream):
    """`/ticket_audits`: legacy `cursor` + `limit` (<= 1000 a page, 10x fewer requests than CBP's
    100); replies carry top-level `after_url`, or `meta`/`links` on some accounts (5.3)."""

    def get_new_paginator(self) -> BaseAPIPaginator:
        """Legacy-cursor paginator."""
        return zp.LegacyCursorPaginator()

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """`limit` (`page_size`, at most 1000: 5.3) on the first page only; after_url carries it.

        Never mixed with `page[size]` (mixing styles loses the sort order, trap 17).
        """
        limit = max(1, min(1000, int(self.config.get("page_size", 1000))))
        return {**self.extra_params, "limit": limit}


class ExportStream(ZendeskStream):
    """Base of the incremental exports: bookmark after every page, dedupe, progress, catch-up.

    State per stream (never per ticket): the SDK's `replication_key_value` plus our exact resume
    point, `cursor` (cursor exports) or `start_time` (time exports), written after each page.
    """

    optional = False
    replication_key = "updated_at"
    #: The bookmark key kept in this stream's state.
    bookmark_key: t.ClassVar[str] = "start_time"
    #: Fields that make a row unique within a run (Zendesk repeats boundary rows).
    dedupe_fields: t.ClassVar[tuple[str, ...]] = ("id", "updated_at")
    #: Called after each page's STATE; continuous mode stops there on SIGTERM (None: nothing).
    page_hook: t.Callable[[ExportStream], None] | None = None

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._recent: deque[set] = deque(maxlen=DEDUPE_PAGES)
        #: The last row of the page being emitted (child streams batch their work per page).
        self.page_last_row: dict | None = None
        self._range_start: int | None = None
        self._position: int | None = None
        self._emitted = 0
        self._started = 0.0
        self._last_progress = 0.0

    def reset_run(self) -> None:
        """Forget one sync's counters and flags before this stream object syncs again.

        Continuous mode syncs the same objects every poll. The dedupe window stays: a time
        export re-reads up to 70 s before its bookmark (`start_epoch`), and rows emitted by
        an earlier poll must not come back.
        """
        self._ended_quietly = False
        self.page_last_row = None
        self._range_start = self._position = None
        self._emitted = 0

    @property
    def per_page(self) -> int:
        """Export page size (`page_size`, at most 1000)."""
        return max(1, min(1000, int(self.config.get("page_size", 1000))))

    # -- where to start ---------------------------------------------------------------------
    def start_epoch(self, context: Context | None) -> int:
        """Bookmark, else replication_key_value, else start_date; never within the last 70 s."""
        state = self.get_context_state(context)
        if state.get("start_time") is not None:
            start = int(state["start_time"])
        else:
            begin = self.get_starting_timestamp(context)
            start = int(begin.timestamp()) if begin else 0
        return min(start, int(time.time()) - EXPORT_SAFETY_SECONDS)

    def _ends_quietly(self, response: requests.Response) -> bool:
        """422 "too recent start_time" means caught up: finish and keep the bookmark (4.4).

        The current wording is unconfirmed (the documented one is from the 5-minute days), so
        any 422 that names `start_time` or says "recent" counts.
        """
        text = (response.text or "") if response.status_code == 422 else ""
        if text and ("start_time" in text or "recent" in text.lower()):
            self.logger.info("%s: Zendesk says nothing is old enough to export yet.", self.name)
            self._ended_quietly = True
            return True
        return super()._ends_quietly(response)  # plan-gated exports (articles) skip on 403/404

    # -- rows -------------------------------------------------------------------------------
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Each (id, updated_at) once per run; repeats of recent pages are dropped."""
        seen_now: set = set()
        recent = self._recent
        fields = self.dedupe_fields
        held = None  # one row of look-ahead, so the page's last row can be marked as such
        emitted = 0
        for row in self.rows(response):
            key = tuple(row.get(f) for f in fields)
            if key in seen_now:
                continue
            if any(key in page for page in recent):
                seen_now.add(key)  # still being re-read: keep remembering it
                continue
            seen_now.add(key)
            emitted += 1
            if held is not None:
                yield held
            held = row
        if held is not None:
            self.page_last_row = held
            yield held
        # Runs once the page's last row was written (or at once for an empty page), before the
        # SDK asks for the next page: the moment to move the bookmark.
        recent.append(seen_now)
        self._emitted += emitted
        self._page_done(response)

    def rows(self, response: requests.Response) -> t.Iterable[dict]:
        """The page's rows (children override to flatten)."""
        return super().parse_response(response)

    # -- after each page --------------------------------------------------------------------
    def bookmark(self, response: requests.Response, last_page: bool) -> t.Any:
        """The exact resume point after this page, or None to keep the previous one."""
        raise NotImplementedError

    def position(self, response: requests.Response) -> int | None:
        """Epoch seconds the export has reached (for progress lines)."""
        end_time = zp.body_of(response).get("end_time")
        return int(end_time) if end_time is not None else None

    def _page_done(self, response: requests.Response) -> None:
        """Store the resume point and emit STATE now, so a kill after page k resumes at k+1.

        The SDK writes STATE only every 10,000 records; `_write_state_message` is the SDK's
        own writer (no public hook emits state mid-stream).
        """
        if self._ended_quietly:
            return
        last_page = not self._paginator.has_more(response)
        value = self.bookmark(response, last_page)
        if value is not None:
            state = self.stream_state
            if state.get(self.bookmark_key) != value:
                state[self.bookmark_key] = value
                self.state_manager.is_flushed = False
                self._write_state_message()
        self._progress(response, done=last_page)
        if self.page_hook is not None:
            self.page_hook(self)

    def _progress(self, response: requests.Response, *, done: bool) -> None:
        """A line every few seconds: position vs now, records, rate, ETA (rate-limit aware)."""
        now = time.monotonic()
        position = self.position(response)
        if position is not None:
            self._position = position
        if done:
            if self._emitted == 0:
                self.logger.info("%s: nothing new since the last run.", self.name)
            else:
                self.logger.info(
                    "%s: done, %d records in %.1f s.", self.name, self._emitted, now - self._started
                )
            return
        if now - self._last_progress < PROGRESS_EVERY_SECONDS:
            return
        self._last_progress = now
        elapsed = max(1e-6, now - self._started)
        rate = self._emitted / elapsed
        end = time.time()
        start = self._range_start if self._range_start is not None else 0
        pos = self._position if self._position is not None else start
        span = max(1.0, end - start)
        share = min(1.0, max(0.0, (pos - start) / span))
        eta = elapsed * (1 - share) / share if share > 0 else float("nan")
        self.logger.info(
            "%s: at %s (%.1f%% of the range), %d records, %.0f records/s, ETA %s.",
            self.name,
            pendulum.from_timestamp(pos).to_iso8601_string() if pos else "start",
            share * 100,
            self._emitted,
            rate,
            "unknown" if eta != eta else f"{eta / 60:.1f} min",
        )

    def _new_paginator(self, paginator: zp._ZendeskPaginator) -> zp._ZendeskPaginator:
        """Remember the paginator: its stop rule tells `_page_done` whether this page is last."""
        self._paginator = paginator
        self._started = self._last_progress = time.monotonic()
        return paginator


class CursorExportStream(ExportStream):
    """Cursor-based incremental export (tickets, users): resume at the exact `after_cursor`.

    One connector's notes say the cursor variants close to third-party apps at the end of 2026
    (zendesk_api.md 4.3, unconfirmed). If the first request is refused (403/404/410) the stream
    reads `time_path`, the time-based export of the same objects, for the rest of the process
    and bookmarks its `start_time`; a later run tries the cursor variant again from there.
    """

    bookmark_key = "cursor"
    #: The time-based export of the same objects (4.2), read when the cursor one is refused.
    time_path: t.ClassVar[str | None] = None
    #: Where to restart after Zendesk rejected the stored cursor (None: no restart pending).
    _restart_at: int | None = None
    #: Set once the cursor variant was refused: time-based export from then on.
    _by_time = False

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Read the cursor export; when its first request is refused, the time-based one."""
        try:
            yield from super().request_records(context)
        except _CursorExportRefused:
            self._switch_to_time_export()
            yield from super().request_records(context)

    def _switch_to_time_export(self) -> None:
        """Read `time_path` from now on, bookmarking `start_time` instead of a cursor."""
        self._by_time = True
        self.path = t.cast(str, self.time_path)
        self.bookmark_key = "start_time"
        self._restart_at = None
        state = self.stream_state
        since = state.pop("cursor", None) and epoch_of(state.get("replication_key_value"))
        if since is not None and state.get("start_time") is None:
            # Resume at the last emitted row's time (the dedupe and `>=` re-read that second).
            state["start_time"] = since

    def reset_run(self) -> None:
        """Also forget a restart planned after a rejected cursor (the new cursor is stored)."""
        super().reset_run()
        self._restart_at = None

    def get_new_paginator(self) -> BaseAPIPaginator:
        """Starts at the stored cursor when there is one."""
        if self._by_time:
            return self._new_paginator(time_paginator(self))
        return self._new_paginator(zp.IncrementalCursorPaginator())

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """`start_time` on the first call only; then `cursor` (never both)."""
        if self._by_time:
            return time_url_params(self, context)
        params: dict[str, t.Any] = {**self.extra_params, "per_page": self.per_page}
        cursor = next_page_token or self.get_context_state(context).get("cursor")
        if cursor:
            params["cursor"] = cursor
        elif self._restart_at is not None:
            params["start_time"] = self._range_start = self._restart_at
        else:
            params["start_time"] = self._range_start = self.start_epoch(context)
        return params

    def validate_response(self, response: requests.Response) -> None:
        """Restart from the bookmark's time when Zendesk no longer takes the stored cursor.

        Cursor lifetimes are not documented (zendesk_api.md 4.3); failing every later run on a
        dead cursor would need a hand-edited state. The restart re-reads a margin (at least once).
        """
        if self._stored_cursor_rejected(response):
            self.connection.governor.observe(response, urlsplit(response.url or "").path)
            setattr(response, zp._BODY_ATTR, {"end_of_stream": False})  # ask again, by time
            return
        if self._cursor_export_refused(response):
            self.connection.governor.observe(response, urlsplit(response.url or "").path)
            raise _CursorExportRefused
        super().validate_response(response)

    def _cursor_export_refused(self, response: requests.Response) -> bool:
        """Tell (and announce) a refused first request of the cursor variant."""
        if (
            self._by_time
            or self.time_path is None
            or response.status_code not in GONE_STATUSES
            or self._paginator.current_value is not None
        ):
            return False
        self.logger.warning(
            "%s: Zendesk refused the cursor-based export (%s); reading the time-based export "
            "%s instead for this run. Same rows; the bookmark becomes a start_time.",
            self.name,
            describe_response(response),
            self.time_path,
        )
        return True

    def _stored_cursor_rejected(self, response: requests.Response) -> bool:
        """Tell (and plan a restart) whether the first request's stored cursor was refused."""
        state = self.stream_state
        if (
            self._by_time
            or response.status_code not in (400, 422)
            or self._paginator.current_value is not None
            or not state.get("cursor")
            or "cursor" not in (response.text or "")
        ):
            return False
        since = epoch_of(state.get("replication_key_value"))
        if since is None:
            since = self.start_epoch(None)
        self._restart_at = min(
            max(0, since - CURSOR_RESTART_MARGIN), int(time.time()) - EXPORT_SAFETY_SECONDS
        )
        state.pop("cursor")
        self.logger.warning(
            "%s: Zendesk rejected the stored export cursor (%s); restarting from %s, %d s "
            "before the last bookmark. Rows changed in that margin are emitted again.",
            self.name,
            describe_response(response),
            pendulum.from_timestamp(self._restart_at).to_iso8601_string(),
            CURSOR_RESTART_MARGIN,
        )
        return True

    def bookmark(self, response: requests.Response, last_page: bool) -> t.Any:
        """`after_cursor`, which Zendesk still sends at end of stream (4.3)."""
        if self._by_time:
            return time_bookmark(response, last_page)
        return zp.body_of(response).get("after_cursor")

    def position(self, response: requests.Response) -> int | None:
        """The last row's `generated_timestamp` or `updated_at`."""
        rows = zp.body_of(response).get(self.records_key) or []
        if not rows:
            return None
        last = rows[-1]
        if last.get("generated_timestamp"):
            return int(last["generated_timestamp"])
        stamp = last.get("updated_at")
        return int(pendulum.parse(stamp).timestamp()) if stamp else None


class TimeExportStream(ExportStream):
    """Time-based incremental export: follow `next_page`, resume at the next `start_time`."""

    def get_new_paginator(self) -> BaseAPIPaginator:
        """Time-export paginator with the same-second stall guard."""
        return self._new_paginator(time_paginator(self))

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """First page only; `next_page` carries everything after it."""
        return time_url_params(self, context)

    def bookmark(self, response: requests.Response, last_page: bool) -> t.Any:
        """The next request's `start_time` mid-export; `end_time + 1` at the end."""
        return time_bookmark(response, last_page)


# -- the time-based export, shared by TimeExportStream and a refused cursor export ------------
def time_paginator(
    stream: ExportStream, kind: type[zp.IncrementalTimePaginator] = zp.IncrementalTimePaginator
) -> zp.IncrementalTimePaginator:
    """Time-export paginator whose same-second stall guard warns on the stream's logger."""

    def on_stall(stepped: int) -> None:
        """Warn: stepping past a stalled second may skip rows Zendesk could not page through."""
        stream.logger.warning(
            "%s: the export did not move past start_time %d (more rows in one second than a page "
            "holds); continuing at %d. Rows of that second beyond the page may be missed.",
            stream.name,
            stepped - 1,
            stepped,
        )

    return kind(stream.per_page, on_stall)


def time_url_params(stream: ExportStream, context: Context | None) -> dict[str, t.Any]:
    """First page only; `next_page` carries everything after it."""
    stream._range_start = stream.start_epoch(context)  # noqa: SLF001 - the progress line's
    return {**stream.extra_params, "start_time": stream._range_start, "per_page": stream.per_page}  # noqa: SLF001


def time_bookmark(response: requests.Response, last_page: bool) -> t.Any:
    """The next request's `start_time` mid-export; `end_time + 1` at the end.

    Mid-export the next page starts at `end_time` itself (the rest of that second follows).
    At the end of the stream every row of the `end_time` second has been returned: Zendesk
    holds back the last minute, so nothing new can appear in that second; starting the next
    run one second later keeps it from re-emitting the boundary rows.
    """
    if not last_page:
        return zp.next_start_time(response)
    end_time = zp.body_of(response).get("end_time")
    return int(end_time) + 1 if end_time is not None else None


def allows_undeclared_keys(schema: t.Any) -> bool:
    """Whether every object schema in `schema` has a truthy `additionalProperties`.

    The SDK's conformance drops an undeclared key unless `additionalProperties` is truthy
    (absent counts as false there), so this is exactly when it keeps every key.
    """
    if isinstance(schema, dict):
        if "properties" in schema and not schema.get("additionalProperties"):
            return False
        return all(allows_undeclared_keys(v) for v in schema.values())
    if isinstance(schema, list):
        return all(allows_undeclared_keys(v) for v in schema)
    return True


def epoch_of(value: t.Any) -> int | None:
    """ISO-8601 string or epoch number -> epoch seconds."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    return int(pendulum.parse(str(value)).timestamp())


__all__ = [
    "CursorExportStream",
    "CursorListStream",
    "ExportStream",
    "LegacyCursorListStream",
    "NextPageListStream",
    "RetriableAPIError",
    "TimeExportStream",
    "ZendeskStream",
    "time_bookmark",
    "time_paginator",
    "time_url_params",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
