"""OAuth with rotating refresh tokens over real HTTP: tap and target runs that outlive their access
tokens, two processes on one token store, a crash right after a refresh, a revoked grant.

Access tokens live 1 s here (Zendesk: 30 min), so every run crosses several rotations; emulator
stalls stretch the runs. Nothing asserts on timing: only outcomes and counts.
"""

from __future__ import annotations

import json
import signal

import pytest

from tap_zendesk.api.oauth import LOGIN_COMMAND, TokenStore
from tests.e2e.oauthkit import (
    assert_no_secrets,
    assert_store_holds_the_live_pair,
    finish,
    finish_target,
    logged_in_store,
    oauth_config,
    run_tap,
    start,
    start_tap,
    start_target,
    target_config,
    users_feed,
    write_tap_inputs,
)
from tests.tap.tapkit import run_tap as run_tap_in_process

pytestmark = pytest.mark.slow

#: Stretch a tap run over ~3 s (10 ticket pages of 20, each held 0.3 s): shorter than a token's
#: life, so a request sent with a fresh token is never refused because of the stall alone.
STALLS = {"kind": "stall", "path": "/api/v2/incremental/tickets/cursor", "times": 10,
          "seconds": 0.3}
TICKETS = 200


def stretch(emu) -> None:
    """Arm the stalls that make a tap run outlive several access tokens."""
    emu.add_fault(**STALLS)


def refreshes(emu) -> int:
    """refresh_token grants the emulator served."""
    return emu.oauth_stats()["granted"].get("refresh_token", 0)


def test_a_tap_run_over_several_token_lifetimes_delivers_every_record(emulator_factory, tmp_path):
    """Tokens expire every second; the run refreshes as it goes and the store ends current."""
    emu = start(emulator_factory, tickets=TICKETS, oauth_token_lifetime=1)
    store = tmp_path / "tokens.json"
    config = oauth_config(emu, store, page_size=20)
    stretch(emu)
    run = run_tap_in_process(config, only={"tickets", "groups", "organizations"})
    assert run.error is None, repr(run.error)
    for stream in ("tickets", "groups", "organizations"):
        assert set(run.ids(stream)) == {row["id"] for row in emu.collection(stream)}, stream
    # >= 2.7 s between the first and last ticket page with 1 s tokens: >= 3 distinct tokens.
    assert refreshes(emu) >= 3
    assert emu.oauth_stats()["refused"] == {}
    assert_store_holds_the_live_pair(emu, TokenStore(store))
    assert_no_secrets(emu, run.text())


def test_a_target_run_over_several_token_lifetimes_writes_every_record(
    emulator_factory, tmp_path
):
    """target-zendesk (a process) keeps writing across rotations; nothing is rejected."""
    emu = start(emulator_factory, tickets=0, oauth_token_lifetime=1, job_delay=1.0)
    store = tmp_path / "tokens.json"
    config = target_config(emu, tmp_path, store, batch_size=20, max_jobs_in_flight=1)
    feed = users_feed(tmp_path / "users.singer", 60)
    done = finish_target(start_target(tmp_path, config, feed), config)
    assert done.returncode == 0, done.stderr[-3000:]
    written = {row["email"] for row in emu.collection("users")}
    assert {f"oauth{i}@oauth.test" for i in range(1, 61)} <= written
    assert not done.files.get("rejects", "").strip()
    assert done.messages()[-1] == {"bookmarks": {"users": {"done": True}}}
    # Three jobs of >= 1 s each, one at a time, with 1 s tokens.
    assert refreshes(emu) >= 3
    assert emu.oauth_stats()["refused"] == {}
    assert_store_holds_the_live_pair(emu, TokenStore(store))
    assert_no_secrets(emu, done.text())


