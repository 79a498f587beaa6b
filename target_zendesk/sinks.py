"""One BatchSink per Zendesk object and write; a batch ends only when Zendesk confirmed it.

`process_batch` returns when every job of the batch is final, because the SDK writes STATE right
after the drain (target_base.py `drain_all`). Records Zendesk refuses go to the rejects file.
"""

from __future__ import annotations

import functools
import typing as t

from singer_sdk.sinks import BatchSink

from target_zendesk.jobs import DEFAULT_MAX_JOBS_IN_FLIGHT, Batch, Item, ItemResult
from target_zendesk.journal import DELETED, JournalBatch
from target_zendesk.payloads import (
    RecordError,
    comment_order,
    decode,
    digest,
    encode,
    id_key,
    newer_version,
    organization_payload,
    parse_structured,
    source_key,
    staged_comment,
    ticket_payload,
    ticket_version,
    user_payload,
)

if t.TYPE_CHECKING:
    from singer_sdk.target_base import Target

    from target_zendesk.runtime import Runtime

#: tap-zendesk streams with the source account's definitions (staged, then mapped by name).
DEFINITION_STREAMS = (
    "ticket_fields",
    "user_fields",
    "organization_fields",
    "groups",
    "brands",
    "ticket_forms",
    "custom_statuses",
)
#: Drains per job-queue round: a drain submits `batch_size * max_jobs_in_flight * DRAIN_ROUNDS`
#: records, so the final wait for the slowest job is paid once per several rounds.
DRAIN_ROUNDS = 4
#: A schema the SDK can check records against at no cost: the sinks check what Zendesk needs.
PERMISSIVE_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {},
    "additionalProperties": True,
}


class RecordBuffer(list):  # type: ignore[type-arg]
    """The records of one batch; short repr, since the SDK logs the batch context at DEBUG."""

    def __repr__(self) -> str:
        return f"<{len(self)} records>"


class ZendeskSink(BatchSink):
    """What every sink shares: batch size, checks of our own, one `write` per drained batch."""

    #: Streams whose sinks must be drained before this one (their ids are referenced here).
    depends_on: tuple[str, ...] = ()
    #: Whether this stream's first record tells the input order (comments before tickets?).
    tells_order = False

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
    ) -> None:
        self.target = target
        self._seen = False
        super().__init__(target, stream_name, schema, key_properties)

    @property
    def runtime(self) -> Runtime:
        """Return the services of this run (created by the target on first use)."""
        return self.target.runtime  # type: ignore[attr-defined, no-any-return]

    @functools.cached_property
    def max_size(self) -> int:  # type: ignore[override]
        """Use `batch_size` x jobs in flight x rounds, so a drain keeps Zendesk's queue busy.

        Computed once: the SDK reads it for every record (`is_full`), and settings are fixed.
        """
        config = self.config
        size = int(config.get("batch_size", 100)) * int(
            config.get("max_jobs_in_flight", DEFAULT_MAX_JOBS_IN_FLIGHT)
        )
        size *= DRAIN_ROUNDS
        rows = self.batch_size_rows
        return min(size, rows) if rows else size

    def get_validator(self) -> None:  # type: ignore[override]
        """Skip per-record JSON-schema validation: `write` checks what Zendesk needs."""
        return None

    def setup(self) -> None:
        """Skip the SDK's per-record date parsing (we send Zendesk its own ISO text back)."""
        super().setup()
        self.schema = PERMISSIVE_SCHEMA
        _ = self.runtime

    def process_record(self, record: dict, context: dict) -> None:
        """Collect the record (in a buffer whose repr never prints records)."""
        records = context.get("records")
        if records is None:
            records = context["records"] = RecordBuffer()
            if self.tells_order and not self._seen:
                self._seen = True
                self.runtime.saw_first(self.stream_name)
        records.append(record)

    def process_batch(self, context: dict) -> None:
        """Write the batch; returns when every record is confirmed, rejected or staged."""
        records = context.get("records") or []
        if records:
            self.runtime.counters.add(self.stream_name, "read", len(records))
            self.write(list(records))

    def _validate_and_parse(self, record: dict) -> dict:
        """Pass the record through untouched (the SDK's hook has no public override).

        The SDK would validate it against the schema (we return no validator: `write` checks
        what Zendesk needs and rejects one record, not the run) and parse every date-time
        string into a `datetime`, only for us to format it back to the ISO text Zendesk wants:
        ~4 us per record for nothing. Datetimes from other readers are still formatted.
        """
        return record

    def write(self, records: list[dict[str, t.Any]]) -> None:
        """Write records to Zendesk (one sink per operation)."""
        raise NotImplementedError

    # -- shared helpers --------------------------------------------------------------------
    def prepare(self, record: dict[str, t.Any]) -> str | None:
        """Parse JSON-text fields and return the record's key; a bad record is rejected (None)."""
        key = None
        try:
            parse_structured(record, self.stream_name, self.runtime.options)
            key = source_key(record, self.stream_name)
        except RecordError as exc:
            self.runtime.reject_record(self.stream_name, record, key, exc)
            return None
        return key

    def chunks(self, items: list[Item], operation: str, **extra: t.Any) -> list[Batch]:
        """Cut items into batches of at most `batch_size` (Zendesk takes 100 per bulk call)."""
        size = self.runtime.batch_size
        params = extra.pop("params", None)
        attempt = extra.pop("attempt", 1)
        return [
            Batch(
                self.stream_name,
                operation,
                items[i : i + size],
                params=params,
                attempt=attempt,
                extra=extra,
            )
            for i in range(0, len(items), size)
        ]

    def rejected(self, batch: Batch, items: list[Item], error: str, details: str) -> None:
        """Reject every record of a batch Zendesk refused as a whole."""
        for item in items:
            self.runtime.reject(
                self.stream_name,
                item.key,
                error,
                details,
                external_id=item.external_id,
                email=item.email,
                job_id=batch.job_id,
            )

    def reject_item(self, batch: Batch, item: Item, result: ItemResult) -> None:
        """Reject one record a job reported as failed, with Zendesk's error and details."""
        self.runtime.reject(
            self.stream_name,
            item.key,
            result.error or "Failed",
            result.details or "Zendesk gave no details",
            external_id=item.external_id,
            email=item.email,
            job_id=batch.job_id,
        )

    def reconcile(self, batch: Batch) -> list[ItemResult | None]:
        """Look users and organizations up by external_id (`show_many?external_ids=`)."""
        found = self.runtime.find_by_external_id(
            self.stream_name, [i.external_id for i in batch.items if i.external_id]
        )
        action = "created" if batch.operation == "organizations.create" else "updated"
        out: list[ItemResult | None] = []
        for item in batch.items:
            dest = found.get(item.external_id.lower()) if item.external_id else None
            out.append(None if dest is None else ItemResult(ok=True, dest_id=dest, action=action))
        return out

    def rebatch(self, batch: Batch, items: list[Item]) -> list[Batch]:
        """Send items again, one attempt later."""
        return self.chunks(items, batch.operation, params=batch.params, attempt=batch.attempt + 1)


