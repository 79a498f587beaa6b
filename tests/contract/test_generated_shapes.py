"""The emulator's generated account carries the field sets and JSON types of real Zendesk objects.

Samples are real API objects recorded from real Zendesk accounts (see zendesk_samples/MANIFEST.md);
set ZENDESK_SAMPLES_DIR to point at another copy. Sample-driven tests skip when none is found; the
consistency tests (determinism, bursts, value shapes, comments vs audits) always run.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.generator import COLLECTIONS, Dataset, generate_account
from tests.shared.schemas import SAMPLES_ROOT, needs_samples

ANCHOR = "2026-01-01T00:00:00Z"
ANCHOR_TS = calendar.timegm(time.strptime(ANCHOR, "%Y-%m-%dT%H:%M:%SZ"))
BASE = "http://127.0.0.1:8080"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# Sources that are raw API recordings (see MANIFEST.md "Realness classes").
REAL_SOURCES = ("zenpy", "zenpy-legacy", "nango", "nango-2024", "go-zendesk", "zendesk-rb-2015",
                "embulk")
# Connector outputs: real objects re-emitted by ETL connectors ("redacted" placeholders, `_ab_*`).
CONNECTOR_SOURCES = ("estuary-native", "estuary-airbyte", "airbyte-expected")

# Fields real samples carry that the generator deliberately leaves out.
SKIPPED = {
    # sideloads (include=metric_sets / zenpy-legacy's dates, slas, last_audits, comment_count):
    # the emulator server adds them per request, they are not part of the stored ticket
    "tickets": {"metric_set", "comment_count", "dates", "last_audit", "metric_events", "slas"},
    # only on GET /users/me (the current user), never on listed users
    "users": {"authenticity_token"},
    # legacy 2015 view field (zendesk-rb-2015 only)
    "views": {"sla_id"},
}
# Sample types that are deliberately empty in the generated account (the server owns them).
NOT_GENERATED = {"job_statuses"}


def _source(path: Path) -> str:
    return path.stem.rsplit("-", 1)[0]


def jtype(value: Any) -> str:
    """Return the JSON type name of a value (int and float are both 'number')."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@cache
def _samples(kind: str, sources: tuple[str, ...]) -> tuple[dict, ...]:
    if SAMPLES_ROOT is None or not (SAMPLES_ROOT / kind).is_dir():
        return ()
    out = []
    for path in sorted((SAMPLES_ROOT / kind).glob("*.json")):
        if _source(path) in sources:
            obj = json.loads(path.read_text(encoding="utf-8"))
            out.append({k: v for k, v in obj.items()
                        if not k.startswith("_ab_") and v != "redacted"})
    return tuple(out)


