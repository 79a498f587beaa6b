"""`meltano install` + `meltano run` on a throwaway copy of the repository's Meltano project.

One seeded source emulator, one empty destination emulator:

* `meltano run tap-zendesk target-zendesk` copies the account (the migration `select`), with
  both plugins' credentials given as TAP_ZENDESK_* / TARGET_ZENDESK_* environment variables;
  Meltano stores the tap's bookmarks under `emulator:tap-zendesk-to-target-zendesk`, and a
  second run starts from them and writes nothing new.
* `meltano run tap-zendesk target-jsonl` writes the same streams as files, under its own state id.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.conftest import MeltanoProject, emulator_knobs

pytestmark = pytest.mark.slow

MIGRATED = {"organizations", "users", "ticket_comments", "tickets"}


def test_meltano_install_installed_every_plugin(installed_project) -> None:
    out = installed_project.install_output
    for plugin in ("tap-zendesk", "target-zendesk", "target-jsonl"):
        assert f"Installed extractor '{plugin}'" in out or f"Installed loader '{plugin}'" in out
    for inherited in ("tap-zendesk--global", "tap-zendesk--usgov", "tap-zendesk--feedback",
                      "tap-zendesk--pii-safe"):
        assert f"'{inherited}' does not require installation: reusing parent virtualenv" in out
    venv = installed_project.root / ".meltano"
    assert (venv / "extractors/tap-zendesk/venv/bin/tap-zendesk").exists()
    assert (venv / "loaders/target-zendesk/venv/bin/target-zendesk").exists()
    assert (venv / "loaders/target-jsonl/venv/bin/target-jsonl").exists()


def test_meltano_run_migrates_between_emulators_and_keeps_state(
    meltano_project: MeltanoProject, emulator_factory
) -> None:
    src = emulator_factory(**emulator_knobs(tickets=40, seed=7, email="source@example.com",
                                            api_token="source-token"))
    dst = emulator_factory(**emulator_knobs(tickets=0, seed=7, email="dest@example.com",
                                            api_token="dest-token"))
    project = meltano_project
    project.env.update(
        ZENDESK_EMULATOR_URL=src.url,
        ZENDESK_EMULATOR_DEST_URL=dst.url,
        # Environment variables win over meltano.yml (whose emulator account is demo/demo).
        TAP_ZENDESK_EMAIL="source@example.com",
        TAP_ZENDESK_API_TOKEN="source-token",
        TARGET_ZENDESK_EMAIL="dest@example.com",
        TARGET_ZENDESK_API_TOKEN="dest-token",
    )
    source_tickets = src.collection("tickets")
    live = [t for t in source_tickets if t["status"] != "deleted"]
    assert len(live) >= 30

    project.meltano("run", "tap-zendesk", "target-zendesk")

    copied = dst.collection("tickets")
    assert len(copied) == len(live)
    assert Counter(t["subject"] for t in copied) == Counter(t["subject"] for t in live)
    assert Counter(t["description"] for t in copied) == Counter(t["description"] for t in live)
    source_orgs = {o["name"] for o in src.collection("organizations")}
    assert source_orgs <= {o["name"] for o in dst.collection("organizations")}

    state_id = "emulator:tap-zendesk-to-target-zendesk"
    assert project.state_ids() == [state_id]
    bookmarks = project.state(state_id)["singer_state"]["bookmarks"]
    assert set(bookmarks) == MIGRATED
    assert bookmarks["tickets"]["replication_key"] == "updated_at"
    assert bookmarks["tickets"]["replication_key_value"] == max(
        t["updated_at"] for t in source_tickets)
    assert bookmarks["ticket_comments"]["replication_key"] == "created_at"

    # A second run resumes from the stored bookmarks: nothing new reaches the destination.
    writes = len(dst.write_log())
    project.meltano("run", "tap-zendesk", "target-zendesk")
    assert len(dst.collection("tickets")) == len(live)
    assert len(dst.write_log()) == writes, "second run wrote to the destination again"
    again = project.state(state_id)["singer_state"]["bookmarks"]
    assert again["tickets"]["replication_key_value"] == bookmarks["tickets"][
        "replication_key_value"]

    # Same tap into files: its own state id, a full first run, one file per selected stream.
    project.meltano("run", "tap-zendesk", "target-jsonl")
    states = project.states()
    assert sorted(states) == sorted([state_id, "emulator:tap-zendesk-to-target-jsonl"])
    assert states[state_id]["singer_state"]["bookmarks"] == again
    assert sorted(project.outputs()) == sorted(f"tap_zendesk/{s}.jsonl" for s in MIGRATED)
    tickets = project.jsonl("tap_zendesk", "tickets")
    assert sorted(t["id"] for t in tickets) == sorted(t["id"] for t in source_tickets)
    jsonl_bookmarks = states["emulator:tap-zendesk-to-target-jsonl"]["singer_state"]["bookmarks"]
    assert jsonl_bookmarks["tickets"]["replication_key_value"] == bookmarks["tickets"][
        "replication_key_value"]
