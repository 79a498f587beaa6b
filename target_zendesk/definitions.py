"""Source account definitions -> the destination's: custom fields, groups, brands, forms, statuses.

Ids of these objects differ between accounts. tap-zendesk emits the source's definitions first
(`ticket_fields`, `user_fields`, `organization_fields`, `groups`, `brands`, `ticket_forms`,
`custom_statuses`); the target stages them in the journal, reads the destination's once, and
matches them by a stable key (zendesk_api.md 5.9): fields by `key`, else title and type;
dropdown values by tag (option `value`); groups, brands and forms by name; custom statuses by
category and agent label. A definition with no counterpart is reported once, and the records
that use it are rejected naming it, unless `create_missing_definitions` creates it first.

The matching rules are pure functions, shared with `target_zendesk.verify`.
"""

from __future__ import annotations

import collections
import logging
import threading
import typing as t
from dataclasses import dataclass, field

from tap_zendesk.api.errors import FatalSyncError, ZendeskRequestError
from target_zendesk.payloads import RecordError, decode, encode

if t.TYPE_CHECKING:
    from target_zendesk.payloads import Resolver
    from target_zendesk.runtime import Runtime


@dataclass(frozen=True)
class Kind:
    """One kind of definition: where the destination lists it and how it is written."""

    name: str
    path: str
    singular: str
    paged: bool
    noun: str


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        # zendesk_api.md 5.9: ticket fields come unpaged; forms in one page; 5.10: statuses
        # have no paging; the rest are CBP lists.
        Kind("ticket_fields", "/api/v2/ticket_fields", "ticket_field", False, "ticket field"),
        Kind("user_fields", "/api/v2/user_fields", "user_field", True, "user field"),
        Kind(
            "organization_fields",
            "/api/v2/organization_fields",
            "organization_field",
            True,
            "organization field",
        ),
        Kind("groups", "/api/v2/groups", "group", True, "group"),
        Kind("brands", "/api/v2/brands", "brand", True, "brand"),
        Kind("ticket_forms", "/api/v2/ticket_forms", "ticket_form", False, "ticket form"),
        Kind("custom_statuses", "/api/v2/custom_statuses", "custom_status", False, "status"),
    )
}
#: Ticket fields Zendesk defines itself (not custom; the same in every account, 5.9).
SYSTEM_TICKET_FIELD_TYPES = frozenset(
    {
        "subject",
        "description",
        "status",
        "custom_status",
        "tickettype",
        "priority",
        "group",
        "assignee",
        "brand",
    }
)
#: Field types whose values are option tags.
OPTION_TYPES = frozenset({"tagger", "dropdown", "multiselect"})
#: Ticket (and organization) attributes that hold the id of a definition.
REFERENCE_FIELDS = {
    "group_id": "groups",
    "brand_id": "brands",
    "ticket_form_id": "ticket_forms",
    "custom_status_id": "custom_statuses",
}
OBJECT_FIELD_KINDS = {"users": "user_fields", "organizations": "organization_fields"}


class DefinitionsUnavailableError(FatalSyncError):
    """Raised when the destination's definitions cannot be read (not a plan restriction)."""


