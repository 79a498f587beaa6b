"""State and resume: a second run reads only what changed, a killed run resumes exactly, and
state stays one bookmark per stream."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pendulum
import pytest

from tests.conftest import zendesk_session
from tests.tap.tapkit import (
    SECRET_API_TOKEN,
    SECRET_EMAIL,
    Killed,
    catalog_for,
    pages,
    record_urls,
    run_tap,
    start_emulator,
    tap_config,
)

TAP = Path(sys.executable).parent / "tap-zendesk"


def epoch(value) -> int:
    """ISO-8601 or epoch -> epoch seconds."""
    return value if isinstance(value, int) else int(pendulum.parse(value).timestamp())


# -- a second run reads only what changed ---------------------------------------------------


def test_a_second_run_from_the_final_state_yields_only_what_changed(emulator_factory):
    """Change one ticket (with a comment), one user and one organization: run 2 emits just those."""
    emu = start_emulator(emulator_factory, tickets=150, seed=9)
    config = tap_config(emu)
    first = run_tap(config)
    assert first.error is None, repr(first.error)
    assert len(first.records["tickets"]) == 150

    api = zendesk_session(emu, SECRET_EMAIL, SECRET_API_TOKEN)
    archived = emu.archived_ticket_ids
    ticket = next(
        t
        for t in emu.collection("tickets")
        if t["status"] in ("new", "open", "pending") and t["id"] not in archived
    )
    user = next(u for u in emu.collection("users") if u["role"] == "end-user")
    org = emu.collection("organizations")[0]
    reply = api.put(
        f"{emu.url}/api/v2/tickets/{ticket['id']}.json",
        json={
            "ticket": {
                "subject": "Changed subject",
                "comment": {"body": "A new reply", "public": True},
            }
        },
    )
    assert reply.status_code == 200, reply.text
    comment_ids = {e["id"] for e in reply.json()["audit"]["events"] if e.get("type") == "Comment"}
    assert api.put(
        f"{emu.url}/api/v2/users/{user['id']}.json", json={"user": {"name": "Renamed User"}}
    ).ok
    assert api.put(
        f"{emu.url}/api/v2/organizations/{org['id']}.json",
        json={"organization": {"notes": "changed"}},
    ).ok

    second = run_tap(config, state=first.final_state)
    assert second.error is None, repr(second.error)
    assert second.ids("tickets") == [ticket["id"]]
    assert second.records["tickets"][0]["subject"] == "Changed subject"
    assert second.ids("users") == [user["id"]]
    assert second.ids("organizations") == [org["id"]]
    assert set(second.ids("ticket_comments")) == comment_ids and len(comment_ids) == 1
    assert second.ids("ticket_metric_events") == []
    assert second.ids("articles") == []
    for stream in ("ticket_metric_events", "articles"):
        assert any(f"{stream}: nothing new" in line for line in second.logs), stream


# -- a killed run resumes with exactly the remainder ------------------------------------------


@pytest.fixture(scope="module")
def resume_emu(emulator_factory):
    """A read-only 300-ticket account for the kill-and-resume tests."""
    return start_emulator(emulator_factory, tickets=300, seed=12)


RESUME_CASES = {
    # stream: (page_size, kill after k pages, collection, timestamp field, export path)
    "tickets": (40, 3, "tickets", "generated_timestamp", "/api/v2/incremental/tickets/cursor"),
    "users": (20, 2, "users", "updated_at", "/api/v2/incremental/users/cursor"),
    "organizations": (4, 2, "organizations", "updated_at", "/api/v2/incremental/organizations"),
    "ticket_comments": (
        60,
        3,
        "ticket_comments",
        "created_at",
        "/api/v2/incremental/ticket_events",
    ),
}


@pytest.mark.parametrize("stream", sorted(RESUME_CASES))
def test_a_run_killed_after_page_k_resumes_with_exactly_the_remainder(resume_emu, stream):
    """Killed right after the k-th page's STATE, run 2 reads the rest: nothing lost or re-read."""
    page_size, k, collection, stamp, path = RESUME_CASES[stream]
    emu = resume_emu
    config = tap_config(emu, page_size=page_size)
    first = run_tap(config, only={stream}, kill_after_states=k, kill_stream=stream)
    assert isinstance(first.error, Killed), repr(first.error)
    bookmark = first.final_state["bookmarks"][stream]
    emu.reset_stats()
    second = run_tap(config, only={stream}, state=first.final_state)
    assert second.error is None, repr(second.error)

    expected = {row["id"] for row in emu.collection(collection)}
    one, two = first.ids(stream), second.ids(stream)
    assert len(one) == len(set(one)) and len(two) == len(set(two))
    assert set(one) | set(two) == expected, f"missing: {sorted(expected - set(one) - set(two))[:5]}"
    overlap = set(one) & set(two)
    served = emu.requests_to(path)
    if "cursor" in bookmark:
        assert len(one) == k * page_size
        assert not overlap, f"re-read after resume: {sorted(overlap)[:5]}"
        assert served == pages(len(expected), page_size) - k, "run 2 starts at page k+1"
    else:
        # A time export resumes at the boundary second (next_page's start_time): only rows of
        # that second may come again, and Zendesk's own next page would repeat them too.
        again = {epoch(r[stamp]) for r in second.records[stream] if r["id"] in overlap}
        assert again <= {bookmark["start_time"]}, (again, bookmark)
        assert served <= pages(len(expected) - len(one), page_size - 1) + 1