def _types(objs: list[dict] | tuple[dict, ...]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for obj in objs:
        for key, value in obj.items():
            out[key].add(jtype(value))
    return out


def _compare(kind: str, samples: tuple[dict, ...], generated: list[dict]) -> list[str]:
    """Return human-readable shape differences between samples and generated objects."""
    problems = []
    want = _types(samples)
    have = _types(generated)
    skipped = SKIPPED.get(kind, set())
    missing = sorted(k for k in want if k not in have and k not in skipped)
    if missing:
        problems.append(f"{kind}: fields missing from generated objects: {missing}")
    for key, sample_types in sorted(want.items()):
        if key not in have:
            continue
        real = sample_types - {"null"}
        gen = have[key] - {"null"}
        if real and gen - real:
            problems.append(f"{kind}.{key}: generated types {sorted(gen)} but real samples "
                            f"have {sorted(sample_types)}")
    # fields every sample carries must be on every generated object
    always = set.intersection(*(set(s) for s in samples)) - skipped if samples else set()
    for obj in generated:
        lacking = sorted(always - set(obj))
        if lacking:
            problems.append(f"{kind} id={obj.get('id')}: lacks {lacking}")
            break
    return problems


@pytest.fixture(scope="module")
def account() -> Dataset:
    """A small account (no big burst) for shape checks."""
    return generate_account(seed=7, tickets=60, base_url=BASE, anchor=ANCHOR)


@pytest.fixture(scope="module")
def big_account() -> Dataset:
    """An account large enough for the default >1000-ticket burst."""
    return generate_account(seed=11, tickets=1300, base_url=BASE, anchor=ANCHOR)


def _sample_kinds(sources: tuple[str, ...]) -> list[str]:
    if SAMPLES_ROOT is None:
        return []
    return sorted(p.name for p in SAMPLES_ROOT.iterdir()
                  if p.is_dir() and p.name in COLLECTIONS and p.name not in NOT_GENERATED
                  and _samples(p.name, sources))


# --------------------------------------------------------------------------- shapes vs samples


@needs_samples
@pytest.mark.parametrize("kind", _sample_kinds(REAL_SOURCES) or ["tickets"])
def test_generated_fields_match_real_samples(account: Dataset, kind: str) -> None:
    """Every field of the real recorded objects is generated, with a compatible JSON type."""
    generated = account.collections[kind]
    assert generated, f"{kind}: generator produced no objects"
    problems = _compare(kind, _samples(kind, REAL_SOURCES), generated)
    assert not problems, "\n".join(problems)


@needs_samples
@pytest.mark.parametrize("kind", _sample_kinds(CONNECTOR_SOURCES) or ["tickets"])
def test_generated_fields_match_connector_samples(account: Dataset, kind: str) -> None:
    """Connector-recorded objects (the only samples for some types) agree with generated ones."""
    generated = account.collections[kind]
    assert generated, f"{kind}: generator produced no objects"
    samples = _samples(kind, CONNECTOR_SOURCES)
    problems = [p for p in _compare(kind, samples, generated) if " lacks " not in p]
    assert not problems, "\n".join(problems)


@needs_samples
def test_nested_shapes_match_samples(account: Dataset) -> None:
    """Attachments, photos and audit comment events carry the real nested field sets."""
    c = account.collections
    problems = []
    attachments = [a for cm in c["ticket_comments"] for a in cm["attachments"]]
    assert attachments, "no comment attachments generated"
    sample_atts = list(_samples("attachments", REAL_SOURCES))
    sample_atts += [a for cm in _samples("ticket_comments", REAL_SOURCES)
                    for a in cm["attachments"]]
    problems += _compare("attachment", tuple(sample_atts), attachments)
    photos = [u["photo"] for u in c["users"] if u["photo"]]
    assert photos, "no user photos generated"
    sample_photos = tuple(u["photo"] for u in _samples("users", REAL_SOURCES) if u.get("photo"))
    problems += [p for p in _compare("photo", sample_photos, photos) if " lacks " not in p]
    events = defaultdict(list)
    for audit in c["ticket_audits"]:
        for ev in audit["events"]:
            events[ev["type"]].append(ev)
    sample_events = defaultdict(list)
    for audit in _samples("ticket_audits", REAL_SOURCES):
        for ev in audit["events"]:
            sample_events[ev["type"]].append(ev)
    for etype in ("Comment", "Create", "Change", "Notification"):
        assert events[etype], f"no {etype} audit events generated"
        problems += _compare(f"audit event {etype}", tuple(sample_events[etype]), events[etype])
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- interface


def test_every_collection_present(account: Dataset) -> None:
    """All collection keys exist; only job_statuses is empty."""
    assert set(account.collections) == set(COLLECTIONS)
    empty = sorted(k for k, v in account.collections.items() if not v)
    assert empty == ["job_statuses"]


def test_deterministic() -> None:
    """Same arguments give identical output; another seed gives different output."""
    a = generate_account(seed=3, tickets=150, base_url=BASE, anchor=ANCHOR)
    b = generate_account(seed=3, tickets=150, base_url=BASE, anchor=ANCHOR)
    assert a == b
    assert json.dumps(a.collections, sort_keys=True) == json.dumps(b.collections, sort_keys=True)
    other = generate_account(seed=4, tickets=150, base_url=BASE, anchor=ANCHOR)
    assert other.collections["tickets"] != a.collections["tickets"]


def test_deterministic_across_processes() -> None:
    """Output does not depend on PYTHONHASHSEED (no unordered set/dict iteration leaks)."""
    code = ("import hashlib, json; from tests.emulator.generator import generate_account; "
            "d = generate_account(tickets=120); print(hashlib.sha256(json.dumps([d.collections, "
            "sorted(d.archived_ticket_ids), d.admin_user_id], sort_keys=True).encode())"
            ".hexdigest())")
    root = Path(__file__).resolve().parents[2]
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(root),
                                                           os.environ.get("PYTHONPATH")]))}
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, check=True,
                             capture_output=True, text=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_empty_destination_account() -> None:
    """tickets=0 holds only what every account has."""
    ds = generate_account(tickets=0, admin_email="owner@dest.example", base_url=BASE)
    c = ds.collections
    assert [u["email"] for u in c["users"]] == ["owner@dest.example"]
    admin = c["users"][0]
    assert admin["id"] == ds.admin_user_id and admin["role"] == "admin"
    assert admin["name"] == "Demo Admin"
    assert len(c["brands"]) == 1 and c["brands"][0]["default"] is True
    assert len(c["groups"]) == 1 and c["groups"][0]["default"] is True
    assert len(c["ticket_forms"]) == 1 and c["ticket_forms"][0]["default"] is True
    assert sorted(f["type"] for f in c["ticket_fields"]) == sorted(
        ["subject", "description", "status", "custom_status", "tickettype", "priority", "group",
         "assignee"])
    assert sorted(s["status_category"] for s in c["custom_statuses"]) == sorted(
        ["new", "open", "pending", "hold", "solved"])
    assert all(s["default"] for s in c["custom_statuses"])
    always = {"users", "brands", "groups", "ticket_forms", "ticket_fields", "custom_statuses",
              "group_memberships"}
    leftovers = {k: len(v) for k, v in c.items() if v and k not in always}
    assert not leftovers
    assert ds.archived_ticket_ids == set()


