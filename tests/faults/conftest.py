"""Fault and bad-input suite: distinctive secrets, faults armed at the k-th request, in-process
tap and target runners at DEBUG, and the checks every test ends with: nothing lost, nothing
duplicated, no secret anywhere.

Both emulators run in this process; tap and target run in it too (one after the other, the
target reading exactly what the tap printed, as through a pipe) except where a test needs a real
process (SIGKILL, exit status): see test_crashes.py and test_bad_config.py.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import threading
import traceback
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tap_zendesk.client import CURSOR_RESTART_MARGIN
from target_zendesk.target import TargetZendesk
from tests.emulator import Emulator
from tests.emulator.faults import JOB_KINDS
from tests.tap.tapkit import Run, catalog_for, debug_logs, run_tap

#: Distinctive credentials: any of these strings in any output is a leak.
SECRET_EMAIL = "faults@example.com"
API_TOKEN = "tok-S3CRET-f4ults-Qz81Lw"
OAUTH_TOKEN = "oat-S3CRET-f4ults-Hn47Kc"
BASIC = base64.b64encode(f"{SECRET_EMAIL}/token:{API_TOKEN}".encode()).decode()  # header value
SECRETS = (API_TOKEN, OAUTH_TOKEN, BASIC)

#: The four streams target-zendesk writes, in tap-zendesk's order.
STREAMS = ("organizations", "users", "ticket_comments", "tickets")
#: Export paths as the emulator counts them (no `.json`).
TICKETS = "/api/v2/incremental/tickets/cursor"
USERS = "/api/v2/incremental/users/cursor"
ORGANIZATIONS = "/api/v2/incremental/organizations"
EVENTS = "/api/v2/incremental/ticket_events"
IMPORT = "/api/v2/imports/tickets/create_many"
USERS_UPSERT = "/api/v2/users/create_or_update_many"
#: Where each stream's resume point sits in a row (time exports re-read one boundary second).
TIME_FIELD = {"organizations": "updated_at", "ticket_comments": "created_at"}

#: 30 tickets (one deleted), 61 comments, 16 users, 3 organizations; fast jobs, 1 s windows.
KNOBS: dict[str, t.Any] = {
    "seed": 7,
    "hold_back": 0,
    "window_seconds": 1,
    "job_delay": 0.05,
    "email": SECRET_EMAIL,
    "api_token": API_TOKEN,
    "oauth_token": OAUTH_TOKEN,
}
SOURCE_TICKETS = 30


# -- faults at the k-th request ------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    """Fault `kind` on the `at`-th request to `path` (retries count); no path: the next job."""

    kind: str
    path: str = ""
    at: int = 1
    params: dict[str, t.Any] = field(default_factory=dict)
    #: Count requests to `path` only once a request to this path was served.
    after: str = ""

    def __str__(self) -> str:
        where = f"{self.path} #{self.at}" if self.path else "next job"
        return f"{self.kind}@{where}" + (f" after {self.after}" if self.after else "")


class Armed:
    """Faults armed on one emulator for one run; `missed()` lists those that never fired."""

    def __init__(self, emu: Emulator, arms: t.Sequence[Arm]) -> None:
        self.emu = emu
        self.arms = list(arms)
        self.faults: list[tuple[Arm, t.Any]] = []
        self.seen: Counter[t.Any] = Counter()
        self._lock = threading.Lock()

    def fired(self, kind: str) -> int:
        """How often faults of `kind` fired so far."""
        with self._lock:
            return sum(f.fired for arm, f in self.faults if arm.kind == kind)

    def missed(self) -> list[str]:
        """Arms that did not fire (a test whose fault never happened proves nothing)."""
        fired = {id(arm) for arm, fault in self.faults if fault.fired}
        return [str(arm) for arm in self.arms if id(arm) not in fired]

    def match(self, original: t.Callable, number: int, path: str) -> t.Any:
        """Count requests per armed path; arm a fault just before its k-th request is served.

        A job kind armed on a path fails the job that request creates.
        """
        with self._lock:
            for arm in self.arms:
                if not arm.path or not path.startswith(arm.path):
                    continue
                if arm.after and not self.seen[f"served {arm.after}"]:
                    continue
                self.seen[id(arm)] += 1
                if self.seen[id(arm)] == arm.at:
                    where = {} if arm.kind in JOB_KINDS else {"path": arm.path}
                    fault = self.emu.add_fault(arm.kind, **where, **arm.params)
                    self.faults.append((arm, fault))
            for after in {a.after for a in self.arms if a.after}:
                if path.startswith(after):
                    self.seen[f"served {after}"] += 1
        return original(number, path)


@contextlib.contextmanager
def armed(emu: Emulator, arms: t.Sequence[Arm] = ()) -> t.Iterator[Armed]:
    """Arm `arms` on `emu` for the duration of the block; every fault is cleared afterwards."""
    state = Armed(emu, arms)
    registry = emu.app.faults  # type: ignore[union-attr]
    original = registry.match
    for arm in arms:
        if not arm.path:  # a job kind for the next job created
            state.faults.append((arm, emu.add_fault(arm.kind, **arm.params)))
    registry.match = lambda number, path: state.match(original, number, path)
    try:
        yield state
    finally:
        del registry.match
        emu.clear_faults()


# -- runs ----------------------------------------------------------------------------------------


@dataclass
class TargetRun:
    """What one in-process target run printed, logged and raised."""

    states: list[dict] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    logs: list[str] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def last_state(self) -> dict | None:
        """The last STATE value: what Meltano keeps in its state backend."""
        return self.states[-1] if self.states else None

    def text(self) -> str:
        """Everything a person or a log shipper could see."""
        parts = [self.stdout, self.stderr, "\n".join(self.logs)]
        if self.error is not None:
            parts += [repr(self.error), "".join(traceback.format_exception(self.error))]
        return "\n".join(parts)


def run_target(config: dict[str, t.Any], lines: t.Iterable[str]) -> TargetRun:
    """Run TargetZendesk on `lines` at DEBUG; never raises (the error is kept)."""
    run = TargetRun()
    out, err = io.StringIO(), io.StringIO()
    target = None
    with debug_logs("target-zendesk", "urllib3") as handler:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                target = TargetZendesk(config=config, parse_env_config=False)
                target.listen(io.StringIO("".join(f"{line}\n" for line in lines)))
            except BaseException as exc:  # noqa: BLE001 - the tests inspect it
                if isinstance(exc, KeyboardInterrupt):
                    raise
                run.error = exc
                runtime = getattr(target, "_runtime", None)
                if runtime is not None:  # a dead process closes its files too
                    with contextlib.suppress(Exception):
                        runtime.close()
    run.stdout, run.stderr, run.logs = out.getvalue(), err.getvalue(), handler.lines
    for line in run.stdout.splitlines():
        if line.strip():
            message = json.loads(line)
            run.states.append(message.get("value", message))
    return run


def lines_of(run: Run) -> list[str]:
    """The tap's stdout as lines (what a pipe hands the target)."""
    return [json.dumps(message) for message in run.messages]