class Refs:
    """Destination ids of every user, organization and ticket one batch refers to."""

    def __init__(
        self,
        runtime: Runtime,
        users: t.AbstractSet[str] = frozenset(),
        organizations: t.AbstractSet[str] = frozenset(),
        tickets: t.AbstractSet[str] = frozenset(),
    ) -> None:
        self.runtime = runtime
        self.prefix = runtime.options.external_id_prefix
        self.users = self._load("users", users)
        self.organizations = self._load("organizations", organizations)
        self.tickets = runtime.ids.lookup("tickets", list(tickets)) if tickets else {}
        self.dropped = 0
        self._user_memo: dict[t.Any, int] = {}

    def _load(
        self, kind: str, keys: t.AbstractSet[str]
    ) -> dict[str, tuple[int | None, str | None]]:
        """Journal first; ids it does not know are looked for in Zendesk by external_id."""
        if not keys:
            return {}
        known = self.runtime.ids.lookup(kind, list(keys))
        missing = {k for k in keys if k not in known}
        if missing:
            known.update(self.runtime.resolve_missing(kind, missing))
        return known

    def _dest(
        self,
        kind: str,
        table: dict[str, tuple[int | None, str | None]],
        value: t.Any,
        where: str,
    ) -> int | None:
        """Destination id, None for an object deleted in the source; unknown -> RecordError."""
        key = id_key(value, where)
        entry = table.get(key)
        noun = "user" if kind == "users" else "organization"
        if entry is None:
            raise RecordError(
                f"`{where}` {key}: no {noun} with this id came in the `{kind}` stream (now or in "
                f"an earlier run) and Zendesk has none with external_id `{self.prefix}{key}`; "
                f"send the {noun} first",
                field=where,
                code="UnresolvedReference",
            )
        dest, mark = entry
        if dest is None and mark == DELETED:
            return None
        return dest

    def user(self, source_id: t.Any, where: str) -> int:
        """Resolve a user reference; a user deleted in the source cannot own anything."""
        try:
            return self._user_memo[source_id]
        except (KeyError, TypeError):
            pass
        dest = self._dest("users", self.users, source_id, where)
        if dest is None:
            raise RecordError(
                f"`{where}` {id_key(source_id, where)}: the user was deleted in the source "
                "(active: false), and deleted users are not created in Zendesk",
                field=where,
                code="UnresolvedReference",
            )
        if type(source_id) in (int, str):
            self._user_memo[source_id] = dest
        return dest

    def organization(self, source_id: t.Any, where: str) -> int | None:
        """Resolve an organization reference; one deleted in the source is dropped (counted)."""
        dest = self._dest("organizations", self.organizations, source_id, where)
        if dest is None:
            self.dropped += 1
        return dest

    def ticket(self, source_id: t.Any) -> int | None:
        """Resolve an imported ticket (problem_id, follow-up source); else None (link dropped)."""
        try:
            entry = self.tickets.get(id_key(source_id, "ticket"))
        except RecordError:
            return None
        return entry[0] if entry else None


