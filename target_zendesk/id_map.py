"""Source id -> destination id, so tickets point at the right requester, assignee and organization.

Users and organizations are cached in memory (looked up five times per ticket), up to
`CACHE_LIMIT` of each, oldest out first: a CRM feed or a 1M-ticket account has hundreds of
thousands of them, and a miss costs only a share of one journal query per batch. Tickets are not
cached (there can be millions): `imported` asks the journal once per batch.
"""

from __future__ import annotations

import threading
import typing as t
from collections import OrderedDict

from target_zendesk.journal import DELETED, Journal

#: Sentinel for "the journal does not know this key" (distinct from a known deleted object).
UNKNOWN: t.Final = object()


#: Users (and organizations) kept in memory: about 6 MB each at the limit. Lookups miss often
#: anyway in a big account (tickets refer to users at random) and a miss is one share of a
#: batched journal query, so a bigger cache buys little speed for much memory.
CACHE_LIMIT = 20_000


class IdMap:
    """Thread-safe id map backed by the journal."""

    CACHED_KINDS = frozenset({"users", "organizations"})

    def __init__(self, journal: Journal, cache_limit: int = CACHE_LIMIT) -> None:
        self.journal = journal
        self.cache_limit = max(1, cache_limit)
        self._lock = threading.Lock()
        self._cache: dict[str, OrderedDict[str, tuple[int | None, str | None]]] = {
            kind: OrderedDict() for kind in self.CACHED_KINDS
        }

    def lookup(self, kind: str, keys: t.Iterable[str]) -> dict[str, tuple[int | None, str | None]]:
        """Return (dest_id, digest) per known key (dest_id None + DELETED: skipped on purpose)."""
        keys = list(dict.fromkeys(keys))
        cache = self._cache.get(kind)
        if cache is None:
            return self.journal.ids_get(kind, keys)
        found = {k: cache[k] for k in keys if k in cache}
        missing = [k for k in keys if k not in found]
        if missing:
            loaded = self.journal.ids_get(kind, missing)
            self._remember(cache, loaded.items())
            found.update(loaded)
        return found

    def _remember(
        self,
        cache: OrderedDict[str, tuple[int | None, str | None]],
        pairs: t.Iterable[tuple[str, tuple[int | None, str | None]]],
    ) -> None:
        """Add to the cache; the oldest entries go once it holds more than `cache_limit`."""
        with self._lock:
            cache.update(pairs)
            while len(cache) > self.cache_limit:
                cache.popitem(last=False)

    def get(self, kind: str, key: str) -> tuple[int | None, str | None] | object:
        """Return (dest_id, digest) of one key, or UNKNOWN."""
        cache = self._cache.get(kind)
        if cache is not None and key in cache:
            return cache[key]
        return self.lookup(kind, [key]).get(key, UNKNOWN)

    def put(self, kind: str, rows: t.Sequence[tuple[str, int | None, str | None]]) -> None:
        """Remember (source_key, dest_id, digest) rows, in memory and in the journal."""
        if not rows:
            return
        self.journal.ids_put(kind, rows)
        cache = self._cache.get(kind)
        if cache is not None:
            self._remember(cache, ((key, (dest, digest)) for key, dest, digest in rows))

    def mark_deleted(self, kind: str, keys: t.Sequence[str]) -> None:
        """Remember objects deleted in the source, so a reference to them says why it fails."""
        self.put(kind, [(k, None, DELETED) for k in keys])

    def imported(self, kind: str, keys: t.Sequence[str]) -> set[str]:
        """Return the keys already written (with a destination id)."""
        return {k for k, (dest, _) in self.lookup(kind, keys).items() if dest is not None}