def test_admin_user(account: Dataset) -> None:
    """The admin user exists with the given e-mail."""
    users = {u["id"]: u for u in account.collections["users"]}
    admin = users[account.admin_user_id]
    assert admin["email"] == "demo@example.com" and admin["role"] == "admin"
    assert admin["active"] is True


def test_ids_unique_and_large(big_account: Dataset) -> None:
    """Ids are unique per type; non-ticket ids look like 64-bit Zendesk ids."""
    for kind, objs in big_account.collections.items():
        if kind in ("tags",) or not objs or "id" not in objs[0]:
            continue
        ids = [o["id"] for o in objs]
        assert len(ids) == len(set(ids)), f"{kind}: duplicate ids"
        if kind == "side_conversations":
            assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                                    i) for i in ids)
        elif kind != "tickets":
            assert all(isinstance(i, int) and i > 2**32 for i in ids), kind


def test_timestamps_in_window(big_account: Dataset) -> None:
    """All timestamps are whole-second ISO strings inside the two years before the anchor."""
    lo = ANCHOR_TS - 731 * 86400
    keys = ("created_at", "updated_at", "time", "edited_at", "last_login_at", "deleted_at")
    for kind, objs in big_account.collections.items():
        for obj in objs:
            for key in keys:
                value = obj.get(key)
                if value is None:
                    continue
                assert ISO.match(value), f"{kind}.{key}={value!r}"
                ts = calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
                assert lo <= ts <= ANCHOR_TS, f"{kind}.{key}={value} outside window"
    for t in big_account.collections["tickets"]:
        assert isinstance(t["generated_timestamp"], int)
        updated = calendar.timegm(time.strptime(t["updated_at"], "%Y-%m-%dT%H:%M:%SZ"))
        assert t["generated_timestamp"] >= updated
        assert t["created_at"] <= t["updated_at"]


