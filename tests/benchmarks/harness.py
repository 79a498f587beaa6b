"""Child processes measured by the kernel: CPU, peak RSS and wall time of one run.

Every figure comes from a separate process, started through `launcher.py` and reaped there with
`os.wait4`: its rusage is that command's own (user + system CPU, `ru_maxrss`), so neither the
emulator serving in this process nor the thread draining the child's stdout is counted, and the
peak RSS does not inherit this process's (see launcher.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.emulator import Emulator

LAUNCHER = Path(__file__).with_name("launcher.py")
EMAIL = "demo@example.com"
API_TOKEN = "demo"


@dataclass
class Run:
    """What one child process cost."""

    wall: float
    cpu: float
    user: float
    system: float
    max_rss_mb: float
    returncode: int
    lines: int = 0
    bytes: int = 0
    records: int = 0
    stderr_tail: str = ""

    def as_dict(self) -> dict[str, t.Any]:
        """JSON-friendly, rounded."""
        out = asdict(self)
        for key in ("wall", "cpu", "user", "system", "max_rss_mb"):
            out[key] = round(out[key], 4)
        out.pop("stderr_tail")
        return out


class ChildFailedError(RuntimeError):
    """A measured child exited non-zero; the message carries its stderr tail."""


RECORD_MARK = b'{"type":"RECORD"'


def _drain(stream: t.IO[bytes], counts: list[int], sink: t.IO[bytes] | None) -> None:
    """Read a child's stdout to the end, counting lines, bytes and RECORD messages."""
    read = stream.read
    carry = b""
    while chunk := read(1 << 20):
        counts[0] += chunk.count(b"\n")
        counts[1] += len(chunk)
        joined = carry + chunk
        counts[2] += joined.count(RECORD_MARK) - carry.count(RECORD_MARK)
        carry = joined[-(len(RECORD_MARK) - 1) :]
        if sink is not None:
            sink.write(chunk)


def run_measured(
    cmd: list[str],
    *,
    stdin: Path | None = None,
    stdout: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 3600.0,
    check: bool = True,
) -> Run:
    """Run `cmd` to the end; stdout goes through a pipe to this process (copied to `stdout`)."""
    err = tempfile.TemporaryFile()
    stdin_f = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
    sink = open(stdout, "wb") if stdout else None  # noqa: SIM115
    # A developer's TAP_ZENDESK_* / TARGET_ZENDESK_* settings must not change a figure.
    child_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TAP_ZENDESK", "TARGET_ZENDESK"))
    }
    child_env.update(env or {})
    result = Path(tempfile.mkstemp(prefix="bench-rusage-", suffix=".json")[1])
    launch = [sys.executable, "-I", "-S", str(LAUNCHER), str(result), *cmd]
    proc = subprocess.Popen(
        launch, stdin=stdin_f, stdout=subprocess.PIPE, stderr=err, env=child_env,
        start_new_session=True,
    )
    counts = [0, 0, 0]
    reader = threading.Thread(target=_drain, args=(proc.stdout, counts, sink), daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the command it started
        proc.wait()
    reader.join()
    proc.stdout.close()  # type: ignore[union-attr]
    if sink is not None:
        sink.close()
    if stdin:
        stdin_f.close()  # type: ignore[union-attr]
    err.seek(0)
    tail = err.read()[-8000:].decode("utf-8", "replace")
    err.close()
    try:
        usage = json.loads(result.read_text(encoding="utf-8") or "{}")
    except ValueError:
        usage = {}
    result.unlink(missing_ok=True)
    run = Run(
        wall=usage.get("wall", 0.0),
        cpu=usage.get("user", 0.0) + usage.get("system", 0.0),
        user=usage.get("user", 0.0),
        system=usage.get("system", 0.0),
        max_rss_mb=usage.get("max_rss_kib", 0) / 1024.0,
        returncode=usage.get("returncode", proc.returncode),
        lines=counts[0],
        bytes=counts[1],
        records=counts[2],
        stderr_tail=tail,
    )
    if check and run.returncode != 0:
        raise ChildFailedError(f"{' '.join(cmd[:3])} ... exited {run.returncode}:\n{tail}")
    return run


def best_of(runs: list[Run]) -> Run:
    """The run with the least CPU: noise only ever adds time."""
    return min(runs, key=lambda r: r.cpu)


def executable(name: str) -> list[str]:
    """The venv's console script for `name` (tap-zendesk, target-zendesk)."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    found = shutil.which(name)
    if found:
        return [found]
    module = {"tap-zendesk": "tap_zendesk.tap", "target-zendesk": "target_zendesk.target"}[name]
    return [sys.executable, "-m", module]


def start_emulator(**knobs: t.Any) -> Emulator:
    """An emulator on 127.0.0.1 with exports visible at once (no hold-back)."""
    knobs.setdefault("hold_back", 0)
    knobs.setdefault("seed", 7)
    return Emulator(**knobs).start()


def connection_config(emu: Emulator | t.Any, **extra: t.Any) -> dict[str, t.Any]:
    """Tap/target connection settings for an emulator (or anything with its `.url`)."""
    config = {
        "subdomain": "demo",
        "api_url": emu.url,
        "email": EMAIL,
        "api_token": API_TOKEN,
        "start_date": "2000-01-01T00:00:00Z",
    }
    config.update(extra)
    return config


def write_json(path: Path, data: t.Any) -> Path:
    """Write `data` as JSON and return the path."""
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def discover(config_path: Path) -> dict[str, t.Any]:
    """The tap's catalog for an account (discovery reads the custom field definitions)."""
    out = subprocess.run(
        [*executable("tap-zendesk"), "--config", str(config_path), "--discover"],
        capture_output=True,
        check=True,
    )
    return json.loads(out.stdout)


def select(catalog: dict[str, t.Any], streams: t.Iterable[str]) -> dict[str, t.Any]:
    """A copy of `catalog` with exactly `streams` selected."""
    wanted = set(streams)
    catalog = json.loads(json.dumps(catalog))
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def count_records(path: Path) -> dict[str, int]:
    """RECORD messages per stream in a Singer output file."""
    counts: dict[str, int] = {}
    prefix = b'{"type":"RECORD","stream":"'
    with path.open("rb") as f:
        for line in f:
            if line.startswith(prefix):
                stream = line[len(prefix) : line.index(b'"', len(prefix))].decode()
            elif b'"type":"RECORD"' in line[:200]:  # another writer's key order
                stream = json.loads(line)["stream"]
            else:
                continue
            counts[stream] = counts.get(stream, 0) + 1
    return counts
