"""Helpers for the tap tests: run TapZendesk in-process and collect what it wrote.

`run_tap` captures the Singer messages (stdout), stderr and every log line at DEBUG, and keeps
the exception a run ended with, so one result object serves both the data checks and the
secret scans.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import logging
import math
import traceback
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import backoff._sync
import pytest

from tap_zendesk.tap import TapZendesk
from tests.conftest import emulator_config
from tests.emulator import Emulator

#: Credentials distinctive enough to be searched for in captured output.
SECRET_EMAIL = "ops@example.com"
SECRET_API_TOKEN = "tok-9QfZ3xLkV7sR2mW8"
SECRET_OAUTH_TOKEN = "oat-Hn4Kc8Yp2Lw6Tz1B"

#: Emulator knobs every tap test wants: no hold-back, 1 s rate windows (the governor paces by
#: the nominal 10/min export header otherwise), and the distinctive credentials above.
FAST = {
    "hold_back": 0,
    "window_seconds": 1,
    "email": SECRET_EMAIL,
    "api_token": SECRET_API_TOKEN,
    "oauth_token": SECRET_OAUTH_TOKEN,
}


def start_emulator(factory: Any, **knobs: Any) -> Emulator:
    """An emulator from the session factory with the FAST defaults (knobs win)."""
    return factory(**{**FAST, **knobs})


# Fixtures for modules that share one account across their tests (import them by name).


@pytest.fixture(scope="module")
def emu(emulator_factory: Any) -> Emulator:
    """A 300-ticket account (seed 7) shared by one module's tests; read it through `clean`."""
    return start_emulator(emulator_factory, tickets=300, seed=7)


@pytest.fixture
def clean(emu: Emulator) -> Iterator[Emulator]:
    """The shared emulator with no armed faults and zeroed counters."""
    emu.clear_faults()
    emu.reset_stats()
    yield emu
    emu.clear_faults()


def tap_config(emu: Emulator, *, oauth: bool = False, **overrides: Any) -> dict[str, Any]:
    """Tap config for an emulator started with FAST (API token, or OAuth with `oauth=True`)."""
    config = emulator_config(emu)
    config["email"] = SECRET_EMAIL
    config["api_token"] = SECRET_API_TOKEN
    if oauth:
        config.pop("email")
        config.pop("api_token")
        config["oauth_token"] = SECRET_OAUTH_TOKEN
    config.update(overrides)
    return config


def secrets() -> tuple[str, ...]:
    """Every string that must never leave the process: tokens and the basic-auth value."""
    basic = base64.b64encode(f"{SECRET_EMAIL}/token:{SECRET_API_TOKEN}".encode()).decode()
    return (SECRET_API_TOKEN, SECRET_OAUTH_TOKEN, basic)


class Killed(BaseException):
    """Raised from stdout to stop a run right after its k-th STATE message (a simulated kill)."""


class _Stdout(io.BytesIO):
    """stdout bytes that can 'kill' the run after a number of STATE messages of one stream."""

    def __init__(self, kill_after: int | None, stream: str | None) -> None:
        super().__init__()
        self.kill_after = kill_after
        self.stream = stream
        self.states = 0
        self._last: Any = None

    def write(self, data: Any) -> int:
        written = super().write(data)
        if self.kill_after is None:
            return written
        for line in bytes(data).splitlines():
            if b'"STATE"' not in line:
                continue
            message = json.loads(line)
            if message.get("type") != "STATE":
                continue
            value = message["value"]
            mark = (value.get("bookmarks") or {}).get(self.stream) or {}
            key = (mark.get("cursor"), mark.get("start_time"))
            if key != (None, None) and key != self._last:
                self._last = key
                self.states += 1
                if self.states >= self.kill_after:
                    raise Killed(f"killed after {self.states} STATE messages of {self.stream}")
        return written


class LogCollector(logging.Handler):
    """Keeps every formatted log line, tracebacks included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


@contextlib.contextmanager
def debug_logs(*names: str) -> Iterator[LogCollector]:
    """Collect every log line while the block runs: one handler on the root logger (the named
    loggers, e.g. "tap-zendesk" and "urllib3", propagate to it), the root and the named loggers
    at DEBUG, so that secret scans see what a debugging user would see. Levels are restored
    and the handler removed afterwards."""
    handler = LogCollector()
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in names)]
    saved = [(lg, lg.level) for lg in loggers]
    root.addHandler(handler)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for lg, level in saved:
            lg.setLevel(level)


@dataclass
class Run:
    """What one tap run produced."""

    messages: list[dict] = field(default_factory=list)
    stderr: str = ""
    logs: list[str] = field(default_factory=list)
    log_records: list[logging.LogRecord] = field(default_factory=list)
    error: BaseException | None = None
    tap: TapZendesk | None = None

    @property
    def records(self) -> dict[str, list[dict]]:
        """RECORD payloads per stream, in emission order."""
        out: dict[str, list[dict]] = defaultdict(list)
        for message in self.messages:
            if message["type"] == "RECORD":
                out[message["stream"]].append(message["record"])
        return out

    @property
    def states(self) -> list[dict]:
        """Every STATE value, in order."""
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict:
        """The last STATE value (what a target would hand to the next run)."""
        states = self.states
        return states[-1] if states else {}

    def ids(self, stream: str, key: str = "id") -> list[Any]:
        """Primary keys of a stream's records, in emission order (duplicates kept)."""
        return [r[key] for r in self.records.get(stream, [])]

    def warnings(self, needle: str = "") -> list[str]:
        """Log lines at WARNING or above that contain `needle`."""
        return [
            r.getMessage()
            for r in self.log_records
            if r.levelno >= logging.WARNING and needle in r.getMessage()
        ]

    def text(self) -> str:
        """Everything a person or a log shipper could see: output, logs, error, state."""
        parts = [json.dumps(self.messages), self.stderr, "\n".join(self.logs)]
        if self.error is not None:
            parts.append(repr(self.error))
            parts.append(str(self.error))
            parts.append("".join(traceback.format_exception(self.error)))
        parts.append(json.dumps(self.final_state))
        return "\n".join(parts)