def test_urls_use_base_url() -> None:
    """Object URLs, Help Center html_urls and attachment content URLs use base_url."""
    base = "http://emu.test:9999"
    ds = generate_account(tickets=40, base_url=base)
    c = ds.collections
    t = c["tickets"][0]
    assert t["url"] == f"{base}/api/v2/tickets/{t['id']}.json"
    u = c["users"][0]
    assert u["url"] == f"{base}/api/v2/users/{u['id']}.json"
    art = c["articles"][0]
    assert art["html_url"].startswith(f"{base}/hc/en-us/articles/{art['id']}-")
    for kind, objs in c.items():
        for obj in objs:
            if isinstance(obj.get("url"), str):
                assert obj["url"].startswith(base), (kind, obj["url"])
    atts = [a for cm in c["ticket_comments"] for a in cm["attachments"]]
    assert atts and all(a["content_url"].startswith(f"{base}/attachments/token/") for a in atts)


# --------------------------------------------------------------------------- tickets


def test_tickets_ordered_and_bursty(big_account: Dataset) -> None:
    """Tickets are ordered by (generated_timestamp, id) and include the >1000 burst."""
    tickets = big_account.collections["tickets"]
    assert len(tickets) == 1300
    keys = [(t["generated_timestamp"], t["id"]) for t in tickets]
    assert keys == sorted(keys)
    by_ts = Counter((t["generated_timestamp"], t["updated_at"]) for t in tickets)
    (_, biggest), = by_ts.most_common(1)
    assert biggest == 1100
    small = [n for (_, n) in by_ts.most_common() if 2 <= n <= 5]
    assert small, "expected a few small bursts of 2-5 equal timestamps"
    gts = Counter(t["generated_timestamp"] for t in tickets)
    assert gts.most_common(1)[0][1] == 1100


def test_burst_argument() -> None:
    """burst= forces a burst of that size even for small accounts."""
    ds = generate_account(tickets=80, burst=30)
    counts = Counter(t["generated_timestamp"] for t in ds.collections["tickets"])
    assert counts.most_common(1)[0][1] >= 30
    none = generate_account(tickets=80)
    assert Counter(t["generated_timestamp"] for t in none.collections["tickets"]).most_common(
        1)[0][1] <= 10


def test_ticket_status_mix_and_archive(big_account: Dataset) -> None:
    """Statuses cover the whole lifecycle plus deleted; archived ids are closed tickets."""
    tickets = {t["id"]: t for t in big_account.collections["tickets"]}
    statuses = Counter(t["status"] for t in tickets.values())
    assert set(statuses) == {"new", "open", "pending", "hold", "solved", "closed", "deleted"}
    assert 0.01 <= statuses["deleted"] / len(tickets) <= 0.06
    archived = big_account.archived_ticket_ids
    assert archived
    assert all(tickets[i]["status"] == "closed" for i in archived)
    assert len(archived) < statuses["closed"]


def test_ticket_references(big_account: Dataset) -> None:
    """Ticket references point to existing users, orgs, groups, brands, forms and statuses."""
    c = big_account.collections
    users = {u["id"]: u for u in c["users"]}
    orgs = {o["id"] for o in c["organizations"]}
    groups = {g["id"] for g in c["groups"]}
    brands = {b["id"] for b in c["brands"]}
    forms = {f["id"] for f in c["ticket_forms"]}
    statuses = {s["id"]: s["status_category"] for s in c["custom_statuses"]}
    tickets = {t["id"]: t for t in c["tickets"]}
    for t in tickets.values():
        assert users[t["requester_id"]]["role"] == "end-user"
        assert t["submitter_id"] in users
        if t["assignee_id"] is not None:
            assert users[t["assignee_id"]]["role"] in ("agent", "admin")
        assert t["organization_id"] is None or t["organization_id"] in orgs
        assert t["organization_id"] == users[t["requester_id"]]["organization_id"]
        assert t["group_id"] is None or t["group_id"] in groups
        assert t["brand_id"] in brands and t["ticket_form_id"] in forms
        category = statuses[t["custom_status_id"]]
        if t["status"] in ("new", "open", "pending", "hold", "solved"):
            assert category == t["status"]
        if t["problem_id"] is not None:
            assert tickets[t["problem_id"]]["type"] == "problem"
            assert tickets[t["problem_id"]]["has_incidents"] is True
        for f in t["followup_ids"]:
            assert tickets[f]["via"]["source"]["rel"] == "follow_up"
        assert set(t["collaborator_ids"]) == set(t["email_cc_ids"]) | set(t["follower_ids"])


