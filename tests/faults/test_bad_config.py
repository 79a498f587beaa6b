"""Bad configuration, through the real executables: each case gets one clear message (what is
wrong, which key, how to fix it), the right exit status, no request for a rejected config, and
no secret in the output (DEBUG logging on).

The in-process checks of the tap's messages (tests/tap/test_client_errors.py `CONFIG_CASES`) and
of subdomain parsing (tests/shared/test_urls.py) are not repeated; this adds the processes'
exit status and output, the target, unknown keys and a refused token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tests.faults.conftest import (
    API_TOKEN,
    OAUTH_TOKEN,
    SECRET_EMAIL,
    assert_no_secrets,
    basic_value,
    tap_config,
    target_config,
)

BIN = Path(sys.executable).parent
WRONG_TOKEN = "tok-S3CRET-wrong-Vb52"
WRONG = (WRONG_TOKEN, basic_value(SECRET_EMAIL, WRONG_TOKEN))

Transform = t.Callable[[dict[str, t.Any]], dict[str, t.Any]]


def without(*keys: str) -> Transform:
    """Drop keys from a config."""
    return lambda c: {k: v for k, v in c.items() if k not in keys}


def plus(**values: t.Any) -> Transform:
    """Add or replace keys."""
    return lambda c: {**c, **values}


def then(*steps: Transform) -> Transform:
    """Apply transforms in order."""

    def apply(config: dict[str, t.Any]) -> dict[str, t.Any]:
        for step in steps:
            config = step(config)
        return config

    return apply


def run_cli(
    tmp: Path, args: list[str], config: dict[str, t.Any], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """Run an executable with `--config` at DEBUG, in tmp_path, without the shell's settings."""
    path = tmp / "config.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))}
    env["LOGLEVEL"] = "DEBUG"
    return subprocess.run(
        [*args, "--config", str(path)],
        input=stdin,
        capture_output=True,
        cwd=tmp,
        env=env,
        timeout=120,
        check=False,
    )


# case: (config transform, exit status, texts the output must hold)
TAP_CASES: dict[str, tuple[Transform, int, tuple[str, ...]]] = {
    "no credentials": (without("api_token"), 1, ("No credentials", "`api_token`")),
    "no subdomain nor api_url": (without("api_url"), 1, ("Set `subdomain`", "`api_url`")),
    "unknown key": (plus(page_sise=50), 0, ("`page_sise`", "did you mean `page_size`")),
    "full URL as subdomain": (
        then(without("api_url"), plus(subdomain="https://acme.zendesk.com/agent")),
        1,
        ("`subdomain`", "looks like a URL", "set `subdomain` to `acme`"),
    ),
    "http api_url off loopback": (
        plus(api_url="http://acme.zendesk.com"),
        1,
        ("`api_url` uses plain http", "use https"),
    ),
    "bad token": (
        plus(api_token=WRONG_TOKEN),
        1,
        ("401", "Zendesk refused email + API token", "`api_token` is current"),
    ),
    "unparsable start_date": (
        plus(start_date="last tuesday"),
        1,
        ("`start_date`", "ISO-8601", "2024-01-01T00:00:00Z"),
    ),
    "start_date in the future": (
        plus(start_date="2999-01-01T00:00:00Z"),
        1,
        ("`start_date` is in the future",),
    ),
    "both auth modes": (
        plus(oauth_token=OAUTH_TOKEN),
        1,
        ("Several auth modes", "`oauth_token`", "`api_token`", "keep exactly one"),
    ),
}

