"""tap-zendesk | target-zendesk between two emulators: a faithful, idempotent migration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import emulator_config
from tests.emulator import Emulator
from tests.e2e.conftest import migration_catalog

BIN = Path(sys.executable).parent


def _pipeline(tmp: Path, tap_config: Path, target_config: Path, catalog: Path,
              state: Path | None) -> tuple[str, list[dict]]:
    """Run tap | target through a shell pipe, as a user would; return target stderr and STATEs."""
    tap = [str(BIN / "tap-zendesk"), "--config", str(tap_config), "--catalog", str(catalog)]
    if state is not None:
        tap += ["--state", str(state)]
    target = [str(BIN / "target-zendesk"), "--config", str(target_config)]
    tap_proc = subprocess.Popen(tap, stdout=subprocess.PIPE, stderr=(tmp / "tap.log").open("w"))
    out = subprocess.run(target, stdin=tap_proc.stdout, capture_output=True, text=True, timeout=300)
    tap_proc.stdout.close()
    assert tap_proc.wait(timeout=60) == 0, (tmp / "tap.log").read_text()[-3000:]
    assert out.returncode == 0, out.stderr[-3000:]
    states = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return out.stderr, states


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """Migrate a 150-ticket source into an empty destination once; tests inspect the result."""
    tmp = tmp_path_factory.mktemp("migration")
    knobs = {"hold_back": 0, "window_seconds": 1, "job_delay": 0.05}
    with Emulator(tickets=150, seed=11, **knobs) as source, Emulator(tickets=0, **knobs) as dest:
        tap_config = tmp / "tap.json"
        tap_config.write_text(json.dumps(emulator_config(source)))
        target_config = tmp / "target.json"
        cfg = emulator_config(dest)
        cfg.pop("start_date")
        cfg.update(journal_path=str(tmp / "journal.sqlite"), rejects_path=str(tmp / "rejects.jsonl"))
        target_config.write_text(json.dumps(cfg))
        catalog = migration_catalog(tap_config, tmp / "catalog.json")
        stderr, states = _pipeline(tmp, tap_config, target_config, catalog, None)
        yield {
            "tmp": tmp, "source": source, "dest": dest, "states": states, "stderr": stderr,
            "tap_config": tap_config, "target_config": target_config, "catalog": catalog,
        }


def _source_key(ticket: dict) -> str:
    return ticket.get("external_id") or str(ticket["id"])


def test_every_live_source_ticket_lands_once_and_deleted_ones_do_not(migrated):
    """Each non-deleted source ticket exists exactly once in the destination, matched by external_id."""
    source = [t for t in migrated["source"].collection("tickets")]
    live = {_source_key(t) for t in source if t["status"] != "deleted"}
    dest_keys = [t.get("external_id") for t in migrated["dest"].collection("tickets")]
    assert len(dest_keys) == len(set(dest_keys)), "a ticket was imported twice"
    assert set(dest_keys) == live


def test_comments_arrive_complete_and_in_order_with_their_privacy(migrated):
    """Each imported ticket carries its source comments in order, bodies and public flags intact."""
    src, dst = migrated["source"], migrated["dest"]
    by_ticket: dict[int, list[dict]] = {}
    for comment in src.collection("ticket_comments"):
        by_ticket.setdefault(comment["ticket_id"], []).append(comment)
    dest_comments: dict[int, list[dict]] = {}
    for comment in dst.collection("ticket_comments"):
        dest_comments.setdefault(comment["ticket_id"], []).append(comment)
    dest_by_key = {t["external_id"]: t for t in dst.collection("tickets")}
    checked = 0
    for ticket in src.collection("tickets"):
        if ticket["status"] == "deleted":
            continue
        want = sorted(by_ticket.get(ticket["id"], []), key=lambda c: (c["created_at"], c["id"]))
        got = sorted(dest_comments.get(dest_by_key[_source_key(ticket)]["id"], []),
                     key=lambda c: (c["created_at"], c["id"]))
        assert [c["body"] for c in got] == [c["body"] for c in want], ticket["id"]
        assert [c["public"] for c in got] == [c["public"] for c in want], ticket["id"]
        assert [c["created_at"] for c in got] == [c["created_at"] for c in want], ticket["id"]
        checked += 1
    assert checked > 100


def test_owners_are_mapped_to_destination_users_by_identity(migrated):
    """Requester, assignee and comment authors point at the destination users with the same email."""
    src, dst = migrated["source"], migrated["dest"]
    src_email = {u["id"]: u.get("email") for u in src.collection("users")}
    dst_email = {u["id"]: u.get("email") for u in dst.collection("users")}
    dest_by_key = {t["external_id"]: t for t in dst.collection("tickets")}
    for ticket in src.collection("tickets"):
        if ticket["status"] == "deleted":
            continue
        copy = dest_by_key[_source_key(ticket)]
        assert dst_email[copy["requester_id"]] == src_email[ticket["requester_id"]]
        if ticket.get("assignee_id"):
            assert dst_email[copy["assignee_id"]] == src_email[ticket["assignee_id"]]
        assert copy["subject"] == ticket["subject"]
        assert copy["status"] == ticket["status"]


def test_state_is_emitted_and_a_rerun_from_it_writes_nothing(migrated):
    """The final STATE carries the tap's bookmarks; rerunning from it sends no write request."""
    assert migrated["states"], "target emitted no STATE"
    final = migrated["states"][-1].get("value", migrated["states"][-1])
    assert final["bookmarks"]["tickets"].get("cursor")
    state_file = migrated["tmp"] / "state.json"
    state_file.write_text(json.dumps(final))
    dest = migrated["dest"]
    before = len(dest.collection("tickets"))
    dest.reset_stats()
    _pipeline(migrated["tmp"], migrated["tap_config"], migrated["target_config"],
              migrated["catalog"], state_file)
    writes = {k: v for k, v in dest.stats()["requests"].items() if not k.startswith("GET")}
    assert writes == {}
    assert len(dest.collection("tickets")) == before


def test_a_full_rerun_without_state_creates_no_duplicates(migrated):
    """Re-extracting everything (state lost) still leaves each ticket once in the destination."""
    dest = migrated["dest"]
    before = sorted(t["external_id"] for t in dest.collection("tickets"))
    _pipeline(migrated["tmp"], migrated["tap_config"], migrated["target_config"],
              migrated["catalog"], None)
    after = sorted(t["external_id"] for t in dest.collection("tickets"))
    assert after == before
