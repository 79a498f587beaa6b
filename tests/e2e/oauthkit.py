"""Helpers for the OAuth end-to-end tests: emulators with short-lived tokens, real tap and target
processes sharing one token store, and the secret scan over everything they left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tap_zendesk.api.oauth import TokenStore, save_login
from tests.emulator import Emulator
from tests.tap.tapkit import FAST, catalog_for

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
#: Distinctive, so a scan can find it anywhere it leaked.
CLIENT_ID = "pipeline-client"
CLIENT_SECRET = "cs-Wq7Rk2Nz9Xv4Lp6T"
#: Emulator knobs of every OAuth test: the registered client and the tap tests' fast settings.
OAUTH = {**FAST, "oauth_client_id": CLIENT_ID, "oauth_client_secret": CLIENT_SECRET}
#: Outer variables that would change a plugin's config.
_SCRUBBED = ("TAP_ZENDESK", "TARGET_ZENDESK", "MELTANO_")


def start(factory: Any, **knobs: Any) -> Emulator:
    """An emulator with the OAuth client registered (knobs win)."""
    return factory(**{**OAUTH, **knobs})


def oauth_config(emu: Emulator, store: Path | None, *, seed: bool = True,
                 **extra: Any) -> dict[str, Any]:
    """Tap/target connection settings for the refresh flow; `seed` issues a first refresh token."""
    config: dict[str, Any] = {"subdomain": "demo", "api_url": emu.url, "client_id": CLIENT_ID,
                              "client_secret": CLIENT_SECRET, "start_date": "2000-01-01T00:00:00Z"}
    if store is not None:
        config["token_store"] = str(store)
    if seed:
        config["refresh_token"] = emu.issue_oauth_tokens()["refresh_token"]
    config.update(extra)
    return config


def logged_in_store(emu: Emulator, path: Path) -> TokenStore:
    """A store as `tap-zendesk-login` leaves it (a live pair from the emulator)."""
    store = TokenStore(path)
    save_login(store, emu.issue_oauth_tokens(), client_id=CLIENT_ID, base=emu.url,
               clock=time.time)
    return store


def env(tmp: Path) -> dict[str, str]:
    """The process environment without plugin settings; the default store lives under `tmp`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
    clean["XDG_CONFIG_HOME"] = str(tmp / "xdg")
    clean["PYTHONUNBUFFERED"] = "1"
    return clean


@dataclass
class Proc:
    """One finished tap or target process and the files it wrote."""

    returncode: int
    stdout: str
    stderr: str
    files: dict[str, str] = field(default_factory=dict)

    def messages(self) -> list[dict[str, Any]]:
        """Singer messages on stdout (tap) or STATE lines (target)."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def ids(self, stream: str) -> set[int]:
        """Record ids of a stream on stdout."""
        return {m["record"]["id"] for m in self.messages()
                if m.get("type") == "RECORD" and m.get("stream") == stream}

    def text(self) -> str:
        """Everything a person or a log shipper could see."""
        return "\n".join([self.stdout, self.stderr, *self.files.values()])


def write_tap_inputs(tmp: Path, config: dict[str, Any], streams: set[str],
                     name: str = "tap") -> tuple[Path, Path]:
    """Config and catalog files selecting `streams` (discovery here stays offline: no token)."""
    config_path = tmp / f"{name}-config.json"
    config_path.write_text(json.dumps(config))
    catalog_path = tmp / f"{name}-catalog.json"
    offline = {**config, "type_custom_fields": False}
    catalog_path.write_text(json.dumps(catalog_for(offline, only=streams)))
    return config_path, catalog_path


def tap_command(config_path: Path, catalog_path: Path, *, prelude: str = "") -> list[str]:
    """`tap-zendesk --config --catalog`, optionally after some Python (to simulate a crash)."""
    if not prelude:
        return [str(BIN / "tap-zendesk"), "--config", str(config_path), "--catalog",
                str(catalog_path)]
    code = f"{prelude}\nfrom tap_zendesk.tap import TapZendesk\nTapZendesk.cli()"
    return [sys.executable, "-c", code, "--config", str(config_path), "--catalog",
            str(catalog_path)]


def start_tap(tmp: Path, config_path: Path, catalog_path: Path, *,
              prelude: str = "") -> subprocess.Popen[str]:
    """Start the tap as its own process."""
    return subprocess.Popen(tap_command(config_path, catalog_path, prelude=prelude),
                            cwd=tmp, env=env(tmp), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> Proc:
    """Wait for a started process."""
    out, err = proc.communicate(timeout=timeout)
    return Proc(proc.returncode, out, err)


def run_tap(tmp: Path, config: dict[str, Any], streams: set[str], **kw: Any) -> Proc:
    """Run the tap as a process to the end."""
    paths = write_tap_inputs(tmp, config, streams)
    return finish(start_tap(tmp, *paths, **kw))


def users_feed(path: Path, count: int, prefix: str = "oauth") -> Path:
    """A tap-shaped `users` feed of `count` end users, with a STATE at the end."""
    lines = [json.dumps({"type": "SCHEMA", "stream": "users", "key_properties": ["id"],
                         "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}})]
    for i in range(1, count + 1):
        lines.append(json.dumps({"type": "RECORD", "stream": "users", "record": {
            "id": 900_000 + i, "name": f"OAuth User {i}", "email": f"{prefix}{i}@oauth.test",
            "role": "end-user"}}))
    lines.append(json.dumps({"type": "STATE", "value": {"bookmarks": {"users": {"done": True}}}}))
    path.write_text("\n".join(lines) + "\n")
    return path


def target_config(emu: Emulator, tmp: Path, store: Path | None, **extra: Any) -> dict[str, Any]:
    """Target settings for the refresh flow: journal and rejects file under `tmp`."""
    config = oauth_config(emu, store, **extra)
    config.pop("start_date")
    config.update(journal_path=str(tmp / "journal.sqlite"),
                  rejects_path=str(tmp / "rejects.jsonl"), request_timeout=10)
    return config


def start_target(tmp: Path, config: dict[str, Any], feed: Path) -> subprocess.Popen[str]:
    """Start `target-zendesk --config` reading `feed` on stdin."""
    config_path = tmp / "target-config.json"
    config_path.write_text(json.dumps(config))
    with open(feed) as stdin:
        return subprocess.Popen([str(BIN / "target-zendesk"), "--config", str(config_path)],
                                cwd=tmp, env=env(tmp), stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


def finish_target(proc: subprocess.Popen[str], config: dict[str, Any],
                  timeout: float = 60) -> Proc:
    """Wait for the target; keep its rejects file with the output."""
    done = finish(proc, timeout)
    rejects = Path(config["rejects_path"])
    if rejects.exists():
        done.files["rejects"] = rejects.read_text()
    return done


def assert_no_secrets(emu: Emulator, *texts: str) -> None:
    """No OAuth token the emulator ever issued, nor the client secret, in any of `texts`."""
    secrets = [CLIENT_SECRET, *emu.issued_oauth_tokens()]
    blob = "\n".join(texts)
    leaked = [s[:6] + "..." for s in secrets if s in blob]
    assert not leaked, f"secret(s) leaked: {leaked}"


def assert_store_holds_the_live_pair(emu: Emulator, store: TokenStore) -> None:
    """The store's refresh token is the one the emulator still honours, and the only one."""
    record = store.read()
    assert record is not None
    assert emu.oauth_stats()["refresh_tokens"] == [record.pair.refresh_token]
    last_access, last_refresh = emu.issued_oauth_tokens()[-2:]
    assert (record.pair.access_token, record.pair.refresh_token) == (last_access, last_refresh)