def tap_config(source: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    """API-token (basic auth) config for the source; small pages so every stream pages."""
    config = {
        "api_url": source.url,
        "email": SECRET_EMAIL,
        "api_token": API_TOKEN,
        "start_date": "2000-01-01T00:00:00Z",
        "page_size": 10,
        "request_timeout": 5,
    }
    config.update(overrides)
    return config


def target_config(dest: Emulator, tmp_path: Path, **overrides: t.Any) -> dict[str, t.Any]:
    """OAuth (bearer) config for the destination; journal and rejects under tmp_path."""
    config = {
        "api_url": dest.url,
        "oauth_token": OAUTH_TOKEN,
        "journal_path": str(tmp_path / "journal.sqlite"),
        "rejects_path": str(tmp_path / "rejects.jsonl"),
        # The grace a lost POST reply is given is max(request_timeout, lost_reply_grace_seconds).
        "request_timeout": 2,
        "lost_reply_grace_seconds": 2,
        "batch_size": 10,
    }
    config.update(overrides)
    return config


@dataclass
class Source:
    """The module's source account and the catalog selecting the four written streams."""

    emu: Emulator
    catalog: dict

    def run(self, config: dict[str, t.Any], state: dict | None = None) -> Run:
        """One in-process tap run of the four streams at DEBUG."""
        return run_tap(config, state=state, catalog=self.catalog)


@pytest.fixture(scope="module")
def source(emulator_factory: t.Callable[..., Emulator]) -> Source:
    """A read-only 30-ticket account shared by a module (faults are armed per run)."""
    emu = emulator_factory(tickets=SOURCE_TICKETS, **KNOBS)
    catalog = catalog_for(tap_config(emu), only=set(STREAMS))
    return Source(emu, catalog)


@pytest.fixture
def dest(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    """A fresh, empty destination account per test."""
    return emulator_factory(tickets=0, **KNOBS)


# -- checks --------------------------------------------------------------------------------------


def source_ids(source: Emulator) -> dict[str, set[t.Any]]:
    """Ids of every row of the four streams in the source account."""
    return {stream: {row["id"] for row in source.collection(stream)} for stream in STREAMS}


def duplicates(values: t.Iterable[t.Any]) -> list[t.Any]:
    """Values seen more than once."""
    return sorted((v for v, n in Counter(values).items() if n > 1), key=str)


def assert_tap_output_exact(run: Run, source: Emulator) -> None:
    """One run holds every source row of each stream, each once, and a final bookmark."""
    assert run.error is None, f"tap failed: {run.error!r}"
    for stream, expected in source_ids(source).items():
        got = run.ids(stream)
        assert not duplicates(got), f"{stream}: emitted twice: {duplicates(got)[:5]}"
        assert set(got) == expected, (
            f"{stream}: missing {sorted(expected - set(got))[:5]}, extra "
            f"{sorted(set(got) - expected)[:5]}"
        )
    assert set(run.final_state.get("bookmarks", {})) >= set(STREAMS)


def committed(run: Run) -> dict[str, list[dict]]:
    """Records a run emitted before its last STATE (later ones are not covered by any STATE)."""
    last = max((i for i, m in enumerate(run.messages) if m["type"] == "STATE"), default=-1)
    out: dict[str, list[dict]] = {}
    for message in run.messages[:last]:
        if message["type"] == "RECORD":
            out.setdefault(message["stream"], []).append(message["record"])
    return out


def epoch(value: t.Any) -> int:
    """ISO-8601 or epoch -> epoch seconds."""
    import pendulum

    return value if isinstance(value, int) else int(pendulum.parse(value).timestamp())


def assert_tap_resume_exact(
    first: Run, second: Run, source: Emulator, *, reread: t.Collection[str] = ()
) -> None:
    """What run 1 emitted before its last STATE plus run 2 is every source row, once.

    Only two re-reads are by design: a time export resumes at its boundary second (Zendesk's
    own next page repeats it, zendesk_api.md 4.2), and streams in `reread` (a restart after a
    rejected cursor re-reads a margin on purpose, 4.3). The target upserts both away.
    """
    assert second.error is None, f"rerun failed: {second.error!r}"
    state = first.states[-1] if first.states else {}
    done = committed(first)
    for stream, expected in source_ids(source).items():
        one = [r["id"] for r in done.get(stream, [])]
        two = second.ids(stream)
        assert not duplicates(one) and not duplicates(two), f"{stream}: twice within a run"
        missing = expected - set(one) - set(two)
        assert not missing, f"{stream}: lost {sorted(missing)[:5]}"
        assert (set(one) | set(two)) <= expected, f"{stream}: rows not in the source"
        again = set(one) & set(two)
        if not again:
            continue
        mark = (state.get("bookmarks") or {}).get(stream) or {}
        if stream in reread:
            # The SDK drops an interrupted run's progress markers when the next run starts, so
            # a restart knows the last bookmark's time only after a completed run.
            since = mark.get("replication_key_value")
            if since is not None:
                floor = epoch(since) - CURSOR_RESTART_MARGIN
                stamps = [r["generated_timestamp"] for r in second.records[stream]]
                assert min(stamps) >= floor, f"{stream}: the restart re-read beyond its margin"
            continue
        assert stream in TIME_FIELD and "start_time" in mark, (
            f"{stream}: re-emitted after resuming from its cursor: {sorted(again)[:5]}"
        )
        stamps = {epoch(r[TIME_FIELD[stream]]) for r in second.records[stream] if r["id"] in again}
        assert stamps <= {mark["start_time"]}, f"{stream}: re-read beyond the boundary second"


def comments_by_ticket(rows: t.Iterable[dict]) -> dict[t.Any, list[dict]]:
    """Comments grouped per ticket id, each list in (created_at, id) order."""
    out: dict[t.Any, list[dict]] = {}
    for row in sorted(rows, key=lambda c: (c["created_at"], c["id"])):
        out.setdefault(row["ticket_id"], []).append(row)
    return out


def ticket_key(ticket: dict) -> str:
    """The external_id the target gives a source ticket."""
    return ticket.get("external_id") or str(ticket["id"])


def assert_destination_exact(source: Emulator, dest: Emulator) -> None:
    """The destination holds every live source ticket, user and organization exactly once,
    each ticket with all its comments in order (bodies, visibility, times)."""
    live = [t for t in source.collection("tickets") if t["status"] != "deleted"]
    got = [t.get("external_id") for t in dest.collection("tickets")]
    assert not duplicates(got), f"tickets imported twice: {duplicates(got)[:5]}"
    want = {ticket_key(t) for t in live}
    assert set(got) == want, (
        f"tickets missing {sorted(want - set(got))[:5]}, extra {sorted(set(got) - want)[:5]}"
    )
    src_comments = comments_by_ticket(source.collection("ticket_comments"))
    dst_comments: dict[t.Any, list[dict]] = {}
    for row in sorted(dest.collection("ticket_comments"), key=lambda c: c["id"]):
        dst_comments.setdefault(row["ticket_id"], []).append(row)
    by_key = {t["external_id"]: t for t in dest.collection("tickets")}
    for ticket in live:
        want_c = src_comments.get(ticket["id"], [])
        got_c = dst_comments.get(by_key[ticket_key(ticket)]["id"], [])
        assert [(c["body"], c["public"], c["created_at"]) for c in got_c] == [
            (c["body"], c["public"], c["created_at"]) for c in want_c
        ], f"ticket {ticket['id']}: comments incomplete or out of order"
    users = [u for u in source.collection("users") if u.get("active", True) and u.get("email")]
    emails = [str(u.get("email") or "").lower() for u in dest.collection("users")]
    assert not duplicates(e for e in emails if e), "a user was created twice"
    missing = {u["email"].lower() for u in users} - set(emails)
    assert not missing, f"users missing: {sorted(missing)[:5]}"
    orgs = [o for o in source.collection("organizations") if not o.get("deleted_at")]
    names = [o["name"] for o in dest.collection("organizations")]
    assert not duplicates(names), "an organization was created twice"
    assert {o["name"] for o in orgs} <= set(names), "organizations missing"


def basic_value(email: str, token: str) -> str:
    """The base64 part of `Authorization: Basic ...` for an email and API token."""
    return base64.b64encode(f"{email}/token:{token}".encode()).decode()


def assert_no_secrets(tmp_path: Path | None, *texts: str, extra: t.Sequence[str] = ()) -> None:
    """No token, OAuth token or basic-auth value (nor `extra`) in any text or file under tmp_path.

    Files named `config*` hold the credentials on purpose and are not scanned.
    """
    blobs = [text.encode("utf-8", "replace") for text in texts]
    if tmp_path is not None:
        blobs += [
            p.read_bytes()
            for p in tmp_path.rglob("*")
            if p.is_file() and not p.name.startswith("config")
        ]
    assert blobs, "premise: something to scan"
    leaked = {s[:8] + "..." for s in (*SECRETS, *extra) for blob in blobs if s.encode() in blob}
    assert not leaked, f"secret(s) leaked: {sorted(leaked)}"
