"""The login helper (`python -m tap_zendesk.api.login`) against the emulator, without a browser:
the test follows the printed authorization URL, which the emulator approves at once."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tap_zendesk.api.oauth import TokenStore, default_token_store
from tests.e2e.oauthkit import (
    CLIENT_ID,
    CLIENT_SECRET,
    assert_no_secrets,
    assert_store_holds_the_live_pair,
    env,
    oauth_config,
    run_tap,
    start,
)

pytestmark = pytest.mark.slow


def login(emu, tmp: Path, *extra: str, secret: str = CLIENT_SECRET) -> subprocess.CompletedProcess:
    """Run the helper with --no-browser, follow the URL it prints, and wait for it to finish."""
    environment = {**env(tmp), "TAP_ZENDESK_CLIENT_SECRET": secret}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tap_zendesk.api.login", "--api-url", emu.url, "--client-id",
         CLIENT_ID, "--no-browser", "--port", "0", "--timeout", "30", *extra],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True,
    )
    lines = [proc.stdout.readline(), proc.stdout.readline()]
    url = lines[1].strip()
    assert url.startswith(f"{emu.url}/oauth/authorizations/new?"), lines
    assert "code_challenge_method=S256" in url and "scope=read%20write" in url
    reply = requests.get(url, timeout=10)  # the emulator approves and redirects to the helper
    out, err = proc.communicate(timeout=30)
    assert reply.status_code in (200, 400)
    return subprocess.CompletedProcess(proc.args, proc.returncode, "".join(lines) + out, err)


def test_login_writes_the_default_store_that_a_run_without_refresh_token_uses(
    emulator_factory, tmp_path, monkeypatch
):
    """Login once; then the tap needs only client_id + client_secret (the store is found)."""
    emu = start(emulator_factory, tickets=10, oauth_token_lifetime=60)
    done = login(emu, tmp_path)
    assert done.returncode == 0, done.stderr
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # as the processes see it
    store = TokenStore(default_token_store({"api_url": emu.url, "client_id": CLIENT_ID}))
    assert store.path.parent == tmp_path / "xdg" / "tap-zendesk"
    assert str(store.path) in done.stdout
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert emu.oauth_stats()["granted"] == {"authorization_code": 1}
    assert_store_holds_the_live_pair(emu, store)
    config = oauth_config(emu, None, seed=False)
    assert "refresh_token" not in config and "token_store" not in config
    run = run_tap(tmp_path, config, {"groups"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.ids("groups") == {row["id"] for row in emu.collection("groups")}
    assert_no_secrets(emu, done.stdout, done.stderr, run.text())


def test_login_with_a_wrong_client_secret_saves_nothing(emulator_factory, tmp_path):
    """The code exchange is refused: exit 1 with the reason, no store, no secret printed."""
    emu = start(emulator_factory, tickets=0)
    target = tmp_path / "tokens.json"
    done = login(emu, tmp_path, "--token-store", str(target), secret="cs-not-the-secret-9")
    assert done.returncode == 1
    assert "invalid_client" in done.stderr and "nothing was saved" in done.stderr
    assert not target.exists()
    assert "cs-not-the-secret-9" not in done.stdout + done.stderr
    assert_no_secrets(emu, done.stdout, done.stderr)
