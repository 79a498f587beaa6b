"""Compare two Zendesk accounts after a migration; exit non-zero when the copy differs.

    python -m target_zendesk.verify --source source.singer --destination destination.singer

Each side is an account dump: the Singer output of `tap-zendesk` for that account (select
`tickets`, `ticket_comments`, `users`, `organizations` and the definition streams), or a JSON
object of collections (`{"tickets": [...], "ticket_comments": [...], ...}`). Tickets are matched
by `external_id` (the source's own, else `--external-id-prefix` + source id, as the target
writes them); for each one a digest of subject, description, comment bodies in order,
attachment names and sizes, tags, custom field values (through the field mapping),
group, brand, form, status and people is compared, and every difference is printed.
"""

from __future__ import annotations

import argparse
import collections
import decimal
import json
import sys
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from target_zendesk.definitions import (
    KINDS,
    OPTION_TYPES,
    describe,
    empty,
    is_custom_field,
    live,
    match,
)
from target_zendesk.payloads import REFERENCE_FIELDS, TICKET_USER_FIELDS, TICKET_USER_LISTS

Account = dict[str, list[dict[str, t.Any]]]
MAX_SHOWN = 50


# -- loading ---------------------------------------------------------------------------------
def load_account(path: str | Path) -> Account:
    """Read a dump: a JSON object of collections, or Singer messages (RECORDs by stream)."""
    text = Path(path).read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            whole = json.loads(stripped)
        except ValueError:
            whole = None
        if isinstance(whole, dict) and "type" not in whole:
            return {
                k: [r for r in v if isinstance(r, dict)]
                for k, v in whole.items()
                if isinstance(v, list)
            }
    out: dict[str, dict[t.Any, dict[str, t.Any]]] = collections.defaultdict(dict)
    # Split on "\n" only: str.splitlines() also splits on U+2028 and U+0085, which Singer
    # writers (msgspec) leave unescaped inside strings.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError:
            raise SystemExit(f"{path}:{number}: not JSON; expected Singer messages") from None
        if isinstance(message, dict) and message.get("type") == "RECORD":
            record = message.get("record") or {}
            rows = out[str(message.get("stream"))]
            rows[record.get("id", len(rows))] = record  # the latest version of a row wins
    return {stream: list(rows.values()) for stream, rows in out.items()}


# -- normalising -----------------------------------------------------------------------------
def _text(value: t.Any) -> str:
    """Text with runs of whitespace folded (HTML rendering changes line breaks, not words)."""
    return " ".join(str(value or "").split())


def _value(ftype: str | None, value: t.Any) -> t.Any:
    """Make a custom value comparable (integers and decimals come back as text, 5.9)."""
    if empty(value):
        return None
    if ftype == "checkbox":
        return bool(value)
    if ftype == "multiselect":
        items = value if isinstance(value, list) else [value]
        return sorted(str(v) for v in items)
    if ftype in ("integer", "decimal"):
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            return str(value)
        return format(number.normalize(), "f")
    if ftype == "date":
        return str(value)[:10]
    return str(value) if ftype in OPTION_TYPES else value


class _Side:
    """One account's lookups: definitions by id, people and organizations by identity."""

    def __init__(self, account: Account, prefix: str) -> None:
        self.account = account
        self.prefix = prefix
        self.defs = {k: {str(r.get("id")): r for r in account.get(k, [])} for k in KINDS}
        self.users = {str(u.get("id")): u for u in account.get("users", [])}
        self.orgs = {str(o.get("id")): o for o in account.get("organizations", [])}
        self.comments: dict[str, list[dict[str, t.Any]]] = collections.defaultdict(list)
        for comment in account.get("ticket_comments", []):
            self.comments[str(comment.get("ticket_id"))].append(comment)
        for rows in self.comments.values():
            rows.sort(key=lambda c: (str(c.get("created_at") or ""), _order(c.get("id"))))

    def person(self, user_id: t.Any, *, source: bool) -> str | None:
        """Name a user as both accounts know them: email, else external_id."""
        if user_id is None:
            return None
        user = self.users.get(str(user_id))
        if user is None:
            return f"unknown user {user_id}"
        if user.get("email"):
            return str(user["email"]).lower()
        if source:
            return f"external_id {user.get('external_id') or f'{self.prefix}{user_id}'}"
        return f"external_id {user.get('external_id')}"

    def organization(self, org_id: t.Any, *, source: bool) -> str | None:
        """Name an organization by its (unique) name."""
        if org_id is None:
            return None
        org = self.orgs.get(str(org_id))
        return _text(org.get("name")).casefold() if org else f"unknown organization {org_id}"


