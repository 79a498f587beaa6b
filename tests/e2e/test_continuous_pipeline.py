"""tap-zendesk (continuous) | target-zendesk between two emulators: a ticket created in the source
reaches the destination, confirmed and checkpointed, while both keep running."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.conftest import emulator_config
from tests.emulator import Emulator
from tests.emulator.webhooks import mutate
from tests.e2e.conftest import migration_catalog

BIN = Path(sys.executable).parent
WAIT = 45.0


def _wait_until(predicate: Any, what: str, proc: subprocess.Popen, log: Path) -> None:
    """Wait for the pipeline to reach a state by itself; fail early if the tap died."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert proc.poll() is None, (
            f"the tap exited while waiting for {what}:\n" + (log.read_text()[-3000:])
        )
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_ticket_created_in_the_source_reaches_the_destination_without_a_restart(tmp_path):
    """The new ticket and its comment are imported and the target emits a STATE past it while
    tap and target are still running; SIGTERM then ends both with exit 0 and no 429 was met."""
    live = {
        "hold_back": 2,
        "window_seconds": 1,
        "export_rate_limit": 10,
        "cursor_export_rate_limit": 20,
        "job_delay": 0.05,
    }
    with (
        Emulator(tickets=30, seed=41, **live) as source,
        Emulator(tickets=0, job_delay=0.05) as dest,
    ):
        tap_config = tmp_path / "tap.json"
        tap_config.write_text(
            json.dumps(
                {**emulator_config(source), "poll_interval_seconds": 0.5, "export_rate_limit": 600}
            )
        )
        target_config = tmp_path / "target.json"
        cfg = emulator_config(dest)
        cfg.pop("start_date")
        cfg.update(
            journal_path=str(tmp_path / "journal.sqlite"),
            max_batch_age_seconds=1,
            rejects_path=str(tmp_path / "rejects.jsonl"),
        )
        target_config.write_text(json.dumps(cfg))
        catalog = migration_catalog(tap_config, tmp_path / "catalog.json")
        tap_log, target_log = tmp_path / "tap.log", tmp_path / "target.log"
        tap = subprocess.Popen(
            [str(BIN / "tap-zendesk"), "--config", str(tap_config), "--catalog", str(catalog)],
            stdout=subprocess.PIPE,
            stderr=tap_log.open("w"),
        )
        target = subprocess.Popen(
            [str(BIN / "target-zendesk"), "--config", str(target_config)],
            stdin=tap.stdout,
            stdout=subprocess.PIPE,
            stderr=target_log.open("w"),
            text=True,
        )
        assert tap.stdout is not None and target.stdout is not None
        tap.stdout.close()  # the target owns the pipe now
        states: list[tuple[dict, bool]] = []  # each target STATE, and whether the tap still ran

        def read_states() -> None:
            for line in target.stdout:  # type: ignore[union-attr]
                if line.strip():  # a target writes each confirmed state as one JSON line
                    states.append((json.loads(line), tap.poll() is None))

        reader = threading.Thread(target=read_states, daemon=True)
        reader.start()
        try:
            live_tickets = sum(t["status"] != "deleted" for t in source.collection("tickets"))
            _wait_until(
                lambda: len(dest.collection("tickets")) == live_tickets,
                "the initial tickets",
                tap,
                tap_log,
            )
            ticket = mutate(
                source,
                "tickets",
                {"subject": "Created while streaming", "comment": {"body": "Please follow up."}},
            )
            key = str(ticket["id"])
            _wait_until(
                lambda: any(t.get("external_id") == key for t in dest.collection("tickets")),
                "the new ticket in the destination",
                tap,
                tap_log,
            )
            _wait_until(
                lambda: any(_covers(s, ticket) for s, _ in states),
                "a target STATE past the new ticket",
                tap,
                tap_log,
            )
            assert tap.poll() is None and target.poll() is None
        finally:
            tap.send_signal(signal.SIGTERM)
            tap_code = tap.wait(WAIT)
            target_code = target.wait(WAIT)
            reader.join(WAIT)
        assert tap_code == 0, tap_log.read_text()[-3000:]
        assert target_code == 0, target_log.read_text()[-3000:]
        copy = next(t for t in dest.collection("tickets") if t.get("external_id") == key)
        bodies = [
            c["body"] for c in dest.collection("ticket_comments") if c["ticket_id"] == copy["id"]
        ]
        assert bodies == ["Please follow up."]
        assert any(_covers(s, ticket) and running for s, running in states)
        assert len(dest.collection("tickets")) == live_tickets + 1
        assert source.stats()["rate_limited"] == 0


def _covers(state: dict, ticket: dict) -> bool:
    """Whether a STATE's tickets cursor is at or past the ticket (`{ts}.0||{id}|`, base64)."""
    import base64

    cursor = ((state.get("bookmarks") or {}).get("tickets") or {}).get("cursor")
    if not cursor:
        return False
    ts, _, rest = base64.b64decode(cursor).decode().partition(".0||")
    return (int(ts), int(rest.rstrip("|"))) >= (ticket["generated_timestamp"], ticket["id"])
