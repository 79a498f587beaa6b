"""TargetZendesk: configuration, the stream -> sink table, and the drain order between sinks."""

from __future__ import annotations

import copy
import gc
import sys
import threading
import time
import typing as t
from collections import Counter, defaultdict
from decimal import Decimal

from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.sinks import Sink
from singer_sdk.target_base import Target

from tap_zendesk.api import jsontext
from tap_zendesk.api.errors import FatalSyncError
from tap_zendesk.api.settings import (
    CONNECTION_PROPERTIES,
    unknown_settings,
    validate_connection_config,
)
from target_zendesk.attachments import DEFAULT_MAX_ATTACHMENT_BYTES, validate_source_settings
from target_zendesk.jobs import DEFAULT_LOST_REPLY_GRACE, DEFAULT_MAX_JOBS_IN_FLIGHT
from target_zendesk.report import write_json
from target_zendesk.runtime import DEFAULT_REJECTS_PATH, Runtime
from target_zendesk.sinks import (
    DEFINITION_STREAMS,
    DefinitionStageSink,
    IgnoredStreamSink,
    OrganizationUpsertSink,
    TicketCommentStageSink,
    TicketImportSink,
    UserUpsertSink,
    ZendeskSink,
    recover,
)

#: Stream (Zendesk collection key) -> sink. Upstream taps rename streams with `__alias__`.
SINKS: dict[str, type[ZendeskSink]] = {
    **dict.fromkeys(DEFINITION_STREAMS, DefinitionStageSink),
    "organizations": OrganizationUpsertSink,
    "users": UserUpsertSink,
    "ticket_comments": TicketCommentStageSink,
    "tickets": TicketImportSink,
}
#: tap-zendesk streams the target knowingly does not write, and why (skipped with a warning).
IGNORED_STREAMS: dict[str, str] = {
    **dict.fromkeys(
        ("ticket_metrics", "ticket_metric_events", "ticket_audits", "ticket_events"),
        "computed by Zendesk from the imported tickets",
    ),
    "satisfaction_ratings": "ratings cannot be imported through the API",
    "tags": "tags arrive with the tickets, users and organizations",
    **dict.fromkeys(
        (
            "group_memberships",
            "custom_roles",
            "organization_memberships",
            "user_identities",
        ),
        "account settings are not migrated yet",
    ),
    **dict.fromkeys(
        ("macros", "triggers", "automations", "views", "sla_policies", "schedules"),
        "business rules are not migrated",
    ),
    **dict.fromkeys(
        ("categories", "sections", "articles", "topics", "posts"),
        "Help Center content is not migrated",
    ),
    "side_conversations": "side conversations cannot be imported",
}
#: The source's support address: sent as it is, it would name an address of another account.
#: (Group, brand, form and status ids are mapped by name through the definition streams.)
DEFAULT_DROP_FIELDS = ("recipient",)
#: During a run the cyclic garbage collector runs after every this many drained batches
#: instead of automatically (see `TargetZendesk.runtime`).
COLLECT_EVERY_DRAINS = 50
#: Bytes read from standard input at a time.
STDIN_BUFFER = 1 << 20


class UnsupportedStreamError(FatalSyncError):
    """Raised for a stream the target has no sink for (and does not knowingly skip)."""


class RejectedRecordsError(FatalSyncError):
    """Raised at the very end when `fail_on_rejects` is on and records were rejected."""


