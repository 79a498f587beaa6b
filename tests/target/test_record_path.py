"""How records reach the sinks: straight for unmapped streams, the SDK's path for mapped ones,
and the cyclic collector switched off during a run (issue 7: CPU per record).
"""

from __future__ import annotations

import gc

import pytest

from target_zendesk import target as target_module
from target_zendesk.sinks import ZendeskSink
from target_zendesk.target import UnsupportedStreamError
from tests.emulator import Emulator
from tests.target.conftest import run_target, target_config, write_singer


def _people(n: int) -> list[dict]:
    return [
        {"id": 7000 + i, "name": f"Person {i}", "email": f"person{i}@example.com", "role": "end-user"}
        for i in range(n)
    ]


def _orgs(n: int) -> list[dict]:
    return [{"id": 9000 + i, "name": f"Org {i}", "notes": "from the CRM"} for i in range(n)]


@pytest.fixture
def destination():
    with Emulator(tickets=0, seed=3, job_delay=0) as emu:
        yield emu


def test_unmapped_streams_go_straight_to_their_sink_mapped_ones_through_the_sdk(
    destination, tmp_path
):
    config = target_config(
        destination,
        tmp_path,
        stream_maps={"organizations": {"notes": "notes.upper()"}},
    )
    source = write_singer(tmp_path / "in.singer", {"organizations": _orgs(3), "users": _people(4)})

    result = run_target(config, source)

    direct = result.target._unmapped
    assert isinstance(direct["users"], ZendeskSink)
    assert direct["organizations"] is None  # a stream map: the SDK's path
    orgs = {o["name"]: o for o in destination.collection("organizations")}
    assert {orgs[f"Org {i}"]["notes"] for i in range(3)} == {"FROM THE CRM"}
    users = {u["email"] for u in destination.collection("users")}
    assert {f"person{i}@example.com" for i in range(4)} <= users


def test_an_aliased_stream_is_written_by_its_alias_sink(destination, tmp_path):
    config = target_config(destination, tmp_path, stream_maps={"people": {"__alias__": "users"}})
    source = write_singer(tmp_path / "in.singer", {"users": [], "people": _people(3)})

    result = run_target(config, source)

    assert result.target._unmapped.get("people") is None
    emails = {u["email"] for u in destination.collection("users")}
    assert {f"person{i}@example.com" for i in range(3)} <= emails
    assert result.count("users", "created") == 3


def test_record_metadata_columns_take_the_sdk_path_and_still_write(destination, tmp_path):
    config = target_config(destination, tmp_path, add_record_metadata=True)
    source = write_singer(tmp_path / "in.singer", {"users": _people(2)})

    result = run_target(config, source)

    assert result.target._unmapped["users"] is None
    assert result.count("users", "created") == 2


