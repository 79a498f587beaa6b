"""Every fault of a bad night on Zendesk's side, for the tap alone and for tap | target between two
emulators, with the outcome each must have:

(a) the run completes and the output (tap) or the destination (pipeline) holds exactly the
    source rows, each once; or
(b) the run stops with an error naming the cause, and a rerun from the last STATE (the tap's, or
    in the pipeline the target's, as Meltano keeps it) completes with exactly the source rows.

Faults are armed on the k-th request to a path (retries count), so "page 2 of the tickets
export" or "the second import batch" is exact. Everything runs at DEBUG and every test ends with a
scan of all output, STATE, rejects file and journal for the secrets (zero hits).

Covered elsewhere and not repeated here: exact Retry-After waits and backoff growth on a fake
clock, give-up counts, 401 wording per auth mode (tests/tap/test_client_errors.py); resuming
after page k (tests/tap/test_state_resume.py); lost replies, job caps, reconcile counts
(tests/target/test_target_faults.py).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

import pytest

from tests.faults.conftest import (
    EVENTS,
    IMPORT,
    ORGANIZATIONS,
    TICKETS,
    USERS,
    USERS_UPSERT,
    Arm,
    armed,
    assert_destination_exact,
    assert_no_secrets,
    assert_tap_output_exact,
    assert_tap_resume_exact,
    lines_of,
    run_target,
    tap_config,
    target_config,
)


def storm(path: str, at: int, waits: t.Sequence[int]) -> tuple[Arm, ...]:
    """Consecutive 429s on one request (each retry meets the next), Retry-After `waits`."""
    return tuple(Arm("429", path, at + i, {"retry_after": wait}) for i, wait in enumerate(waits))


@dataclass(frozen=True)
class Case:
    """One fault: where it hits in the source and the destination, and the expected outcomes.

    `tap`/`pipeline` is "a" or "b" (None: does not apply, e.g. job faults to the tap alone);
    `cause` must appear in the error that stops an outcome-(b) run (`dest_cause` in the target's,
    when a destination fault stops it); `logged` in a warning of an outcome-(a) tap run.
    """

    source: tuple[Arm, ...] = ()
    dest: tuple[Arm, ...] = ()
    tap: str | None = "a"
    pipeline: str = "a"
    cause: tuple[str, ...] = ()
    dest_cause: tuple[str, ...] = ()
    logged: str = ""
    tap_config: dict[str, t.Any] = field(default_factory=dict)
    target_config: dict[str, t.Any] = field(default_factory=dict)
    #: Faults still there when the rerun starts (an expired cursor stays expired).
    rerun_source: tuple[Arm, ...] = ()
    #: Streams a rerun may re-read on purpose (cursor restart margin).
    reread: tuple[str, ...] = ()


CASES: dict[str, Case] = {
    # 429: the tap's budget is 5 rate-limit waits, the target's 3 (max_retries).
    "429 storm": Case(
        source=storm(TICKETS, 2, (1, 3, 1, 2)),
        dest=storm(IMPORT, 1, (2, 1, 3)),
        logged="HTTP 429",
    ),
    "429 storm past the retry budget": Case(
        source=storm(TICKETS, 2, (1, 1, 1)),
        dest=storm(USERS_UPSERT, 1, (1, 1)),
        tap="b",
        pipeline="b",
        cause=("429", TICKETS, "gave up after 3 attempts", "`max_retries`"),
        dest_cause=("Zendesk kept refusing", USERS_UPSERT, "max_retries"),
        tap_config={"max_retries": 2},
        target_config={"max_retries": 1},
    ),
    "500": Case(source=(Arm("500", EVENTS, 3),), dest=(Arm("500", IMPORT, 2),), logged="500"),
    "502": Case(source=(Arm("502", USERS, 2),), dest=(Arm("502", USERS_UPSERT, 1),), logged="502"),
    "503": Case(
        source=(Arm("503", ORGANIZATIONS, 1, {"retry_after": 1}),),
        dest=(Arm("503", IMPORT, 1),),
        logged="503",
    ),
    "5xx past the retry budget": Case(
        source=tuple(Arm("500", TICKETS, 2 + i) for i in range(3)),
        tap="b",
        pipeline="b",
        cause=("500", TICKETS, "gave up after 3 attempts"),
        tap_config={"max_retries": 2},
    ),
    "connection reset mid-body": Case(
        source=(Arm("reset", TICKETS, 2),), dest=(Arm("reset", IMPORT, 1),)
    ),
    "stall past request_timeout": Case(
        source=(Arm("stall", EVENTS, 2, {"seconds": 2.0}),),
        dest=(Arm("stall", IMPORT, 1, {"seconds": 1.3}),),
        logged="Timeout",
        tap_config={"request_timeout": 1},
        target_config={"request_timeout": 1},
    ),
    "truncated JSON": Case(
        source=(Arm("truncated", USERS, 1),), dest=(Arm("truncated", IMPORT, 2),)
    ),
    "HTML page with status 200": Case(
        source=(Arm("html200", TICKETS, 1),), dest=(Arm("html200", IMPORT, 1),)
    ),
    "401 in the middle of a run": Case(
        source=(Arm("401", TICKETS, 2),),
        dest=(Arm("401", IMPORT, 1),),
        tap="b",
        pipeline="b",
        cause=("401", "Zendesk refused email + API token", "token access"),
        dest_cause=("401", "Zendesk refused an OAuth access token", "OAuth token is current"),
    ),
    "expired export cursor": Case(
        source=(Arm("expired_cursor", TICKETS, 2),),
        tap="b",
        pipeline="b",
        cause=("400", "cursor is not valid"),
        rerun_source=(Arm("expired_cursor", TICKETS, 1),),
        reread=("tickets",),
    ),
    "empty pages": Case(
        source=(
            Arm("empty_page", TICKETS, 2),
            Arm("empty_page", EVENTS, 2),
            Arm("empty_page", USERS, 1),
        )
    ),
    "same rows repeated across pages": Case(
        source=(
            Arm("duplicate_rows", TICKETS, 2),
            Arm("duplicate_rows", EVENTS, 3),
            Arm("duplicate_rows", USERS, 2),
        )
    ),
    "updated_at out of order": Case(
        source=(
            Arm("out_of_order", TICKETS, 1),
            Arm("out_of_order", EVENTS, 1),
            Arm("out_of_order", USERS, 1),
            Arm("out_of_order", ORGANIZATIONS, 1),
        )
    ),
    "import job failed": Case(dest=(Arm("job_failed", IMPORT, 2),), tap=None),
    "import job failed without results": Case(
        dest=(Arm("job_failed", IMPORT, 1, {"results": "null"}),), tap=None
    ),
    "import job killed": Case(dest=(Arm("job_killed", IMPORT, 1),), tap=None),
    "pagination link to another host": Case(
        source=(Arm("foreign_next_page", EVENTS, 2),),
        tap="b",
        pipeline="b",
        cause=("Refusing to follow a URL on another host", "evil.example.com"),
    ),
}

PARAMS = [
    pytest.param(name, mode, id=f"{name.replace(' ', '_')}-{mode}")
    for name, case in CASES.items()
    for mode in ("tap", "pipeline")
    if getattr(case, mode) is not None
]


def assert_stopped_clearly(error: BaseException | None, cause: t.Sequence[str]) -> None:
    """Outcome (b): the run stopped, and its error names the cause."""
    assert error is not None, "the run should have stopped with an error"
    text = str(error)
    assert all(part in text for part in cause), f"error does not name the cause: {text}"


def test_every_case_states_its_outcomes():
    """The table is complete: each fault of the issue has a row, each row an outcome."""
    assert len(CASES) >= 15
    for name, case in CASES.items():
        assert case.tap in ("a", "b", None) and case.pipeline in ("a", "b"), name
        assert case.source or case.dest, name
        if "b" in (case.tap, case.pipeline):
            assert case.cause, f"{name}: an outcome-(b) case must say what the error names"


@pytest.mark.parametrize(("name", "mode"), PARAMS)
def test_fault(name, mode, source, request, tmp_path):
    """Each fault ends in its outcome: (a) exact output, or (b) a clear stop and an exact rerun."""
    case = CASES[name]
    emu = source.emu
    tap_cfg = tap_config(emu, **case.tap_config)
    texts: list[str] = []

    if mode == "tap":
        with armed(emu, case.source) as faults:
            first = source.run(tap_cfg)
        texts.append(first.text())
        assert not faults.missed(), f"premise: faults fired: {faults.missed()}"
        if case.tap == "a":
            assert_tap_output_exact(first, emu)
            if case.logged:
                assert first.warnings(case.logged), "the retry is announced"
        else:
            assert_stopped_clearly(first.error, case.cause)
            with armed(emu, case.rerun_source) as again:
                second = source.run(tap_cfg, state=first.states[-1] if first.states else None)
            texts.append(second.text())
            assert not again.missed(), f"premise: faults fired: {again.missed()}"
            assert_tap_resume_exact(first, second, emu, reread=case.reread)
        assert_no_secrets(tmp_path, *texts)
        return

    dest = request.getfixturevalue("dest")
    target_cfg = target_config(dest, tmp_path, batch_size_rows=20, **case.target_config)
    with armed(emu, case.source) as s_faults, armed(dest, case.dest) as d_faults:
        tap1 = source.run(tap_cfg)
        target1 = run_target(target_cfg, lines_of(tap1))
    texts += [tap1.text(), target1.text()]
    missed = s_faults.missed() + d_faults.missed()
    assert not missed, f"premise: faults fired: {missed}"
    if case.pipeline == "a":
        assert tap1.error is None, repr(tap1.error)
        assert target1.error is None, repr(target1.error)
        assert target1.last_state == tap1.final_state, "the target relays the tap's last STATE"
    else:
        if case.source:
            assert_stopped_clearly(tap1.error, case.cause)
        if case.dest_cause:
            assert_stopped_clearly(target1.error, case.dest_cause)
        state = target1.last_state  # what Meltano would have saved
        with armed(emu, case.rerun_source):
            tap2 = source.run(tap_cfg, state=state)
            target2 = run_target(target_cfg, lines_of(tap2))
        texts += [tap2.text(), target2.text()]
        assert tap2.error is None, repr(tap2.error)
        assert target2.error is None, repr(target2.error)
    assert_destination_exact(emu, dest)
    assert_no_secrets(tmp_path, *texts)
