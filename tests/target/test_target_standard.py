"""The SDK's standard target tests that can apply, plus Zendesk-shaped ports of the rest.

Most of the SDK's target suite writes streams such as `test_array_data` or `TestCamelcase`
and checks nothing but "no exception". This target writes only Zendesk collections
(organizations, users, ticket_comments, tickets) and stops on any other stream on purpose
(a silent catch-all would lose data), so those tests cannot pass against any account. We keep
the tests that exercise the target before any stream is routed (`cli_prints`, `invalid_schema`,
`record_before_schema`), and port the behaviours the others check (duplicates, key missing,
schema updates, special characters, STATE relaying) to Zendesk records, with a check of what
the destination emulator holds afterwards.
"""

from __future__ import annotations

import json
import socket
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.suites import SingerTestSuite, target_tests
from singer_sdk.testing.templates import TargetFileTestTemplate

from target_zendesk.target import TargetZendesk
from tests.conftest import API_TOKEN, EMAIL
from tests.emulator import Emulator

DATA = Path(__file__).parent / "data"
STREAMLESS_TESTS = frozenset({"cli_prints", "invalid_schema", "record_before_schema"})


def _free_port() -> int:
    """The factory reads config at import, so the emulator's port is chosen here."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORT = _free_port()
WORKDIR = Path(tempfile.mkdtemp(prefix="target-zendesk-standard-"))
CONFIG = {
    "api_url": f"http://127.0.0.1:{PORT}",
    "email": EMAIL,
    "api_token": API_TOKEN,
    "journal_path": str(WORKDIR / "journal.sqlite"),
    "rejects_path": str(WORKDIR / "rejects.jsonl"),
}


def _tickets(emu: Emulator) -> dict[str, dict]:
    """Destination tickets by external_id; a duplicate fails the test."""
    out: dict[str, dict] = {}
    for row in emu.collection("tickets"):
        assert row["external_id"] not in out, f"duplicate ticket {row['external_id']}"
        out[row["external_id"]] = row
    return out


class ZendeskFileTest(TargetFileTestTemplate):
    """A standard-style target test reading tests/target/data/<name>.singer."""

    @property
    def singer_filepath(self) -> Path:  # type: ignore[override]
        """Inputs live beside this module, named after the behaviour."""
        return DATA / f"{self.name}.singer"


class ZendeskDuplicateTickets(ZendeskFileTest):
    """Port of `duplicate_records`: a ticket repeated in the input is imported once, last wins."""

    name = "zendesk_duplicate_tickets"

    def validate(self) -> None:
        """One ticket per external_id, with the last version's subject."""
        tickets = _tickets(self.resource)
        assert set(tickets) == {"601", "602"}
        assert tickets["601"]["subject"] == "Second version"


class ZendeskStateAfterWrites(ZendeskFileTest):
    """Port of `multiple_state_messages`: STATE comes out after the writes it covers."""

    name = "zendesk_state_after_writes"

    def validate(self) -> None:
        """The last STATE relayed is the input's last one, and its ticket is in Zendesk."""
        last = self.runner.state_messages[-1]
        last = json.loads(last) if isinstance(last, str) else last
        assert last == {"bookmarks": {"users": 1, "ticket_comments": 2, "tickets": 3}}
        assert set(_tickets(self.resource)) == {"611"}


class ZendeskTicketMissingKey(ZendeskFileTest):
    """Port of `record_missing_key_property`: rejected into the rejects file, run goes on."""

    name = "zendesk_ticket_missing_key"

    def validate(self) -> None:
        """The keyless ticket is a rejects line naming `id`; the other ticket is written."""
        lines = [json.loads(x) for x in Path(CONFIG["rejects_path"]).read_text().splitlines()]
        assert [(x["stream"], x["field"], x["error"]) for x in lines] == [
            ("tickets", "id", "MissingField")
        ]
        assert set(_tickets(self.resource)) == {"621"}


class ZendeskSpecialChars(ZendeskFileTest):
    """Port of `special_chars_in_attributes`/`encoded_string_data`: text round-trips exactly."""

    name = "zendesk_special_chars"

    def validate(self) -> None:
        """Subject, tags and comment body arrive unchanged."""
        ticket = _tickets(self.resource)["631"]
        assert ticket["subject"] == "Ünïcödé — «ticket» 🚀"
        assert ticket["tags"] == ["naïve", "日本"]
        [comment] = [
            c for c in self.resource.collection("ticket_comments") if c["ticket_id"] == ticket["id"]
        ]
        assert comment["body"].startswith("Emoji 🎉, RTL שלום, quotes \"'`, backslash \\")


class ZendeskSchemaUpdates(ZendeskFileTest):
    """Port of `schema_updates`: a new SCHEMA mid-stream keeps one sink, all tickets land."""

    name = "zendesk_schema_updates"

    def validate(self) -> None:
        """Both tickets, before and after the schema change, are in Zendesk."""
        tickets = _tickets(self.resource)
        assert set(tickets) == {"641", "642"}
        assert tickets["642"]["priority"] == "high"


streamless_suite = SingerTestSuite(
    kind="target",
    tests=[test for test in target_tests.tests if test.name in STREAMLESS_TESTS],
)
zendesk_suite = SingerTestSuite(
    kind="target",
    tests=[
        ZendeskDuplicateTickets,
        ZendeskStateAfterWrites,
        ZendeskTicketMissingKey,
        ZendeskSpecialChars,
        ZendeskSchemaUpdates,
    ],
)

StandardTargetTests = get_target_test_class(
    target_class=TargetZendesk,
    config=CONFIG,
    custom_suites=[streamless_suite, zendesk_suite],
    include_target_tests=False,
    parse_env_config=False,
)


class TestTargetZendeskStandard(StandardTargetTests):  # type: ignore[misc, valid-type]
    """The curated suite against a fresh destination emulator per test."""

    @pytest.fixture
    def resource(self):
        """An empty destination on the port chosen at import; journal and rejects reset."""
        for name in ("journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm", "rejects.jsonl"):
            (WORKDIR / name).unlink(missing_ok=True)
        with Emulator(tickets=0, seed=7, hold_back=0, job_delay=0.05, port=PORT) as emu:
            yield emu
