"""In-memory account data with cached JSON bytes and lazily rebuilt, version-checked indexes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from .util import dumps, now, parse_iso

# Where ids of brand-new records start when a collection is empty (64-bit sized, like Zendesk).
_ID_BASE = {
    "tickets": 1,
    "users": 1_500_000_000_001,
    "organizations": 3_600_000_000_001,
}
_DEFAULT_ID_BASE = 9_000_000_000_001
# collections whose rows have no `id`; another field identifies them
ID_FIELDS = {"tags": "name"}


class Collection:
    """One collection: rows in insertion order plus an id index and a change counter."""

    __slots__ = ("name", "idf", "rows", "by_id", "pos", "version", "next_id")

    def __init__(self, name: str, rows: list[dict]):
        self.name = name
        self.idf = ID_FIELDS.get(name, "id")
        self.rows: list[dict] = list(rows)
        self.by_id: dict[Any, dict] = {}
        self.pos: dict[Any, int] = {}
        for i, row in enumerate(self.rows):
            self.by_id[row.get(self.idf)] = row
            self.pos[row.get(self.idf)] = i
        self.version = 0
        ints = [k for k in self.by_id if isinstance(k, int)]
        self.next_id = (max(ints) + 1) if ints else _ID_BASE.get(name, _DEFAULT_ID_BASE)


def export_ts(name: str, obj: dict) -> int:
    """Timestamp an incremental export orders this object by."""
    if name == "tickets":
        ts = obj.get("generated_timestamp")
        if ts is not None:
            return int(ts)
        return parse_iso(obj.get("updated_at")) or 0
    if name == "ticket_metric_events":
        return parse_iso(obj.get("time")) or 0
    if name == "ticket_audits":
        return parse_iso(obj.get("created_at")) or 0
    return parse_iso(obj.get("updated_at") or obj.get("created_at")) or 0


class Store:
    """All collections of one account; writers hold `lock`, readers use cached snapshots."""

    def __init__(self, collections: dict[str, list[dict]], archived: set[int], admin_id: int):
        self.lock = threading.RLock()
        self.cols: dict[str, Collection] = {n: Collection(n, r) for n, r in collections.items()}
        self.archived: set[int] = set(archived)
        self.admin_id = admin_id
        # export timestamps that differ from the object's own fields (e.g. imported audits
        # keep their historical created_at but enter the ticket_events export "now")
        self.ts_override: dict[tuple[str, Any], int] = {}
        self._bytes: dict[tuple[str, Any, Hashable], bytes] = {}
        self._variants: dict[str, set[Hashable]] = {}
        self._derived: dict[Hashable, tuple[tuple[int, ...], Any]] = {}
        # case-insensitive lookups kept up to date by every write (bulk upserts look one up per
        # item; rebuilding after each write made a 5,000-user feed quadratic)
        self._ci: dict[tuple[str, str], dict[str, dict]] = {}
        self.uploads: dict[str, dict] = {}

    # ---- plain access -------------------------------------------------------------------
    def col(self, name: str) -> Collection:
        """The named collection, created empty on first use so writes never KeyError."""
        c = self.cols.get(name)
        if c is None:
            with self.lock:
                c = self.cols.setdefault(name, Collection(name, []))
        return c

    def rows(self, name: str) -> list[dict]:
        """All rows of a collection in insertion order (do not mutate)."""
        return self.col(name).rows

    def get(self, name: str, oid: Any) -> dict | None:
        """One row by id; ids in URLs arrive as strings, so try the int form too."""
        by_id = self.col(name).by_id
        row = by_id.get(oid)
        if row is None and isinstance(oid, str) and oid.isdigit():
            row = by_id.get(int(oid))
        return row

    def version(self, *names: str) -> tuple[int, ...]:
        """Change counters of the named collections (index cache keys)."""
        return tuple(self.col(n).version for n in names)

    # ---- serialisation cache ------------------------------------------------------------
    def row_bytes(self, name: str, obj: dict, variant: Hashable = None,
                  build: Callable[[dict], bytes] | None = None) -> bytes:
        """Cached JSON bytes of a row (or of a derived variant of it)."""
        key = (name, obj.get(ID_FIELDS.get(name, "id")), variant)
        data = self._bytes.get(key)
        if data is None:
            data = build(obj) if build else dumps(obj)
            self._bytes[key] = data
            if variant is not None:
                self._variants.setdefault(name, set()).add(variant)
        return data

    def invalidate(self, name: str, oid: Any) -> None:
        """Drop cached bytes of every variant of one row."""
        self._bytes.pop((name, oid, None), None)
        for variant in self._variants.get(name, ()):
            self._bytes.pop((name, oid, variant), None)

    # ---- derived indexes ----------------------------------------------------------------
    def derived(self, key: Hashable, deps: tuple[str, ...], build: Callable[[], Any]) -> Any:
        """A value computed from collections, rebuilt only when one of them changed."""
        ver = self.version(*deps)
        hit = self._derived.get(key)
        if hit is not None and hit[0] == ver:
            return hit[1]
        with self.lock:
            ver = self.version(*deps)
            hit = self._derived.get(key)
            if hit is not None and hit[0] == ver:
                return hit[1]
            value = build()
            self._derived[key] = (ver, value)
            return value

    def group_by(self, name: str, fieldname: str) -> dict[Any, list[dict]]:
        """Rows grouped by a field value, e.g. comments by ticket_id."""
        def build() -> dict[Any, list[dict]]:
            out: dict[Any, list[dict]] = {}
            for row in self.rows(name):
                out.setdefault(row.get(fieldname), []).append(row)
            return out
        return self.derived(("group", name, fieldname), (name,), build)

    def index_ci(self, name: str, fieldname: str) -> dict[str, dict]:
        """Case-insensitive unique lookup on a string field (email, external_id, name)."""
        idx = self._ci.get((name, fieldname))
        if idx is None:
            with self.lock:
                idx = self._ci.get((name, fieldname))
                if idx is None:
                    idx = {}
                    for row in self.rows(name):
                        value = row.get(fieldname)
                        if isinstance(value, str) and value:
                            idx.setdefault(value.lower(), row)
                    self._ci[(name, fieldname)] = idx
        return idx

    def _ci_write(self, name: str, old: dict | None, new: dict | None) -> None:
        """Move one row's entries in the case-insensitive indexes (caller holds the lock)."""
        for (col, fieldname), idx in self._ci.items():
            if col != name:
                continue
            if old is not None:
                value = old.get(fieldname)
                if isinstance(value, str) and value and idx.get(value.lower()) is old:
                    del idx[value.lower()]
            if new is not None:
                value = new.get(fieldname)
                if isinstance(value, str) and value:
                    idx.setdefault(value.lower(), new)

    def sorted_rows(self, name: str, sort: str = "id") -> list[dict]:
        """Rows sorted by one field (ascending, id as tie-breaker)."""
        def build() -> list[dict]:
            rows = list(self.rows(name))
            if sort == "id":
                return sorted(rows, key=_id_key)
            return sorted(rows, key=lambda r: (_sortable(r.get(sort)), _id_key(r)))
        return self.derived(("sorted", name, sort), (name,), build)

    def export_index(self, name: str) -> tuple[list[tuple[int, Any]], list[dict]]:
        """Rows ordered by (export timestamp, id) plus the parallel key list for bisecting."""
        def build() -> tuple[list[tuple[int, Any]], list[dict]]:
            over = self.ts_override
            decorated = sorted(
                ((over.get((name, r.get("id"))) or export_ts(name, r), r.get("id"), r)
                 for r in self.rows(name)),
                key=lambda t: (t[0], _id_key_value(t[1])))
            return [(t[0], t[1]) for t in decorated], [t[2] for t in decorated]
        return self.derived(("export", name), (name,), build)

    def ts_of(self, name: str, obj: dict) -> int:
        """Export timestamp of one row, honouring overrides."""
        return self.ts_override.get((name, obj.get("id"))) or export_ts(name, obj)

    # ---- writes -------------------------------------------------------------------------
    def new_id(self, name: str) -> int:
        """Allocate the next integer id of a collection."""
        with self.lock:
            c = self.col(name)
            oid = c.next_id
            c.next_id += 1
            return oid

    def insert(self, name: str, obj: dict, ts: int | None = None) -> dict:
        """Add a row; `ts` overrides its export timestamp."""
        with self.lock:
            c = self.col(name)
            oid = obj.get(c.idf)
            if oid in c.by_id:
                return self.replace(name, obj, ts)
            c.pos[oid] = len(c.rows)
            c.rows.append(obj)
            c.by_id[oid] = obj
            self._ci_write(name, None, obj)
            if isinstance(oid, int) and oid >= c.next_id:
                c.next_id = oid + 1
            if ts is not None:
                self.ts_override[(name, oid)] = ts
            c.version += 1
            return obj

    def replace(self, name: str, obj: dict, ts: int | None = None) -> dict:
        """Swap in a new version of a row (copy-on-write keeps concurrent readers safe)."""
        with self.lock:
            c = self.col(name)
            oid = obj.get(c.idf)
            if oid not in c.by_id:
                return self.insert(name, obj, ts)
            self._ci_write(name, c.by_id[oid], obj)
            c.rows[c.pos[oid]] = obj
            c.by_id[oid] = obj
            if ts is not None:
                self.ts_override[(name, oid)] = ts
            self.invalidate(name, oid)
            c.version += 1
            return obj

    def update(self, name: str, oid: Any, changes: dict, ts: int | None = None) -> dict:
        """Merge changes into a row as a new dict and store it."""
        with self.lock:
            old = self.get(name, oid)
            if old is None:
                raise KeyError(oid)
            return self.replace(name, {**old, **changes}, ts)

    def delete(self, name: str, oid: Any) -> None:
        """Remove a row for good (used for expired jobs; Zendesk soft-deletes elsewhere)."""
        with self.lock:
            c = self.col(name)
            if oid not in c.by_id:
                return
            self._ci_write(name, c.by_id[oid], None)
            del c.by_id[oid]
            c.rows = [r for r in c.rows if r.get(c.idf) != oid]
            c.pos = {r.get(c.idf): i for i, r in enumerate(c.rows)}
            self.invalidate(name, oid)
            c.version += 1

    def touch_clock(self) -> int:
        """Current time for write timestamps (one place so tests could freeze it)."""
        return now()

    def snapshot(self, name: str) -> list[dict]:
        """A copy of a collection for inspection."""
        return [dict(r) for r in self.rows(name)]


def _id_key(row: dict) -> tuple[int, Any]:
    """Sort key for ids that may be ints or strings (UUIDs, job ids)."""
    return _id_key_value(row.get("id"))


def _id_key_value(oid: Any) -> tuple[int, Any]:
    """Ints before strings, each in natural order."""
    return (0, oid) if isinstance(oid, int) else (1, str(oid))


def _sortable(value: Any) -> tuple[int, Any]:
    """Make mixed/None field values comparable (None first)."""
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))