def _order(value: t.Any) -> tuple[int, t.Any]:
    return (0, value) if isinstance(value, int) else (1, str(value))


# -- comparing -------------------------------------------------------------------------------
@dataclass
class Result:
    """What the check found: counts per object and every difference."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tickets_differing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing differs."""
        return not self.differences


class Comparison:
    """Source and destination dumps, and the field and definition mapping between them."""

    def __init__(
        self,
        source: Account,
        destination: Account,
        prefix: str = "",
        ignore_tags: t.Iterable[str] = (),
    ) -> None:
        self.ignore_tags = frozenset(str(tag).lower() for tag in ignore_tags)
        self.src = _Side(source, prefix)
        self.dst = _Side(destination, prefix)
        self.prefix = prefix
        self.result = Result()
        self.maps = {
            kind: match(kind, source.get(kind, []), destination.get(kind, []))
            for kind in KINDS
            if source.get(kind)
        }

    def run(self) -> Result:
        """Compare definitions, people and tickets."""
        self._definitions()
        self._people()
        self._tickets()
        return self.result

    def _count(self, name: str, **values: int) -> None:
        self.result.counts[name] = values

    # -- definitions -----------------------------------------------------------------------
    def _definitions(self) -> None:
        for kind, pairs in self.maps.items():
            rows = [
                r
                for r in self.src.account.get(kind, [])
                if live(kind, r) and (kind not in ("ticket_fields",) or is_custom_field(kind, r))
            ]
            missing = [r for r in rows if pairs.get(str(r.get("id"))) is None]
            self._count(
                kind,
                source=len(rows),
                destination=len(self.dst.account.get(kind, [])),
                matched=len(rows) - len(missing),
                missing=len(missing),
            )
            for row in missing:
                self.result.differences.append(
                    f"{kind}: the source {describe(kind, row)} has no counterpart"
                )

    # -- users and organizations -----------------------------------------------------------
    def _people(self) -> None:
        if "users" in self.src.account:
            dest = {self.dst.person(u.get("id"), source=False) for u in self.dst.users.values()}
            rows = [u for u in self.src.users.values() if u.get("active", True) is not False]
            missing = [u for u in rows if self.src.person(u.get("id"), source=True) not in dest]
            self._count(
                "users",
                source=len(rows),
                destination=len(self.dst.users),
                matched=len(rows) - len(missing),
                missing=len(missing),
            )
            for user in missing[:MAX_SHOWN]:
                who = self.src.person(user["id"], source=True)
                self.result.differences.append(
                    f"users: source user {user.get('id')} ({who}) is not in the destination"
                )
        if "organizations" in self.src.account:
            names = {
                self.dst.organization(o.get("id"), source=False) for o in self.dst.orgs.values()
            }
            rows = [o for o in self.src.orgs.values() if not o.get("deleted_at")]
            missing = [
                o for o in rows if self.src.organization(o.get("id"), source=True) not in names
            ]
            self._count(
                "organizations",
                source=len(rows),
                destination=len(self.dst.orgs),
                matched=len(rows) - len(missing),
                missing=len(missing),
            )
            for org in missing[:MAX_SHOWN]:
                self.result.differences.append(
                    f"organizations: source organization '{org.get('name')}' is not in the "
                    "destination"
                )

    # -- tickets ---------------------------------------------------------------------------
    def key_of(self, ticket: dict[str, t.Any]) -> str:
        """Return the external_id the target gives a source ticket."""
        own = ticket.get("external_id")
        return str(own) if own not in (None, "") else f"{self.prefix}{ticket.get('id')}"

    def _tickets(self) -> None:
        source = [t for t in self.src.account.get("tickets", []) if t.get("status") != "deleted"]
        dest: dict[str, list[dict[str, t.Any]]] = collections.defaultdict(list)
        for ticket in self.dst.account.get("tickets", []):
            if ticket.get("external_id") not in (None, "") and ticket.get("status") != "deleted":
                dest[str(ticket["external_id"]).lower()].append(ticket)
        counts = collections.Counter()
        for ticket in source:
            key = self.key_of(ticket)
            copies = dest.get(key.lower(), [])
            counts["source"] += 1
            counts["source comments"] += len(self.src.comments.get(str(ticket.get("id")), []))
            counts["source attachments"] += sum(
                len(c.get("attachments") or [])
                for c in self.src.comments.get(str(ticket["id"]), [])
            )
            if not copies:
                counts["missing"] += 1
                self.result.differences.append(f"ticket {key}: missing in the destination")
                continue
            if len(copies) > 1:
                counts["duplicated"] += 1
                ids = ", ".join(str(c.get("id")) for c in copies)
                self.result.differences.append(
                    f"ticket {key}: {len(copies)} copies in the destination (ids {ids})"
                )
            copy = copies[0]
            counts["matched"] += 1
            dest_comments = self.dst.comments.get(str(copy.get("id")), [])
            counts["destination comments"] += len(dest_comments)
            counts["destination attachments"] += sum(
                len(c.get("attachments") or []) for c in dest_comments
            )
            want, got = self.digest(ticket, source=True), self.digest(copy, source=False)
            if want != got:
                counts["differing"] += 1
                self.result.tickets_differing.append(key)
                parts = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
                detail = "; ".join(_explain(k, want.get(k), got.get(k)) for k in parts[:6])
                self.result.differences.append(
                    f"ticket {key} (source id {ticket.get('id')}, destination id "
                    f"{copy.get('id')}): {detail}"
                )
        self._count(
            "tickets",
            source=counts["source"],
            destination=sum(len(v) for v in dest.values()),
            matched=counts["matched"],
            missing=counts["missing"],
            duplicated=counts["duplicated"],
            differing=counts["differing"],
        )
        self._count(
            "ticket_comments",
            source=counts["source comments"],
            destination=counts["destination comments"],
        )
        self._count(
            "attachments",
            source=counts["source attachments"],
            destination=counts["destination attachments"],
        )
        if not self.maps.get("ticket_fields"):
            self.result.notes.append(
                "custom field values not compared: the source dump has no ticket_fields"
            )

    def digest(self, ticket: dict[str, t.Any], *, source: bool) -> dict[str, t.Any]:
        """Collect the parts of a ticket a faithful copy keeps, in comparable form."""
        side = self.src if source else self.dst
        comments = side.comments.get(str(ticket.get("id")), [])
        out: dict[str, t.Any] = {
            "subject": _text(ticket.get("subject")),
            "description": _text(ticket.get("description")),
            "status": ticket.get("status"),
            "priority": ticket.get("priority"),
            "type": ticket.get("type"),
            "tags": sorted(
                str(tag) for tag in ticket.get("tags") or [] if str(tag) not in self.ignore_tags
            ),
            "comments": [
                [
                    _text(c.get("body") if c.get("body") is not None else c.get("plain_body")),
                    bool(c.get("public", True)),
                    [(a.get("file_name"), a.get("size")) for a in c.get("attachments") or []],
                ]
                for c in comments
            ],
            "custom_fields": self._custom(ticket, side, source=source),
            "organization": side.organization(ticket.get("organization_id"), source=source),
        }
        for name in TICKET_USER_FIELDS:
            out[name.removesuffix("_id")] = side.person(ticket.get(name), source=source)
        for name in TICKET_USER_LISTS:
            out[name] = sorted(str(side.person(u, source=source)) for u in ticket.get(name) or [])
        for name, kind in REFERENCE_FIELDS.items():
            if kind in self.maps:
                row = side.defs[kind].get(str(ticket.get(name)))
                out[name.removesuffix("_id")] = describe(kind, row) if row else None
        return out

    def _custom(self, ticket: dict[str, t.Any], side: _Side, *, source: bool) -> dict[str, t.Any]:
        """Key custom values by the source field; normalise values by type."""
        pairs = self.maps.get("ticket_fields")
        if not pairs:
            return {}
        values = ticket.get("custom_fields")
        if values is None:
            values = ticket.get("fields") or []
        out: dict[str, t.Any] = {}
        if source:
            for item in values:
                row = side.defs["ticket_fields"].get(str(item.get("id")))
                if row is None or not is_custom_field("ticket_fields", row):
                    continue
                value = self._normal(row, item.get("value"), side, source=True)
                if value is not None:
                    out[describe("ticket_fields", row)] = value
            return out
        back = {
            str(dest["id"]): self.src.defs["ticket_fields"][sid]
            for sid, dest in pairs.items()
            if dest is not None
        }
        for item in values:
            row = back.get(str(item.get("id")))
            if row is None:
                continue
            value = self._normal(row, item.get("value"), side, source=False)
            if value is not None:
                out[describe("ticket_fields", row)] = value
        return out

    def _normal(self, row: dict[str, t.Any], value: t.Any, side: _Side, *, source: bool) -> t.Any:
        ftype = row.get("type")
        if ftype == "lookup" and not empty(value):
            target = row.get("relationship_target_type") or "zen:user"
            if target == "zen:user":
                return side.person(value, source=source)
            if target == "zen:organization":
                return side.organization(value, source=source)
        return _value(ftype, value)


