"""Deterministic, seeded generator of a whole fake Zendesk Support account (minimal version)."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field

COLLECTIONS = (
    "users", "organizations", "groups", "group_memberships", "organization_memberships",
    "brands", "custom_statuses", "ticket_fields", "ticket_forms", "user_fields",
    "organization_fields", "tickets", "ticket_comments", "ticket_audits", "ticket_metrics",
    "ticket_metric_events", "satisfaction_ratings", "side_conversations", "tags", "macros",
    "sla_policies", "triggers", "automations", "views", "custom_roles", "schedules",
    "categories", "sections", "articles", "topics", "posts", "job_statuses",
)


@dataclass
class Dataset:
    """A generated account: collections keyed by Zendesk collection key."""

    collections: dict[str, list[dict]] = field(default_factory=dict)
    archived_ticket_ids: set[int] = field(default_factory=set)
    admin_user_id: int = 0


def _parse(anchor: str) -> int:
    """Parse an ISO-8601 Z timestamp to epoch seconds."""
    import calendar

    return calendar.timegm(time.strptime(anchor, "%Y-%m-%dT%H:%M:%SZ"))


def _iso(ts: int) -> str:
    """Format epoch seconds as ISO-8601 Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def generate_account(
    *,
    seed: int = 7,
    tickets: int = 2000,
    base_url: str = "http://127.0.0.1:8080",
    admin_email: str = "demo@example.com",
    anchor: str = "2026-01-01T00:00:00Z",
    burst: int | None = None,
) -> Dataset:
    """Generate a deterministic fake Zendesk account."""
    rnd = random.Random(seed)
    end = _parse(anchor)
    start = end - 2 * 365 * 86400
    api = f"{base_url}/api/v2"
    cols: dict[str, list[dict]] = {k: [] for k in COLLECTIONS}
    n = tickets

    def ts() -> int:
        return rnd.randint(start, start + (end - start) // 2)

    admin_id = 1500000000001
    t0 = ts()
    cols["users"].append({
        "id": admin_id, "url": f"{api}/users/{admin_id}.json", "name": "Demo Admin",
        "email": admin_email, "role": "admin", "active": True,
        "created_at": _iso(t0), "updated_at": _iso(t0),
    })
    brand_id = 360000000001
    cols["brands"].append({
        "id": brand_id, "url": f"{api}/brands/{brand_id}.json", "name": "Demo", "default": True,
        "created_at": _iso(start), "updated_at": _iso(start),
    })
    group_id = 360000100001
    cols["groups"].append({
        "id": group_id, "url": f"{api}/groups/{group_id}.json", "name": "Support",
        "default": True, "deleted": False, "created_at": _iso(start), "updated_at": _iso(start),
    })
    for i, cat in enumerate(("new", "open", "pending", "hold", "solved")):
        sid = 360000200001 + i
        cols["custom_statuses"].append({
            "id": sid, "url": f"{api}/custom_statuses/{sid}.json", "status_category": cat,
            "agent_label": cat.title(), "default": True, "active": True,
            "created_at": _iso(start), "updated_at": _iso(start),
        })
    for i, ft in enumerate(("subject", "description", "status", "custom_status", "tickettype",
                            "priority", "group", "assignee")):
        fid = 360000300001 + i
        cols["ticket_fields"].append({
            "id": fid, "url": f"{api}/ticket_fields/{fid}.json", "type": ft, "title": ft.title(),
            "active": True, "removable": False,
            "created_at": _iso(start), "updated_at": _iso(start),
        })
    form_id = 360000400001
    cols["ticket_forms"].append({
        "id": form_id, "url": f"{api}/ticket_forms/{form_id}.json", "name": "Default Ticket Form",
        "default": True, "active": True,
        "ticket_field_ids": [f["id"] for f in cols["ticket_fields"]],
        "created_at": _iso(start), "updated_at": _iso(start),
    })
    ds = Dataset(collections=cols, archived_ticket_ids=set(), admin_user_id=admin_id)
    if n <= 0:
        return ds
    agents = [admin_id]
    for i in range(max(5, n // 100)):
        uid = admin_id + 1 + i
        t = ts()
        cols["users"].append({
            "id": uid, "url": f"{api}/users/{uid}.json", "name": f"Agent {i + 1}",
            "email": f"agent{i + 1}@example.com", "role": "agent", "active": True,
            "created_at": _iso(t), "updated_at": _iso(t),
        })
        agents.append(uid)
    end_users = []
    for i in range(max(10, n // 4)):
        uid = admin_id + 100000 + i
        t = ts()
        cols["users"].append({
            "id": uid, "url": f"{api}/users/{uid}.json", "name": f"Customer {i + 1}",
            "email": f"customer{i + 1}@example.org", "role": "end-user", "active": True,
            "created_at": _iso(t), "updated_at": _iso(t),
        })
        end_users.append(uid)
    tid0 = 10000000
    cid = 1800000000001
    aid = 1900000000001
    statuses = ("new", "open", "pending", "hold", "solved", "closed")
    rows = []
    for i in range(n):
        tid = tid0 + i
        c = ts()
        u = c + rnd.randint(60, 86400 * 30)
        status = "deleted" if rnd.random() < 0.03 else rnd.choice(statuses)
        body = f"Body of ticket {tid}"
        rows.append({
            "id": tid, "url": f"{api}/tickets/{tid}.json", "subject": f"Ticket {i + 1}",
            "description": body, "status": status, "requester_id": rnd.choice(end_users),
            "assignee_id": rnd.choice(agents), "group_id": group_id, "brand_id": brand_id,
            "ticket_form_id": form_id, "tags": [], "custom_fields": [], "fields": [],
            "created_at": _iso(c), "updated_at": _iso(u), "generated_timestamp": u,
        })
        cols["ticket_comments"].append({
            "id": cid, "ticket_id": tid, "type": "Comment", "author_id": rows[-1]["requester_id"],
            "body": body, "public": True, "audit_id": aid, "attachments": [],
            "created_at": _iso(c),
        })
        cols["ticket_audits"].append({
            "id": aid, "ticket_id": tid, "created_at": _iso(c),
            "author_id": rows[-1]["requester_id"], "events": [{"id": cid, "type": "Comment"}],
        })
        cid += 1
        aid += 1
        if status == "closed" and rnd.random() < 0.3:
            ds.archived_ticket_ids.add(tid)
    rows.sort(key=lambda t: (t["generated_timestamp"], t["id"]))
    cols["tickets"] = rows
    for col in ("side_conversations",):
        cols[col] = [{"id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                      "ticket_id": rows[0]["id"]}]
    return ds