def test_collector_is_off_during_a_run_collects_after_drains_and_is_restored(
    destination, tmp_path, monkeypatch
):
    monkeypatch.setattr(target_module, "COLLECT_EVERY_DRAINS", 1)
    seen_enabled: list[bool] = []  # gc.isenabled() each time a sink writes a batch
    for cls in ZendeskSink.__subclasses__():
        if "write" in cls.__dict__:
            monkeypatch.setattr(cls, "write", _spy(cls.__dict__["write"], seen_enabled))
    collections: list[int] = []

    def on_gc(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(on_gc)
    try:
        config = target_config(destination, tmp_path, batch_size=2, max_jobs_in_flight=1)
        source = write_singer(tmp_path / "in.singer", {"users": _people(9)})
        assert gc.isenabled()
        result = run_target(config, source)
    finally:
        gc.callbacks.remove(on_gc)

    assert result.count("users", "created") == 9
    assert seen_enabled and not any(seen_enabled)  # off while batches were written
    assert collections  # collected explicitly after drains
    assert gc.isenabled()  # and switched back on at the end


def _spy(original, seen: list[bool]):
    """A sink's `write` that notes whether the collector is on, then writes."""

    def write(self, records):
        seen.append(gc.isenabled())
        return original(self, records)

    return write


def test_collector_is_back_on_when_a_run_stops_on_an_error(destination, tmp_path):
    config = target_config(destination, tmp_path)
    source = write_singer(
        tmp_path / "in.singer", {"users": _people(2), "invoices": [{"id": 1, "total": 3}]}
    )
    assert gc.isenabled()

    with pytest.raises(UnsupportedStreamError):
        run_target(config, source)

    assert gc.isenabled()


def test_objects_frozen_for_the_run_are_unfrozen_after_it(destination, tmp_path):
    config = target_config(destination, tmp_path)
    source = write_singer(tmp_path / "in.singer", {"users": _people(2)})
    gc.unfreeze()

    result = run_target(config, source)

    assert result.count("users", "created") == 2
    assert gc.get_freeze_count() == 0


# -- the reader's loop (StdinBytesReader.process_lines) -------------------------------------
def _read(lines: list[bytes]) -> tuple[list[tuple[str, dict]], object]:
    """Feed lines through the reader; return (callback name, message) in order and the counts."""
    import io

    seen: list[tuple[str, dict]] = []
    reader = target_module.StdinBytesReader()
    callbacks = {kind: (lambda m, k=kind: seen.append((k, m))) for kind in ("RECORD", "STATE")}
    counts = reader.process_lines(io.BytesIO(b"\n".join(lines) + b"\n"), callbacks)
    return seen, counts


def test_reader_hands_each_message_to_its_callback_and_counts_by_type():
    seen, counts = _read(
        [
            b'{"type": "RECORD", "stream": "users", "record": {"id": 1}}',
            b'{"type": "STATE", "value": {"a": 1}}',
            b'{"type": "RECORD", "stream": "users", "record": {"id": 2}}',
        ]
    )
    assert [k for k, _ in seen] == ["RECORD", "STATE", "RECORD"]
    assert [m["record"]["id"] for k, m in seen if k == "RECORD"] == [1, 2]
    assert counts == {"RECORD": 2, "STATE": 1}


def test_reader_gives_the_sdks_error_for_a_message_without_type():
    from singer_sdk.exceptions import InvalidInputLine

    with pytest.raises(InvalidInputLine, match="missing required type"):
        _read([b'{"stream": "users", "record": {"id": 1}}'])
    with pytest.raises(InvalidInputLine):
        _read([b'["RECORD"]'])  # not an object


def test_reader_passes_an_unknown_message_type_to_the_sdks_handler(monkeypatch):
    unknown: list[dict] = []
    monkeypatch.setattr(
        target_module.StdinBytesReader, "_process_unknown_message", lambda self, m: unknown.append(m)
    )
    seen, counts = _read([b'{"type": "FUTURE_KIND", "x": 1}', b'{"type": "STATE", "value": {}}'])
    assert unknown == [{"type": "FUTURE_KIND", "x": 1}]
    assert [k for k, _ in seen] == ["STATE"]
    assert counts == {"FUTURE_KIND": 1, "STATE": 1}


def test_reader_reads_standard_input_by_its_descriptor_in_large_blocks(tmp_path, monkeypatch):
    import sys

    path = tmp_path / "in.singer"
    path.write_bytes(b'{"type": "STATE", "value": {"n": 1}}\n' * 3)
    with open(path, encoding="utf-8") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        stream = target_module.StdinBytesReader().default_input
        try:
            assert stream.fileno() == stdin.fileno()
            assert stream is not stdin.buffer  # its own reader, 1 MiB at a time
            states: list[dict] = []
            counts = target_module.StdinBytesReader().process_lines(
                stream, {"STATE": states.append}
            )
        finally:
            stream.close()  # closefd=False: the descriptor itself stays open
        assert not stdin.closed
    assert counts == {"STATE": 3}
    assert [m["value"] for m in states] == [{"n": 1}] * 3


def test_reader_falls_back_to_a_standard_input_without_descriptor(monkeypatch):
    import io
    import sys

    class Pseudo(io.TextIOWrapper):
        def fileno(self) -> int:
            raise io.UnsupportedOperation("no fileno")

    pseudo = Pseudo(io.BytesIO(b'{"type": "STATE", "value": {}}\n'), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", pseudo)
    stream = target_module.StdinBytesReader().default_input
    assert stream is pseudo.buffer


def test_reader_hands_over_a_line_from_a_pipe_without_waiting_to_fill_its_buffer(monkeypatch):
    """Continuous mode: a tap writes a line and waits; the line is processed before the next."""
    import os
    import sys
    import threading

    read_end, write_end = os.pipe()
    first_seen = threading.Event()
    writer_waited: list[bool] = []

    def tap() -> None:
        with os.fdopen(write_end, "wb") as out:
            out.write(b'{"type": "STATE", "value": {"n": 1}}\n')
            out.flush()
            writer_waited.append(first_seen.wait(timeout=30))  # a hang guard, not a timing
            out.write(b'{"type": "STATE", "value": {"n": 2}}\n')

    with os.fdopen(read_end, encoding="utf-8") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        seen: list[int] = []

        def on_state(message: dict) -> None:
            seen.append(message["value"]["n"])
            first_seen.set()

        writer = threading.Thread(target=tap)
        writer.start()
        target_module.StdinBytesReader().process_lines(None, {"STATE": on_state})
        writer.join()
    assert writer_waited == [True], "the first line was not handed over until more input came"
    assert seen == [1, 2]