def test_custom_field_value_shapes(big_account: Dataset) -> None:
    """custom_fields == fields, every active custom field present, values typed per field type."""
    c = big_account.collections
    defs = {f["id"]: f for f in c["ticket_fields"]}
    system = {"subject", "description", "status", "custom_status", "tickettype", "priority",
              "group", "assignee"}
    custom_active = [f["id"] for f in c["ticket_fields"]
                     if f["active"] and f["type"] not in system]
    assert {defs[i]["type"] for i in custom_active} >= {
        "text", "textarea", "checkbox", "date", "integer", "decimal", "regexp",
        "partialcreditcard", "multiselect", "tagger", "lookup"}
    seen: dict[str, set[str]] = defaultdict(set)
    for t in c["tickets"]:
        assert t["custom_fields"] == t["fields"]
        assert [f["id"] for f in t["custom_fields"]] == custom_active
        for entry in t["custom_fields"]:
            f = defs[entry["id"]]
            v = entry["value"]
            if v is None:
                continue
            ftype = f["type"]
            seen[ftype].add(jtype(v))
            if ftype in ("text", "textarea", "regexp"):
                assert isinstance(v, str)
                if ftype == "regexp":
                    assert re.match(f["regexp_for_validation"], v)
            elif ftype == "checkbox":
                assert isinstance(v, bool)
                if v and f["tag"]:
                    assert f["tag"] in t["tags"]
            elif ftype == "date":
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)
            elif ftype == "integer":
                assert isinstance(v, str) and re.fullmatch(r"-?\d+", v)
            elif ftype == "decimal":
                assert isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v)
            elif ftype == "partialcreditcard":
                assert re.fullmatch(r"X+\d{4}", v)
            elif ftype == "tagger":
                assert v in {o["value"] for o in f["custom_field_options"]}
                assert v in t["tags"]
            elif ftype == "multiselect":
                assert isinstance(v, list) and v
                assert set(v) <= {o["value"] for o in f["custom_field_options"]}
                assert set(v) <= set(t["tags"])
            elif ftype == "lookup":
                assert isinstance(v, int)
    assert seen["integer"] == {"string"} and seen["decimal"] == {"string"}
    assert seen["multiselect"] == {"array"} and seen["checkbox"] == {"boolean"}


def test_field_definitions(account: Dataset) -> None:
    """Field definitions carry options, system options, statuses and relationship targets."""
    c = account.collections
    by_type = defaultdict(list)
    for f in c["ticket_fields"]:
        by_type[f["type"]].append(f)
    for ftype in ("status", "priority", "tickettype"):
        assert by_type[ftype][0]["system_field_options"]
    assert {s["id"] for s in by_type["custom_status"][0]["custom_statuses"]} == {
        s["id"] for s in c["custom_statuses"]}
    for ftype in ("tagger", "multiselect"):
        for f in by_type[ftype]:
            assert f["custom_field_options"]
    assert by_type["lookup"][0]["relationship_target_type"] == "zen:user"
    assert any(f["key"] for f in c["ticket_fields"])
    for col, attr in (("user_fields", "users"), ("organization_fields", "organizations")):
        defs = c[col]
        assert {d["type"] for d in defs} == {"text", "textarea", "checkbox", "date", "integer",
                                             "decimal", "regexp", "dropdown", "multiselect",
                                             "lookup"}
        keys = {d["key"] for d in defs}
        holder = "user_fields" if attr == "users" else "organization_fields"
        for obj in c[attr]:
            assert set(obj[holder]) == keys, (attr, obj["id"])
    form_fields = set(c["ticket_forms"][0]["ticket_field_ids"])
    assert form_fields <= {f["id"] for f in c["ticket_fields"]}


