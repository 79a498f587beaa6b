"""Per-stream counts and the rejects file: a record not written is accounted for, never dropped."""

from __future__ import annotations

import datetime
import json
import os
import threading
import typing as t
from collections import Counter
from pathlib import Path

#: The counters the summary shows, in order.
COUNTS = ("read", "created", "updated", "unchanged", "skipped", "rejected")
#: Rejection reasons logged per stream in the summary (the file has all of them).
_LOGGED_REASONS = 5


class RunCounters:
    """Thread-safe counters per stream: read, created, updated, unchanged, skipped, rejected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = {}
        self._reasons: dict[str, Counter[str]] = {}
        self._kinds: dict[tuple[str, str], str] = {}

    def add(self, stream: str, name: str, count: int = 1) -> None:
        """Count `count` records of `stream` under `name`."""
        if count:
            with self._lock:
                self._counts.setdefault(stream, Counter())[name] += count

    def reason(self, stream: str, reason: str, count: int = 1, kind: str = "skipped") -> None:
        """Group reasons for the summary; `kind` is skipped, rejected or note (JSON report)."""
        if count:
            with self._lock:
                self._reasons.setdefault(stream, Counter())[reason] += count
                self._kinds[(stream, reason)] = kind

    def as_dict(self) -> dict[str, dict[str, t.Any]]:
        """Per stream: every counter, and the reasons grouped by kind (for the JSON report)."""
        with self._lock:
            out: dict[str, dict[str, t.Any]] = {}
            for stream in sorted(set(self._counts) | set(self._reasons)):
                entry: dict[str, t.Any] = dict(self._counts.get(stream, Counter()))
                for reason, n in self._reasons.get(stream, Counter()).most_common():
                    kind = self._kinds.get((stream, reason), "skipped")
                    entry.setdefault(f"{kind}_reasons", {})[reason] = n
                out[stream] = entry
            return out

    def get(self, stream: str, name: str) -> int:
        """Return one counter (0 when never counted)."""
        with self._lock:
            return self._counts.get(stream, Counter())[name]

    def total(self, name: str) -> int:
        """Sum a counter over every stream."""
        with self._lock:
            return sum(c[name] for c in self._counts.values())

    def lines(self) -> list[str]:
        """Return one summary line per stream, plus its most frequent reasons."""
        with self._lock:
            out = []
            for stream in sorted(self._counts):
                counts = self._counts[stream]
                extra = sorted(set(counts) - set(COUNTS))
                names = [*COUNTS, *extra]
                out.append(f"{stream}: " + ", ".join(f"{n}={counts[n]}" for n in names))
                for reason, n in self._reasons.get(stream, Counter()).most_common(_LOGGED_REASONS):
                    out.append(f"  {n} x {reason}")
            return out


class RejectsFile:
    """JSON Lines file of rejected records: stream, source key, Zendesk's error and details."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file: t.IO[str] | None = None
        self.count = 0

    def write(
        self,
        *,
        stream: str,
        key: str | None,
        error: str,
        details: str,
        field: str | None = None,
        external_id: str | None = None,
        email: str | None = None,
        job_id: str | None = None,
    ) -> None:
        """Append one line and flush it (a crash must not lose what was already rejected)."""
        line = {
            "stream": stream,
            "key": key,
            "external_id": external_id,
            "email": email,
            "field": field,
            "error": error,
            "details": details,
            "job_id": job_id,
            "rejected_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        text = json.dumps({k: v for k, v in line.items() if v is not None}, ensure_ascii=False)
        with self._lock:
            if self._file is None:
                if self.path.parent != Path():
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(text + "\n")
            self._file.flush()
            self.count += 1

    def close(self) -> None:
        """Close the file if this run wrote to it."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def write_json(path: str | os.PathLike[str], data: dict[str, t.Any]) -> Path:
    """Write a JSON file atomically (a reader never sees half a report)."""
    target = Path(path)
    if target.parent != Path():
        target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    tmp.replace(target)
    return target