def test_a_killed_tap_process_resumes_from_its_last_state(emulator_factory, tmp_path):
    """SIGKILL a `tap-zendesk` process mid-export; resuming from its last STATE loses nothing."""
    # 2 export requests per 2 s window: the run takes several windows, so it is still going
    # when we arm a stall on the next tickets page and kill the process inside that stall.
    emu = start_emulator(
        emulator_factory, tickets=300, seed=13, export_rate_limit=2, window_seconds=2
    )
    path = "/api/v2/incremental/tickets/cursor"
    config = tap_config(emu, page_size=60)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps(catalog_for(config, only={"tickets"})))

    proc = subprocess.Popen(
        [str(TAP), "--config", str(config_file), "--catalog", str(catalog_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True)
    reader.start()
    received: list[dict] = []
    try:
        deadline = time.monotonic() + 60
        armed = False
        while time.monotonic() < deadline:
            try:
                message = json.loads(lines.get(timeout=0.2))
            except queue.Empty:
                if armed and emu.stats()["faults_fired"].get("stall"):
                    break
                continue
            received.append(message)
            cursor = (message.get("value") or {}).get("bookmarks", {}).get("tickets", {})
            if message["type"] == "STATE" and cursor.get("cursor") and not armed:
                emu.add_fault("stall", path=path, seconds=8)
                armed = True
        assert armed and emu.stats()["faults_fired"].get("stall"), "premise: killed mid-export"
    finally:
        proc.kill()
        proc.wait(timeout=10)
    reader.join(timeout=10)
    while not lines.empty():
        received.append(json.loads(lines.get()))

    states = [
        i
        for i, m in enumerate(received)
        if m["type"] == "STATE" and m["value"]["bookmarks"].get("tickets", {}).get("cursor")
    ]
    last = states[-1]
    state = received[last]["value"]
    first = [m["record"]["id"] for m in received if m["type"] == "RECORD"]
    in_flight = {m["record"]["id"] for m in received[last:] if m["type"] == "RECORD"}
    second = run_tap(config, only={"tickets"}, state=state)
    assert second.error is None, repr(second.error)
    expected = {t["id"] for t in emu.collection("tickets")}
    two = second.ids("tickets")
    assert len(first) < len(expected), "premise: the first run was cut short"
    assert set(first) | set(two) == expected
    assert set(first) & set(two) <= in_flight, "only rows after the last STATE may come again"


# -- state shape -------------------------------------------------------------------------------


def test_state_keeps_one_bookmark_per_stream_with_side_conversations_selected(emulator_factory):
    """Per-ticket side conversations add no per-ticket partitions: state stays small and flat."""
    emu = start_emulator(emulator_factory, tickets=120, seed=21)
    run = run_tap(tap_config(emu, page_size=30), also={"side_conversations"})
    assert run.error is None, repr(run.error)
    assert run.records["side_conversations"], "premise: side conversations were read"
    # Ours (cursor / start_time) plus what the SDK keeps while a stream is in progress.
    allowed = {
        "cursor",
        "start_time",
        "replication_key",
        "replication_key_value",
        "progress_markers",
        "replication_key_signpost",
        "starting_replication_value",
    }
    for state in run.states:
        for stream, mark in state["bookmarks"].items():
            assert "partitions" not in mark, f"{stream} grew partitions"
            assert set(mark) <= allowed, (stream, mark)
    final = run.final_state["bookmarks"]
    assert all("progress_markers" not in mark for mark in final.values())
    assert set(final["side_conversations"]) <= {"replication_key", "replication_key_value"}
    assert len(json.dumps(run.final_state)) < 4000, "state does not grow with the ticket count"


def test_start_time_is_never_within_the_last_minute(emulator_factory):
    """A bookmark newer than now - 60 s (or in the future) is clamped before it is sent."""
    emu = start_emulator(emulator_factory, tickets=20, seed=2)
    future = int(time.time()) + 3600
    state = {"bookmarks": {"organizations": {"start_time": future}}}
    urls: list[str] = []
    run = run_tap(
        tap_config(emu),
        only={"organizations"},
        state=state,
        prepare=lambda tap: record_urls(tap, urls),
    )
    assert run.error is None, repr(run.error)
    sent = [u for u in urls if "/incremental/organizations" in u]
    assert sent
    start = int(sent[0].split("start_time=")[1].split("&")[0])
    assert start <= time.time() - 60


def test_too_recent_start_time_means_caught_up_and_keeps_the_bookmark(emulator_factory):
    """422 'Too recent start_time' ends the export successfully and leaves its bookmark alone."""
    emu = start_emulator(emulator_factory, tickets=20, seed=2, start_time_min_age=10**9)
    mark = 1_700_000_000
    state = {"bookmarks": {"organizations": {"start_time": mark}}}
    run = run_tap(tap_config(emu), only={"organizations", "tickets"}, state=state)
    assert run.error is None, repr(run.error)
    assert run.ids("organizations") == [] and run.ids("tickets") == []
    assert run.final_state["bookmarks"]["organizations"]["start_time"] == mark
    assert "cursor" not in run.final_state["bookmarks"].get("tickets", {})
    assert any("nothing is old enough" in line for line in run.logs)


def test_a_rejected_stored_cursor_restarts_from_the_bookmark_time(emulator_factory):
    """A stored export cursor Zendesk no longer accepts restarts from the last bookmark's time
    minus a margin (zendesk_api.md 4.3), instead of failing every run from now on."""
    emu = start_emulator(emulator_factory, tickets=80, seed=23)
    config = tap_config(emu)
    first = run_tap(config, only={"tickets"})
    assert first.error is None, repr(first.error)
    mark = first.final_state["bookmarks"]["tickets"]
    assert mark.get("cursor") and mark.get("replication_key_value")

    api = zendesk_session(emu, SECRET_EMAIL, SECRET_API_TOKEN)
    ticket = next(
        t
        for t in emu.collection("tickets")
        if t["status"] in ("new", "open") and t["id"] not in emu.archived_ticket_ids
    )
    assert api.put(
        f"{emu.url}/api/v2/tickets/{ticket['id']}.json", json={"ticket": {"priority": "high"}}
    ).ok

    emu.add_fault("expired_cursor", path="/api/v2/incremental/tickets/cursor")
    second = run_tap(config, only={"tickets"}, state=first.final_state)
    assert emu.stats()["faults_fired"].get("expired_cursor") == 1, "premise: cursor rejected"
    assert second.error is None, repr(second.error)
    assert ticket["id"] in second.ids("tickets")
    since = epoch(mark["replication_key_value"]) - 3600
    again = [t for t in second.records["tickets"] if t["id"] != ticket["id"]]
    assert all(epoch(t["generated_timestamp"]) >= since for t in again), "restart is bounded"
    assert len(again) < 80, "not a re-read from the start"
    assert second.warnings("cursor"), "the restart is announced"
    assert second.final_state["bookmarks"]["tickets"].get("cursor") not in (None, mark["cursor"])


@pytest.mark.parametrize(
    "body",
    [
        {"error": "InvalidValue", "description": "Too recent start_time. Use a start_time older than 1 minute"},
        {"error": "InvalidValue", "description": "Too recent. Try again in a minute"},
        {"error": "InvalidValue", "description": "start_time must be at least 60 seconds old"},
    ],
    ids=["documented", "says recent", "names start_time"],
)
def test_any_wording_of_the_too_recent_422_means_caught_up(emulator_factory, body):
    """The 422's current text is unconfirmed (4.4): the old and plausible new wordings all end
    the export quietly; a 422 about something else does not."""
    import requests

    from tap_zendesk.tap import TapZendesk

    emu = start_emulator(emulator_factory, tickets=5, seed=2)
    stream = TapZendesk(config=tap_config(emu), parse_env_config=False).streams["organizations"]
    reply = requests.Response()
    reply.status_code = 422
    reply._content = json.dumps(body).encode()
    assert stream._ends_quietly(reply)
    other = requests.Response()
    other.status_code = 422
    other._content = b'{"error": "InvalidValue", "description": "per_page is too large"}'
    assert not stream._ends_quietly(other)