def _user_keys(values: t.Iterable[t.Any]) -> set[str]:
    """Collect keys of references; bad values are reported later, where the field is known."""
    out = set()
    for value in values:
        if value is not None:
            try:
                out.add(id_key(value, "id"))
            except RecordError:
                pass
    return out


class LookupReplayMixin:
    """Users and organizations whose lookup fields point at users not written yet.

    Organizations come before users, and users refer to each other in any order: such a
    record is written without the value first, then once more at the end of the input.
    """

    _replay: list[dict[str, t.Any]]
    _replaying: bool = False

    def setup(self) -> None:
        """Start with nothing to replay."""
        super().setup()  # type: ignore[misc]
        self._replay = []

    def clean_up(self) -> None:
        """End of input: rewrite the records whose lookup fields now resolve."""
        self.replay()
        super().clean_up()  # type: ignore[misc]

    def payloads(
        self,
        kept: list[tuple[str, dict[str, t.Any]]],
        build: t.Callable[[dict[str, t.Any], str, list[str]], dict[str, t.Any]],
    ) -> t.Iterator[tuple[str, dict[str, t.Any]]]:
        """(key, payload) per record; a bad one is rejected, a noted one waits for the replay."""
        rt = self.runtime  # type: ignore[attr-defined]
        for key, record in kept:
            notes: list[str] = []
            try:
                payload = build(record, key, notes)
            except RecordError as exc:
                rt.reject_record(self.stream_name, record, key, exc)  # type: ignore[attr-defined]
                continue
            if not self.noted(record, notes):
                yield key, payload

    def noted(self, record: dict[str, t.Any], notes: list[str]) -> bool:
        """Keep the record for one more write at the end; True: it was written as it is."""
        if not notes:
            return False
        rt = self.runtime  # type: ignore[attr-defined]
        stream = self.stream_name  # type: ignore[attr-defined]
        if not self._replaying:
            self._replay.append(record)
            return False
        rt.counters.add(stream, "lookup values left out", len(notes))
        rt.counters.reason(stream, f"lookup value left out: {notes[0]}", len(notes), "note")
        return True

    def outcome(self, updated: bool) -> str:
        """Name a write for the counters (a replay completes a record already counted)."""
        if self._replaying:
            return "lookups filled in"
        return "updated" if updated else "created"

    def replay(self) -> None:
        """At the end of the input: write the records whose lookups now resolve."""
        records, self._replay = self._replay, []
        if records:
            self._replaying = True
            try:
                self.write(records)  # type: ignore[attr-defined]
            finally:
                self._replaying = False