def catalog_for(
    config: dict[str, Any], *, only: set[str] | None = None, also: set[str] = frozenset()
) -> dict:
    """The discovered catalog with `only` streams selected (default selection if None) + `also`."""
    catalog = copy.deepcopy(TapZendesk(config=config, parse_env_config=False).catalog_dict)
    for entry in catalog["streams"]:
        root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
        name = entry["tap_stream_id"]
        if only is not None:
            root["metadata"]["selected"] = name in only or name in also
        elif name in also:
            root["metadata"]["selected"] = True
    return catalog


def run_tap(
    config: dict[str, Any],
    *,
    state: dict | None = None,
    only: set[str] | None = None,
    also: set[str] = frozenset(),
    catalog: dict | None = None,
    kill_after_states: int | None = None,
    kill_stream: str | None = None,
    prepare: Any = None,
    tap_class: type[TapZendesk] = TapZendesk,
) -> Run:
    """Run one sync in-process; never raises (the error is kept on the result).

    `only`/`also` pick streams through a catalog; `kill_after_states=k` stops the run right
    after the k-th changed bookmark of `kill_stream`; `prepare(tap)` runs before the sync (to
    reset emulator stats after discovery, fake clocks, ...).
    """
    run = Run()
    raw = _Stdout(kill_after_states, kill_stream)
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    err = io.StringIO()
    with debug_logs("tap-zendesk", "urllib3") as handler:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                if catalog is None and (only is not None or also):
                    catalog = catalog_for(config, only=only, also=also)
                tap = tap_class(config=config, state=state, catalog=catalog, parse_env_config=False)
                run.tap = tap
                if prepare is not None:
                    prepare(tap)
                tap.sync_all()
            except BaseException as exc:  # noqa: BLE001 - the tests inspect it
                if isinstance(exc, KeyboardInterrupt):
                    raise
                run.error = exc
            finally:
                with contextlib.suppress(Exception):
                    out.flush()
    run.stderr = err.getvalue()
    run.logs = handler.lines
    run.log_records = handler.records
    for line in raw.getvalue().decode("utf-8").split("\n"):
        if line.strip():
            run.messages.append(json.loads(line))
    return run


class FakeClock:
    """One clock for backoff and the governor: sleeping advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 10_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Current fake time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the wait and move time on."""
        self.sleeps.append(float(seconds))
        self.now += float(seconds)


def use_fake_clock(monkeypatch: Any, clock: FakeClock) -> Any:
    """Patch backoff's sleep now; return a `prepare` hook that wires the tap's governor too."""
    monkeypatch.setattr(backoff._sync, "time", SimpleNamespace(sleep=clock.sleep))

    def prepare(tap: TapZendesk) -> None:
        governor = tap.connection.governor
        governor._clock = clock.monotonic
        governor._sleep = clock.sleep

    return prepare


def pages(rows: int, per_page: int) -> int:
    """Requests a paged read of `rows` needs at `per_page` (an empty read still costs one)."""
    return max(1, math.ceil(rows / per_page))


def record_urls(tap: TapZendesk, sink: list[str]) -> None:
    """Append the URL of every request the tap's shared session sends to `sink`."""
    session = tap.connection.session
    original = session.send

    def send(request: Any, **kwargs: Any) -> Any:
        sink.append(request.url)
        return original(request, **kwargs)

    session.send = send  # type: ignore[method-assign]


def then(*hooks: Any) -> Any:
    """Chain several `prepare` hooks."""

    def prepare(tap: TapZendesk) -> None:
        for hook in hooks:
            if hook is not None:
                hook(tap)

    return prepare


def fresh_counts(emu: Emulator, *faults: tuple[str, dict[str, Any]]) -> Any:
    """A `prepare` hook: zero the emulator's counters after discovery, then arm `faults`.

    With stats reset, request 1 is the sync's first request, so `at_request=2` is the second
    page of a single selected stream.
    """

    def prepare(tap: TapZendesk) -> None:
        _ = tap.streams  # discovery reads the field definitions (3 requests): not the sync's
        emu.reset_stats()
        for kind, params in faults:
            emu.add_fault(kind, **params)

    return prepare


def run_with_fault(
    emu: Emulator,
    config: dict[str, Any],
    kind: str,
    *,
    only: set[str] | None = None,
    tap_class: type[TapZendesk] = TapZendesk,
    before: Any = None,
    **params: Any,
) -> Run:
    """One sync with emulator fault `kind` (its `params`: at_request, path, retry_after ...)
    armed after discovery, as `fresh_counts` does; `before(tap)` runs first (a fake clock's
    hook). Asserts the premise that the fault fired exactly once."""
    prepare = then(before, fresh_counts(emu, (kind, params)))
    run = run_tap(config, only=only, tap_class=tap_class, prepare=prepare)
    assert emu.stats()["faults_fired"].get(kind) == 1, "premise: fault fired"
    return run
