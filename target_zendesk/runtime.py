"""Per-run services every sink shares: client, journal, id map, job runner, counters, rejects."""

from __future__ import annotations

import logging
import typing as t

from tap_zendesk.api.client import ZendeskClient
from tap_zendesk.api.governor import RateLimitGovernor
from tap_zendesk.api.retry import RetryPolicy
from target_zendesk.attachments import AttachmentMover
from target_zendesk.definitions import DefinitionMap
from target_zendesk.id_map import IdMap
from target_zendesk.jobs import (
    DEFAULT_LOST_REPLY_GRACE,
    DEFAULT_MAX_JOBS_IN_FLIGHT,
    JobRunner,
)
from target_zendesk.journal import Journal, default_journal_path
from target_zendesk.payloads import Options, RecordError
from target_zendesk.report import RejectsFile, RunCounters

DEFAULT_REJECTS_PATH = "target-zendesk-rejects.jsonl"
#: show_many takes at most 100 ids or external_ids (zendesk_api.md 1.3).
SHOW_MANY_LIMIT = 100


def options_from_config(config: t.Mapping[str, t.Any]) -> Options:
    """Parse the payload-shaping settings once."""
    json_fields: dict[str, set[str]] = {}
    for entry in config.get("json_fields") or ():
        stream, _, name = str(entry).rpartition(".")
        for target in [stream] if stream else ["tickets", "users", "organizations"]:
            json_fields.setdefault(target, set()).add(name)
    return Options(
        external_id_prefix=str(config.get("external_id_prefix") or ""),
        drop_fields=frozenset(config.get("drop_fields") or ()),
        max_comment_bytes=int(config.get("max_comment_bytes", 65536) or 0),
        json_fields={k: frozenset(v) for k, v in json_fields.items()},
        import_tags=tuple(str(tag).lower() for tag in config.get("import_tags") or ()),
    )


