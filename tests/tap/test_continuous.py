"""Continuous mode: polls emit each change once and in order, SIGTERM stops after a page with a
STATE that resumes exactly, and polling stays inside the export limit (zero 429s)."""

from __future__ import annotations

import base64
import calendar
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_zendesk.continuous import ContinuousSync, min_interval
from tap_zendesk.tap import TapZendesk
from tests.emulator.webhooks import mutate
from tests.tap.tapkit import catalog_for, run_tap, start_emulator, tap_config

TAP = Path(sys.executable).parent / "tap-zendesk"
#: The emulator's version of Zendesk's export hold-back (60 s there): a second is complete
#: before it is exported. Export buckets enforced per 1 s window (10 export requests a second).
LIVE = {"hold_back": 2, "export_rate_limit": 10, "cursor_export_rate_limit": 20}
#: The tap told the matching limit per minute (10 per 1 s window = 600 per 60 s), short polls.
POLL = {"poll_interval_seconds": 0.2, "export_rate_limit": 600}
WAIT = 30.0


def cursor_position(tap: TapZendesk, stream: str) -> tuple[int, int]:
    """(timestamp, id) inside a stream's stored export cursor (`{ts}.0||{id}|`, base64)."""
    cursor = ((tap.state.get("bookmarks") or {}).get(stream) or {}).get("cursor")
    if not cursor:
        return (0, 0)
    ts, _, rest = base64.b64decode(cursor).decode().partition(".0||")
    return int(ts), int(rest.rstrip("|"))


def start_time(tap: TapZendesk, stream: str) -> int:
    """A time export's stored `start_time` bookmark."""
    return int(((tap.state.get("bookmarks") or {}).get(stream) or {}).get("start_time") or 0)


def wait_until(predicate: Any, what: str, timeout: float = WAIT) -> None:
    """Wait for a condition the tap reaches by itself (never a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Driver:
    """Runs a scenario in a thread beside the in-process tap; always stops the tap at the end."""

    def __init__(self, scenario: Any) -> None:
        self.scenario = scenario
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def prepare(self, tap: TapZendesk) -> None:
        """`run_tap` hook: start the scenario once the tap exists."""
        self.thread = threading.Thread(target=self._run, args=(tap.continuous,), daemon=True)
        self.thread.start()

    def _run(self, sync: ContinuousSync) -> None:
        try:
            assert sync.polling.wait(WAIT), "the initial sync did not finish"
            self.scenario(sync)
        except BaseException as exc:  # noqa: BLE001 - re-raised by check()
            self.error = exc
        finally:
            sync.request_stop()

    def check(self) -> None:
        """Re-raise what went wrong in the scenario."""
        assert self.thread is not None
        self.thread.join(WAIT)
        if self.error is not None:
            raise self.error


def test_changes_made_while_polling_are_emitted_once_and_in_order(emulator_factory):
    """New and updated tickets, a new user and a renamed organization each appear exactly once,
    tickets in the order they changed, although every poll re-reads the last 70 s of the
    organizations export."""
    emu = start_emulator(emulator_factory, tickets=40, seed=21, **LIVE)
    org = emu.collection("organizations")[0]
    seen: dict[str, Any] = {}

    def scenario(sync: ContinuousSync) -> None:
        tap = sync.tap
        a = mutate(emu, "tickets", {"subject": "First live ticket", "comment": {"body": "one"}})
        wait_until(
            lambda: cursor_position(tap, "tickets") >= (a["generated_timestamp"], a["id"]),
            "the first ticket",
        )
        b = mutate(emu, "tickets", {"subject": "Second live ticket", "comment": {"body": "two"}})
        wait_until(
            lambda: cursor_position(tap, "tickets") >= (b["generated_timestamp"], b["id"]),
            "the second ticket",
        )
        a2 = mutate(
            emu,
            "tickets",
            {"subject": "First live ticket, edited", "comment": {"body": "three", "public": True}},
            a["id"],
        )
        user = mutate(emu, "users", {"name": "Live User", "email": "live.user@example.com"})
        renamed = mutate(emu, "organizations", {"name": "Renamed live org"}, org["id"])
        renamed_at = renamed["updated_at"]
        wait_until(
            lambda: cursor_position(tap, "tickets") >= (a2["generated_timestamp"], a["id"]),
            "the edited ticket",
        )
        wait_until(lambda: cursor_position(tap, "users")[1] == user["id"], "the new user")
        wait_until(
            lambda: start_time(tap, "organizations") > _epoch(renamed_at),
            "the renamed organization",
        )
        cycles = sync.cycles
        assert sync.wait_for_cycles(cycles + 10, WAIT)  # more polls over the same 70 s window
        seen.update(a=a, b=b, user=user)

    driver = Driver(scenario)
    run = run_tap(
        tap_config(emu, **POLL),
        only={"tickets", "users", "organizations", "ticket_comments"},
        prepare=driver.prepare,
    )
    driver.check()
    assert run.error is None, repr(run.error)
    tickets = run.records["tickets"]
    live = [(r["id"], r["subject"]) for r in tickets[40:]]
    assert live == [
        (seen["a"]["id"], "First live ticket"),
        (seen["b"]["id"], "Second live ticket"),
        (seen["a"]["id"], "First live ticket, edited"),
    ]
    versions = Counter((r["id"], r["updated_at"]) for r in tickets)
    assert max(versions.values()) == 1
    assert [u["id"] for u in run.records["users"]].count(seen["user"]["id"]) == 1
    orgs = run.records["organizations"]
    assert [o["name"] for o in orgs].count("Renamed live org") == 1
    assert len(orgs) == len(emu.collection("organizations")) + 1
    bodies = Counter(c["body"] for c in run.records["ticket_comments"])
    assert (bodies["one"], bodies["two"], bodies["three"]) == (1, 1, 1)
    assert run.tap.continuous.polls["tickets"] >= 10


def _epoch(stamp: str) -> int:
    """ISO-8601 UTC -> epoch seconds."""
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))


def test_sigterm_stops_after_the_current_page_and_the_state_resumes_without_gap_or_repeat(
    emulator_factory, tmp_path
):
    """SIGTERM in the middle of the first sync: exit 0 with a final STATE; the next run from it
    emits exactly the tickets the first did not, plus those created meanwhile."""
    emu = start_emulator(emulator_factory, tickets=300, seed=23, **LIVE)
    config = tap_config(emu, **POLL, page_size=10)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_for(config, only={"tickets"})))
    log = tmp_path / "tap.log"
    proc = subprocess.Popen(
        [
            str(TAP),
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
    )
    messages, marks, signalled = [], 0, False
    assert proc.stdout is not None
    for line in proc.stdout:
        message = json.loads(line)
        messages.append(message)
        if message["type"] == "STATE" and "cursor" in json.dumps(message["value"]):
            marks += 1
            if marks == 3 and not signalled:
                proc.send_signal(signal.SIGTERM)
                signalled = True
    assert proc.wait(WAIT) == 0, log.read_text()[-3000:]
    assert "Received SIGTERM" in log.read_text()
    assert messages[-1]["type"] == "STATE"
    first = [m["record"]["id"] for m in messages if m["type"] == "RECORD"]
    assert 0 < len(first) < 300, "the run was not stopped in the middle of the export"
    assert len(first) % 10 == 0, "the run stopped inside a page"

    created = [
        mutate(emu, "tickets", {"subject": f"After the stop {i}", "comment": {"body": "new"}})["id"]
        for i in range(2)
    ]
    wait_until(lambda: _exportable(emu, created), "the new tickets to leave the hold-back")
    second = run_tap(tap_config(emu, page_size=10), state=messages[-1]["value"], only={"tickets"})
    assert second.error is None, repr(second.error)
    ids = first + second.ids("tickets")
    assert Counter(ids).most_common(1)[0][1] == 1
    assert set(ids) == {t["id"] for t in emu.collection("tickets")}
    assert second.ids("tickets")[-2:] == created


def _exportable(emu: Any, ids: list[int]) -> bool:
    """Whether the tickets are older than the emulator's hold-back."""
    rows = [t for t in emu.collection("tickets") if t["id"] in ids]
    return all(t["generated_timestamp"] <= time.time() - LIVE["hold_back"] for t in rows)