class OrganizationUpsertSink(LookupReplayMixin, ZendeskSink):
    """`organizations`: upsert by external_id (show_many), create_many + batch update_many.

    Organization names are unique and `create_or_update` never matches on them (trap 23): an
    organization created by hand or another tool under the same name makes our create fail. Such
    an organization without an external_id (or with ours) is taken over: updated with our
    external_id and fields. One with another external_id belongs to someone else: rejected.
    """

    depends_on = DEFINITION_STREAMS

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        #: Creates Zendesk refused because the name exists: looked up by name after the jobs.
        self._name_taken: list[tuple[Item, ItemResult, str | None]] = []

    def write(self, records: list[dict[str, t.Any]]) -> None:
        """Skip deleted and unchanged organizations; send the rest as create or update jobs."""
        rt = self.runtime
        self.target.drain_first(self.depends_on)  # type: ignore[attr-defined]
        items: dict[str, Item] = {}
        deleted: list[str] = []
        kept: list[tuple[str, dict[str, t.Any]]] = []
        for record in records:
            key = self.prepare(record)
            if key is None:
                continue
            if record.get("deleted_at"):
                deleted.append(key)
                continue
            kept.append((key, record))
        lookups = rt.defs.lookup_ids(self.stream_name, (r for _, r in kept))
        refs = Refs(
            rt,
            users=_user_keys(lookups["users"]),
            organizations=_user_keys(lookups["organizations"]),
        )
        built = self.payloads(
            kept, lambda r, k, notes: organization_payload(r, k, rt.options, rt.defs, refs, notes)
        )
        for key, payload in built:
            items[key] = Item(
                key, payload, external_id=payload["external_id"], digest=digest(payload)
            )
        self.skip_deleted(deleted)
        known = rt.ids.lookup(self.stream_name, list(items))
        todo = []
        for key, item in items.items():
            dest, old = known.get(key, (None, None))
            if dest is not None and old == item.digest:
                rt.counters.add(self.stream_name, "unchanged")
                continue
            item.dest_id = dest
            todo.append(item)
        rt.jobs.run(self.split(todo), self)
        while self._name_taken:
            taken, self._name_taken = self._name_taken, []
            rt.jobs.run(self.take_over(taken), self)

    def take_over(self, taken: list[tuple[Item, ItemResult, str | None]]) -> list[Batch]:
        """Find each same-name organization (`organizations/search?name=`); update or reject."""
        rt = self.runtime
        updates = []
        for item, result, job_id in taken:
            name = str((item.payload or {}).get("name") or "")
            body = rt.client.get_json("/api/v2/organizations/search", name=name)
            same = [
                row
                for row in body.get("organizations") or []
                if isinstance(row, dict) and str(row.get("name") or "").lower() == name.lower()
            ]
            theirs = str(same[0].get("external_id") or "") if len(same) == 1 else ""
            ours = str(item.external_id or "")
            if len(same) != 1 or (theirs and theirs.lower() != ours.lower()):
                owner = f" with external_id {theirs!r}" if theirs else ""
                result.error = "NameTaken"
                result.details = (
                    f"Zendesk already has an organization named {name!r}{owner}, and names are "
                    "unique. Rename one of them, or give this record that organization's "
                    f"external_id. Zendesk said: {result.details or 'name taken'}"
                )
                refused = Batch(self.stream_name, "organizations.create", [], job_id=job_id)
                self.reject_item(refused, item, result)
                continue
            item.dest_id = int(same[0]["id"])
            item.payload = {**(item.payload or {}), "id": item.dest_id}
            updates.append(item)
        rt.counters.reason(
            self.stream_name, "matched an existing organization by name", len(updates), kind="note"
        )
        return self.chunks(updates, "organizations.update")

    def skip_deleted(self, keys: list[str]) -> None:
        """Skip organizations deleted in the source; remember them so references are dropped."""
        if not keys:
            return
        rt = self.runtime
        rt.counters.add(self.stream_name, "skipped", len(keys))
        rt.counters.reason(self.stream_name, "deleted in the source (deleted_at set)", len(keys))
        known = rt.ids.lookup(self.stream_name, keys)
        rt.ids.mark_deleted(self.stream_name, [k for k in keys if known.get(k, (None,))[0] is None])

    def split(self, items: list[Item], attempt: int = 1) -> list[Batch]:
        """Existing organizations (id map, else external_id in Zendesk) update; the rest create."""
        lookup = [i.external_id for i in items if i.dest_id is None and i.external_id]
        found = self.runtime.find_by_external_id(self.stream_name, lookup) if lookup else {}
        creates, updates = [], []
        for item in items:
            if item.dest_id is None and item.external_id:
                item.dest_id = found.get(item.external_id.lower())
            if item.dest_id is None:
                creates.append(item)
            else:
                item.payload = {**(item.payload or {}), "id": item.dest_id}
                updates.append(item)
        return [
            *self.chunks(creates, "organizations.create", attempt=attempt),
            *self.chunks(updates, "organizations.update", attempt=attempt),
        ]

    def written(self, batch: Batch, pairs: list[tuple[Item, ItemResult]]) -> None:
        """Remember destination ids; count created/updated; reject failed items."""
        rows = []
        for item, result in pairs:
            dest = result.dest_id or item.dest_id
            if result.ok and dest is not None:
                rows.append((item.key, dest, item.digest))
                updated = batch.operation == "organizations.update" or result.action == "updated"
                self.runtime.counters.add(self.stream_name, self.outcome(updated))
            elif batch.operation == "organizations.create" and _name_taken(result):
                self._name_taken.append((item, result, batch.job_id))
            else:
                self.reject_item(batch, item, result)
        self.runtime.ids.put(self.stream_name, rows)

    def rebatch(self, batch: Batch, items: list[Item]) -> list[Batch]:
        """Split again: an organization a lost job did create is now an update."""
        for item in items:
            if batch.operation == "organizations.create":
                item.dest_id = None
            elif item.payload is not None:
                item.payload = {k: v for k, v in item.payload.items() if k != "id"}
        return self.split(items, attempt=batch.attempt + 1)


