"""`make demo`: migrate a seeded Zendesk account into another one, end to end, on two emulators.

Starts a source emulator (seeded tickets, users, organizations, comments with attachments,
custom fields, groups, brands, forms) and a destination emulator that has some of those
definitions under other ids, runs `tap-zendesk --config source.json | target-zendesk --config
destination.json` (the demo counts the messages that pass between them), reads the destination
back with tap-zendesk and runs `python -m target_zendesk.verify` on the two accounts. State and
the target's journal live in `.demo/`, so a second `make demo` runs incrementally from the first
run's STATE and shows the tap doing almost nothing. `make demo` against a real account is just
the same commands with your own config files (see README.md).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.emulator import Emulator

DEMO_DIR = Path(".demo")
#: The streams a migration needs; the rest of the catalog stays deselected in the demo.
DEMO_STREAMS = (
    "brands",
    "groups",
    "custom_statuses",
    "ticket_fields",
    "ticket_forms",
    "user_fields",
    "organization_fields",
    "organizations",
    "users",
    "ticket_comments",
    "tickets",
)
#: Streams the summary lists one by one (the definition streams are summed up).
RECORD_STREAMS = ("organizations", "users", "ticket_comments", "tickets")
BIN = Path(sys.executable).parent


def _config(emu: Emulator, **extra: object) -> dict:
    """Connection settings for an emulator (its built-in demo credentials)."""
    return {
        "subdomain": "demo",
        "api_url": emu.url,
        "email": "demo@example.com",
        "api_token": "demo",
        **extra,
    }


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def _catalog(tap_config: Path) -> Path:
    """Discover, then select only the migration streams (what `meltano select` would do)."""
    out = subprocess.run(
        [str(BIN / "tap-zendesk"), "--config", str(tap_config), "--discover"],
        check=True,
        capture_output=True,
        text=True,
    )
    catalog = json.loads(out.stdout)
    for entry in catalog["streams"]:
        selected = entry["tap_stream_id"] in DEMO_STREAMS
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = selected
    return _write(DEMO_DIR / "catalog.json", catalog)


def _pipe(tap_cmd: list[str], target_cmd: list[str], state_out: Path, tee: Path) -> dict:
    """Run tap | target, counting RECORDs per stream on the way, keeping the target's last STATE.

    What the tap sends is also written to `tee`: the source account's dump for the check.
    """
    counts: collections.Counter[str] = collections.Counter()
    logs = (DEMO_DIR / "tap.log").open("w"), (DEMO_DIR / "target.log").open("w")
    copy = tee.open("wb")
    tap = subprocess.Popen(tap_cmd, stdout=subprocess.PIPE, stderr=logs[0])
    target = subprocess.Popen(
        target_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=logs[1]
    )
    last_state: list[bytes] = []

    def read_target() -> None:
        for line in target.stdout:  # type: ignore[union-attr]
            if line.strip():
                last_state.append(line)

    reader = threading.Thread(target=read_target, daemon=True)
    reader.start()
    for line in tap.stdout:  # type: ignore[union-attr]
        if line.startswith(b'{"type":"RECORD"') or b'"type": "RECORD"' in line[:30]:
            stream = json.loads(line).get("stream")
            counts[stream] += 1
        target.stdin.write(line)  # type: ignore[union-attr]
        copy.write(line)
    target.stdin.close()  # type: ignore[union-attr]
    copy.close()
    tap_rc, target_rc = tap.wait(), target.wait()
    reader.join()
    for log in logs:
        log.close()
    if tap_rc or target_rc:
        which = "tap-zendesk" if tap_rc else "target-zendesk"
        log = DEMO_DIR / ("tap.log" if tap_rc else "target.log")
        tail = log.read_text().strip().splitlines()[-15:]
        sys.exit(f"{which} failed (exit {tap_rc or target_rc}); last lines of {log}:\n" + "\n".join(tail))
    if last_state:
        state = json.loads(last_state[-1])
        _write(state_out, state.get("value", state))
    return counts


def _dump(tap_config: Path, catalog: Path, out: Path) -> Path:
    """Read an account with tap-zendesk into a file (what the check compares)."""
    with out.open("wb") as handle, (DEMO_DIR / "tap-destination.log").open("w") as log:
        cmd = [str(BIN / "tap-zendesk"), "--config", str(tap_config), "--catalog", str(catalog)]
        subprocess.run(cmd, stdout=handle, stderr=log, check=True)
    return out


def _verify(source: Path, destination: Path) -> tuple[int, str]:
    """`python -m target_zendesk.verify` on the two dumps: exit status and what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "target_zendesk.verify", "--source", str(source),
         "--destination", str(destination), "--json", str(DEMO_DIR / "verify.json")],
        capture_output=True,
        text=True,
    )
    return done.returncode, done.stdout + done.stderr


