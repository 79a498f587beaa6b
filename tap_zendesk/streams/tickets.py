"""Tickets and what hangs off them: comments, events, audits, metrics, fields, forms, ratings."""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor

from tap_zendesk.custom_fields import TypedTicketFields
from tap_zendesk.client import (
    CursorExportStream,
    CursorListStream,
    LegacyCursorListStream,
    NextPageListStream,
    TimeExportStream,
    ZendeskStream,
    time_paginator,
)
from tap_zendesk.pagination import ExportOrCursorPaginator

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class TicketsStream(TypedTicketFields, CursorExportStream):
    """Every ticket (archived and deleted included) from the cursor-based export."""

    name = "tickets"
    path = "/api/v2/incremental/tickets/cursor.json"
    time_path = "/api/v2/incremental/tickets.json"
    dedupe_fields = ("id", "updated_at", "generated_timestamp")

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._child_ticket_ids: list[int] = []
        self._child_metric_sets: list[dict] = []

    @property
    def extra_params(self) -> dict[str, t.Any]:  # type: ignore[override]
        """`include=metric_sets` while `ticket_metrics` is read from this export (4.6)."""
        if self._metrics_wanted:
            return {"include": "metric_sets"}
        return {}

    @property
    def _metrics_wanted(self) -> bool:
        """Whether a selected child takes its rows from the embedded `metric_set`."""
        return any(
            isinstance(child, TicketMetricsFromExportStream) and child.selected
            for child in self.child_streams
        )

    def generate_child_contexts(
        self, record: dict, context: Context | None
    ) -> t.Iterable[dict | None]:
        """Children get one context per export page: its live ticket ids and metric sets.

        Batching lets side conversations be fetched concurrently (bounded) instead of one
        ticket at a time; deleted tickets have no side conversations and a null `metric_set`.
        """
        if record.get("status") != "deleted":
            self._child_ticket_ids.append(record["id"])
        metric_set = record.get("metric_set")
        if isinstance(metric_set, dict):
            self._child_metric_sets.append(
                {**metric_set, "ticket_id": metric_set.get("ticket_id") or record["id"]}
            )
        if record is self.page_last_row and (self._child_ticket_ids or self._child_metric_sets):
            ids, self._child_ticket_ids = self._child_ticket_ids, []
            sets, self._child_metric_sets = self._child_metric_sets, []
            yield {"ticket_ids": ids, "metric_sets": sets}

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Deleted tickets stay in the export with status "deleted": mark them soft-deleted."""
        row["_sdc_deleted_at"] = row.get("updated_at") if row.get("status") == "deleted" else None
        return self.typed_custom_fields(row)


class TicketEventsStream(TimeExportStream):
    """Audit-level ticket events (one per save); off by default: it re-reads the events export."""

    name = "ticket_events"
    path = "/api/v2/incremental/ticket_events.json"
    replication_key = "created_at"
    dedupe_fields = ("id",)
    selected_by_default = False


class TicketCommentsStream(TimeExportStream):
    """Comments of every changed ticket from one account-wide export: ~N/1000 requests, not N."""

    name = "ticket_comments"
    path = "/api/v2/incremental/ticket_events.json"
    collection = "ticket_events"
    extra_params: t.ClassVar[dict[str, t.Any]] = {"include": "comment_events"}
    replication_key = "created_at"
    dedupe_fields = ("id",)

    def rows(self, response: t.Any) -> t.Iterable[dict]:
        """Each audit carries its comments as child events; a comment row needs its ticket_id."""
        for event in super().rows(response):
            ticket_id = event.get("ticket_id")
            for child in event.get("child_events") or ():
                if child.get("event_type") in ("Comment", "VoiceComment"):
                    row = {**child, "ticket_id": ticket_id}
                    if not row.get("created_at"):  # the audit's time is the comment's time
                        row["created_at"] = event.get("created_at")
                    if isinstance(row.get("via"), str):  # the audit's display text (4.7, trap 7)
                        row["via"] = None  # not the comment's {channel, source} object
                    yield row


class TicketMetricEventsStream(TimeExportStream):
    """SLA and metric events; they happen without the ticket changing, so a stream of their own."""

    name = "ticket_metric_events"
    path = "/api/v2/incremental/ticket_metric_events.json"
    replication_key = "time"
    dedupe_fields = ("id",)

    def get_new_paginator(self) -> t.Any:
        """Replies may be time-based or CBP (4.8); stop on whichever flag the reply has."""
        return self._new_paginator(time_paginator(self, ExportOrCursorPaginator))

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Time-based mode: only start_time (per_page is not documented here)."""
        self._range_start = self.start_epoch(context)
        return {"start_time": self._range_start}


class TicketAuditsStream(LegacyCursorListStream):
    """All audits, account-wide and newest first (admins only); a full read each run.

    `ticket_audits_source: list` (default). Zendesk leaves archived tickets' audits out of this
    list (5.3); `ticket_audits_source: tickets` reads them per changed ticket instead.
    """

    name = "ticket_audits"
    path = "/api/v2/ticket_audits.json"
    collection = "audits"