def _name_taken(result: ItemResult) -> bool:
    """A create refused because the organization name exists (the wording is not documented)."""
    text = f"{result.error or ''} {result.details or ''}".lower()
    return "name" in text and ("taken" in text or "duplicate" in text)


class UserUpsertSink(LookupReplayMixin, ZendeskSink):
    """`users`: `create_or_update_many` (by external_id, then email); deleted ones skipped."""

    depends_on = ("organizations", *DEFINITION_STREAMS)

    def write(self, records: list[dict[str, t.Any]]) -> None:
        """Map organization ids, skip deleted and unchanged users, upsert the rest."""
        rt = self.runtime
        self.target.drain_first(self.depends_on)  # type: ignore[attr-defined]
        kept: list[tuple[str, dict[str, t.Any]]] = []
        deleted: list[str] = []
        for record in records:
            key = self.prepare(record)
            if key is None:
                continue
            if record.get("active") is False:
                deleted.append(key)
            else:
                kept.append((key, record))
        if deleted:
            rt.counters.add(self.stream_name, "skipped", len(deleted))
            rt.counters.reason(
                self.stream_name, "deleted in the source (active: false)", len(deleted)
            )
            known = rt.ids.lookup(self.stream_name, deleted)
            rt.ids.mark_deleted(
                self.stream_name, [k for k in deleted if known.get(k, (None,))[0] is None]
            )
        lookups = rt.defs.lookup_ids(self.stream_name, (r for _, r in kept))
        refs = Refs(
            rt,
            users=_user_keys(lookups["users"]),
            organizations=_user_keys(
                [*(r.get("organization_id") for _, r in kept), *lookups["organizations"]]
            ),
        )
        items: dict[str, Item] = {}
        built = self.payloads(
            kept, lambda r, k, notes: user_payload(r, k, refs, rt.options, rt.defs, notes)
        )
        for key, payload in built:
            items[key] = Item(
                key,
                payload,
                external_id=payload.get("external_id"),
                email=payload.get("email"),
                digest=digest(payload),
            )
        rt.counters.add(self.stream_name, "organization links dropped", refs.dropped)
        known = rt.ids.lookup(self.stream_name, list(items))
        todo = []
        for key, item in items.items():
            dest, old = known.get(key, (None, None))
            if dest is not None and old == item.digest:
                rt.counters.add(self.stream_name, "unchanged")
            else:
                todo.append(item)
        rt.jobs.run(self.chunks(todo, "users.upsert"), self)

    def written(self, batch: Batch, pairs: list[tuple[Item, ItemResult]]) -> None:
        """Remember destination ids; count created/updated; reject failed items."""
        rows = []
        for item, result in pairs:
            if result.ok and result.dest_id is not None:
                rows.append((item.key, result.dest_id, item.digest))
                self.runtime.counters.add(
                    self.stream_name, self.outcome(result.action == "updated")
                )
            else:
                self.reject_item(batch, item, result)
        self.runtime.ids.put(self.stream_name, rows)


class TicketCommentStageSink(ZendeskSink):
    """`ticket_comments`: staged on disk (journal) until their ticket is imported with them."""

    tells_order = True

    @functools.cached_property
    def max_size(self) -> int:  # type: ignore[override]
        """Staging is local: large batches make fewer, bigger SQLite transactions."""
        rows = self.batch_size_rows
        return min(5000, rows) if rows else 5000

    def write(self, records: list[dict[str, t.Any]]) -> None:
        """Stage each comment under its ticket; comments of imported tickets are skipped."""
        rt = self.runtime
        rows: list[tuple[str, str, str, dict[str, t.Any]]] = []
        for record in records:
            key = None
            try:
                parse_structured(record, self.stream_name, rt.options)
                ticket_key, key, created_at, payload = staged_comment(record)
            except RecordError as exc:
                rt.reject_record(self.stream_name, record, key, exc)
                continue
            rows.append((ticket_key, key, created_at, payload))
        imported = rt.ids.imported("tickets", list({r[0] for r in rows}))
        if imported:
            before = len(rows)
            rows = [r for r in rows if r[0] not in imported]
            rt.counters.add(self.stream_name, "already present", before - len(rows))
            rt.counters.add(self.stream_name, "skipped", before - len(rows))
            rt.counters.reason(
                self.stream_name, "its ticket was imported before", before - len(rows)
            )
        rt.journal.stage_comments(rows)
        rt.counters.add(self.stream_name, "staged", len(rows))