def test_users_and_memberships(big_account: Dataset) -> None:
    """User mix, deleted users and memberships are consistent."""
    c = big_account.collections
    roles = Counter(u["role"] for u in c["users"])
    assert roles["admin"] == 1 and roles["agent"] >= 13 and roles["end-user"] >= 325
    deleted = [u for u in c["users"] if not u["active"]]
    assert deleted and all(u["email"] is None for u in deleted)
    users = {u["id"]: u for u in c["users"]}
    defaults = {m["user_id"]: m["organization_id"] for m in c["organization_memberships"]
                if m["default"]}
    for u in c["users"]:
        if u["role"] == "end-user":
            assert defaults.get(u["id"]) == u["organization_id"]
    groups = {g["id"]: g for g in c["groups"]}
    for m in c["group_memberships"]:
        assert users[m["user_id"]]["role"] in ("agent", "admin")
        assert not groups[m["group_id"]]["deleted"]
    assert sum(g["default"] for g in c["groups"]) == 1
    assert any(g["deleted"] for g in c["groups"])
    assert any(o["deleted_at"] for o in c["organizations"])


def test_comments_match_tickets(big_account: Dataset) -> None:
    """Comments: 1-5 per ticket, ordered, first body is the description, none after updated_at."""
    c = big_account.collections
    tickets = {t["id"]: t for t in c["tickets"]}
    per_ticket: dict[int, list[dict]] = defaultdict(list)
    order = []
    for cm in c["ticket_comments"]:
        per_ticket[cm["ticket_id"]].append(cm)
        order.append((cm["ticket_id"], cm["created_at"]))
    assert order == sorted(order)
    assert set(per_ticket) == set(tickets)
    types = Counter()
    for tid, comments in per_ticket.items():
        t = tickets[tid]
        assert 1 <= len(comments) <= 5
        assert comments[0]["body"] == t["description"]
        assert comments[0]["created_at"] == t["created_at"]
        assert comments[-1]["created_at"] <= t["updated_at"]
        for cm in comments:
            types[cm["type"]] += 1
            if cm["type"] == "VoiceComment":
                assert isinstance(cm["data"], dict) and cm["data"]["recording_url"]
    assert types["VoiceComment"] > 0
    assert any(not cm["public"] for cm in c["ticket_comments"])


def test_audits_match_comments(big_account: Dataset) -> None:
    """One audit per comment: same id link, comment event, Create events first, Changes later."""
    c = big_account.collections
    audits = {a["id"]: a for a in c["ticket_audits"]}
    assert len(audits) == len(c["ticket_comments"])
    first_seen: set[int] = set()
    for cm in c["ticket_comments"]:
        audit = audits[cm["audit_id"]]
        assert audit["ticket_id"] == cm["ticket_id"]
        assert audit["created_at"] == cm["created_at"]
        assert audit["author_id"] == cm["author_id"]
        comment_events = [e for e in audit["events"] if e["type"] in ("Comment", "VoiceComment")]
        assert len(comment_events) == 1
        ev = comment_events[0]
        assert ev["id"] == cm["id"] and ev["audit_id"] == audit["id"]
        assert ev["body"] == cm["body"] and ev["public"] == cm["public"]
        types = {e["type"] for e in audit["events"]}
        if cm["ticket_id"] not in first_seen:
            first_seen.add(cm["ticket_id"])
            creates = {e["field_name"] for e in audit["events"] if e["type"] == "Create"}
            assert {"subject", "requester_id", "status", "priority", "type"} <= creates
        else:
            assert "Create" not in types
        for e in audit["events"]:
            if e["type"] == "Change":
                assert {"field_name", "value", "previous_value"} <= set(e)
    event_ids = [e["id"] for a in c["ticket_audits"] for e in a["events"]]
    assert len(event_ids) == len(set(event_ids))


