"""TapZendesk: configuration, the process-wide connection, and stream discovery."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from functools import cached_property

import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_zendesk.api.auth import ZendeskAuth, warn_if_legacy
from tap_zendesk.api.client import make_governor, make_session
from tap_zendesk.api.errors import AuthenticationError
from tap_zendesk.api.governor import RateLimitGovernor
from tap_zendesk.api.retry import RetryPolicy
from tap_zendesk.api.settings import (
    CONNECTION_PROPERTIES,
    config_error,
    has_credentials,
    unknown_settings,
    validate_connection_config,
)
from tap_zendesk.api.urls import base_url
from tap_zendesk.continuous import CONTINUOUS_PROPERTIES, ContinuousSync, config_errors
from tap_zendesk.custom_fields import typed_object_schema, typed_ticket_schema
from tap_zendesk.streams import STREAM_TYPES
from tap_zendesk.streams.tickets import (
    TicketAuditsPerTicketStream,
    TicketAuditsStream,
    TicketMetricsFromExportStream,
    TicketMetricsStream,
)

if t.TYPE_CHECKING:
    from tap_zendesk.client import ZendeskStream


@dataclass
class Connection:
    """Everything every stream shares: one base URL, auth, session, governor and retry policy."""

    base: str
    auth: ZendeskAuth
    session: requests.Session
    governor: RateLimitGovernor
    policy: RetryPolicy


class TapZendesk(Tap):
    """Singer tap for Zendesk Support."""

    name = "tap-zendesk"
    package_name = "tap-zendesk-pair"
    #: msgspec serializes RECORD messages several times faster than the stdlib writer.
    message_writer_class = MsgSpecWriter

    config_jsonschema = th.PropertiesList(
        *CONNECTION_PROPERTIES.wrapped.values(),
        th.Property(
            "start_date",
            th.DateTimeType,
            description=(
                "Earliest change to extract on the first run (ISO-8601, e.g. "
                "`2024-01-01T00:00:00Z`). Later runs continue from the state."
            ),
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=1000,
            description=(
                "Rows per page of the incremental exports and of `ticket_audits` (1 to 1000; "
                "Zendesk's maximum is 1000)."
            ),
        ),
        th.Property(
            "type_custom_fields",
            th.BooleanType,
            default=True,
            description=(
                "Read the ticket, user and organization field definitions at discovery and give "
                "custom values real types: `custom_field_<id>` on tickets, typed keys inside "
                "`user_fields` / `organization_fields`. Costs 3 requests per run."
            ),
        ),
        th.Property(
            "side_conversations_concurrency",
            th.IntegerType,
            default=5,
            description=(
                "Requests in flight at once for the per-ticket `side_conversations` stream "
                "(only when that stream is selected). All requests stay inside the rate limit."
            ),
        ),
        th.Property(
            "ticket_audits_source",
            th.StringType,
            default="list",
            allowed_values=["list", "tickets"],
            description=(
                "Where `ticket_audits` comes from. `list`: `/api/v2/ticket_audits` in full each "
                "run (1000 audits per request), without archived tickets (Zendesk leaves them "
                "out, and documents the list as unsuited to change data capture). `tickets`: "
                "`/api/v2/tickets/{id}/audits` for each ticket changed since the last run "
                "(archived ones included): incremental, but one request per changed ticket, "
                "so a first run costs one request per ticket."
            ),
        ),
        th.Property(
            "ticket_audits_concurrency",
            th.IntegerType,
            default=5,
            description=(
                "Requests in flight at once for `ticket_audits_source: tickets`. All requests "
                "stay inside the rate limit."
            ),
        ),
        th.Property(
            "ticket_metrics_source",
            th.StringType,
            default="list",
            allowed_values=["list", "export"],
            description=(
                "Where `ticket_metrics` comes from. `list`: `/api/v2/ticket_metrics` in full each "
                "run (one request per 100 tickets). `export`: the tickets export's embedded "
                "`metric_set` (`include=metric_sets`): no requests of its own and only tickets "
                "changed since the last run; a metric that changes without its ticket changing "
                "arrives with the ticket's next change."
            ),
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=5,
            description=(
                "Retries per request, counted separately for rate-limit waits (429, 503 with "
                "Retry-After) and for other transient failures (5xx, resets, timeouts)."
            ),
        ),
        *CONTINUOUS_PROPERTIES.wrapped.values(),
    ).to_dict()

    def _validate_tap_settings(self) -> None:
        """Tap-only rules the JSON schema cannot express, with the fix in the message."""
        errors = []
        page_size = self.config.get("page_size", 1000)
        if not isinstance(page_size, int) or not 1 <= page_size <= 1000:
            errors.append("`page_size` must be between 1 and 1000 (Zendesk's export maximum).")
        start = self.config.get("start_date")
        if start:
            import pendulum

            try:
                parsed = pendulum.parse(str(start))
            except (ValueError, pendulum.parsing.exceptions.ParserError):
                errors.append(
                    f"`start_date` {start!r} is not ISO-8601; use e.g. 2024-01-01T00:00:00Z."
                )
            else:
                if parsed > pendulum.now("UTC"):
                    errors.append("`start_date` is in the future: nothing could be exported.")
        errors += config_errors(self.config)
        if errors:
            raise config_error("Invalid tap-zendesk settings", errors)
        for line in unknown_settings(self.config, self):
            self.logger.warning(line)

    @cached_property
    def connection(self) -> Connection:
        """Built once per process and shared by every stream (and its threads)."""
        auth = ZendeskAuth(self.config)
        warn_if_legacy(auth, self.logger)
        return Connection(
            base=base_url(self.config),
            auth=auth,
            session=make_session(f"tap-zendesk/{self.plugin_version}"),
            governor=make_governor(self.config, self.logger),
            policy=RetryPolicy(max_retries=int(self.config.get("max_retries", 5))),
        )

    @cached_property
    def continuous(self) -> ContinuousSync | None:
        """The poll loop and webhook listener, when `poll_interval_seconds` is set."""
        if self.config.get("poll_interval_seconds") is None:
            return None
        return ContinuousSync(self)

    def sync_all(self) -> None:  # type: ignore[misc]
        """The SDK's sync; in continuous mode it is followed by polls until SIGTERM/SIGINT."""
        if self.continuous is None:
            super().sync_all()
        else:
            self.continuous.run(super().sync_all)

    @property
    def streams(self) -> dict[str, ZendeskStream]:  # type: ignore[override]
        """Streams in STREAM_TYPES order, not the SDK's alphabetical one.

        `sync_all` syncs in this dict's order, and target-zendesk needs users and organizations
        before tickets, and each ticket's comments before the ticket.
        """
        streams = super().streams
        rank = {cls.name: i for i, cls in enumerate(STREAM_TYPES)}
        ordered = sorted(streams, key=lambda name: rank.get(name, len(rank)))
        if list(streams) != ordered:
            self._streams = {name: streams[name] for name in ordered}
        return self._streams  # type: ignore[return-value]

    def stream_types(self) -> tuple[type[ZendeskStream], ...]:
        """STREAM_TYPES, with `ticket_metrics` / `ticket_audits` from their configured source."""
        swap: dict[type[ZendeskStream], type[ZendeskStream]] = {}
        if self.config.get("ticket_metrics_source", "list") == "export":
            swap[TicketMetricsStream] = TicketMetricsFromExportStream
        if self.config.get("ticket_audits_source", "list") == "tickets":
            swap[TicketAuditsStream] = TicketAuditsPerTicketStream
        return tuple(swap.get(cls, cls) for cls in STREAM_TYPES)

    def discover_streams(self) -> list[ZendeskStream]:
        """Every stream in sync order, custom fields typed from the account's definitions.

        The cross-field config rules are checked here, first: the SDK discovers streams inside
        its constructor, and discovery may already call the API with the configured credentials.
        """
        if self.config:
            validate_connection_config(self.config)
            self._validate_tap_settings()
        streams = [stream_class(tap=self) for stream_class in self.stream_types()]
        # Discovery without credentials (e.g. `--about`) stays offline.
        if self.config.get("type_custom_fields", True) and has_credentials(self.config):
            self._type_custom_fields({stream.name: stream for stream in streams})
        return streams

    def _type_custom_fields(self, streams: dict[str, ZendeskStream]) -> None:
        """Read field definitions through the field streams; on failure keep loose types."""
        try:
            defs = {
                name: list(streams[name].get_records(None))
                for name in ("ticket_fields", "user_fields", "organization_fields")
            }
        except AuthenticationError:
            raise  # refused credentials stop the run here, not at the first stream
        except (FatalAPIError, RetriableAPIError, requests.RequestException) as exc:
            self.logger.warning(
                "Could not read custom field definitions (%s); custom values keep loose types.",
                exc,
            )
            return
        tickets, users, orgs = streams["tickets"], streams["users"], streams["organizations"]
        tickets.schema = typed_ticket_schema(tickets.schema, defs["ticket_fields"])
        users.schema = typed_object_schema(users.schema, "user_fields", defs["user_fields"])
        orgs.schema = typed_object_schema(
            orgs.schema, "organization_fields", defs["organization_fields"]
        )


if __name__ == "__main__":
    TapZendesk.cli()