class StdinBytesReader(MsgSpecReader):
    """msgspec reader fed raw bytes from stdin: no text decoding per line, msgspec reads UTF-8."""

    @property
    def default_input(self) -> t.IO[t.Any]:  # type: ignore[override]
        """Read standard input as bytes, in 1 MiB reads (an `--input` file arrives as text).

        `sys.stdin.buffer` reads 8 KiB at a time: 12,000 `read` calls for a 100 MB migration.
        A standard input without a file descriptor (embedding, test runners) is read as it is.
        """
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):
            return sys.stdin.buffer
        return open(fd, "rb", buffering=STDIN_BUFFER, closefd=False)  # noqa: SIM115

    def process_lines(
        self, file_input: t.IO[t.Any] | None, callbacks: dict[str, t.Callable[[dict], None]]
    ) -> Counter[str]:
        """The SDK's loop with the per-line work cut to a decode and a callback lookup.

        The SDK builds a set and checks it against every message's keys to find `type`
        (~0.5 us per line of issue 7's benchmark). A message without `type` still gets the
        SDK's own error, anything else the SDK's handling.
        """
        stats: dict[str, int] = defaultdict(int)
        decode = self.deserialize_json
        find = callbacks.get
        for line in file_input or self.default_input:
            self._current_message = line
            message = decode(line)
            kind = message.get("type") if type(message) is dict else None
            if kind is None:
                self.assert_line_requires(message, requires={"type"})
                kind = message["type"]
            callback = find(kind)
            if callback is None:
                self._process_unknown_message(message)
            else:
                callback(message)
            stats[kind] += 1
        return Counter(stats)

    def deserialize_json(self, line: str | bytes) -> dict:  # type: ignore[override]
        """Decode a line; a lone UTF-16 surrogate (half an emoji) is repaired, not fatal.

        Anything that is not JSON still gets the SDK's own error for the line.
        """
        try:
            return jsontext.decode(line)  # type: ignore[no-any-return]
        except ValueError:
            return super().deserialize_json(line)  # type: ignore[arg-type]


