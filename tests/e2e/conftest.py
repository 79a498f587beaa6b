"""Fixtures for the Meltano end-to-end tests (tests/e2e/test_meltano_*.py).

Cost model, so `make test` stays well inside CI's budget:

* Meltano itself lives in its own virtualenv, `.venv-meltano/` under the repository (override
  with MELTANO_TEST_VENV). The first run creates it with `python -m venv` + `pip install
  meltano==<pinned>` (about 30 s); later runs reuse it. If Meltano cannot be installed from the
  package registry, every Meltano test fails with pip's message: they never skip.
* `meltano install` runs once per test session, in a throwaway copy of the project (meltano.yml
  and the package sources, so `pip_url: -e .` installs this checkout). Under pytest-xdist the
  workers share that copy through a file lock, so the plugins are installed once, not per worker.
* Each test gets its own project directory with the repository's meltano.yml, its own system
  database (state), logs, output/ and target journal; only the installed plugin virtualenvs
  (`.meltano/extractors`, `.meltano/loaders`) are shared, as symlinks. `MELTANO_AUTO_INSTALL` is
  off, so a test never reinstalls a plugin behind another test's back.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Pinned so a new Meltano release cannot change the tests' behaviour unannounced.
MELTANO_REQUIREMENT = "meltano==4.4.1"
MELTANO_VENV = Path(os.environ.get("MELTANO_TEST_VENV") or REPO / ".venv-meltano")
#: What `pip_url: -e .` needs to install this repository from a copy of the project.
PROJECT_FILES = ("meltano.yml", "pyproject.toml", "README.md", "LICENSE", "tap_zendesk",
                 "target_zendesk")
#: Outer variables that would leak into plugin config or Meltano settings.
_SCRUBBED_PREFIXES = ("MELTANO_", "TAP_ZENDESK", "TARGET_ZENDESK", "TARGET_JSONL", "ZENDESK_")
COMMAND_TIMEOUT = 300


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock shared by pytest-xdist workers and parallel sessions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_meltano() -> Path:
    """The `meltano` executable of MELTANO_VENV, installing MELTANO_REQUIREMENT on first use."""
    bindir = MELTANO_VENV / "bin"
    exe, stamp = bindir / "meltano", MELTANO_VENV / ".tap-zendesk-installed"
    key = hashlib.sha1(str(MELTANO_VENV).encode()).hexdigest()[:12]  # noqa: S324 - a file name
    with _locked(Path(tempfile.gettempdir()) / f"tap-zendesk-meltano-venv-{key}.lock"):
        if exe.exists() and stamp.exists() and stamp.read_text() == MELTANO_REQUIREMENT:
            return exe
        steps = []
        if not (bindir / "python").exists():
            steps.append([sys.executable, "-m", "venv", str(MELTANO_VENV)])
        steps.append([str(bindir / "python"), "-m", "pip", "install", "--quiet",
                      "--disable-pip-version-check", MELTANO_REQUIREMENT])
        for cmd in steps:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if proc.returncode:
                pytest.fail(
                    f"Could not install {MELTANO_REQUIREMENT} into {MELTANO_VENV} "
                    f"(`{' '.join(cmd)}` exited {proc.returncode}). Meltano comes from the "
                    f"package registry; these tests need it.\n{proc.stdout[-2000:]}"
                    f"{proc.stderr[-4000:]}",
                    pytrace=False,
                )
        stamp.write_text(MELTANO_REQUIREMENT)
    return exe


def base_env() -> dict[str, str]:
    """The process environment without anything that could configure Meltano or a plugin."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(_SCRUBBED_PREFIXES) and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(
        MELTANO_ENVIRONMENT="emulator",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",  # no call home on every command
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_AUTO_INSTALL="false",
        MELTANO_CLI_LOG_FORMAT="uncolored",
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_meltano(exe: Path, root: Path, env: dict[str, str], *args: str, check: bool = True,
                stdin: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `meltano ARGS` in `root` (stdin from a file); on failure show the output's tail."""
    started = time.monotonic()
    with open(stdin or os.devnull, "rb") as source:
        proc = subprocess.run([str(exe), *args], cwd=root, env=env, stdin=source,
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    log = root / "meltano-commands.log"
    with open(log, "a") as handle:
        handle.write(f"$ meltano {' '.join(args)}  # rc={proc.returncode} "
                     f"{time.monotonic() - started:.1f}s\n{proc.stdout}\n{proc.stderr}\n")
    if check and proc.returncode:
        pytest.fail(
            f"`meltano {' '.join(args)}` exited {proc.returncode} in {root}\n"
            f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr (tail) ---\n{proc.stderr[-8000:]}",
            pytrace=False,
        )
    return proc


@dataclass
class InstalledProject:
    """The session's copy of the project after `meltano install`."""

    root: Path
    install_output: str


@dataclass
class MeltanoProject:
    """One test's Meltano project: repository meltano.yml, shared plugin venvs, own state."""

    exe: Path
    root: Path
    env: dict[str, str] = field(default_factory=base_env)

    def meltano(self, *args: str, check: bool = True, env: dict[str, str] | None = None,
                stdin: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run a Meltano command in this project (extra `env` on top of the project's)."""
        return run_meltano(self.exe, self.root, {**self.env, **(env or {})}, *args,
                           check=check, stdin=stdin)

    def state_ids(self) -> list[str]:
        """`meltano state list`, one state id per line."""
        return self.meltano("state", "list").stdout.split()

    def state(self, state_id: str) -> dict[str, Any]:
        """`meltano state get ID`, parsed."""
        return json.loads(self.meltano("state", "get", state_id).stdout)

    def states(self) -> dict[str, dict[str, Any]]:
        """Every stored state in one command (`meltano state export`): {state id: state}."""
        exported = json.loads(self.meltano("state", "export").stdout)
        return {state_id: entry["completed"] for state_id, entry in exported.items()}

    def jsonl(self, folder: str, stream: str) -> list[dict[str, Any]]:
        """Records target-jsonl wrote to output/<folder>/<stream>.jsonl."""
        path = self.root / "output" / folder / f"{stream}.jsonl"
        assert path.exists(), f"{path} missing; output has {sorted(self.outputs())}"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def outputs(self) -> list[str]:
        """Every file under output/, relative to it."""
        out = self.root / "output"
        return [str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()]


@pytest.fixture(scope="session")
def meltano_exe() -> Path:
    """Meltano, from its own cached virtualenv."""
    return ensure_meltano()


@pytest.fixture(scope="session")
def installed_project(meltano_exe: Path, tmp_path_factory: pytest.TempPathFactory,
                      request: pytest.FixtureRequest) -> InstalledProject:
    """A throwaway copy of the project with every plugin installed by `meltano install`."""
    basetemp = tmp_path_factory.getbasetemp()
    # xdist workers get basetemp/popen-gwN; their parent is this session's shared directory.
    shared = basetemp.parent if hasattr(request.config, "workerinput") else basetemp
    root = shared / "meltano-installed"
    with _locked(shared / "meltano-installed.lock"):
        done = root / ".meltano-install-ok"
        if done.exists():
            return InstalledProject(root, done.read_text())
        if root.exists():
            shutil.rmtree(root)
        root.mkdir()
        for name in PROJECT_FILES:
            src = REPO / name
            if src.is_dir():
                shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, root / name)
        proc = run_meltano(meltano_exe, root, base_env(), "install")
        output = proc.stdout + proc.stderr
        done.write_text(output)
        return InstalledProject(root, output)


@pytest.fixture
def meltano_project(meltano_exe: Path, installed_project: InstalledProject,
                    tmp_path: Path) -> MeltanoProject:
    """A fresh project for one test: the repository's meltano.yml and the installed plugins."""
    root = tmp_path / "project"
    (root / ".meltano").mkdir(parents=True)
    shutil.copy2(REPO / "meltano.yml", root / "meltano.yml")
    for kind in ("extractors", "loaders"):
        (root / ".meltano" / kind).symlink_to(installed_project.root / ".meltano" / kind)
    return MeltanoProject(meltano_exe, root)


def emulator_knobs(**knobs: Any) -> dict[str, Any]:
    """Emulator knobs for Meltano runs: no hold-back, fast jobs, a short rate window."""
    return {"hold_back": 0, "window_seconds": 2, "job_delay": 0.05, **knobs}


#: What a tap-zendesk | target-zendesk migration selects.
MIGRATION_STREAMS = ("organizations", "users", "ticket_comments", "tickets")


def migration_catalog(
    tap_config: Path, out: Path, streams: Collection[str] = MIGRATION_STREAMS
) -> Path:
    """`tap-zendesk --discover` (the installed command) with `streams` selected."""
    catalog = json.loads(
        subprocess.run(
            [str(Path(sys.executable).parent / "tap-zendesk"), "--config", str(tap_config),
             "--discover"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    out.write_text(json.dumps(catalog))
    return out