def test_many_poll_cycles_stay_inside_the_export_limit(emulator_factory):
    """Asked to poll every 10 ms, four exports poll at the budget's pace and the emulator, which
    enforces 10 export requests per window, never answers 429."""
    emu = start_emulator(emulator_factory, tickets=30, seed=25, **LIVE)

    def scenario(sync: ContinuousSync) -> None:
        for i in range(3):
            mutate(emu, "tickets", {"subject": f"Busy {i}", "comment": {"body": "x"}})
            assert sync.wait_for_cycles(sync.cycles + 8, WAIT)

    driver = Driver(scenario)
    config = tap_config(emu, poll_interval_seconds=0.01, export_rate_limit=600)
    run = run_tap(
        config,
        only={"tickets", "users", "organizations", "ticket_comments"},
        prepare=driver.prepare,
    )
    driver.check()
    assert run.error is None, repr(run.error)
    polls = run.tap.continuous.polls
    assert min(polls[s] for s in ("tickets", "organizations", "ticket_comments")) >= 20
    assert emu.stats()["rate_limited"] == 0
    assert run.warnings("too short"), "the interval was not raised to the budget's"


def test_the_shortest_interval_fits_the_export_limit_shared_by_the_selected_exports():
    """Four exports share 10/min: 2 polls each a minute, every 30 s; the cursor user export has
    its own 20/min bucket; at 30/min (High Volume) each gets 7 a minute."""
    exports = [
        "/api/v2/incremental/tickets/cursor.json",
        "/api/v2/incremental/ticket_events.json",
        "/api/v2/incremental/organizations.json",
        "/api/v2/incremental/ticket_metric_events.json",
    ]
    users = "/api/v2/incremental/users/cursor.json"
    assert min_interval([*exports, users], None) == 30.0
    assert min_interval([*exports, users], 30) == pytest.approx(60 / 7)
    assert min_interval([exports[0]], None) == 6.0
    assert min_interval([users], None) == 3.0
    assert min_interval(exports * 3, None) == 120.0  # 12 streams, 10 a minute: every 2 min
    assert min_interval(["/api/v2/help_center/incremental/articles.json"], None) == 0.0


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"poll_interval_seconds": 0}, "poll_interval_seconds"),
        ({"poll_interval_seconds": 30, "webhook_listen_port": 8080}, "webhook_signing_secret"),
        (
            {"webhook_listen_port": 8080, "webhook_signing_secret": "s3cr3t-value"},
            "needs continuous mode",
        ),
        (
            {"poll_interval_seconds": 30, "webhook_signing_secret": "s3cr3t-value"},
            "`webhook_listen_port` is not",
        ),
    ],
)
def test_continuous_settings_that_cannot_work_are_refused_with_the_fix(
    emulator_factory, settings, needle
):
    """Each bad combination is a config error naming the setting; the secret never shows."""
    emu = start_emulator(emulator_factory, tickets=5)
    with pytest.raises(ConfigValidationError) as info:
        TapZendesk(config=tap_config(emu, **settings), parse_env_config=False)
    text = str(info.value) + " ".join(info.value.errors)
    assert needle in text
    assert "s3cr3t-value" not in text