class TicketImportSink(ZendeskSink):
    """`tickets`: `imports/tickets/create_many` with their staged comments, owners mapped."""

    depends_on = ("organizations", "users", "ticket_comments", *DEFINITION_STREAMS)
    tells_order = True

    def write(self, records: list[dict[str, t.Any]]) -> None:
        """Import now if comments came first (tap-zendesk's order), else park until the end."""
        rt = self.runtime
        self.target.drain_first(self.depends_on)  # type: ignore[attr-defined]
        if rt.comments_first:
            self.import_records(records)
            return
        rows = []
        for record in records:
            key = self.prepare(record)
            if key is not None:
                rows.append((key, encode(record)))
        rt.journal.defer_tickets(rows)
        rt.counters.add(self.stream_name, "waiting for comments", len(rows))

    def clean_up(self) -> None:
        """End of input: import the tickets that were waiting for their comments."""
        rt = self.runtime
        page_size = self.max_size
        while True:
            page = rt.journal.deferred_page(page_size)
            if not page:
                break
            self.import_records([decode(blob) for _, blob in page])
            rt.journal.drop_deferred([key for key, _ in page])
        pruned = rt.journal.prune_comments()
        self.logger.debug("Dropped %d staged comment groups of imported tickets.", pruned)
        rt.journal.prune_uploads()
        super().clean_up()

    def import_records(self, records: list[dict[str, t.Any]]) -> None:
        """Skip deleted and already imported tickets, attach comments, map owners, import."""
        rt = self.runtime
        kept: dict[str, dict[str, t.Any]] = {}
        deleted: list[str] = []
        for record in records:
            key = self.prepare(record)
            if key is None:
                continue
            if record.get("status") == "deleted":
                deleted.append(key)
                continue
            kept[key] = record  # the last version of a repeated ticket wins
        if deleted:
            gone = self.report_deleted(rt.ids.lookup(self.stream_name, deleted))
            rt.counters.add(self.stream_name, "skipped", len(deleted) - gone)
            rt.counters.reason(
                self.stream_name, "deleted in the source (status: deleted)", len(deleted) - gone
            )
            dropped = rt.journal.drop_comments(deleted)
            rt.counters.add("ticket_comments", "skipped", dropped)
            rt.counters.reason("ticket_comments", "its ticket was deleted in the source", dropped)
        imported = {
            k: entry
            for k, entry in rt.ids.lookup(self.stream_name, list(kept)).items()
            if entry[0] is not None
        }
        done = set(imported)
        if done:
            unchanged = len(done) - self.report_changed(imported, kept)
            rt.counters.add(self.stream_name, "already present", len(done))
            rt.counters.add(self.stream_name, "skipped", unchanged)
            rt.counters.reason(self.stream_name, "imported before (external_id exists)", unchanged)
        keys = [k for k in kept if k not in done]
        staged = rt.journal.comments_for(keys)
        threads = {k: [p for *_, p in sorted(staged.get(k, ()), key=comment_order)] for k in keys}
        refs = self.refs_for([kept[k] for k in keys], threads)
        items = []
        left_out = 0
        for key in keys:
            record = kept[key]
            notes: list[str] = []
            try:
                payload = ticket_payload(
                    record, key, threads[key], refs, rt.options, rt.defs, notes
                )
            except RecordError as exc:
                rt.reject_record(self.stream_name, record, key, exc)
                continue
            if notes:
                left_out += len(notes)
                rt.counters.reason(
                    self.stream_name, f"lookup value left out: {notes[0]}", kind="note"
                )
            items.append(
                Item(
                    key,
                    payload,
                    external_id=payload["external_id"],
                    status=payload.get("status"),
                    digest=ticket_version(record),  # the id map keeps the version imported
                )
            )
        rt.counters.add(self.stream_name, "lookup values left out", left_out)
        rt.counters.add(self.stream_name, "organization links dropped", refs.dropped)
        if rt.attachments is not None:
            self.attach_files(items, threads)
        params = {"archive_immediately": "true"} if rt.archive_immediately else None
        rt.jobs.run(self.chunks(items, "tickets.import", params=params), self)

    def report_changed(
        self,
        imported: dict[str, tuple[int | None, str | None]],
        records: dict[str, dict[str, t.Any]],
    ) -> int:
        """Reject imported tickets that come again with a later `updated_at`; return how many.

        The import API only creates tickets and a normal update cannot back-date comments, so
        such a change is not written; it goes to the rejects file with both versions instead of
        passing as "imported before". `imported`: key -> (destination id, version imported);
        tickets imported before versions were kept (no version) count as unchanged.
        """
        reported = 0
        for key, (dest, imported_version) in imported.items():
            record = records[key]
            version = ticket_version(record)
            if not newer_version(version, imported_version):
                continue
            self.runtime.reject(
                self.stream_name,
                key,
                "ChangedAfterImport",
                f"The ticket changed in the source after its import (updated_at {version}, "
                f"imported {imported_version}); the import API only creates tickets, so its new "
                f"comments and field changes are not written to destination ticket {dest}. "
                "Import it into a fresh account, or carry the change over by hand.",
                external_id=str(record.get("external_id") or "") or None,
            )
            reported += 1
        return reported

    def report_deleted(self, entries: dict[str, tuple[int | None, str | None]]) -> int:
        """Reject tickets deleted in the source after their import; return how many."""
        reported = 0
        for key, (dest, _) in entries.items():
            if dest is None:  # never imported (or known deleted): a plain skip
                continue
            self.runtime.reject(
                self.stream_name,
                key,
                "DeletedAfterImport",
                "The ticket was deleted in the source after its import; the target does not "
                f"delete tickets: delete destination ticket {dest} in Zendesk if it should go.",
            )
            reported += 1
        return reported

    def attach_files(self, items: list[Item], threads: dict[str, list[dict[str, t.Any]]]) -> None:
        """Upload the comments' files of the tickets about to be imported; list their tokens."""
        rt = self.runtime
        chosen = {i.key: threads[i.key] for i in items if threads.get(i.key)}
        rt.attachments.prepare(chosen, {i.key: i.external_id for i in items})
        for item in items:
            thread = chosen.get(item.key)
            if not thread or item.payload is None:
                continue
            for comment, sent in zip(thread, item.payload["comments"], strict=False):
                if comment.get("uploads"):
                    sent["uploads"] = comment["uploads"]
                if "html_body" in sent and comment.get("html_body"):
                    sent["html_body"] = comment["html_body"]

    def refs_for(
        self, records: list[dict[str, t.Any]], threads: dict[str, list[dict[str, t.Any]]]
    ) -> Refs:
        """Resolve every id the batch refers to in a few queries (not one per field)."""
        users: list[t.Any] = []
        orgs: list[t.Any] = []
        tickets: list[t.Any] = []
        for record in records:
            users += (record.get("requester_id"), record.get("submitter_id"))
            users.append(record.get("assignee_id"))
            for name in ("collaborator_ids", "follower_ids", "email_cc_ids"):
                if isinstance(record.get(name), list):
                    users += record[name]
            if isinstance(record.get("comments"), list):
                users += [c.get("author_id") for c in record["comments"] if isinstance(c, dict)]
            orgs.append(record.get("organization_id"))
            tickets += (record.get("problem_id"), record.get("via_followup_source_id"))
        for thread in threads.values():
            users += [c.get("author_id") for c in thread]
        lookups = self.runtime.defs.lookup_ids(self.stream_name, records)
        users += lookups["users"]
        orgs += lookups["organizations"]
        tickets += lookups["tickets"]
        return Refs(self.runtime, _user_keys(users), _user_keys(orgs), _user_keys(tickets))

    def written(self, batch: Batch, pairs: list[tuple[Item, ItemResult]]) -> None:
        """Remember imported tickets (a rerun skips them); reject failed items."""
        rt = self.runtime
        rows = []
        comments = 0
        for item, result in pairs:
            if result.ok and result.dest_id is not None:
                rows.append((item.key, result.dest_id, item.digest))
                if item.payload is not None:
                    comments += len(item.payload.get("comments") or ())
            else:
                self.reject_item(batch, item, result)
        rt.ids.put(self.stream_name, rows)
        rt.counters.add(self.stream_name, "created", len(rows))
        rt.counters.add("ticket_comments", "created", comments)

    def reconcile(self, batch: Batch) -> list[ItemResult | None]:
        """Look each ticket up by external_id (`GET /api/v2/tickets?external_id=`)."""
        return reconcile_tickets(self.runtime, batch)