class TicketMetricsStream(CursorListStream):
    """One metrics row per ticket; a full read each run (`ticket_metrics_source: list`)."""

    name = "ticket_metrics"
    path = "/api/v2/ticket_metrics.json"


class TicketMetricsFromExportStream(TicketMetricsStream):
    """`ticket_metrics` from the tickets export's embedded `metric_set` (4.6, trap 19).

    With `ticket_metrics_source: export` the tickets export asks for `include=metric_sets` and
    each page's metric sets become this stream's rows: no request of its own, and each run
    only the metrics of tickets changed since the tickets bookmark. The tickets export is read
    even when `tickets` itself is deselected (the SDK syncs a parent for its children).
    """

    parent_stream_type = TicketsStream
    #: One bookmark for the stream, not one per page: the tickets bookmark bounds the work.
    state_partitioning_keys: t.ClassVar[list[str]] = []
    replication_key = "updated_at"
    is_sorted = False

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """The metric sets of one tickets export page, as they came."""
        for row in (context or {}).get("metric_sets") or ():
            processed = self.post_process(row, context)
            if processed is not None:
                yield processed


class SatisfactionRatingsStream(CursorListStream):
    """CSAT ratings; ratings change after the fact, so a full read each run."""

    name = "satisfaction_ratings"
    path = "/api/v2/satisfaction_ratings.json"


class TicketFieldsStream(NextPageListStream):
    """Ticket field definitions; unpaged, every field in one reply."""

    name = "ticket_fields"
    path = "/api/v2/ticket_fields.json"


class TicketFormsStream(NextPageListStream):
    """Ticket forms (plan-gated); usually one page."""

    name = "ticket_forms"
    path = "/api/v2/ticket_forms.json"


class TagsStream(CursorListStream):
    """The account's most-used tags of the last 60 days (not every tag ever used)."""

    name = "tags"
    path = "/api/v2/tags.json"
    primary_keys = ("name",)


class CustomStatusesStream(NextPageListStream):
    """Custom ticket statuses; unpaged."""

    name = "custom_statuses"
    path = "/api/v2/custom_statuses.json"


class PerTicketStream(ZendeskStream):
    """A child of `tickets` read one ticket at a time, for the tickets changed since the bookmark.

    The tickets export hands over one context per page (its live ticket ids); each ticket's
    rows come from `path` with `{ticket_id}`, at most `concurrency_setting` requests in flight,
    through the same governor as everything else. One bookmark for the stream, not one per
    ticket: the parent's bookmark bounds the work.
    """

    parent_stream_type = TicketsStream
    state_partitioning_keys: t.ClassVar[list[str]] = []
    #: The setting holding how many tickets are read at once (default 5).
    concurrency_setting: t.ClassVar[str]

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """Fetch a page of tickets' rows concurrently, in ticket order.

        The SDK requests one context at a time and has no concurrency hook, so this override
        fans the batch out to the SDK's own `request_records` per ticket (its paginator, retries
        and governor included) and yields the rows in the parent's order.
        """
        ids = list((context or {}).get("ticket_ids") or ())
        if not ids or self._ended_quietly:  # the add-on is missing: asked once, not per page
            return
        workers = max(1, int(self.config.get(self.concurrency_setting, 5)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for rows in pool.map(self._one_ticket, ids):
                yield from rows

    def _one_ticket(self, ticket_id: int) -> list[dict]:
        """All rows of one ticket (a 404 for a ticket deleted meanwhile: none)."""
        if self._ended_quietly:  # a request in this batch found the add-on missing
            return []
        return [
            {**row, "ticket_id": row.get("ticket_id") or ticket_id}
            for row in self.request_records({"ticket_id": ticket_id})
        ]


class SideConversationsStream(PerTicketStream, NextPageListStream):
    """Side conversations of tickets changed since the bookmark (add-on; off by default)."""

    name = "side_conversations"
    path = "/api/v2/tickets/{ticket_id}/side_conversations.json"
    selected_by_default = False
    concurrency_setting = "side_conversations_concurrency"


class TicketAuditsPerTicketStream(PerTicketStream, CursorListStream):
    """`ticket_audits` with `ticket_audits_source: tickets`: each changed ticket's audits.

    `/api/v2/ticket_audits` leaves archived tickets out and is documented as unsuited to change
    data capture (it can skip records; zendesk_api.md 5.3, trap 30). Per ticket
    (`/api/v2/tickets/{id}/audits`, CBP) archived tickets are included and each run reads only
    the tickets the export reports changed, all of their audits (a target upserts by `id`).
    """

    name = "ticket_audits"
    path = "/api/v2/tickets/{ticket_id}/audits.json"
    collection = "audits"
    concurrency_setting = "ticket_audits_concurrency"
