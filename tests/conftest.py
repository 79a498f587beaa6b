"""Shared pytest fixtures: local Zendesk emulators for tap, target and contract tests.

* `emulator_factory` (session): call it with Emulator knobs to get a started emulator; all are
  stopped at the end of the session.
* `source_emulator` (module): a 200-ticket account to extract from (hold-back off, fast jobs).
* `destination_emulator` (module): an empty account (admin user and defaults only) to write to.
* `emulator_config(emu)`: the tap/target config dict pointing at an emulator.
* `zendesk_session(emu)`: a `requests.Session` with the emulator's API-token credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.emulator import Emulator

EMAIL = "demo@example.com"
API_TOKEN = "demo"


def emulator_config(emu: Emulator) -> dict[str, Any]:
    """Tap/target config for an emulator (the default credentials of every emulator)."""
    return {"subdomain": "demo", "api_url": emu.url, "email": EMAIL, "api_token": API_TOKEN,
            "start_date": "2000-01-01T00:00:00Z"}


def zendesk_session(emu: Emulator, email: str = EMAIL, token: str = API_TOKEN) -> requests.Session:
    """A keep-alive session authenticated like the tap/target (`{email}/token:{token}`)."""
    session = requests.Session()
    session.auth = (f"{email}/token", token)
    return session


@pytest.fixture(scope="session")
def emulator_factory() -> Iterator[Callable[..., Emulator]]:
    """Start emulators on demand (`emulator_factory(tickets=50, job_delay=0)`)."""
    started: list[Emulator] = []

    def make(**knobs: Any) -> Emulator:
        emu = Emulator(**knobs).start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture(scope="module")
def source_emulator() -> Iterator[Emulator]:
    """A populated account to read from; tests in one module share it, so write carefully."""
    with Emulator(tickets=200, seed=7, hold_back=0, job_delay=0.05) as emu:
        yield emu


@pytest.fixture(scope="module")
def destination_emulator() -> Iterator[Emulator]:
    """An empty account (admin user and account defaults only) to write into."""
    with Emulator(tickets=0, seed=7, hold_back=0, job_delay=0.05) as emu:
        yield emu