def reconcile_tickets(rt: Runtime, batch: Batch) -> list[ItemResult | None]:
    """Confirm found tickets; archived ones cannot be looked up, so they are not resent."""
    out: list[ItemResult | None] = []
    for item in batch.items:
        if rt.archive_immediately and item.status == "closed":
            out.append(
                ItemResult(
                    ok=False,
                    error="OutcomeUnknown",
                    details=(
                        f"{batch.reason}; the ticket is closed and archive_immediately is on, and "
                        "archived tickets are invisible to external_id lookups, so it is not sent "
                        f"again. Search Zendesk for external_id {item.external_id} before a rerun"
                    ),
                )
            )
            continue
        body = rt.client.get_json("/api/v2/tickets", external_id=item.external_id)
        ids = sorted(
            int(row["id"])
            for row in body.get("tickets") or []
            if isinstance(row, dict) and row.get("id")
        )
        if len(ids) > 1:
            rt.logger.warning(
                "Zendesk already holds %d tickets with external_id %s; keeping the oldest.",
                len(ids),
                item.external_id,
            )
        out.append(ItemResult(ok=True, dest_id=ids[0]) if ids else None)
    return out


class DefinitionStageSink(ZendeskSink):
    """Source definitions (fields, groups, brands, forms, statuses): staged, mapped by name."""

    def write(self, records: list[dict[str, t.Any]]) -> None:
        """Keep them in the journal; the sinks that refer to them map them on first use."""
        staged = self.runtime.defs.stage(self.stream_name, records)
        self.runtime.counters.add(self.stream_name, "staged", staged)
        if staged < len(records):
            self.runtime.counters.add(self.stream_name, "skipped", len(records) - staged)
            self.runtime.counters.reason(self.stream_name, "no `id`", len(records) - staged)


