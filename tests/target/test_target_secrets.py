"""No credential in any output: DEBUG logs, stderr, STATE, rejects file, journal, error messages."""

from __future__ import annotations

import base64
import typing as t
from pathlib import Path

import pytest

from tests.conftest import EMAIL
from tests.target.conftest import run_target_process, target_config, write_singer

API_TOKEN = "Sup3r-S3cret-T0ken-4242"
OAUTH_TOKEN = "S3cret-OAuth-Acc3ss-777"


def mixed_input(tmp_path: Path) -> Path:
    """Users, comments and tickets, one ticket bound to be rejected."""
    return write_singer(
        tmp_path / "mixed.singer",
        {
            "users": [{"id": 1, "name": "Ann", "email": "ann@x.test"}],
            "ticket_comments": [
                {
                    "id": 1,
                    "ticket_id": 1,
                    "author_id": 1,
                    "body": "hello",
                    "public": True,
                    "created_at": "2024-01-01T00:00:00Z",
                }
            ],
            "tickets": [
                {"id": 1, "subject": "ok", "requester_id": 1, "status": "open"},
                {"id": 2, "subject": "bad", "requester_id": 404, "description": "d"},
            ],
        },
    )


def leaks(tmp_path: Path, output: bytes, secrets: t.Iterable[str]) -> list[str]:
    """Secrets found in the process output or in any file the run left in tmp_path."""
    blobs = [output] + [
        p.read_bytes()
        for p in tmp_path.rglob("*")
        if p.is_file() and not p.name.startswith("config-")
    ]
    return [s for s in secrets for blob in blobs if s.encode() in blob]


@pytest.mark.parametrize("fault", ["429", "500", "401"])
def test_api_token_never_appears_in_debug_output_rejects_or_journal(
    emulator_factory, tmp_path, fault
):
    """With DEBUG logging and a failing request, neither token nor basic-auth value leaks."""
    dest = emulator_factory(tickets=0, hold_back=0, job_delay=0.05, api_token=API_TOKEN)
    dest.add_fault(fault, path="/api/v2/imports/tickets/create_many", times=1, retry_after=1)
    config = target_config(
        dest, tmp_path, api_token=API_TOKEN, fail_on_rejects=True, request_timeout=2
    )
    done = run_target_process(
        config, mixed_input(tmp_path), tmp_path, extra_env={"LOGLEVEL": "DEBUG"}
    )
    output = done.stdout + done.stderr
    assert b"DEBUG" in done.stderr  # the run really logged at DEBUG
    assert done.returncode == 1  # a reject (fail_on_rejects) or the 401
    basic = base64.b64encode(f"{EMAIL}/token:{API_TOKEN}".encode()).decode()
    assert leaks(tmp_path, output, [API_TOKEN, basic]) == []
    if fault == "401":
        assert b"Couldn't authenticate you" in done.stderr
    else:
        assert (tmp_path / "rejects.jsonl").exists()


def test_oauth_token_never_appears_when_zendesk_refuses_it(emulator_factory, tmp_path):
    """A refused OAuth token: the error names the auth mode and the fix, never the token."""
    dest = emulator_factory(tickets=0, hold_back=0, oauth_token="the-real-one")
    config = target_config(dest, tmp_path, oauth_token=OAUTH_TOKEN)
    del config["api_token"], config["email"]
    done = run_target_process(
        config, mixed_input(tmp_path), tmp_path, extra_env={"LOGLEVEL": "DEBUG"}
    )
    assert done.returncode == 1
    assert b"OAuth" in done.stderr
    assert leaks(tmp_path, done.stdout + done.stderr, [OAUTH_TOKEN]) == []
