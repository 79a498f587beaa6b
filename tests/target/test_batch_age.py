"""`max_batch_age_seconds`: behind a long-running tap, a partial batch is written, its job
confirmed and STATE emitted once it is old enough, while the input stays open."""

from __future__ import annotations

import contextlib
import io
import json
from types import SimpleNamespace

import pytest
import singer_sdk.target_base
from singer_sdk.exceptions import ConfigValidationError

from target_zendesk.target import TargetZendesk
from tests.target.conftest import schema_line, target_config

STATE = {"bookmarks": {"organizations": {"start_time": 1714557601}}}


def test_a_partial_batch_is_written_and_checkpointed_on_the_first_state_after_its_age(
    emulator_factory, tmp_path, monkeypatch
):
    """One organization waits in its batch; the first STATE after 5 s writes it and emits that
    STATE before the input ends; a later identical STATE with nothing pending emits nothing."""
    dest = emulator_factory(tickets=0, job_delay=0)
    clock = SimpleNamespace(now=1_000_000.0)
    monkeypatch.setattr(singer_sdk.target_base, "time", SimpleNamespace(time=lambda: clock.now))
    target = TargetZendesk(
        config=target_config(dest, tmp_path, max_batch_age_seconds=5), parse_env_config=False
    )
    out = io.StringIO()
    record = {
        "id": 361,
        "name": "Live Org",
        "external_id": None,
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-05-01T10:00:00Z",
    }

    def states() -> list[dict]:
        return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]

    def tap_output():
        yield schema_line("organizations")
        yield json.dumps({"type": "RECORD", "stream": "organizations", "record": record})
        yield json.dumps({"type": "STATE", "value": STATE})
        assert dest.collection("organizations") == [] and states() == []  # still batching
        clock.now += 6
        yield json.dumps({"type": "STATE", "value": STATE})  # the tap's idle heartbeat
        assert [o["name"] for o in dest.collection("organizations")] == ["Live Org"]
        assert states() == [STATE]
        clock.now += 6
        yield json.dumps({"type": "STATE", "value": STATE})
        assert states() == [STATE]  # nothing new: no drain, no repeated STATE

    with contextlib.redirect_stdout(out):
        target.listen(tap_output())
    assert [o["name"] for o in dest.collection("organizations")] == ["Live Org"]


def test_without_the_setting_a_partial_batch_waits_for_the_sdk_default(
    emulator_factory, tmp_path, monkeypatch
):
    """Unset, a few seconds of STATE heartbeats do not drain (the SDK's 5 minutes apply)."""
    dest = emulator_factory(tickets=0, job_delay=0)
    clock = SimpleNamespace(now=1_000_000.0)
    monkeypatch.setattr(singer_sdk.target_base, "time", SimpleNamespace(time=lambda: clock.now))
    target = TargetZendesk(config=target_config(dest, tmp_path), parse_env_config=False)
    out = io.StringIO()

    def tap_output():
        yield schema_line("organizations")
        yield json.dumps(
            {
                "type": "RECORD",
                "stream": "organizations",
                "record": {"id": 362, "name": "Waiting Org"},
            }
        )
        clock.now += 60
        yield json.dumps({"type": "STATE", "value": STATE})
        assert dest.collection("organizations") == []

    with contextlib.redirect_stdout(out):
        target.listen(tap_output())
    assert [o["name"] for o in dest.collection("organizations")] == ["Waiting Org"]


@pytest.mark.parametrize("value", [0, -1, "5"])
def test_a_batch_age_that_is_not_a_positive_number_is_refused(emulator_factory, tmp_path, value):
    """0, negative or text: a config error naming the setting."""
    dest = emulator_factory(tickets=0)
    with pytest.raises(ConfigValidationError) as info:
        TargetZendesk(
            config=target_config(dest, tmp_path, max_batch_age_seconds=value),
            parse_env_config=False,
        )
    assert "max_batch_age_seconds" in str(info.value) + " ".join(info.value.errors)
