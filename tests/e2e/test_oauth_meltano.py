"""Unattended OAuth under Meltano: `meltano run tap-zendesk target-zendesk`, again and again, with
only `client_id`, `client_secret` and a first `refresh_token` per plugin in the environment.

The first refresh token of each account is spent in the first run; every later run lives on the
token stores (default location, one per account and client) that tap and target keep rotating.
Access tokens live 1 s, so each run needs fresh ones. Environment `prod` (no config in
meltano.yml): everything the plugins know comes from the variables below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tap_zendesk.api.oauth import TokenStore, default_token_store
from tests.conftest import zendesk_session
from tests.e2e.conftest import MeltanoProject, emulator_knobs
from tests.e2e.oauthkit import CLIENT_ID, CLIENT_SECRET, OAUTH, assert_store_holds_the_live_pair

pytestmark = pytest.mark.slow
RUNS = 3


def _grants(emu) -> tuple[int, dict]:
    stats = emu.oauth_stats()
    return stats["granted"].get("refresh_token", 0), stats["refused"]


def test_meltano_runs_repeatedly_on_rotating_refresh_tokens(
    meltano_project: MeltanoProject, emulator_factory, tmp_path, monkeypatch
) -> None:
    knobs = {**OAUTH, "oauth_token_lifetime": 1}
    src = emulator_factory(**emulator_knobs(tickets=40, seed=7, **knobs))
    dst = emulator_factory(**emulator_knobs(tickets=0, seed=7, **knobs))
    xdg = tmp_path / "xdg"
    project = meltano_project
    project.env.update(
        MELTANO_ENVIRONMENT="prod",
        XDG_CONFIG_HOME=str(xdg),
        TAP_ZENDESK_API_URL=src.url,
        TAP_ZENDESK_START_DATE="2000-01-01T00:00:00Z",
        TAP_ZENDESK_CLIENT_ID=CLIENT_ID,
        TAP_ZENDESK_CLIENT_SECRET=CLIENT_SECRET,
        TAP_ZENDESK_REFRESH_TOKEN=src.issue_oauth_tokens()["refresh_token"],
        TARGET_ZENDESK_API_URL=dst.url,
        TARGET_ZENDESK_CLIENT_ID=CLIENT_ID,
        TARGET_ZENDESK_CLIENT_SECRET=CLIENT_SECRET,
        TARGET_ZENDESK_REFRESH_TOKEN=dst.issue_oauth_tokens()["refresh_token"],
    )
    for run in range(1, RUNS + 1):
        if run > 1:
            _new_ticket(src, run)  # so the target has something to write on every run
        project.meltano("run", "tap-zendesk", "target-zendesk")
        for emu in (src, dst):
            served, refused = _grants(emu)
            assert refused == {}, f"run {run}: a refresh token was refused"
            assert served >= run, f"run {run}: every run outlives the 1 s access tokens"
        live = [t for t in src.collection("tickets") if t["status"] != "deleted"]
        assert len(dst.collection("tickets")) == len(live)

    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    for emu in (src, dst):
        store = TokenStore(default_token_store({"api_url": emu.url, "client_id": CLIENT_ID}))
        assert_store_holds_the_live_pair(emu, store)

    state = project.meltano("state", "get", "prod:tap-zendesk-to-target-zendesk").stdout
    texts = [state, (project.root / "meltano-commands.log").read_text()]
    texts += [p.read_text() for p in _files(project.root, "*.log", "*rejects*.jsonl")]
    secrets = [CLIENT_SECRET, *src.issued_oauth_tokens(), *dst.issued_oauth_tokens()]
    leaked = [s[:6] + "..." for s in secrets if any(s in text for text in texts)]
    assert not leaked, f"secret(s) in Meltano's output, logs, state or rejects: {leaked}"


def _new_ticket(emu, run: int) -> None:
    """One more ticket in the source account (created with the emulator's API token)."""
    session = zendesk_session(emu, OAUTH["email"], OAUTH["api_token"])
    reply = session.post(f"{emu.url}/api/v2/tickets", timeout=10, json={"ticket": {
        "subject": f"OAuth run {run}", "comment": {"body": f"Created before run {run}."}}})
    assert reply.status_code == 201, reply.text


def _files(root: Path, *patterns: str) -> list[Path]:
    """Files under the project (logs, rejects), skipping the shared plugin virtualenvs."""
    found = []
    for pattern in patterns:
        for path in root.rglob(pattern):
            if path.is_file() and "venv" not in path.parts:
                found.append(path)
    return found