# -- pure matching rules (used by the target and by verify) ------------------------------------
def _fold(value: t.Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def is_custom_field(kind: str, row: dict[str, t.Any]) -> bool:
    """Tell custom fields from system ones (those exist in every account, under their type)."""
    if kind != "ticket_fields":
        return not row.get("system")
    return row.get("removable") is not False and row.get("type") not in SYSTEM_TICKET_FIELD_TYPES


def identities(kind: str, row: dict[str, t.Any]) -> list[tuple[str, ...]]:
    """Keys a definition is matched by, most specific first."""
    if kind in ("ticket_fields", "user_fields", "organization_fields"):
        out: list[tuple[str, ...]] = []
        if row.get("key"):
            out.append(("key", str(row["key"])))
        if kind == "ticket_fields" and not is_custom_field(kind, row):
            out.append(("system", str(row.get("type"))))
        out.append(("title", _fold(row.get("title") or row.get("raw_title")), str(row.get("type"))))
        return out
    if kind == "custom_statuses":
        out = [("label", str(row.get("status_category")), _fold(row.get("agent_label")))]
        if row.get("default"):
            out.append(("default", str(row.get("status_category"))))
        return out
    return [("name", _fold(row.get("name")))]


def usable(kind: str, row: dict[str, t.Any]) -> bool:
    """Whether a destination definition can be referenced (not deleted)."""
    return not (row.get("deleted") or row.get("is_deleted") or row.get("deleted_at"))


def live(kind: str, row: dict[str, t.Any]) -> bool:
    """Not deleted and not switched off: what a migration recreates when asked."""
    return usable(kind, row) and row.get("active", True) is not False


def match(
    kind: str, source: t.Iterable[dict[str, t.Any]], destination: t.Iterable[dict[str, t.Any]]
) -> dict[str, dict[str, t.Any] | None]:
    """Source id -> the destination definition it maps to (None: no counterpart)."""
    index: dict[tuple[str, ...], dict[str, t.Any]] = {}
    ranked = sorted(
        (r for r in destination if usable(kind, r)),
        key=lambda r: (not r.get("active", True), _id_order(r.get("id"))),
    )
    for row in ranked:
        for ident in identities(kind, row):
            index.setdefault(ident, row)
    out: dict[str, dict[str, t.Any] | None] = {}
    for row in source:
        found = None
        for ident in identities(kind, row):
            found = index.get(ident)
            if found is not None:
                break
        out[str(row.get("id"))] = found
    return out


def _id_order(value: t.Any) -> tuple[int, t.Any]:
    return (0, value) if isinstance(value, int) else (1, str(value))


def option_tags(row: dict[str, t.Any] | None) -> set[str]:
    """Option values (tags) of a dropdown or multiselect field."""
    if not row:
        return set()
    return {str(o["value"]) for o in row.get("custom_field_options") or () if isinstance(o, dict)}


def describe(kind: str, row: dict[str, t.Any]) -> str:
    """Name a definition as people know it: `ticket field 'Plan' (tagger)`, `group 'X'`."""
    noun = KINDS[kind].noun
    if kind in ("ticket_fields", "user_fields", "organization_fields"):
        label = row.get("title") or row.get("key")
        key = f", key {row['key']}" if row.get("key") and kind != "ticket_fields" else ""
        return f"{noun} '{label}' ({row.get('type')}{key})"
    if kind == "custom_statuses":
        return f"{noun} '{row.get('agent_label')}' ({row.get('status_category')})"
    return f"{noun} '{row.get('name')}'"


def empty(value: t.Any) -> bool:
    """Unset custom values: Zendesk lists every field, with null (or false for checkboxes)."""
    return value is None or value is False or value == "" or value == []


# -- the run's mapping ---------------------------------------------------------------------------
@dataclass
class FieldMap:
    """How one source field lands: destination id/key, type, and options it lacks."""

    source: dict[str, t.Any]
    dest: dict[str, t.Any] | None
    missing_options: set[str] = field(default_factory=set)

    @property
    def target_type(self) -> str | None:
        """What a lookup field points at (`zen:user`, `zen:organization`, ...)."""
        return self.source.get("relationship_target_type")


@dataclass
class KindMap:
    """The mapping of one kind, built once per run (again after new source definitions)."""

    kind: str
    staged: int = 0
    by_source: dict[str, FieldMap] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    options_added: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    unavailable: bool = False

    def unmapped(self) -> list[FieldMap]:
        """Live source definitions without a (complete) counterpart.

        Inactive fields and deleted groups or brands are left out: records rarely use them,
        and one that does is rejected naming it all the same.
        """
        return [
            m
            for m in self.by_source.values()
            if (m.dest is None or m.missing_options) and live(self.kind, m.source)
        ]


class DefinitionMap:
    """Maps references to source definitions onto the destination's, for every sink."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.logger: logging.Logger = runtime.logger
        self.create = bool(runtime.config.get("create_missing_definitions", False))
        self._lock = threading.RLock()
        self._maps: dict[str, KindMap] = {}
        self._dirty: set[str] = set()
        self._dest: dict[str, list[dict[str, t.Any]]] = {}
        self._warned: set[str] = set()
        self._by_id: dict[str, dict[str, dict[str, t.Any]]] = {}
        #: Attributes left out because their kind never came in the input (for the report).
        self.left_out: collections.Counter[str] = collections.Counter()

    # -- staging ---------------------------------------------------------------------------
    def stage(self, kind: str, records: list[dict[str, t.Any]]) -> int:
        """Keep source definitions in the journal (a rerun may not send them again)."""
        rows = [(str(r["id"]), encode(r)) for r in records if r.get("id") is not None]
        self.runtime.journal.stage_definitions(kind, rows)
        with self._lock:
            self._dirty.add(kind)
        return len(rows)

    # -- building --------------------------------------------------------------------------
    def kind_map(self, kind: str) -> KindMap | None:
        """Return the mapping of a kind; None when the input never carried that kind.

        The first use builds every kind staged so far (and again after new definitions
        arrive), so one warning can list everything that stays unmapped.
        """
        current = self._maps.get(kind)
        if current is not None and not self._dirty:  # the hot path: once per record and field
            return current if current.staged else None
        with self._lock:
            current = self._maps.get(kind)
            if current is None or kind in self._dirty:
                todo = [k for k in KINDS if k not in self._maps or k in self._dirty]
                self._dirty.difference_update(todo)
                built = [b for b in (self._load(k) for k in todo) if b is not None]
                self._announce(built)
                current = self._maps[kind]
            return current if current.staged else None

    def _load(self, kind: str) -> KindMap | None:
        """Build one kind from the journal's staged definitions (None: none staged)."""
        source = [decode(b) for b in self.runtime.journal.definitions(kind)]
        built = KindMap(kind, staged=len(source))
        self._maps[kind] = built
        self._by_id[kind] = {str(r["id"]): r for r in source}
        if not source:
            return None
        self._build(built, source)
        return built

    def _build(self, built: KindMap, source: list[dict[str, t.Any]]) -> None:
        """Match, create what is missing if asked, and say once what stays unmapped."""
        kind = built.kind
        relevant = [r for r in source if self._relevant(kind, r)]
        dest = self._destination(kind)
        if dest is None:
            built.unavailable = True
            self.logger.warning(
                "The destination's %s cannot be read (plan or permission); %s references "
                "are left out of the written records.",
                kind,
                KINDS[kind].noun,
            )
            return
        self._match_into(built, relevant, dest)
        if self.create and built.unmapped():
            self._create_missing(built)
            self._match_into(built, relevant, self._destination(kind, refresh=True) or [])

    @staticmethod
    def _relevant(kind: str, row: dict[str, t.Any]) -> bool:
        """Keep custom fields (system fields exist everywhere); every group, brand, form, status."""
        if kind in ("ticket_fields", "user_fields", "organization_fields"):
            return is_custom_field(kind, row)
        return True

    def _match_into(
        self, built: KindMap, source: list[dict[str, t.Any]], dest: list[dict[str, t.Any]]
    ) -> None:
        kind = built.kind
        pairs = match(kind, source, dest)
        built.by_source = {}
        for row in source:
            target = pairs.get(str(row["id"]))
            missing: set[str] = set()
            if target is not None and row.get("type") in OPTION_TYPES:
                missing = option_tags(row) - option_tags(target)
            built.by_source[str(row["id"])] = FieldMap(row, target, missing)

    def _announce(self, built: list[KindMap]) -> None:
        """One warning for everything unmapped, with how to fix it; creations logged."""
        for kind_map in built:
            if kind_map.created or kind_map.options_added:
                self.logger.info(
                    "Created %d %s in the destination and added %d dropdown options: %s",
                    len(kind_map.created),
                    kind_map.kind,
                    kind_map.options_added,
                    "; ".join(kind_map.created) or "-",
                )
        parts = []
        for kind_map in built:
            unmapped = kind_map.unmapped()
            if unmapped:
                items = "; ".join(self._explain(kind_map, m) for m in unmapped[:20])
                more = f" and {len(unmapped) - 20} more" if len(unmapped) > 20 else ""
                parts.append(
                    f"{kind_map.kind}: {items}{more} (fix: {self.fix_hint(kind_map.kind)})"
                )
        if parts:
            total = sum(len(b.unmapped()) for b in built)
            self.logger.warning(
                "%d source definitions have no counterpart in the destination, and records "
                "that use them are rejected. %s",
                total,
                " | ".join(parts),
            )

    def fix_hint(self, kind: str) -> str:
        """How to fix an unmapped definition of a kind."""
        how = {
            "ticket_fields": "create them in the destination with the same key, or title and "
            "type, and the same option tags",
            "user_fields": "create them with the same key and option tags",
            "organization_fields": "create them with the same key and option tags",
            "groups": "create groups with the same names",
            "brands": "create brands with the same names",
            "ticket_forms": "create ticket forms with the same names",
            "custom_statuses": "create custom statuses with the same category and agent label",
        }[kind]
        if self.create:
            return f"{how}; creating them failed, see above"
        return f"{how}, or set `create_missing_definitions: true` to let the target create them"

    def _explain(self, built: KindMap, fm: FieldMap) -> str:
        text = describe(built.kind, fm.source)
        if fm.dest is not None and fm.missing_options:
            text += f" lacks option tags {', '.join(sorted(fm.missing_options))}"
        failure = built.failures.get(str(fm.source.get("id")))
        if failure:
            text += f" [creating it failed: {failure}]"
        return text

    # -- the destination -------------------------------------------------------------------
    def _destination(self, kind: str, *, refresh: bool = False) -> list[dict[str, t.Any]] | None:
        """Every definition of a kind in the destination (read once; None: not available)."""
        if kind in self._dest and not refresh:
            return self._dest[kind]
        spec = KINDS[kind]
        client = self.runtime.client
        rows: list[dict[str, t.Any]] = []
        try:
            body = client.get_json(spec.path, **({"page[size]": 100} if spec.paged else {}))
            while True:
                rows += [r for r in body.get(kind) or [] if isinstance(r, dict)]
                more = (body.get("meta") or {}).get("has_more")
                nxt = (body.get("links") or {}).get("next") if more else body.get("next_page")
                if not nxt:
                    break
                body = client.get_json(nxt)
        except ZendeskRequestError as exc:
            if exc.status_code in (403, 404):  # plan-gated (trap 34)
                self._dest[kind] = None  # type: ignore[assignment]
                return None
            raise
        self._dest[kind] = rows
        return rows

    # -- creating --------------------------------------------------------------------------
    def _create_missing(self, built: KindMap) -> None:
        """Create unmapped definitions (with their options); add missing options to fields."""
        kind = built.kind
        spec = KINDS[kind]
        if kind == "ticket_forms":
            self.kind_map("ticket_fields")  # forms list field ids: fields come first
        for fm in built.unmapped():
            source_id = str(fm.source.get("id"))
            try:
                if fm.dest is None:
                    body = self._creation_body(kind, fm.source)
                    self.runtime.client.request_json(
                        "POST", spec.path, json={spec.singular: body}, idempotent=False
                    )
                    built.created.append(describe(kind, fm.source))
                else:
                    # The whole list, or Zendesk deletes the options left out (5.9).
                    options = [
                        {"id": o["id"], **_option(o)}
                        for o in fm.dest.get("custom_field_options") or ()
                        if isinstance(o, dict) and o.get("id") is not None
                    ]
                    options += [
                        _option(o)
                        for o in fm.source.get("custom_field_options") or ()
                        if str(o.get("value")) in fm.missing_options
                    ]
                    self.runtime.client.request_json(
                        "PUT",
                        f"{spec.path}/{fm.dest['id']}",
                        json={spec.singular: {"custom_field_options": options}},
                        idempotent=True,
                    )
                    built.options_added += len(fm.missing_options)
            except ZendeskRequestError as exc:
                built.failures[source_id] = str(exc)
                self.logger.warning("Could not create %s: %s", describe(kind, fm.source), exc)

    def _creation_body(self, kind: str, row: dict[str, t.Any]) -> dict[str, t.Any]:
        """Build what a create call needs from the source definition (ids translated)."""
        if kind in ("ticket_fields", "user_fields", "organization_fields"):
            names = ["type", "title", "description", "regexp_for_validation", "tag", "active"]
            if kind == "ticket_fields":
                names += ["visible_in_portal", "editable_in_portal", "required_in_portal"]
            else:
                names.append("key")
            body = {n: row[n] for n in names if row.get(n) is not None}
            if row.get("custom_field_options"):
                body["custom_field_options"] = [_option(o) for o in row["custom_field_options"]]
            if row.get("type") == "lookup":
                for name in ("relationship_target_type", "relationship_filter"):
                    if row.get(name) is not None:
                        body[name] = row[name]
            return body
        if kind == "groups":
            return {n: row[n] for n in ("name", "description", "is_public") if n in row}
        if kind == "brands":
            return {n: row[n] for n in ("name", "subdomain", "active") if row.get(n) is not None}
        if kind == "custom_statuses":
            names = (
                "status_category",
                "agent_label",
                "end_user_label",
                "description",
                "end_user_description",
                "active",
            )
            return {n: row[n] for n in names if row.get(n) is not None}
        body = {
            n: row[n]
            for n in ("name", "display_name", "end_user_visible", "position", "active")
            if row.get(n) is not None
        }
        body["ticket_field_ids"] = self._form_field_ids(row.get("ticket_field_ids") or [])
        return body

    def _form_field_ids(self, source_ids: list[t.Any]) -> list[int]:
        """Map a form's fields to the destination: system fields by type, custom ones by key."""
        fields = self.kind_map("ticket_fields")
        dest_fields = self._destination("ticket_fields") or []
        by_type = {
            str(r.get("type")): r["id"]
            for r in dest_fields
            if not is_custom_field("ticket_fields", r)
        }
        source = self._by_id.get("ticket_fields", {})
        out = []
        for sid in source_ids:
            row = source.get(str(sid))
            if row is None:
                continue
            if not is_custom_field("ticket_fields", row):
                dest = by_type.get(str(row.get("type")))
            else:
                fm = fields.by_source.get(str(sid)) if fields else None
                dest = fm.dest["id"] if fm and fm.dest else None
            if dest is not None:
                out.append(dest)
        return out

    # -- mapping values (called by payloads) -----------------------------------------------
    def reference(self, kind: str, value: t.Any, where: str) -> int | None:
        """Return a group, brand, form or status id in the destination; None: leave it out."""
        built = self.kind_map(kind)
        if built is None:
            if kind not in self._warned:
                self._warn_missing_stream(kind, where)
            self.left_out[where] += 1
            return None
        if built.unavailable:
            return None
        fm = built.by_source.get(str(value))
        if fm is None:
            raise RecordError(
                f"`{where}` {value}: no {KINDS[kind].noun} with this id came in the `{kind}` "
                "stream; send the source account's definitions before the records",
                field=where,
                code="UnmappedDefinition",
            )
        if fm.dest is None:
            raise RecordError(
                f"`{where}` {value}: the source {describe(kind, fm.source)} has no counterpart in "
                f"the destination; {self.fix_hint(kind)}",
                field=where,
                code="UnmappedDefinition",
            )
        return int(fm.dest["id"])

    def ticket_custom_fields(
        self, values: list[dict[str, t.Any]], refs: Resolver, notes: list[str]
    ) -> list[dict[str, t.Any]] | None:
        """`custom_fields` with destination ids and values; None: send them as they are."""
        built = self.kind_map("ticket_fields")
        if built is None:
            if "ticket_fields" not in self._warned:
                self._warn_missing_stream("ticket_fields", "custom_fields")
            return None
        out: list[dict[str, t.Any]] = []
        problems: list[str] = []
        for item in values:
            value = item.get("value")
            if empty(value):
                continue
            fm = built.by_source.get(str(item.get("id")))
            if fm is None:
                if str(item.get("id")) in self._by_id.get("ticket_fields", {}):
                    continue  # a system field (they carry no custom values)
                problems.append(f"field id {item.get('id')} (not in the `ticket_fields` stream)")
                continue
            mapped = self._value(built, fm, value, refs, notes, problems)
            if mapped is not None:
                out.append({"id": int(fm.dest["id"]), "value": mapped})  # type: ignore[index]
        if problems:
            raise RecordError(
                "`custom_fields`: "
                + "; ".join(problems)
                + f". Fix: {self.fix_hint('ticket_fields')}",
                field="custom_fields",
                code="UnmappedDefinition",
            )
        return out

    def object_fields(
        self, kind: str, values: dict[str, t.Any], refs: Resolver, notes: list[str]
    ) -> dict[str, t.Any]:
        """`user_fields` / `organization_fields` under destination keys with mapped values."""
        built = self.kind_map(kind)
        if built is None:
            return values  # keyed by field key, the same in any account that has the field
        by_key = {str(m.source.get("key")): m for m in built.by_source.values()}
        out: dict[str, t.Any] = {}
        problems: list[str] = []
        for key, value in values.items():
            if empty(value):
                continue
            fm = by_key.get(str(key))
            if fm is None:
                problems.append(f"key {key} (not in the `{kind}` stream)")
                continue
            mapped = self._value(built, fm, value, refs, notes, problems)
            if mapped is not None:
                out[str(fm.dest["key"])] = mapped  # type: ignore[index]
        if problems:
            raise RecordError(
                f"`{kind}`: " + "; ".join(problems) + f". Fix: {self.fix_hint(kind)}",
                field=kind,
                code="UnmappedDefinition",
            )
        return out

    def _value(
        self,
        built: KindMap,
        fm: FieldMap,
        value: t.Any,
        refs: Resolver,
        notes: list[str],
        problems: list[str],
    ) -> t.Any:
        """One value in the destination's terms; None: left out (noted), or a problem."""
        if fm.dest is None:
            problems.append(
                f"{describe(built.kind, fm.source)} has no counterpart in the destination"
            )
            return None
        ftype = fm.source.get("type")
        if ftype in OPTION_TYPES:
            tags = value if isinstance(value, list) else [value]
            lacking = sorted({str(v) for v in tags} & fm.missing_options)
            if lacking:
                problems.append(
                    f"{describe(built.kind, fm.source)} lacks option tags {', '.join(lacking)} "
                    "in the destination"
                )
                return None
            return value
        if ftype == "lookup":
            return self._lookup(fm, value, refs, notes)
        return value

    def _lookup(self, fm: FieldMap, value: t.Any, refs: Resolver, notes: list[str]) -> t.Any:
        """Map a relationship value (a record of the source) like an owner; None: left out."""
        target = str(fm.target_type or "zen:user")
        where = f"lookup field '{fm.source.get('title') or fm.source.get('key')}'"
        try:
            if target == "zen:user":
                return refs.user(value, where)
            if target == "zen:organization":
                found = refs.organization(value, where)
            elif target == "zen:ticket":
                found = refs.ticket(value)
            else:
                notes.append(f"{where}: {target} records are not migrated")
                return None
        except RecordError:
            found = None
        if found is None:
            notes.append(f"{where}: {target.split(':')[-1]} {value} is not in the destination yet")
        return found

    def _warn_missing_stream(self, kind: str, where: str) -> None:
        """Say once that references of a kind cannot be mapped without its stream."""
        if kind in self._warned:
            return
        self._warned.add(kind)
        if kind == "ticket_fields":
            self.logger.warning(
                "The input has no `ticket_fields` records: `custom_fields` are written with their "
                "ids unchanged, which is right only when they are destination ids. For an "
                "account-to-account migration select the tap's `ticket_fields` stream."
            )
        else:
            self.logger.warning(
                "The input has no `%s` records: `%s` is left out of the written records (it "
                "holds a source account id). Select the tap's `%s` stream to map it by name.",
                kind,
                where,
                kind,
            )

    # -- lookups to preload ----------------------------------------------------------------
    def lookup_ids(
        self, stream: str, records: t.Iterable[dict[str, t.Any]]
    ) -> dict[str, set[t.Any]]:
        """Collect the ids lookup fields of these records point at, per kind of record."""
        out: dict[str, set[t.Any]] = {"users": set(), "organizations": set(), "tickets": set()}
        kind = "ticket_fields" if stream == "tickets" else OBJECT_FIELD_KINDS.get(stream)
        built = self.kind_map(kind) if kind else None
        if built is None:
            return out
        lookups = {
            (str(m.source.get("id")) if kind == "ticket_fields" else str(m.source.get("key"))): m
            for m in built.by_source.values()
            if m.source.get("type") == "lookup"
        }
        if not lookups:
            return out
        bucket = {"zen:user": "users", "zen:organization": "organizations", "zen:ticket": "tickets"}
        for record in records:
            if kind == "ticket_fields":
                pairs = [
                    (str(i.get("id")), i.get("value"))
                    for i in record.get("custom_fields") or ()
                    if isinstance(i, dict)
                ]
            else:
                held = record.get(kind)
                pairs = [(str(k), v) for k, v in held.items()] if isinstance(held, dict) else []
            for name, value in pairs:
                fm = lookups.get(name)
                if fm is not None and not empty(value):
                    target = bucket.get(str(fm.target_type or "zen:user"))
                    if target:
                        out[target].add(value)
        return out

    # -- report ----------------------------------------------------------------------------
    def report(self) -> dict[str, dict[str, t.Any]]:
        """Per kind: source definitions, mapped, created, and what stays unmapped."""
        out: dict[str, dict[str, t.Any]] = {}
        for kind in KINDS:
            built = self.kind_map(kind)
            if built is None:
                continue
            unmapped = built.unmapped()
            out[kind] = {
                "source": built.staged,
                "mapped": sum(1 for m in built.by_source.values() if m.dest is not None),
                "created": list(built.created),
                "options_added": built.options_added,
                "unmapped": [self._explain(built, m) for m in unmapped],
                "unavailable": built.unavailable,
            }
        return out


def _option(option: dict[str, t.Any]) -> dict[str, t.Any]:
    """Return an option as a write needs it: name and value (tag)."""
    out = {"name": option.get("name") or option.get("raw_name"), "value": option.get("value")}
    if option.get("default"):
        out["default"] = True
    return out