class TargetZendesk(Target):
    """Singer target for Zendesk Support: imports tickets with comments, upserts users and orgs."""

    name = "target-zendesk"
    package_name = "tap-zendesk-pair"
    message_reader_class = StdinBytesReader
    # No VALIDATE_RECORDS: the sinks check each record themselves and reject it with the field.
    capabilities: t.ClassVar[list] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]

    config_jsonschema = th.PropertiesList(
        *CONNECTION_PROPERTIES.wrapped.values(),
        th.Property(
            "batch_size",
            th.IntegerType,
            default=100,
            description="Records per bulk call, 1 to 100 (Zendesk's maximum per call is 100).",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=3,
            description=(
                "Retries per request after a 429 or a 503 with Retry-After (waiting Retry-After), "
                "and separately after 5xx or network errors; then the run stops with an error."
            ),
        ),
        th.Property(
            "max_jobs_in_flight",
            th.IntegerType,
            default=DEFAULT_MAX_JOBS_IN_FLIGHT,
            description=(
                "Most of this target's bulk jobs queued or running at once, 1 to 30 (Zendesk "
                "allows 30 per account, shared with every other integration)."
            ),
        ),
        th.Property(
            "job_timeout",
            th.NumberType,
            default=900,
            description=(
                "Seconds a bulk job may stay queued or running before the run stops; the journal "
                "keeps the job and the next run picks it up."
            ),
        ),
        th.Property(
            "lost_reply_grace_seconds",
            th.NumberType,
            default=DEFAULT_LOST_REPLY_GRACE,
            description=(
                "After a bulk write whose reply was lost (timeout, reset, crash), how long to "
                "wait before looking its records up in Zendesk and resending only what is "
                "missing: Zendesk may still be processing the request. At least "
                "`request_timeout`."
            ),
        ),
        th.Property(
            "import_tags",
            th.ArrayType(th.StringType),
            description=(
                "Tags added to every imported ticket, e.g. `[\"imported\"]`. Zendesk computes no "
                "metrics or SLAs for imported tickets and advises tagging them so reports can "
                "leave them out. Unset: tickets keep exactly their source tags."
            ),
        ),
        th.Property(
            "archive_immediately",
            th.BooleanType,
            default=False,
            description=(
                "Import closed tickets straight into the archive (Zendesk's "
                "`archive_immediately`, meant for large historical loads)."
            ),
        ),
        th.Property(
            "rejects_path",
            th.StringType,
            default=DEFAULT_REJECTS_PATH,
            description=(
                "JSON Lines file that receives every rejected record: stream, source key, "
                "Zendesk's error and details. Appended to, one line per record."
            ),
        ),
        th.Property(
            "journal_path",
            th.StringType,
            description=(
                "SQLite file where the target keeps its id map, staged comments and submitted "
                "jobs, so a rerun creates no duplicates. Default: "
                "`.target-zendesk/<zendesk host>.sqlite` in the working directory."
            ),
        ),
        th.Property(
            "fail_on_rejects",
            th.BooleanType,
            default=False,
            description=(
                "Exit non-zero when any record was rejected (after everything else is written "
                "and STATE is emitted)."
            ),
        ),
        th.Property(
            "external_id_prefix",
            th.StringType,
            default="",
            description=(
                "Prefix for the `external_id` the target gives records that have none (their "
                "source id): e.g. `acme-` keeps ids of several merged accounts apart."
            ),
        ),
        th.Property(
            "drop_fields",
            th.ArrayType(th.StringType),
            default=list(DEFAULT_DROP_FIELDS),
            description=(
                "Fields removed from every record before writing. Default: the ticket "
                "`recipient` address, which belongs to the source account. Group, brand, form "
                "and custom status ids are mapped by name when the input has the tap's "
                "`groups`, `brands`, `ticket_forms` and `custom_statuses` streams, and left out "
                "when it does not."
            ),
        ),
        th.Property(
            "create_missing_definitions",
            th.BooleanType,
            default=False,
            description=(
                "Create, before writing records, the source's custom ticket, user and "
                "organization fields (with their options), groups, brands, ticket forms and "
                "custom statuses that the destination lacks. Off: records that use a missing "
                "one are rejected, and one warning lists them all with the fix."
            ),
        ),
        th.Property(
            "copy_attachments",
            th.BooleanType,
            default=True,
            description=(
                "Copy comment attachments: download each file from the source account "
                "(`source_subdomain` or `source_api_url`) and upload it to the destination "
                "before its ticket is imported. Without a source account they are skipped "
                "(counted in the report)."
            ),
        ),
        th.Property(
            "source_subdomain",
            th.StringType,
            description=(
                "Subdomain of the account the records come from (`acme` for "
                "https://acme.zendesk.com): attachments are downloaded from this host only."
            ),
        ),
        th.Property(
            "source_api_url",
            th.StringType,
            description=(
                "Base URL of the source account instead of `source_subdomain`, e.g. "
                "https://acme.zendesk.com (plain http only for loopback hosts)."
            ),
        ),
        th.Property(
            "source_email",
            th.StringType,
            description="Email of the source account user whose `source_api_token` is used.",
        ),
        th.Property(
            "source_api_token",
            th.StringType,
            secret=True,
            description=(
                "API token of the source account, for attachments that need authentication to "
                "download. Sent to the source host only."
            ),
        ),
        th.Property(
            "source_oauth_token",
            th.StringType,
            secret=True,
            description=(
                "OAuth access token of the source account (instead of `source_email` + "
                "`source_api_token`). Sent to the source host only."
            ),
        ),
        th.Property(
            "source_attachment_hosts",
            th.ArrayType(th.StringType),
            default=[],
            description=(
                "Other https hosts a source download may be redirected to (e.g. "
                "`acme.zdusercontent.com`); they never receive credentials. Redirects anywhere "
                "else reject the file."
            ),
        ),
        th.Property(
            "max_attachment_bytes",
            th.IntegerType,
            default=DEFAULT_MAX_ATTACHMENT_BYTES,
            description=(
                "Largest file copied, in bytes (Zendesk's limit is 50 MB per file). A larger "
                "file is rejected on its own (ticket key, file name, size in the rejects file); "
                "its ticket is imported without it."
            ),
        ),
        th.Property(
            "attachment_workers",
            th.IntegerType,
            default=4,
            description="Files downloaded and uploaded at once, 1 to 16.",
        ),
        th.Property(
            "report_path",
            th.StringType,
            description=(
                "JSON file written at the end of each run: per stream records read, imported, "
                "already present, skipped and rejected (reasons grouped); attachments and bytes "
                "moved; definitions mapped, created and unmapped; requests. Default: beside the "
                "journal, `<journal name>.report.json`."
            ),
        ),
        th.Property(
            "json_fields",
            th.ArrayType(th.StringType),
            default=[],
            description=(
                "Fields whose text holds JSON to parse into an object, as `stream.field` (e.g. "
                "`tickets.requester`) or `field` for every stream. Text that starts with `{` or "
                "`[` in a field Zendesk expects as an object or array is parsed anyway."
            ),
        ),
        th.Property(
            "max_comment_bytes",
            th.IntegerType,
            default=65536,
            description=(
                "Largest comment body in bytes; a ticket with a larger one is rejected, because "
                "Zendesk cuts bodies over about 64 KB without an error. 0 turns the check off."
            ),
        ),
        th.Property(
            "max_batch_age_seconds",
            th.NumberType,
            description=(
                "Longest wait before a partial batch is written, its job confirmed and STATE "
                "emitted, e.g. 5 behind a continuous tap-zendesk (`poll_interval_seconds`), which "
                "sends STATE after each poll and every few seconds while idle. Checked when a "
                "message arrives. Unset: 300 (the SDK's default)."
            ),
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config:
            self._validate_target_settings()
        # Sinks depend on each other (tickets need user and organization ids) and each drain
        # already keeps `max_jobs_in_flight` jobs busy, so draining in threads adds only races.
        self.max_parallelism = 1
        age = self.config.get("max_batch_age_seconds")
        if age:  # the SDK drains every sink once its oldest batch is this old
            self._MAX_RECORD_AGE_IN_MINUTES = float(age) / 60
        self._max_age_seconds = self._MAX_RECORD_AGE_IN_MINUTES * 60
        self._state_drained: dict | None = None
        self._runtime: Runtime | None = None
        self._gc_was_enabled: bool | None = None
        self._drains = 0
        #: Stream -> its sink when records go to it as they come (see `_process_record_message`).
        self._unmapped: dict[str, Sink | None] = {}
        self._runtime_lock = threading.Lock()
        self._started = time.monotonic()

    def _validate_target_settings(self) -> None:
        """Check connection rules and the target's ranges; report all at once with the fix."""
        errors: list[str] = []
        try:
            validate_connection_config(self.config)
        except ConfigValidationError as exc:
            errors += exc.errors
        config = self.config
        ranges = {
            "batch_size": (1, 100, "Zendesk takes at most 100 records per bulk call"),
            "max_jobs_in_flight": (1, 30, "Zendesk queues at most 30 jobs per account"),
            "max_retries": (0, 100, "use a small number such as 3"),
            "max_comment_bytes": (0, 10**9, "0 turns the check off"),
        }
        age = config.get("max_batch_age_seconds")
        if age is not None and (
            isinstance(age, bool) or not isinstance(age, (int, float, Decimal)) or age <= 0
        ):
            errors.append("`max_batch_age_seconds` must be a positive number of seconds, e.g. 5.")
        for key, (low, high, why) in ranges.items():
            value = config.get(key)
            if value is not None and (not isinstance(value, int) or not low <= value <= high):
                errors.append(f"`{key}` must be an integer from {low} to {high} ({why}).")
        timeout = config.get("job_timeout", 900)
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            errors.append("`job_timeout` must be a positive number of seconds, e.g. 900.")
        for entry in config.get("json_fields") or ():
            stream, _, field = str(entry).rpartition(".")
            if not field or (stream and stream not in SINKS):
                errors.append(
                    f"`json_fields` entry {entry!r} must be `field` or `stream.field` with a "
                    f"stream among {', '.join(SINKS)}."
                )
        for tag in config.get("import_tags") or ():
            if not isinstance(tag, str) or not tag.strip() or any(c.isspace() for c in tag):
                errors.append(
                    f"`import_tags` entry {tag!r} must be one word (Zendesk splits tags on "
                    "spaces), e.g. `imported`."
                )
        errors += validate_source_settings(config)
        if errors:
            raise ConfigValidationError("Invalid target-zendesk settings", errors=errors)
        for line in unknown_settings(config, self):
            self.logger.warning(line)

    # -- routing ---------------------------------------------------------------------------
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """Route a Zendesk collection key to its sink; an unknown stream stops with the list.

        Before stopping, the records that came before it are written and their STATE emitted.
        """
        sink = SINKS.get(stream_name)
        if sink is not None:
            return sink
        if stream_name in IGNORED_STREAMS:
            return IgnoredStreamSink
        msg = (
            f"target-zendesk cannot write stream '{stream_name}'. It writes: "
            f"{', '.join(SINKS)}; it skips these tap-zendesk streams with a warning: "
            f"{', '.join(sorted(IGNORED_STREAMS))}. If the stream holds one of the written "
            "objects, rename it with a stream map (`__alias__`); otherwise deselect it."
        )
        # Write what came before and emit its STATE, so the rerun does not send it again.
        self.drain_all()
        raise UnsupportedStreamError(msg)

    def get_sink(
        self,
        stream_name: str,
        *,
        record: dict | None = None,
        schema: dict | None = None,
        key_properties: t.Sequence[str] | None = None,
    ) -> Sink:
        """Keep one sink per stream, and check keys per record (a keyless record is rejected).

        Our sinks ignore the schema, and a second sink for a stream would break the drain order
        between users and tickets; the SDK's key check would stop the run on one bad record.
        """
        if schema is not None and self.sink_exists(stream_name):
            return super().get_sink(stream_name, record=record)
        return super().get_sink(stream_name, record=record, schema=schema, key_properties=())

    def _process_record_message(self, message_dict: dict) -> None:
        """Hand a record of an unmapped stream straight to its sink; others as the SDK does.

        For a stream without a stream map, flattening or metadata columns, the SDK's per-record
        path copies the record, runs the identity map, strips `_sdc_` keys our sinks never read,
        validates against no validator, checks key properties we declared empty and logs a
        debug line: ~4 of 45 us per record in issue 7's benchmark, for no effect. Counting,
        buffering, draining a full batch and the batch-age check are the SDK's as they are.
        A stream map, `flattening_enabled`, `add_record_metadata` or a sink with its own
        `preprocess_record` takes the SDK's path.
        """
        stream_name = message_dict.get("stream")
        sink = self._unmapped.get(stream_name, False)  # type: ignore[arg-type]
        if sink is False:
            sink = self._unmapped[stream_name] = self._direct_sink(stream_name)
        record = message_dict.get("record")
        if sink is None or type(record) is not dict:
            super()._process_record_message(message_dict)
            return
        context = sink._pending_batch or sink._get_context(record)  # noqa: SLF001
        sink.tally_record_read()
        sink.process_record(record, context)
        sink.record_counter_metric.increment()
        if sink.is_full:
            self.logger.info(
                "Target sink for '%s' is full. Current size is '%s'. Draining...",
                sink.stream_name,
                sink.current_size,
            )
            self.drain_one(sink)
        # The SDK's `_handle_max_record_age`, without its property and call per record.
        if time.time() - self._last_full_drain_at > self._max_age_seconds:
            self._handle_max_record_age()

    def _direct_sink(self, stream_name: t.Any) -> Sink | None:
        """The stream's sink if its records need none of the SDK's per-record steps, else None."""
        maps = self.mapper.stream_maps.get(stream_name) if isinstance(stream_name, str) else None
        if not maps or len(maps) != 1 or not self.sink_exists(stream_name):
            return None
        stream_map = maps[0]
        if (
            type(stream_map) is not SameRecordTransform
            or stream_map.stream_alias != stream_name
            or stream_map.flattening_enabled
        ):
            return None
        sink = self.get_sink(stream_name)
        if (
            not isinstance(sink, ZendeskSink)
            or sink.include_sdc_metadata_properties
            or type(sink).preprocess_record is not Sink.preprocess_record
            or type(sink)._validate_and_parse is not ZendeskSink._validate_and_parse  # noqa: SLF001
        ):
            return None
        return sink

    def _process_schema_message(self, message_dict: dict) -> None:
        """As the SDK does; a new or changed schema may change the stream's maps."""
        self._unmapped.pop(message_dict.get("stream"), None)
        super()._process_schema_message(message_dict)

    def _process_state_message(self, message_dict: dict) -> None:
        """Also drain a batch older than `max_batch_age_seconds` when STATE arrives.

        The SDK checks the age only when a record arrives; behind a continuous tap, STATE is
        often the only message for a while. No public hook sees STATE messages.
        """
        super()._process_state_message(message_dict)
        pending = any(sink.current_size for sink in self._sinks_active.values())
        if (pending or self._latest_state != self._state_drained) and (
            self._max_record_age_in_minutes > self._MAX_RECORD_AGE_IN_MINUTES
        ):
            self.drain_all()
            self._state_drained = copy.deepcopy(self._latest_state)

    def listen(self, file_input: t.IO[str] | None = None) -> None:
        """As the SDK does; the collector is back on even when the run stops on an error."""
        try:
            super().listen(file_input)
        finally:
            self._restore_collector()

    def _restore_collector(self) -> None:
        """Undo what the run did to the collector (see `runtime`): unfreeze, switch back on."""
        if self._gc_was_enabled is None:
            return
        gc.unfreeze()
        if self._gc_was_enabled:
            gc.enable()
        self._gc_was_enabled = None

    def drain_one(self, sink: Sink) -> None:
        """Drain as the SDK does; every COLLECT_EVERY_DRAINS batches, collect cyclic garbage.

        The automatic collector is off during a run (see `runtime`); this is where it runs
        instead: after a batch is written, its records are gone and the collection is short.
        """
        drained = sink.current_size > 0
        super().drain_one(sink)
        if drained and self._gc_was_enabled is not None:
            self._drains += 1
            if self._drains % COLLECT_EVERY_DRAINS == 0:
                gc.collect()

    def drain_first(self, stream_names: t.Iterable[str]) -> None:
        """Drain the sinks whose ids a batch is about to use (users before their tickets)."""
        for name in stream_names:
            if self.sink_exists(name):
                self.drain_one(self.get_sink(name))

    # -- the run ---------------------------------------------------------------------------
    @property
    def runtime(self) -> Runtime:
        """Return client, journal, id map and jobs; made on the first sink (never for --about)."""
        with self._runtime_lock:
            if self._runtime is None:
                # Modules and config live for the whole run: keep them out of every collection.
                gc.freeze()
                # The automatic collector runs every 700 net container allocations and walks
                # every young object each time: the records buffered for a batch, thousands of
                # dicts, over and over (7 of 48 us per record in issue 7's benchmark, 15% of
                # the CPU). The run makes no reference cycles (a 62,000-record migration left
                # 0 cyclic objects), so it is switched off and `drain_one` collects explicitly
                # every COLLECT_EVERY_DRAINS batches, when few records are alive.
                self._gc_was_enabled = gc.isenabled()
                gc.disable()
                runtime = Runtime(self.config, self.logger)
                recover(runtime)
                self._runtime = runtime
            return self._runtime

    def _write_report(self, runtime: Runtime) -> None:
        """Write the JSON report (a failure to write it is logged, not raised)."""
        path = self.config.get("report_path")
        if not path:
            if str(runtime.journal.path) == ":memory:":
                return
            path = runtime.journal.path.with_suffix(".report.json")
        try:
            written = write_json(path, runtime.report(time.monotonic() - self._started))
        except OSError as exc:
            self.logger.warning("Could not write the report %s: %s", path, exc)
            return
        self.logger.info("Summary: report written to %s", written)

    def process_endofpipe(self) -> None:
        """Drain (waiting tickets too), write STATE, then log the summary; fail_on_rejects last."""
        runtime = self._runtime
        if (
            runtime is not None
            and not self.sink_exists("tickets")
            and runtime.journal.deferred_count()
        ):
            self.add_sink("tickets", {"type": "object", "properties": {}}, ["id"])
        try:
            super().process_endofpipe()
        finally:
            if runtime is not None:
                for line in runtime.summary():
                    self.logger.info("Summary: %s", line)
                self._write_report(runtime)
                runtime.close()
        if runtime is not None and runtime.rejects.count and self.config.get("fail_on_rejects"):
            msg = (
                f"{runtime.rejects.count} records were rejected (see {runtime.rejects.path}); "
                "failing because `fail_on_rejects` is on. Everything else was written."
            )
            raise RejectedRecordsError(msg)


if __name__ == "__main__":
    TargetZendesk.cli()
