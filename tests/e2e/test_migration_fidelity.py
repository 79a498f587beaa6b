"""Account to account with tap-zendesk | target-zendesk, then `target_zendesk.verify` on both.

The source has attachments (several per comment, inline images, private: downloads need the
source's own credentials), custom fields of every type, groups, brands, forms, statuses and CCs;
the destination holds some of those definitions under other ids and lacks the rest, which the
target creates. Both accounts are then read back with tap-zendesk and compared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.demo import DEMO_STREAMS

from tests.e2e.conftest import migration_catalog
from tests.emulator import Emulator
from tests.emulator import attachments as emulator_files

BIN = Path(sys.executable).parent
STREAMS = DEMO_STREAMS
KNOBS = {"hold_back": 0, "window_seconds": 1, "job_delay": 0.05}


def _account(emu: Emulator, email: str, token: str) -> dict:
    return {"api_url": emu.url, "email": email, "api_token": token,
            "start_date": "2000-01-01T00:00:00Z"}


def _tap(config: Path, catalog: Path, out: Path) -> Path:
    """Read an account with tap-zendesk into a .singer file (a dump verify can read)."""
    with out.open("wb") as handle:
        subprocess.run([str(BIN / "tap-zendesk"), "--config", str(config), "--catalog",
                        str(catalog)], stdout=handle, stderr=subprocess.DEVNULL, check=True,
                       timeout=300)
    return out


def _verify(tmp: Path, source: Path, destination: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "target_zendesk.verify", "--source", str(source),
         "--destination", str(destination), "--json", str(tmp / "verify.json")],
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """tap | target once (the tap's output kept as the source dump); tests inspect the result."""
    tmp = tmp_path_factory.mktemp("fidelity")
    with Emulator(tickets=150, seed=11, attachment_auth=True, email="source@example.com",
                  api_token="source-token", **KNOBS) as source, \
            Emulator(tickets=0, seed=9, definitions="some", email="dest@example.com",
                     api_token="dest-token", **KNOBS) as dest:
        source_cfg = tmp / "source.json"
        source_cfg.write_text(json.dumps(_account(source, "source@example.com", "source-token")))
        dest_cfg = tmp / "destination-tap.json"
        dest_cfg.write_text(json.dumps(_account(dest, "dest@example.com", "dest-token")))
        target_cfg = tmp / "target.json"
        target_cfg.write_text(json.dumps({
            **_account(dest, "dest@example.com", "dest-token"),
            "source_api_url": source.url, "source_email": "source@example.com",
            "source_api_token": "source-token", "create_missing_definitions": True,
            "journal_path": str(tmp / "journal.sqlite"), "rejects_path": str(tmp / "rej.jsonl"),
            "report_path": str(tmp / "report.json"),
        }))
        catalog = migration_catalog(source_cfg, tmp / "catalog.json", STREAMS)
        source_dump = _tap(source_cfg, catalog, tmp / "source.singer")
        with source_dump.open("rb") as stdin:
            run = subprocess.run([str(BIN / "target-zendesk"), "--config", str(target_cfg)],
                                 stdin=stdin, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        yield {"tmp": tmp, "source": source, "dest": dest, "source_dump": source_dump,
               "dest_cfg": dest_cfg, "catalog": catalog, "stderr": run.stderr}


def test_the_verification_check_passes_after_the_migration(migrated):
    """Counts per object match and every ticket's digest is equal; the check exits 0."""
    tmp = migrated["tmp"]
    dest_dump = _tap(migrated["dest_cfg"], migrated["catalog"], tmp / "destination.singer")
    done = _verify(tmp, migrated["source_dump"], dest_dump)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "OK: the destination matches the source." in done.stdout
    counts = json.loads((tmp / "verify.json").read_text())["counts"]
    live = [t for t in migrated["source"].collection("tickets") if t["status"] != "deleted"]
    assert counts["tickets"]["matched"] == len(live) == counts["tickets"]["destination"]
    assert counts["attachments"]["source"] == counts["attachments"]["destination"] > 20


def test_the_report_counts_records_files_bytes_and_created_definitions(migrated):
    """The run's JSON report: imported tickets, files and bytes moved, what it created."""
    report = json.loads((migrated["tmp"] / "report.json").read_text())
    source = migrated["source"]
    live = [t for t in source.collection("tickets") if t["status"] != "deleted"]
    files = [a for c in source.collection("ticket_comments")
             if c["ticket_id"] in {t["id"] for t in live} for a in c["attachments"]]
    assert report["streams"]["tickets"]["imported"] == len(live)
    assert report["streams"]["tickets"]["skipped_reasons"] == {
        "deleted in the source (status: deleted)": 150 - len(live)}
    assert report["attachments"]["uploaded"] == len(files)
    assert report["attachments"]["bytes"] == sum(a["size"] for a in files)
    assert report["unmapped"] == {}
    assert "group 'Hardware'" in report["definitions"]["groups"]["created"]
    assert emulator_files.counts(migrated["dest"].app)["uploads"] == len(files)
    assert "Summary: attachments:" in migrated["stderr"]


def test_a_comment_changed_in_the_destination_fails_the_check_naming_its_ticket(migrated):
    """Edit one comment in the destination: the check exits 1 and names that ticket."""
    tmp, dest = migrated["tmp"], migrated["dest"]
    ticket = next(t for t in dest.collection("tickets") if t.get("external_id"))
    comment = next(c for c in dest.collection("ticket_comments")
                   if c["ticket_id"] == ticket["id"])
    from tests.target.migration_kit import edit_comment

    edit_comment(dest, comment["id"], "Edited after the migration.")
    dest_dump = _tap(migrated["dest_cfg"], migrated["catalog"], tmp / "destination-2.singer")
    done = _verify(tmp, migrated["source_dump"], dest_dump)
    assert done.returncode == 1
    assert f"ticket {ticket['external_id']} " in done.stdout
    assert "body differs" in done.stdout
    assert json.loads((tmp / "verify.json").read_text())["tickets_differing"] == [
        ticket["external_id"]]