TARGET_CASES: dict[str, tuple[Transform, int, tuple[str, ...]]] = {
    "no credentials": (without("oauth_token"), 1, ("No credentials", "`oauth_token`")),
    "no subdomain nor api_url": (without("api_url"), 1, ("Set `subdomain`", "`api_url`")),
    "unknown key": (plus(batch_sise=50), 0, ("`batch_sise`", "did you mean `batch_size`")),
    "a tap-only key": (
        plus(start_date="not a date"),
        0,
        ("`start_date`", "not a target-zendesk setting"),
    ),
    "full URL as subdomain": (
        then(without("api_url"), plus(subdomain="acme.zendesk.com")),
        1,
        ("`subdomain`", "set `subdomain` to `acme`"),
    ),
    "http api_url off loopback": (
        plus(api_url="http://acme.zendesk.com"),
        1,
        ("`api_url` uses plain http", "use https"),
    ),
    "bad token": (
        plus(oauth_token=WRONG_TOKEN),
        1,
        ("401", "Zendesk refused an OAuth access token", "OAuth token is current"),
    ),
    "both auth modes": (
        plus(email=SECRET_EMAIL, api_token=API_TOKEN),
        1,
        ("Several auth modes", "`oauth_token`", "`api_token`"),
    ),
    "batch_size above Zendesk's 100": (
        plus(batch_size=500),
        1,
        ("`batch_size` must be an integer from 1 to 100",),
    ),
    "an import tag with a space": (
        plus(import_tags=["imported", "from crm"]),
        1,
        ("`import_tags` entry 'from crm' must be one word",),
    ),
}

SCHEMA = {"type": "object", "properties": {}}
#: One user and one ticket: enough for a target run to write something.
SMALL_INPUT = "\n".join(
    json.dumps(m)
    for m in (
        {"type": "SCHEMA", "stream": "users", "schema": SCHEMA, "key_properties": []},
        {"type": "RECORD", "stream": "users", "record": {"id": 1, "name": "Ann", "email": "a@x.t"}},
        {"type": "SCHEMA", "stream": "tickets", "schema": SCHEMA, "key_properties": []},
        {
            "type": "RECORD",
            "stream": "tickets",
            "record": {"id": 5, "subject": "s", "requester_id": 1, "description": "d"},
        },
        {"type": "STATE", "value": {"bookmarks": {"tickets": {"cursor": "c1"}}}},
    )
).encode()


def check(done: subprocess.CompletedProcess[bytes], status: int, texts: t.Sequence[str]) -> str:
    """Exit status and message; return the output for further checks."""
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    assert done.returncode == status, f"exit {done.returncode}, want {status}:\n{output[-3000:]}"
    missing = [text for text in texts if text not in output]
    assert not missing, f"the message lacks {missing}:\n{output[-3000:]}"
    return output


@pytest.mark.parametrize("case", list(TAP_CASES))
def test_tap_config(case, source, tmp_path):
    """tap-zendesk: the message names the key and the fix; a rejected config sends nothing."""
    transform, status, texts = TAP_CASES[case]
    (tmp_path / "catalog.json").write_text(json.dumps(source.catalog))
    source.emu.reset_stats()
    args = [str(BIN / "tap-zendesk"), "--catalog", str(tmp_path / "catalog.json")]
    done = run_cli(tmp_path, args, transform(tap_config(source.emu)))
    output = check(done, status, texts)
    requests = source.emu.stats()["total_requests"]
    if status and "401" not in texts:
        assert requests == 0, "a rejected config must not send a request"
    if status and "401" not in texts:
        assert "Traceback" not in output, "a config error is one message, not a stack trace"
    if not status:
        assert b'"type":"RECORD"' in done.stdout.replace(b" ", b""), "the run went on"
    assert_no_secrets(tmp_path, output, extra=WRONG)


@pytest.mark.parametrize("case", list(TARGET_CASES))
def test_target_config(case, dest, tmp_path):
    """target-zendesk: the message names the key and the fix; a rejected config writes nothing."""
    transform, status, texts = TARGET_CASES[case]
    config = transform(target_config(dest, tmp_path))
    done = run_cli(tmp_path, [str(BIN / "target-zendesk")], config, SMALL_INPUT)
    output = check(done, status, texts)
    if status:
        assert dest.collection("tickets") == [], "nothing is written"
        if "401" not in texts:
            assert dest.stats()["total_requests"] == 0, "nor read"
            assert "Traceback" not in output, "a config error is one message, not a stack trace"
    else:
        assert {t.get("external_id") for t in dest.collection("tickets")} == {"5"}
        assert json.loads(done.stdout.decode().splitlines()[-1])["bookmarks"], "STATE relayed"
    assert_no_secrets(tmp_path, output, extra=WRONG)