def test_metrics_ratings_and_side_conversations(big_account: Dataset) -> None:
    """Per-ticket metrics, metric events, ratings and side conversations are consistent."""
    c = big_account.collections
    tickets = {t["id"]: t for t in c["tickets"]}
    live = {i for i, t in tickets.items() if t["status"] != "deleted"}
    metrics = [m["ticket_id"] for m in c["ticket_metrics"]]
    assert sorted(metrics) == sorted(live)
    for m in c["ticket_metrics"]:
        assert set(m["reply_time_in_minutes"]) == {"calendar", "business"}
    events = c["ticket_metric_events"]
    assert {e["type"] for e in events} >= {"activate", "fulfill", "apply_sla", "update_status",
                                           "breach", "pause", "measure"}
    for e in events:
        assert e["ticket_id"] in tickets
        if e["type"] == "apply_sla":
            assert {"target", "business_hours", "policy"} <= set(e["sla"])
        if e["type"] == "update_status":
            assert set(e["status"]) == {"calendar", "business"}
    assert [(e["time"], e["id"]) for e in events] == sorted((e["time"], e["id"]) for e in events)
    ratings = c["satisfaction_ratings"]
    solved = [t for t in tickets.values() if t["status"] in ("solved", "closed")]
    assert 0.1 <= len(ratings) / len(solved) <= 0.3
    for r in ratings:
        t = tickets[r["ticket_id"]]
        assert t["status"] in ("solved", "closed")
        assert t["satisfaction_rating"]["score"] == r["score"]
        if r["score"] in ("good", "bad"):
            assert t["satisfaction_rating"]["id"] == r["id"]
        assert r["requester_id"] == t["requester_id"]
    sides = c["side_conversations"]
    assert 0.02 <= len(sides) / len(tickets) <= 0.09
    assert all(s["ticket_id"] in tickets and s["url"].endswith(s["id"]) for s in sides)


def test_tags_counted_from_tickets(big_account: Dataset) -> None:
    """The tags collection counts ticket tags."""
    c = big_account.collections
    counts = Counter(tag for t in c["tickets"] for tag in t["tags"])
    assert {t["name"]: t["count"] for t in c["tags"]} == dict(counts)


def test_help_center(big_account: Dataset) -> None:
    """Help Center objects reference each other."""
    c = big_account.collections
    cats = {x["id"] for x in c["categories"]}
    secs = {x["id"] for x in c["sections"]}
    topics = {x["id"] for x in c["topics"]}
    assert all(s["category_id"] in cats for s in c["sections"])
    assert len(c["articles"]) >= 65 and all(a["section_id"] in secs for a in c["articles"])
    assert all(p["topic_id"] in topics for p in c["posts"])


def test_generation_speed() -> None:
    """2000 tickets generate quickly (budget is generous for loaded CI machines)."""
    start = time.perf_counter()
    ds = generate_account(tickets=2000)
    elapsed = time.perf_counter() - start
    assert len(ds.collections["tickets"]) == 2000
    assert elapsed < 5, f"2000 tickets took {elapsed:.2f}s"


@pytest.mark.slow
def test_generation_speed_large() -> None:
    """Large accounts generate fast (GENERATOR_BENCH_TICKETS=100000 for the full benchmark)."""
    n = int(os.environ.get("GENERATOR_BENCH_TICKETS", "20000"))
    start = time.perf_counter()
    ds = generate_account(tickets=n)
    elapsed = time.perf_counter() - start
    assert len(ds.collections["tickets"]) == n
    # ~10 s per 100k tickets on an idle machine; allow 4x for loaded CI runners
    assert elapsed < 40 * n / 100_000 + 2, f"{n} tickets took {elapsed:.2f}s"
