"""The parsed request handed to every handler, with absolute-link building on the own base URL."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .util import ApiError

# query parameters that describe a position; links replace them instead of carrying them
POSITION_PARAMS = frozenset({"page[after]", "page[before]", "page[size]", "page", "per_page",
                             "cursor", "start_time", "limit"})


@dataclass
class Req:
    """One API request: canonical path (no `.json`), the path as sent, query and body."""

    method: str
    path: str
    link_path: str
    query: dict[str, str]
    multi: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]
    base: str
    flags: set[str] = field(default_factory=set)  # page-shaping fault kinds for this request
    user_id: int | None = None
    _json: Any = None

    def json(self) -> Any:
        """Parsed JSON body; malformed JSON is a 400 like Zendesk's parser error."""
        if self._json is None:
            if not self.body:
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.body)
                except ValueError:
                    raise ApiError(400, {"error": "Unprocessable Entity",
                                         "description": "Malformed JSON body"}) from None
        return self._json

    def link(self, **params: Any) -> str:
        """Absolute URL on the own base for this path, keeping non-position query params."""
        merged = {k: v for k, v in self.query.items() if k not in POSITION_PARAMS}
        for k, v in params.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        qs = urlencode(sorted(merged.items()))
        return f"{self.base}{self.link_path}" + (f"?{qs}" if qs else "")

    def flag(self, name: str) -> bool:
        """Whether a page-shaping fault is active on this request."""
        return name in self.flags

    def csv(self, name: str) -> list[str]:
        """A comma-separated (or repeated) query parameter as a list."""
        out: list[str] = []
        for raw in self.multi.get(name, []):
            out += [p.strip() for p in raw.split(",") if p.strip()]
        return out

    def truthy(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter (`true`/`false`)."""
        raw = self.query.get(name)
        if raw is None:
            return default
        return raw.lower() in ("1", "true", "yes")
