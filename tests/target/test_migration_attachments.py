"""Comment attachments: source download -> destination upload, size limit, trust, kill and rerun."""

from __future__ import annotations

import base64
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from target_zendesk.attachments import AttachmentCredentialsError
from tests.emulator import Emulator
from tests.emulator import attachments as emulator_files
from tests.target.conftest import (
    by_external_id,
    rejects,
    run_target,
    run_target_process,
    target_config,
    write_singer,
)
from tests.target.migration_kit import (
    live_files,
    migration_input,
    source_settings,
    uploads,
    wait_for,
)

KNOBS = {"hold_back": 0, "job_delay": 0.02}
#: Private attachments: downloads need the source's credentials (not the destination's).
SOURCE = {"attachment_auth": True, "email": "source@example.com", "api_token": "source-token"}


@pytest.fixture(scope="module")
def source() -> Iterator[Emulator]:
    """A 120-ticket source whose attachments need its own credentials."""
    with Emulator(tickets=120, seed=11, **SOURCE, **KNOBS) as emu:
        yield emu


@pytest.fixture(scope="module")
def singer_input(source: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source as tap-zendesk emits it for a migration."""
    return migration_input(source, tmp_path_factory.mktemp("input") / "migration.singer")


def _destination(emulator_factory, **knobs) -> Emulator:
    return emulator_factory(tickets=0, seed=9, definitions="all", **KNOBS, **knobs)


def _copies(source: Emulator, dest: Emulator) -> list[tuple[dict, dict]]:
    """(source comment, destination comment) pairs, matched by ticket and order."""
    src: dict[int, list[dict]] = {}
    for c in source.collection("ticket_comments"):
        src.setdefault(c["ticket_id"], []).append(c)
    dst: dict[int, list[dict]] = {}
    for c in dest.collection("ticket_comments"):
        dst.setdefault(c["ticket_id"], []).append(c)
    copies = by_external_id(dest, "tickets")
    pairs = []
    for ticket in source.collection("tickets"):
        if ticket["status"] == "deleted":
            continue
        copy = copies[ticket.get("external_id") or str(ticket["id"])]
        order = lambda c: (c["created_at"], c["id"])  # noqa: E731
        pairs += zip(sorted(src[ticket["id"]], key=order), sorted(dst[copy["id"]], key=order),
                     strict=True)
    return pairs


def test_files_are_copied_byte_for_byte_under_one_token_per_comment(
    emulator_factory, source, singer_input, tmp_path
):
    """Every file lands on its comment with its name, size and bytes; inline images repointed."""
    dest = _destination(emulator_factory)
    source.reset_stats()
    config = target_config(dest, tmp_path, **source_settings(source))
    run_target(config, singer_input)
    assert rejects(config) == []
    files = live_files(source)
    assert uploads(dest) == len(files) > 20
    digests = emulator_files.upload_digests(dest.app)
    several = inline = 0
    for want, got in _copies(source, dest):
        assert [(a["file_name"], a["size"]) for a in got["attachments"]] == [
            (a["file_name"], a["size"]) for a in want["attachments"]
        ]
        for a, b in zip(want["attachments"], got["attachments"], strict=True):
            assert digests[b["id"]] == emulator_files.content_digest(a["id"], a["size"])
            if a["inline"]:
                inline += 1
                assert b["content_url"] in got["html_body"]
                assert a["content_url"] not in got["html_body"]
        several += len(want["attachments"]) > 1
    assert several and inline
    sent = [
        c
        for w in dest.write_log()
        if w["path"] == "/api/v2/imports/tickets/create_many"
        for t in w["body"]["tickets"]
        for c in t["comments"]
        if c.get("uploads")
    ]
    assert all(len(c["uploads"]) == 1 for c in sent), "one token per comment"
    # The destination's credentials never went to the source, nor the source's to the
    # destination (both accounts refuse the other's credentials).
    assert emulator_files.counts(source.app)["attachment_downloads"] == len(files)


def test_a_file_over_the_size_limit_is_rejected_alone_and_its_ticket_still_lands(
    emulator_factory, source, singer_input, tmp_path
):
    """The destination refuses big files (413): one rejects line per file, tickets all land."""
    dest = _destination(emulator_factory, max_upload_bytes=120_000)
    config = target_config(dest, tmp_path, **source_settings(source))
    run_target(config, singer_input)
    big = [a for a in live_files(source) if a["size"] > 120_000]
    lines = rejects(config)
    assert big and len(lines) == len(big)
    for line in lines:
        assert line["stream"] == "attachments" and line["error"] == "TooLarge"
        ticket, _, name = line["key"].partition("/")
        assert name in line["details"] and f"ticket {ticket}" in line["details"]
        assert "bytes" in line["details"]
    live = {t.get("external_id") or str(t["id"]) for t in source.collection("tickets")
            if t["status"] != "deleted"}
    assert set(by_external_id(dest, "tickets")) == live
    assert uploads(dest) == len(live_files(source)) - len(big)


def test_max_attachment_bytes_rejects_big_files_without_downloading_them(
    emulator_factory, source, singer_input, tmp_path
):
    """Files above `max_attachment_bytes` (by their `size`) are never downloaded."""
    dest = _destination(emulator_factory)
    config = target_config(dest, tmp_path, max_attachment_bytes=50_000, **source_settings(source))
    before = emulator_files.counts(source.app)["attachment_downloads"]
    run_target(config, singer_input)
    small = [a for a in live_files(source) if a["size"] <= 50_000]
    assert emulator_files.counts(source.app)["attachment_downloads"] - before == len(small)
    assert Counter(r["error"] for r in rejects(config)) == {
        "TooLarge": len(live_files(source)) - len(small)
    }


def test_a_content_url_off_the_source_host_is_rejected_and_never_requested(
    emulator_factory, source, tmp_path
):
    """A file pointing at another host (here the destination) is not fetched with credentials."""
    dest = _destination(emulator_factory)
    foreign = f"{dest.url}/attachments/token/abc/?name=x.txt"
    streams = {
        "users": [{"id": 1, "name": "Ann", "email": "ann@x.test"}],
        "ticket_comments": [
            {"id": 5, "ticket_id": 1, "author_id": 1, "body": "see file", "public": True,
             "created_at": "2024-01-01T00:00:00Z",
             "attachments": [{"id": 9, "file_name": "x.txt", "content_url": foreign,
                              "content_type": "text/plain", "size": 10}]},
        ],
        "tickets": [{"id": 1, "subject": "s", "requester_id": 1, "status": "open"}],
    }
    path = write_singer(tmp_path / "foreign.singer", streams)
    config = target_config(dest, tmp_path, **source_settings(source))
    run_target(config, path)
    [line] = rejects(config)
    assert line["error"] == "UntrustedURL" and line["key"] == "1/x.txt"
    assert not any("/attachments/" in k for k in dest.stats()["requests"])
    assert set(by_external_id(dest, "tickets")) == {"1"}


def test_private_attachments_without_source_credentials_stop_the_run_before_importing(
    emulator_factory, source, singer_input, tmp_path
):
    """The source answers 401: the run stops naming the setting; no ticket goes without files."""
    dest = _destination(emulator_factory)
    config = target_config(dest, tmp_path, source_api_url=source.url)
    with pytest.raises(AttachmentCredentialsError, match="source_api_token"):
        run_target(config, singer_input)
    assert dest.collection("tickets") == []


def test_kill_mid_upload_then_rerun_uploads_no_file_twice_and_misses_none(
    emulator_factory, source, singer_input, tmp_path
):
    """SIGKILL while the 6th file downloads; the rerun reuses the 5 tokens it journaled."""
    dest = _destination(emulator_factory)
    config = target_config(dest, tmp_path, attachment_workers=1, **source_settings(source))
    source.reset_stats()  # request numbers restart: the target is the source's only client
    source.add_fault("stall", path="/attachments/", at_request=6, seconds=30)
    proc = run_target_process(config, singer_input, tmp_path, wait=False)
    try:
        wait_for(lambda: source.stats()["faults_fired"].get("stall") == 1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert uploads(dest) == 5 and dest.collection("tickets") == []
    source.clear_faults()
    result = run_target(config, singer_input)
    files = live_files(source)
    assert uploads(dest) == len(files), "a file was uploaded twice"
    assert result.count("attachments", "reused") == 5
    for want, got in _copies(source, dest):
        assert [a["file_name"] for a in got["attachments"]] == [
            a["file_name"] for a in want["attachments"]
        ]


def test_refused_source_credentials_stop_the_run_and_never_reach_the_output(
    emulator_factory, source, singer_input, tmp_path
):
    """Wrong source token: exit non-zero naming the setting; neither token nor header printed."""
    dest = _destination(emulator_factory)
    secret = "wrong-source-secret-1234"
    config = target_config(dest, tmp_path, source_api_url=source.url,
                           source_email="source@example.com", source_api_token=secret)
    done = run_target_process(config, singer_input, tmp_path)
    assert done.returncode != 0
    assert b"source_api_token" in done.stderr
    header = base64.b64encode(f"source@example.com/token:{secret}".encode())
    rejects_file = Path(config["rejects_path"])
    written = rejects_file.read_bytes() if rejects_file.exists() else b""
    for leak in (secret.encode(), header, b"demo@example.com/token:demo"):
        assert leak not in done.stderr + done.stdout + written
    assert dest.collection("tickets") == []