def test_two_processes_sharing_a_store_refresh_once_for_one_rotation(emulator_factory, tmp_path):
    """Both get a 401 on the same dead token: one refreshes (held 1.5 s), the other adopts."""
    emu = start(emulator_factory, tickets=40, oauth_token_lifetime=60)
    store = logged_in_store(emu, tmp_path / "tokens.json")
    emu.expire_oauth_access_tokens()  # the stored access token dies; its refresh token lives
    emu.add_fault("stall", path="/oauth/tokens", times=1, seconds=1.5)
    config = oauth_config(emu, store.path, seed=False)
    paths = write_tap_inputs(tmp_path, config, {"groups", "organizations"})
    first, second = start_tap(tmp_path, *paths), start_tap(tmp_path, *paths)
    runs = [finish(first), finish(second)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.ids("organizations") == {row["id"] for row in emu.collection("organizations")}
    assert refreshes(emu) == 1, "exactly one refresh for one rotation"
    assert emu.oauth_stats()["refused"] == {}
    assert_store_holds_the_live_pair(emu, store)
    assert_no_secrets(emu, *(run.text() for run in runs))


def test_tap_and_target_running_together_share_every_rotation(emulator_factory, tmp_path):
    """A pipeline's tap and target on one store, tokens of 1 s: no refresh token is used twice."""
    emu = start(emulator_factory, tickets=TICKETS, oauth_token_lifetime=1, job_delay=1.0)
    store = tmp_path / "xdg" / "default-location.json"
    tap_cfg = oauth_config(emu, store, page_size=20)
    target_cfg = target_config(emu, tmp_path, store, seed=False, batch_size=20,
                               max_jobs_in_flight=1, refresh_token=tap_cfg["refresh_token"])
    stretch(emu)
    tap = start_tap(tmp_path, *write_tap_inputs(tmp_path, tap_cfg, {"tickets", "groups"}))
    target = start_target(tmp_path, target_cfg, users_feed(tmp_path / "users.singer", 60))
    tap_run, target_run = finish(tap), finish_target(target, target_cfg)
    assert tap_run.returncode == 0, tap_run.stderr[-3000:]
    assert target_run.returncode == 0, target_run.stderr[-3000:]
    assert tap_run.ids("tickets") == {row["id"] for row in emu.collection("tickets")}
    assert {f"oauth{i}@oauth.test" for i in range(1, 61)} <= {
        row["email"] for row in emu.collection("users")}
    # A refresh token used twice (two processes racing) would be refused: invalid_grant.
    assert emu.oauth_stats()["refused"] == {}
    assert refreshes(emu) >= 3
    assert_store_holds_the_live_pair(emu, TokenStore(store))
    assert_no_secrets(emu, tap_run.text(), target_run.text())


#: Runs inside the tap process: SIGKILL it the moment its second refresh is on disk.
KILL_AFTER_SECOND_SAVE = """
import os, signal
from tap_zendesk.api import oauth
_write, _saved = oauth.TokenStore.write, []
def write(self, *args, **kwargs):
    _write(self, *args, **kwargs)
    _saved.append(1)
    if len(_saved) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
oauth.TokenStore.write = write
"""


def test_a_process_killed_right_after_a_refresh_leaves_a_store_the_next_run_uses(
    emulator_factory, tmp_path
):
    """Persist before use: a SIGKILL right after a rotation leaves the live pair on disk."""
    emu = start(emulator_factory, tickets=TICKETS, oauth_token_lifetime=1)
    store = TokenStore(tmp_path / "tokens.json")
    config = oauth_config(emu, store.path, page_size=20)
    stretch(emu)
    paths = write_tap_inputs(tmp_path, config, {"tickets"})
    killed = finish(start_tap(tmp_path, *paths, prelude=KILL_AFTER_SECOND_SAVE))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert refreshes(emu) == 2
    assert_store_holds_the_live_pair(emu, store)
    emu.clear_faults()
    again = finish(start_tap(tmp_path, *paths))  # same config: the spent seed is still in it
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.ids("tickets") == {row["id"] for row in emu.collection("tickets")}
    assert emu.oauth_stats()["refused"] == {}
    assert_no_secrets(emu, killed.text(), again.text())


@pytest.mark.parametrize("product", ["tap", "target"])
def test_a_revoked_grant_stops_with_one_clear_error_and_an_intact_store(
    emulator_factory, tmp_path, product
):
    """The refresh token is refused: exit non-zero, name store, host and login command; no write."""
    emu = start(emulator_factory, tickets=20, oauth_token_lifetime=60, job_delay=0)
    store = logged_in_store(emu, tmp_path / "store" / "tokens.json")
    before = store.path.read_bytes()
    emu.revoke_oauth_tokens()  # the user removed the grant in Zendesk
    if product == "tap":
        done = run_tap(tmp_path, oauth_config(emu, store.path, seed=False), {"groups"})
    else:
        config = target_config(emu, tmp_path, store.path, seed=False)
        feed = users_feed(tmp_path / "users.singer", 3)
        done = finish_target(start_target(tmp_path, config, feed), config)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines()
              if "Zendesk refused the OAuth refresh token" in line]
    assert errors, done.stderr[-3000:]
    message = errors[-1]
    host = emu.url.split("//", 1)[1]
    assert str(store.path) in message and host in message
    assert f"{LOGIN_COMMAND} --api-url {emu.url} --client-id" in message
    assert store.path.read_bytes() == before, "the store is not touched"
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["tokens.json",
                                                                   "tokens.json.lock"]
    assert json.loads(before)["refresh_token"]  # still the (revoked) pair, readable
    assert emu.oauth_stats()["refused"] == {"refresh_token": 1}
    assert_no_secrets(emu, done.text())
