"""SIGKILL the tap or the target at the worst moments of a `tap-zendesk | target-zendesk` run, then
rerun from the last STATE that reached the state file, as Meltano does (it keeps the target's
STATE output): no ticket missing, none duplicated, comments complete and in order.

The two processes run as Meltano runs them: a pump copies the tap's stdout to the target's
stdin line by line; each STATE line the target prints replaces the state file. Both log at
DEBUG (LOGLEVEL), and everything they left behind is scanned for the secrets.

Covered elsewhere: a killed tap alone resumes exactly (tests/tap/test_state_resume.py); a killed
target alone re-run on the same input (tests/target/test_target_faults.py).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

import pytest

from tests.faults.conftest import (
    IMPORT,
    KNOBS,
    OAUTH_TOKEN,
    Arm,
    armed,
    assert_destination_exact,
    assert_no_secrets,
    tap_config,
    target_config,
)

BIN = Path(sys.executable).parent
JOB_POLLS = "/api/v2/job_statuses/show_many"


def wait_for(condition: t.Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll until `condition` holds (bounds the wait; asserts nothing about timing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Pipeline:
    """One `tap | target` run with a pump in between and a Meltano-style state file."""

    def __init__(
        self,
        tmp: Path,
        run: str,
        tap_cfg: dict,
        catalog: dict,
        target_cfg: dict,
        state: dict | None,
        kill_tap_after: t.Callable[[dict], bool] | None = None,
    ) -> None:
        self.tmp = tmp
        self.state_file = tmp / "state.json"
        self.kill_tap_after = kill_tap_after
        self.forwarded: list[dict] = []
        #: The tap's stdout as it came (an account dump `target_zendesk.verify` can read).
        self.raw: list[bytes] = []
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))}
        env["LOGLEVEL"] = "DEBUG"
        (tmp / "config-tap.json").write_text(json.dumps(tap_cfg))
        (tmp / "config-target.json").write_text(json.dumps(target_cfg))
        (tmp / "catalog.json").write_text(json.dumps(catalog))
        tap = [str(BIN / "tap-zendesk"), "--config", str(tmp / "config-tap.json")]
        tap += ["--catalog", str(tmp / "catalog.json")]
        if state is not None:
            (tmp / f"state-in-{run}.json").write_text(json.dumps(state))
            tap += ["--state", str(tmp / f"state-in-{run}.json")]
        self.tap_log = (tmp / f"tap-{run}.log").open("wb")
        self.target_log = (tmp / f"target-{run}.log").open("wb")
        self.tap = subprocess.Popen(tap, stdout=subprocess.PIPE, stderr=self.tap_log, env=env)
        self.target = subprocess.Popen(
            [str(BIN / "target-zendesk"), "--config", str(tmp / "config-target.json")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.target_log,
            env=env,
            cwd=tmp,
        )
        self.threads = [
            threading.Thread(target=self._pump, daemon=True),
            threading.Thread(target=self._keep_states, daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _pump(self) -> None:
        """Tap stdout -> target stdin; when the target is gone, stop the tap (as Meltano does)."""
        assert self.tap.stdout is not None and self.target.stdin is not None
        for line in self.tap.stdout:
            try:
                self.target.stdin.write(line)
                self.target.stdin.flush()
            except (BrokenPipeError, OSError):
                self.tap.kill()
                break
            self.raw.append(line)
            message = json.loads(line)
            self.forwarded.append(message)
            if self.kill_tap_after is not None and self.kill_tap_after(message):
                self.tap.send_signal(signal.SIGKILL)
                self.kill_tap_after = None
        try:
            self.target.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def _keep_states(self) -> None:
        """Each STATE line of the target replaces the state file (Meltano's state backend)."""
        assert self.target.stdout is not None
        for line in self.target.stdout:
            if line.strip():  # a target prints each STATE value as one JSON line
                self.state_file.write_text(json.dumps(json.loads(line)))

    def kill_target(self) -> None:
        """SIGKILL the target now."""
        self.target.send_signal(signal.SIGKILL)

    def wait(self) -> tuple[int, int]:
        """Both exit codes, once the run is over."""
        rc_target = self.target.wait(timeout=120)
        rc_tap = self.tap.wait(timeout=120)
        for thread in self.threads:
            thread.join(timeout=30)
        self.tap_log.close()
        self.target_log.close()
        return rc_tap, rc_target

    def saved_state(self) -> dict | None:
        """What Meltano would hand the next run."""
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else None


def nth_bookmark(stream: str, n: int) -> t.Callable[[dict], bool]:
    """True on the STATE message that moves `stream`'s bookmark for the n-th time."""
    seen: list[t.Any] = []

    def check(message: dict) -> bool:
        if message.get("type") != "STATE":
            return False
        mark = message["value"].get("bookmarks", {}).get(stream, {})
        key = mark.get("cursor") or mark.get("start_time")
        if key is not None and (not seen or seen[-1] != key):
            seen.append(key)
        return len(seen) == n

    return check


def open_batches(journal: Path) -> list[tuple[str, str | None]]:
    """(operation, job_id) of the batches the journal still holds open."""
    with sqlite3.connect(journal) as db:
        return list(db.execute("SELECT operation, job_id FROM batches"))


KILLS: dict[str, tuple[str, t.Any, tuple[Arm, ...], dict[str, t.Any]]] = {
    # name: (who is killed, when the tap is killed, destination faults, destination knobs)
    "tap between pages of the tickets export": ("tap", nth_bookmark("tickets", 2), (), {}),
    "tap between pages of the comments export": (
        "tap",
        nth_bookmark("ticket_comments", 3),
        (),
        {},
    ),
    # The target dies while the second import POST is on the wire (the emulator answers it
    # 1.5 s later: within request_timeout, so the rerun's grace covers it).
    "target mid-batch, its import POST in flight": (
        "target",
        None,
        (Arm("stall", IMPORT, 2, {"seconds": 1.5}),),
        {},
    ),
    # Jobs end after their 2nd status read, so the POST's reply always says "queued"; the
    # first read after the import POST hangs, and the target dies waiting for it.
    "target after a job was submitted, before it was confirmed": (
        "target",
        None,
        (Arm("stall", JOB_POLLS, 1, {"seconds": 3.0}, after=IMPORT),),
        {"job_polls": 2},
    ),
}


@pytest.mark.parametrize("name", sorted(KILLS))
def test_sigkill_then_rerun_from_the_saved_state_is_exact(name, source, emulator_factory, tmp_path):
    """Killed at `name`, the rerun from the state file leaves every ticket once, comments whole."""
    who, trigger, dest_faults, dest_knobs = KILLS[name]
    dest = emulator_factory(**{"tickets": 0, **KNOBS, **dest_knobs})
    # The tap on OAuth, the target on the API token (the matrix does it the other way round).
    tap_cfg = tap_config(source.emu, oauth_token=OAUTH_TOKEN)
    del tap_cfg["email"], tap_cfg["api_token"]
    # Small batches, and STATE at least every 0.3 s: the state file moves during the run.
    target_cfg = target_config(
        dest, tmp_path, batch_size_rows=10, request_timeout=3, max_batch_age_seconds=0.3
    )
    del target_cfg["oauth_token"]
    target_cfg.update(email=KNOBS["email"], api_token=KNOBS["api_token"])

    with armed(dest, dest_faults) as faults:
        first = Pipeline(
            tmp_path,
            "1",
            tap_cfg,
            source.catalog,
            target_cfg,
            None,
            kill_tap_after=trigger if who == "tap" else None,
        )
        if who == "target":
            wait_for(lambda: faults.fired("stall") >= 1, "the stalled request")
            first.kill_target()
        rc_tap, rc_target = first.wait()
    if who == "tap":
        assert rc_tap == -signal.SIGKILL, "premise: the tap was killed"
        assert rc_target == 0, (tmp_path / "target-1.log").read_text()[-3000:]
    else:
        assert rc_target == -signal.SIGKILL, "premise: the target was killed"
        kind = "POST in flight" if "POST" in name else "job submitted"
        batches = open_batches(tmp_path / "journal.sqlite")
        assert batches, f"premise: the kill left a batch open ({kind})"
        assert all((job is None) == ("POST" in name) for _, job in batches), batches
    live = [row for row in source.emu.collection("tickets") if row["status"] != "deleted"]
    assert len(dest.collection("tickets")) < len(live), "premise: the first run was cut short"
    state = first.saved_state()

    second = Pipeline(tmp_path, "2", tap_cfg, source.catalog, target_cfg, state)
    rc_tap, rc_target = second.wait()
    assert (rc_tap, rc_target) == (0, 0), (tmp_path / "target-2.log").read_text()[-3000:]
    assert state and state["bookmarks"], "premise: the target saved a STATE before the end"
    assert_destination_exact(source.emu, dest)
    if who == "target":
        log = (tmp_path / "target-2.log").read_text()
        assert "left unconfirmed" in log, "the rerun finishes the open batch first"
    assert_no_secrets(tmp_path)