class Runtime:
    """Created on the first sink's setup (never for --about), closed after the last drain."""

    def __init__(
        self,
        config: t.Mapping[str, t.Any],
        logger: logging.Logger,
        *,
        client: ZendeskClient | None = None,
    ) -> None:
        self.config = config
        self.logger = logger
        self.options = options_from_config(config)
        self.client = client or ZendeskClient(
            config,
            logger=logger.getChild("http"),
            governor=RateLimitGovernor(
                account_limit=config.get("rate_limit"),
                export_limit=config.get("export_rate_limit"),
                logger=logger.getChild("governor"),
            ),
            policy=RetryPolicy(max_retries=int(config.get("max_retries", 3))),
        )
        self.journal = Journal(config.get("journal_path") or default_journal_path(self.client.base))
        self.ids = IdMap(self.journal)
        self.jobs = JobRunner(
            self.client,
            self.journal,
            max_in_flight=int(config.get("max_jobs_in_flight", DEFAULT_MAX_JOBS_IN_FLIGHT)),
            job_timeout=float(config.get("job_timeout", 900)),
            lost_reply_grace=float(
                config.get("lost_reply_grace_seconds", DEFAULT_LOST_REPLY_GRACE)
            ),
            logger=logger.getChild("jobs"),
        )
        self.counters = RunCounters()
        self.rejects = RejectsFile(config.get("rejects_path") or DEFAULT_REJECTS_PATH)
        self.batch_size = int(config.get("batch_size", 100))
        self.archive_immediately = bool(config.get("archive_immediately", False))
        self.first_stream: str | None = None
        self._absent: dict[str, set[str]] = {"users": set(), "organizations": set()}
        self.defs = DefinitionMap(self)
        self.attachments = AttachmentMover(self)

    # -- input order -----------------------------------------------------------------------
    def saw_first(self, stream: str) -> None:
        """Remember whether comments came before tickets (tap-zendesk's order)."""
        if self.first_stream is None:
            self.first_stream = stream

    @property
    def comments_first(self) -> bool:
        """Tell whether tickets can be imported on arrival (their comments came first)."""
        return self.first_stream == "ticket_comments"

    # -- rejects ---------------------------------------------------------------------------
    def reject(
        self, stream: str, key: str | None, error: str, details: str, **where: str | None
    ) -> None:
        """Write one rejected record to the rejects file and count it.

        `where`: what else identifies it (`field`, `external_id`, `email`, `job_id`; see
        `RejectsFile.write`).
        """
        self.rejects.write(stream=stream, key=key, error=error, details=details, **where)
        field = where.get("field")
        self.counters.add(stream, "rejected")
        self.counters.reason(stream, f"{error}{f' ({field})' if field else ''}", kind="rejected")

    def reject_record(
        self, stream: str, record: dict[str, t.Any], key: str | None, exc: RecordError
    ) -> None:
        """Reject a record before sending it: stream, key and field in the file."""
        email = record.get("email") if stream == "users" else None
        external = record.get("external_id")
        self.reject(
            stream,
            key,
            exc.code,
            str(exc),
            field=exc.field,
            external_id=str(external) if external not in (None, "") else None,
            email=email if isinstance(email, str) else None,
        )

    # -- destination lookups ---------------------------------------------------------------
    def find_by_external_id(self, kind: str, external_ids: t.Iterable[str]) -> dict[str, int]:
        """Call `{kind}/show_many?external_ids=` by 100s: return lower-cased external_id -> id."""
        wanted = [e for e in dict.fromkeys(external_ids) if e]
        found: dict[str, int] = {}
        for start in range(0, len(wanted), SHOW_MANY_LIMIT):
            chunk = wanted[start : start + SHOW_MANY_LIMIT]
            body = self.client.get_json(f"/api/v2/{kind}/show_many", external_ids=",".join(chunk))
            for row in body.get(kind) or []:
                if isinstance(row, dict) and row.get("external_id") and row.get("id"):
                    found.setdefault(str(row["external_id"]).lower(), int(row["id"]))
        return found

    def resolve_missing(
        self, kind: str, keys: set[str]
    ) -> dict[str, tuple[int | None, str | None]]:
        """Look source ids unknown to the journal up in Zendesk as `{prefix}{id}`, once per run."""
        missing = [k for k in keys if k not in self._absent[kind]]
        if not missing:
            return {}
        prefix = self.options.external_id_prefix
        found = self.find_by_external_id(kind, [f"{prefix}{k}" for k in missing])
        rows = []
        for key in missing:
            dest = found.get(f"{prefix}{key}".lower())
            if dest is None:
                self._absent[kind].add(key)
            else:
                rows.append((key, dest, None))
        self.ids.put(kind, rows)
        return {key: (dest, digest) for key, dest, digest in rows}

    # -- end of run ------------------------------------------------------------------------
    def summary(self) -> list[str]:
        """Build the end-of-run report: a line per stream, requests and the rejects file."""
        for where, count in self.defs.left_out.items():
            self.counters.add(
                "references", f"{where} left out (no definitions in the input)", count
            )
        self.defs.left_out.clear()
        lines = self.counters.lines()
        for kind, entry in self.defs.report().items():
            created = f", {len(entry['created'])} created" if entry["created"] else ""
            lines.append(
                f"definitions {kind}: {entry['source']} in the source, {entry['mapped']} mapped"
                f"{created}, {len(entry['unmapped'])} unmapped"
                + (f" ({'; '.join(entry['unmapped'][:5])})" if entry["unmapped"] else "")
            )
        lines.append(
            f"requests: {self.client.request_count} (jobs submitted: {self.jobs.submissions}, "
            f"job status reads: {self.jobs.polls}, most jobs in flight: "
            f"{self.jobs.max_seen_in_flight})"
            + (
                f"; {self.attachments.request_count} to the source account for attachments"
                if self.attachments.request_count
                else ""
            )
        )
        per_stream = ", ".join(f"{k}={v}" for k, v in sorted(self.jobs.requests_by_stream.items()))
        if per_stream:
            lines.append(f"job requests (submissions + status reads) per stream: {per_stream}")
        if self.rejects.count:
            lines.append(f"rejected records: {self.rejects.count}, written to {self.rejects.path}")
        return lines

    def report(self, seconds: float) -> dict[str, t.Any]:
        """Build the verification report of this run (the `report_path` JSON file)."""
        streams = self.counters.as_dict()
        files = streams.pop("attachments", {})
        definitions = self.defs.report()
        for entry in streams.values():
            entry["imported"] = entry.get("created", 0) + entry.get("updated", 0)
            entry.setdefault("already present", 0)
            entry["already present"] += entry.pop("unchanged", 0)
        return {
            "seconds": round(seconds, 3),
            "streams": streams,
            "attachments": {
                "files": files.get("read", 0),
                "uploaded": files.get("uploaded", 0),
                "reused_from_earlier_run": files.get("reused", 0),
                "rejected": files.get("rejected", 0),
                "skipped": files.get("skipped", 0),
                "bytes": files.get("bytes", 0),
                **{k: v for k, v in files.items() if k.endswith("_reasons")},
            },
            "definitions": definitions,
            "unmapped": {k: v["unmapped"] for k, v in definitions.items() if v["unmapped"]},
            "requests": {
                "destination": self.client.request_count,
                "source": self.attachments.request_count,
                "jobs_submitted": self.jobs.submissions,
                "job_status_reads": self.jobs.polls,
            },
            "rejected": {"records": self.rejects.count, "file": str(self.rejects.path)},
        }

    def close(self) -> None:
        """Close the journal and the rejects file."""
        self.rejects.close()
        self.journal.close()