def main() -> None:
    """Run the demo and print its summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--fresh", action="store_true", help="forget the state of earlier runs")
    args = parser.parse_args()
    if args.fresh and DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    DEMO_DIR.mkdir(exist_ok=True)
    state_file = DEMO_DIR / "state.json"
    second_run = state_file.exists()

    # A "minute" of 3 s: Zendesk's 10 export requests per minute, paced 20 times faster.
    knobs = {"hold_back": 0, "window_seconds": 3, "job_delay": 0.2}
    # Private attachments (downloads need the source's credentials); the destination already
    # has some of the source's fields, groups, brands and forms, under ids of its own (seed 8).
    with Emulator(tickets=args.tickets, seed=7, attachment_auth=True, **knobs) as source, \
            Emulator(tickets=0, seed=8, definitions="some", **knobs) as dest:
        tap_config = _write(
            DEMO_DIR / "source.json", _config(source, start_date="2000-01-01T00:00:00Z")
        )
        target_config = _write(
            DEMO_DIR / "destination.json",
            _config(
                dest,
                journal_path=str(DEMO_DIR / "journal.sqlite"),
                rejects_path=str(DEMO_DIR / "rejects.jsonl"),
                report_path=str(DEMO_DIR / "report.json"),
                source_api_url=source.url,
                source_email="demo@example.com",
                source_api_token="demo",
                create_missing_definitions=True,
            ),
        )
        catalog = _catalog(tap_config)
        source.reset_stats()
        tap_cmd = [str(BIN / "tap-zendesk"), "--config", str(tap_config), "--catalog", str(catalog)]
        if second_run:
            tap_cmd += ["--state", str(state_file)]
        target_cmd = [str(BIN / "target-zendesk"), "--config", str(target_config)]
        started = time.monotonic()
        source_dump = DEMO_DIR / ("source-incremental.singer" if second_run else "source.singer")
        counts = _pipe(tap_cmd, target_cmd, state_file, source_dump)
        seconds = time.monotonic() - started
        src_stats, dst_stats = source.stats(), dest.stats()
        imported = [t for t in dest.collection("tickets") if t.get("external_id")]
        comments = len(dest.collection("ticket_comments"))
        deleted = sum(1 for t in source.collection("tickets") if t.get("status") == "deleted")
        rejects = DEMO_DIR / "rejects.jsonl"
        rejected = sum(1 for _ in rejects.open()) if rejects.exists() else 0
        report = json.loads((DEMO_DIR / "report.json").read_text())
        verified: tuple[int, str] | None = None
        if not second_run:
            dest_config = _write(
                DEMO_DIR / "destination-tap.json",
                _config(dest, start_date="2000-01-01T00:00:00Z"),
            )
            verified = _verify(
                source_dump, _dump(dest_config, catalog, DEMO_DIR / "destination.singer")
            )

    files = report["attachments"]
    created = sum(len(d["created"]) for d in report["definitions"].values())
    definitions = sum(counts.get(s, 0) for s in DEMO_STREAMS if s not in RECORD_STREAMS)
    print()
    print(f"tap-zendesk | target-zendesk  ({'incremental run' if second_run else 'first run'})")
    print(f"  source account:      {args.tickets} tickets (seed 7)")
    print(f"  {'definitions':<20} {definitions:>7} records (fields, groups, brands, forms, "
          f"statuses; {created} created in the destination)")
    for stream in RECORD_STREAMS:
        print(f"  {stream:<20} {counts.get(stream, 0):>7} records")
    print(
        f"  destination now holds: {len(imported)} imported tickets, {comments} comments "
        f"({deleted} tickets deleted in the source are not imported)"
    )
    print(
        f"  attachments: {files['uploaded']} files, {files['bytes'] / 1e6:.1f} MB moved "
        f"({files['reused_from_earlier_run']} reused from an earlier run, {files['rejected']} "
        "rejected)"
    )
    print(f"  rejected records: {rejected} ({rejects}); report: {DEMO_DIR / 'report.json'}")
    print(
        f"  requests: {src_stats['total_requests']} to the source, "
        f"{dst_stats['total_requests']} to the destination "
        f"(429s: {src_stats['rate_limited'] + dst_stats['rate_limited']})"
    )
    print(f"  seconds: {seconds:.1f}")
    if second_run:
        print("  (a second run reads only what changed since .demo/state.json; "
              "`make demo ARGS=--fresh` starts over)")
        print("  verification: after a first run only (each run's destination emulator starts "
              "empty); `make demo ARGS=--fresh` migrates and verifies again")
        return
    status, text = verified or (1, "")
    print()
    print("python -m target_zendesk.verify --source .demo/source.singer "
          "--destination .demo/destination.singer")
    print("\n".join(f"  {line}" for line in text.rstrip().splitlines()))
    if status:
        sys.exit("verification failed: the destination differs from the source (see above)")
    print("  Run `make demo` again: the incremental run finds nothing new.")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
