"""CPU per record in target-zendesk, HTTP excluded: `python -m tests.target.cpu_per_record [N]`.

Feeds N tickets (with their comments, users and organizations, as tap-zendesk emits them)
through the real target twice per round: once with every sink (HTTP replaced by an in-process
fake whose own CPU is subtracted) and once with no-op sinks on the same SDK path (reader, no
validation), which is the SDK's share. Prints the minimum of several rounds: µs per record for
the whole target, for the SDK alone, and the difference (our sinks, journal and job handling).
Not a test: timing depends on the machine; the benchmark issue owns the figures.
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import json
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import requests
from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink
from singer_sdk.target_base import Target

from target_zendesk.runtime import Runtime
from target_zendesk.sinks import PERMISSIVE_SCHEMA
from target_zendesk.target import StdinBytesReader, TargetZendesk
from tests.emulator import Emulator
from tests.target.conftest import TAP_ORDER, singer_lines


class FakeClient:
    """Answers job-creating POSTs with completed jobs; counts its own CPU to subtract it."""

    base = "http://fake.invalid"
    timeout = 1.0

    def __init__(self) -> None:
        self.request_count = 0
        self.cpu = 0.0
        self.ids = itertools.count(10**12)
        self.jobs: dict[str, dict[str, t.Any]] = {}
        self.policy = type("P", (), {"max_retries": 3})()

    def request(self, method: str, path: str, *, json: t.Any = None, **_: t.Any) -> t.Any:
        """A job per bulk call, completed at once."""
        start = time.process_time()
        self.request_count += 1
        items = next(iter(json.values()))
        job_id = f"job{self.request_count}"
        results = [{"index": i, "id": next(self.ids)} for i in range(len(items))]
        self.jobs[job_id] = {"id": job_id, "status": "completed", "results": results}
        reply = requests.Response()
        reply.status_code = 200
        reply._content = b'{"job_status": {"id": "%s", "status": "queued"}}' % job_id.encode()
        reply.headers["Zendesk-RateLimit-inflight-jobs"] = "total=30; remaining=29; resets=1"
        self.cpu += time.process_time() - start
        return reply

    def get_json(self, path: str, **params: t.Any) -> dict[str, t.Any]:
        """Job statuses by id; every lookup finds nothing."""
        start = time.process_time()
        self.request_count += 1
        if path.endswith("job_statuses/show_many"):
            out = {"job_statuses": [self.jobs[i] for i in params["ids"].split(",")]}
        else:
            out = {"users": [], "organizations": [], "tickets": [], "job_statuses": []}
        self.cpu += time.process_time() - start
        return out


class OfflineTarget(TargetZendesk):
    """The real target, with the fake client and no sleeping between polls."""

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            gc.freeze()
            self._runtime = Runtime(self.config, self.logger, client=FakeClient())  # type: ignore[arg-type]
            self._runtime.jobs._sleep = lambda _: None
        return self._runtime


class NoopSink(BatchSink):
    """The SDK's per-record path with our settings (no validation, permissive schema)."""

    max_size = 2000

    def get_validator(self) -> None:  # type: ignore[override]
        return None

    def setup(self) -> None:
        self.schema = PERMISSIVE_SCHEMA

    def process_batch(self, context: dict) -> None:
        pass


class SdkOnlyTarget(Target):
    """Same reader and drain settings as TargetZendesk, sinks doing nothing."""

    name = "sdk-only"
    config_jsonschema = th.PropertiesList().to_dict()
    default_sink_class = NoopSink
    message_reader_class = StdinBytesReader


def build_input(tickets: int) -> tuple[bytes, int]:
    """tap-zendesk-shaped input: organizations, users, comments, then tickets."""
    with Emulator(tickets=tickets, seed=7, hold_back=0, job_delay=0) as emu:
        streams = {name: emu.collection(name) for name in TAP_ORDER}
    records = sum(len(v) for v in streams.values())
    return ("\n".join(singer_lines(streams)) + "\n").encode(), records


def measure(target: Target, data: bytes) -> float:
    """CPU seconds to process the input (STATE output swallowed)."""
    gc.collect()
    if not isinstance(target, OfflineTarget):
        gc.freeze()
    start = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        target.listen(io.BytesIO(data))  # type: ignore[arg-type]
    spent = time.process_time() - start
    runtime = getattr(target, "_runtime", None)
    if runtime is not None:
        spent -= runtime.client.cpu
    gc.unfreeze()
    return spent


def main(argv: list[str]) -> int:
    """Print µs/record: whole target, SDK alone, ours."""
    tickets = int(argv[0]) if argv else 3000
    rounds = int(argv[1]) if len(argv) > 1 else 3
    data, records = build_input(tickets)
    import logging

    logging.disable(logging.INFO)
    whole, sdk = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            config = {
                "api_url": "http://127.0.0.1:9",
                "email": "a@b.test",
                "api_token": "x",
                "journal_path": str(Path(tmp) / "j.sqlite"),
                "rejects_path": str(Path(tmp) / "r.jsonl"),
            }
            whole.append(measure(OfflineTarget(config=config, parse_env_config=False), data))
        sdk_target = SdkOnlyTarget(config={}, validate_config=False)
        sdk_target.max_parallelism = 1
        sdk.append(measure(sdk_target, data))
    per = 1e6 / records
    print(
        json.dumps(
            {
                "records": records,
                "bytes_per_record": round(len(data) / records),
                "target_us_per_record": round(min(whole) * per, 1),
                "sdk_only_us_per_record": round(min(sdk) * per, 1),
                "ours_us_per_record": round((min(whole) - min(sdk)) * per, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