def _explain(part: str, want: t.Any, got: t.Any) -> str:
    """One differing part, short: which comment, which field, what each side has."""
    if part == "comments" and isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"comments: {len(want)} in the source, {len(got)} in the destination"
        for n, (a, b) in enumerate(zip(want, got, strict=True)):
            if a != b:
                what = ("body", "public", "attachments")
                which = [what[i] for i in range(3) if a[i] != b[i]]
                return f"comment {n + 1} {'/'.join(which)} differs ({_short(a)} vs {_short(b)})"
    if part == "custom_fields" and isinstance(want, dict) and isinstance(got, dict):
        keys = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
        return "custom fields differ: " + ", ".join(
            f"{k}: {want.get(k)!r} vs {got.get(k)!r}" for k in keys[:3]
        )
    return f"{part}: {_short(want)} vs {_short(got)}"


def _short(value: t.Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def compare(
    source: Account, destination: Account, prefix: str = "", ignore_tags: t.Iterable[str] = ()
) -> Result:
    """Compare two account dumps (`ignore_tags`: the target's `import_tags`)."""
    return Comparison(source, destination, prefix, ignore_tags).run()


def render(result: Result) -> str:
    """Print the counts table, then what differs."""
    lines = [f"{'object':<22}{'source':>9}{'dest':>9}{'matched':>9}{'missing':>9}{'differ':>9}"]
    for name, c in result.counts.items():
        lines.append(
            f"{name:<22}{c.get('source', 0):>9}{c.get('destination', 0):>9}"
            f"{c.get('matched', '-')!s:>9}{c.get('missing', '-')!s:>9}"
            f"{c.get('differing', '-')!s:>9}"
        )
    lines += [f"note: {n}" for n in result.notes]
    if result.ok:
        lines.append("OK: the destination matches the source.")
    else:
        lines.append(f"DIFFERENT: {len(result.differences)} differences")
        lines += [f"  {d}" for d in result.differences[:MAX_SHOWN]]
        if len(result.differences) > MAX_SHOWN:
            lines.append(f"  ... and {len(result.differences) - MAX_SHOWN} more (see --json)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: print the comparison; exit 1 when anything differs."""
    parser = argparse.ArgumentParser(
        prog="python -m target_zendesk.verify", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--source", required=True, help="dump of the source account")
    parser.add_argument("--destination", required=True, help="dump of the destination account")
    parser.add_argument(
        "--external-id-prefix", default="", help="the target's `external_id_prefix`, if set"
    )
    parser.add_argument(
        "--ignore-tag",
        action="append",
        default=[],
        help="a tag the target added (its `import_tags`); repeat for several",
    )
    parser.add_argument("--json", help="also write the result as JSON to this file")
    args = parser.parse_args(argv)
    result = compare(
        load_account(args.source),
        load_account(args.destination),
        args.external_id_prefix,
        args.ignore_tag,
    )
    print(render(result))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "ok": result.ok,
                    "counts": result.counts,
                    "differences": result.differences,
                    "tickets_differing": result.tickets_differing,
                    "notes": result.notes,
                },
                indent=2,
            )
        )
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
