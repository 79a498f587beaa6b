"""Target-only fixtures: tap-shaped Singer input from a seeded account, and ways to run the target.

Inputs are built the way tap-zendesk emits them (organizations, users, ticket_comments, then
tickets, records shaped like the API objects), from a source emulator's collections.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from target_zendesk.target import TargetZendesk
from tests.conftest import API_TOKEN, EMAIL
from tests.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
SCHEMAS = ROOT / "tap_zendesk" / "schemas"
#: tap-zendesk's stream order: comments before tickets, so each ticket arrives complete.
TAP_ORDER = ("organizations", "users", "ticket_comments", "tickets")


def schema_of(stream: str) -> dict[str, t.Any]:
    """The tap's JSON schema for a stream (the target ignores it, but the SDK wants one)."""
    path = SCHEMAS / f"{stream}.json"
    if path.exists():
        return json.loads(path.read_text())
    return {"type": "object", "properties": {"id": {"type": "integer"}}}


def schema_line(stream: str) -> str:
    """The SCHEMA message tap-zendesk writes for a stream."""
    return json.dumps(
        {"type": "SCHEMA", "stream": stream, "schema": schema_of(stream), "key_properties": ["id"]}
    )


def singer_lines(streams: t.Mapping[str, t.Iterable[dict[str, t.Any]]]) -> list[str]:
    """SCHEMA + RECORD lines per stream, in the given order, with a STATE after each stream."""
    lines = []
    for stream, records in streams.items():
        lines.append(schema_line(stream))
        for record in records:
            lines.append(json.dumps({"type": "RECORD", "stream": stream, "record": record}))
        lines.append(json.dumps({"type": "STATE", "value": {"bookmarks": {stream: {"done": 1}}}}))
    return lines


def write_singer(path: Path, streams: t.Mapping[str, t.Iterable[dict[str, t.Any]]]) -> Path:
    """Write a .singer file and return its path."""
    path.write_text("\n".join(singer_lines(streams)) + "\n")
    return path


@dataclass
class SourceAccount:
    """A seeded account's collections, as tap-zendesk would emit them."""

    collections: dict[str, list[dict[str, t.Any]]]

    def streams(self, order: t.Sequence[str] = TAP_ORDER) -> dict[str, list[dict[str, t.Any]]]:
        """The collections in a stream order (tap order by default)."""
        return {name: self.collections[name] for name in order}

    @property
    def live_tickets(self) -> list[dict[str, t.Any]]:
        """Tickets that should land in the destination (not deleted)."""
        return [t for t in self.collections["tickets"] if t["status"] != "deleted"]


@pytest.fixture(scope="session")
def source_account() -> SourceAccount:
    """A 120-ticket account (with organizations, users and ~2 comments per ticket)."""
    with Emulator(tickets=120, seed=11, hold_back=0, job_delay=0) as emu:
        return SourceAccount({name: emu.collection(name) for name in TAP_ORDER})


def target_config(emu: Emulator, tmp_path: Path, **overrides: t.Any) -> dict[str, t.Any]:
    """Config for an emulator destination, with the journal and rejects file under tmp_path."""
    config: dict[str, t.Any] = {
        "api_url": emu.url,
        "email": EMAIL,
        "api_token": API_TOKEN,
        "journal_path": str(tmp_path / "journal.sqlite"),
        "rejects_path": str(tmp_path / "rejects.jsonl"),
        "request_timeout": 10,
        # a lost reply is looked up after this long (default 60 s): keep tests quick
        "lost_reply_grace_seconds": 3,
    }
    config.update(overrides)
    return config


@dataclass
class RunResult:
    """What one in-process run printed and counted."""

    states: list[dict[str, t.Any]]
    target: TargetZendesk
    summary: list[str] = field(default_factory=list)

    def count(self, stream: str, name: str) -> int:
        """A counter of the run's summary."""
        runtime = self.target._runtime
        return runtime.counters.get(stream, name) if runtime else 0


def run_target(config: dict[str, t.Any], input_path: Path) -> RunResult:
    """Run the target in this process on a .singer file; STATE lines are returned parsed."""
    target = TargetZendesk(config=config, parse_env_config=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), input_path.open() as handle:
        target.listen(handle)
    states = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    summary = target._runtime.summary() if target._runtime else []
    return RunResult(states, target, summary)


def run_target_process(
    config: dict[str, t.Any],
    input_path: Path,
    tmp_path: Path,
    *,
    wait: bool = True,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes] | subprocess.CompletedProcess[bytes]:
    """Run `target-zendesk --config ... < input` as a child process (for kills and exit codes)."""
    config_path = tmp_path / f"config-{os.getpid()}-{len(list(tmp_path.iterdir()))}.json"
    config_path.write_text(json.dumps(config))
    cmd = [sys.executable, "-m", "target_zendesk.target", "--config", str(config_path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARGET_ZENDESK_")}
    env.update(extra_env or {})
    stdin = input_path.open("rb")
    if not wait:
        return subprocess.Popen(
            cmd,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=env,
        )
    with stdin:
        return subprocess.run(
            cmd,
            stdin=stdin,
            capture_output=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
            check=False,
        )


def rejects(config: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """Lines of the rejects file (none when it was never written)."""
    path = Path(config["rejects_path"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def by_external_id(emu: Emulator, collection: str) -> dict[str, dict[str, t.Any]]:
    """Destination rows keyed by external_id (fails if two share one: a duplicate)."""
    rows: dict[str, dict[str, t.Any]] = {}
    for row in emu.collection(collection):
        ext = row.get("external_id")
        if ext:
            assert ext not in rows, f"two {collection} share external_id {ext}"
            rows[ext] = row
    return rows