class IgnoredStreamSink(ZendeskSink):
    """A tap-zendesk stream the target does not write (computed or account data): skipped."""

    def setup(self) -> None:
        """Say once, at the stream's start, why its records are skipped."""
        super().setup()
        from target_zendesk.target import IGNORED_STREAMS  # noqa: PLC0415 - avoid an import cycle

        self.logger.warning(
            "Stream '%s' is not written to Zendesk (%s); its records are counted and skipped. "
            "Deselect it in the tap to save time.",
            self.stream_name,
            IGNORED_STREAMS[self.stream_name],
        )

    def process_record(self, record: dict, context: dict) -> None:
        """Count only: nothing is kept."""
        self.runtime.counters.add(self.stream_name, "read")
        self.runtime.counters.add(self.stream_name, "skipped")

    def write(self, records: list[dict[str, t.Any]]) -> None:
        """Write nothing."""


class RecoveryHandler:
    """Finishes an earlier run's batches: ids of what was written go to the id map, nothing else.

    Records that failed or whose fate stays unknown are not resent: the rerun's input brings
    them again (STATE never moved past them), and then they go through the normal path.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.recovered = 0

    def written(self, batch: Batch, pairs: list[tuple[Item, ItemResult]]) -> None:
        """Record destination ids of the items Zendesk wrote."""
        rows = [
            (item.key, result.dest_id or item.dest_id, item.digest)
            for item, result in pairs
            if result.ok and (result.dest_id or item.dest_id)
        ]
        self.runtime.ids.put(batch.stream, rows)
        self.recovered += len(rows)

    def rejected(self, batch: Batch, items: list[Item], error: str, details: str) -> None:
        """Do nothing: the input sends these records again."""

    def reconcile(self, batch: Batch) -> list[ItemResult | None]:
        """Look tickets up by external_id; other kinds are upserts the rerun repeats safely."""
        if batch.stream == "tickets":
            return reconcile_tickets(self.runtime, batch)
        return [None] * len(batch.items)

    def rebatch(self, batch: Batch, items: list[Item]) -> list[Batch]:
        """Never resend from the journal (it keeps no payloads)."""
        return []


def recover(runtime: Runtime) -> None:
    """Before any new write: finish what an interrupted run submitted, so nothing is duplicated."""
    open_batches: list[JournalBatch] = runtime.journal.open_batches()
    if not open_batches:
        return
    runtime.logger.info(
        "Resuming %d batches an earlier run left unconfirmed (%d with a job id).",
        len(open_batches),
        sum(1 for b in open_batches if b.job_id),
    )
    batches = []
    for jb in open_batches:
        items = [
            Item(i.key, None, i.external_id, i.email, i.dest_id, i.digest, i.status)
            for i in jb.items
        ]
        batch = Batch(
            jb.stream,
            jb.operation,
            items,
            attempt=runtime.jobs.max_attempts,
            journal_id=jb.id,
            job_id=jb.job_id,
            reason="an earlier run stopped before it saw this batch's reply",
            journaled_at=jb.created_at,
        )
        batches.append(batch)
    handler = RecoveryHandler(runtime)
    runtime.jobs.resume(batches, handler)
    runtime.logger.info("Recovered %d records written by an earlier run.", handler.recovered)
