"""Two Zendesk instances in one Meltano project: `tap-zendesk--global` and `tap-zendesk--usgov`.

Both inherit from `tap-zendesk`, each with its own account (here two emulators with different
data and different credentials), and job `zendesk-instances` runs them one after the other
(started here as cron would: `meltano schedule run zendesk-instances-hourly`).
Each keeps its own Meltano state: a later run of one leaves the other's bookmarks alone.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import zendesk_session
from tests.e2e.conftest import MeltanoProject, emulator_knobs

pytestmark = pytest.mark.slow

GLOBAL_ID = "emulator:tap-zendesk--global-to-target-jsonl"
USGOV_ID = "emulator:tap-zendesk--usgov-to-target-jsonl"


def test_inherited_taps_run_as_one_job_with_separate_state(
    meltano_project: MeltanoProject, emulator_factory
) -> None:
    glob = emulator_factory(**emulator_knobs(tickets=20, seed=7))
    gov = emulator_factory(**emulator_knobs(tickets=12, seed=11, email="gov-admin@example.gov",
                                            api_token="gov-token"))
    project = meltano_project
    project.env.update(
        ZENDESK_EMULATOR_GLOBAL_URL=glob.url,
        ZENDESK_EMULATOR_USGOV_URL=gov.url,
        # The usgov account has other credentials: given to that plugin alone through
        # Meltano's per-plugin variables (the global one keeps meltano.yml's demo account).
        TAP_ZENDESK__USGOV_EMAIL="gov-admin@example.gov",
        TAP_ZENDESK__USGOV_API_TOKEN="gov-token",
    )
    schedules = json.loads(project.meltano("schedule", "list", "--format=json").stdout)
    [hourly] = [s for s in schedules["schedules"]["job"] if s["name"] == "zendesk-instances-hourly"]
    assert hourly["job"]["name"] == "zendesk-instances"
    assert hourly["job"]["tasks"] == ["tap-zendesk--global target-jsonl",
                                      "tap-zendesk--usgov target-jsonl"]

    project.meltano("schedule", "run", "zendesk-instances-hourly")  # what cron would run

    accounts = {"zendesk_global": glob, "zendesk_usgov": gov}
    for folder, emu in accounts.items():
        tickets = project.jsonl(folder, "tickets")
        assert sorted(t["id"] for t in tickets) == sorted(t["id"] for t in emu.collection(
            "tickets"))
        users = {u["id"] for u in project.jsonl(folder, "users")}
        assert users == {u["id"] for u in emu.collection("users")}
    assert not {u["id"] for u in glob.collection("users")} & {
        u["id"] for u in gov.collection("users")}, "the two accounts must not share user ids"

    states = project.states()
    assert sorted(states) == [GLOBAL_ID, USGOV_ID]
    global_state, usgov_state = states[GLOBAL_ID], states[USGOV_ID]
    for state, emu in ((global_state, glob), (usgov_state, gov)):
        assert state["singer_state"]["bookmarks"]["tickets"]["replication_key_value"] == max(
            t["updated_at"] for t in emu.collection("tickets"))
    assert global_state != usgov_state

    # A change in the usgov account; only that instance runs again.
    changed = next(t for t in gov.collection("tickets") if t["status"] == "open")
    reply = zendesk_session(gov, "gov-admin@example.gov", "gov-token").put(
        f"{gov.url}/api/v2/tickets/{changed['id']}.json",
        json={"ticket": {"priority": "urgent"}}, timeout=10)
    assert reply.status_code == 200, reply.text
    updated_at = reply.json()["ticket"]["updated_at"]

    project.meltano("run", "tap-zendesk--usgov", "target-jsonl")

    states = project.states()
    assert states[GLOBAL_ID] == global_state, "global state changed by a usgov run"
    usgov_after = states[USGOV_ID]["singer_state"]["bookmarks"]
    assert usgov_after["tickets"]["replication_key_value"] == updated_at
    rerun = project.jsonl("zendesk_usgov", "tickets")[len(gov.collection("tickets")):]
    assert changed["id"] in {t["id"] for t in rerun}
    assert len(rerun) < len(gov.collection("tickets")), "the rerun did not start from its state"
    assert len(project.jsonl("zendesk_global", "tickets")) == len(glob.collection("tickets"))


def test_prod_credentials_of_each_instance_come_from_its_own_variables(
    meltano_project: MeltanoProject,
) -> None:
    """In `prod` each inherited tap reads ZENDESK_<INSTANCE>_*; the parent's vars don't leak."""
    env = {
        "TAP_ZENDESK_SUBDOMAIN": "parent", "TAP_ZENDESK_EMAIL": "parent@example.com",
        "TAP_ZENDESK_API_TOKEN": "parent-token",
        "ZENDESK_GLOBAL_SUBDOMAIN": "acme", "ZENDESK_GLOBAL_EMAIL": "ops@acme.example",
        "ZENDESK_GLOBAL_API_TOKEN": "global-token",
        "ZENDESK_USGOV_SUBDOMAIN": "acme-gov", "ZENDESK_USGOV_EMAIL": "ops@acme-gov.example",
        "ZENDESK_USGOV_API_TOKEN": "usgov-token",
    }

    def config(plugin: str) -> dict:
        out = meltano_project.meltano("--environment=prod", "invoke", "--dump=config", plugin,
                                      env=env).stdout
        return json.loads(out)

    glob, gov = config("tap-zendesk--global"), config("tap-zendesk--usgov")
    assert (glob["subdomain"], glob["email"], glob["api_token"]) == (
        "acme", "ops@acme.example", "global-token")
    assert (gov["subdomain"], gov["email"], gov["api_token"]) == (
        "acme-gov", "ops@acme-gov.example", "usgov-token")
    assert "api_url" not in glob and "api_url" not in gov
