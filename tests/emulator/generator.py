"""Deterministic, seeded generator of a whole fake Zendesk Support account.

Every object carries the field set seen in real recorded Zendesk responses
(see /work/shared/zendesk_samples); values are built directly (no deepcopy) so that
large accounts (100k tickets) generate in seconds. Same arguments give identical output.
"""

from __future__ import annotations

import calendar
import gc
import random
import time
import uuid
from dataclasses import dataclass, field
from operator import itemgetter

COLLECTIONS = (
    "users", "organizations", "groups", "group_memberships", "organization_memberships",
    "brands", "custom_statuses", "ticket_fields", "ticket_forms", "user_fields",
    "organization_fields", "tickets", "ticket_comments", "ticket_audits", "ticket_metrics",
    "ticket_metric_events", "satisfaction_ratings", "side_conversations", "tags", "macros",
    "sla_policies", "triggers", "automations", "views", "custom_roles", "schedules",
    "categories", "sections", "articles", "topics", "posts", "job_statuses",
)

DAY = 86400
WINDOW_DAYS = 730
DEFAULT_BURST = 1100
BURST_THRESHOLD = 1200


@dataclass
class Dataset:
    """A generated account: collections keyed by Zendesk collection key."""

    collections: dict[str, list[dict]] = field(default_factory=dict)
    archived_ticket_ids: set[int] = field(default_factory=set)
    admin_user_id: int = 0


# --------------------------------------------------------------------------- time helpers

_HMS: list[str] = []
_DAYS: dict[int, str] = {}


def _hms_table() -> list[str]:
    """Return the cached table of 'HH:MM:SS' strings for every second of a day."""
    if not _HMS:
        _HMS.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY))
    return _HMS


def iso(ts: int) -> str:
    """Format epoch seconds as ISO-8601 'YYYY-MM-DDTHH:MM:SSZ'."""
    d, s = divmod(ts, DAY)
    day = _DAYS.get(d)
    if day is None:
        day = _DAYS[d] = time.strftime("%Y-%m-%d", time.gmtime(d * DAY))
    return f"{day}T{(_HMS or _hms_table())[s]}Z"


def day_str(ts: int) -> str:
    """Format epoch seconds as 'YYYY-MM-DD'."""
    d = ts // DAY
    day = _DAYS.get(d)
    if day is None:
        day = _DAYS[d] = time.strftime("%Y-%m-%d", time.gmtime(d * DAY))
    return day


def parse_iso(value: str) -> int:
    """Parse an ISO-8601 'YYYY-MM-DDTHH:MM:SSZ' timestamp to epoch seconds."""
    return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))


# --------------------------------------------------------------------------- vocabulary

FIRST = (
    "Jane", "John", "Maria", "Ahmed", "Yuki", "Lars", "Sofia", "Chen", "Olga", "Pedro",
    "Amara", "Liam", "Noah", "Emma", "Ines", "Mateo", "Hana", "Ravi", "Zoe", "Omar",
    "Freya", "Kofi", "Elena", "Tomas", "Aisha", "Jonas", "Mei", "Luca", "Nina", "Ivan",
)
LAST = (
    "Doe", "Smith", "Garcia", "Hansen", "Tanaka", "Novak", "Okafor", "Rossi", "Muller",
    "Kowalski", "Silva", "Nguyen", "Larsen", "Haddad", "Ivanova", "Brown", "Kim", "Patel",
    "Jensen", "Costa", "Berg", "Sato", "Moreau", "Fischer", "Dubois", "Walker",
)
TIME_ZONES = (
    ("Copenhagen", "Europe/Copenhagen"), ("Eastern Time (US & Canada)", "America/New_York"),
    ("Pacific Time (US & Canada)", "America/Los_Angeles"), ("London", "Europe/London"),
    ("Tokyo", "Asia/Tokyo"), ("Berlin", "Europe/Berlin"), ("Sydney", "Australia/Sydney"),
    ("Nairobi", "Africa/Nairobi"), ("Brasilia", "America/Sao_Paulo"),
)
LOCALES = (("en-US", 1), ("en-US", 1), ("en-US", 1), ("de", 8), ("fr", 16), ("es", 2), ("ja", 67))
LOCATIONS = (
    ("Boardman, OR, United States", 45.8401, -119.705),
    ("Oslo, Norway", 59.9127, 10.7461), ("San Bruno, CA, United States", 37.6261, -122.4304),
    ("Nairobi, 30, Kenya", -1.2841, 36.8155), ("Sydney, NSW, Australia", -33.8612, 151.1982),
    ("Copenhagen, 84, Denmark", 55.6759, 12.5655),
)
CLIENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Zendesk/Integrations", "axios/1.6.2", "python-requests/2.31.0", "Zenpy/2.0.50",
)
PRODUCTS = ("printer", "router", "laptop", "mobile app", "dashboard", "invoice", "account",
            "subscription", "headset", "webcam")
PROBLEMS = (
    "shows error E{n}", "stopped working after update", "cannot connect",
    "is very slow since yesterday", "keeps restarting", "charged twice",
    "login fails with code {n}", "is missing from my order #{n}", "needs a refund",
)
TOPIC_TAGS = ("billing", "hardware", "software", "network", "refund", "vip", "urgent",
              "follow_up", "web", "mobile", "onboarding", "bug", "feature_request")
CHANNELS = ("web", "web", "email", "email", "email", "api", "mobile", "chat", "voice")
ENCODE_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXZ"
#: Extra attachment kinds: extension, content type, size range in bytes.
EXTRA_FILES = (
    ("png", "image/png", 2_000, 200_000), ("jpg", "image/jpeg", 5_000, 150_000),
    ("pdf", "application/pdf", 10_000, 300_000), ("txt", "text/plain", 100, 5_000),
    ("zip", "application/zip", 20_000, 400_000),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     8_000, 120_000),
)


def _slug(text: str) -> str:
    """Return a Zendesk-style URL slug for a title."""
    out = []
    for ch in text:
        out.append(ch if ch.isalnum() else "-")
    return "-".join(p for p in "".join(out).split("-") if p)


def _html(body: str) -> str:
    """Render a comment body the way Zendesk's html_body looks."""
    safe = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    paras = "".join(f'<p dir="auto">{p.replace(chr(10), "<br>")}</p>'
                    for p in safe.split("\n\n"))
    return f'<div class="zd-comment" dir="auto">{paras}</div>'


class _Ids:
    """Per-type monotonically increasing 64-bit-looking id allocator."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._step: dict[str, int] = {}

    def seed(self, kind: str, start: int, step: int) -> None:
        """Set the starting value and step of one id sequence."""
        self._next[kind] = start
        self._step[kind] = step

    def __call__(self, kind: str) -> int:
        """Allocate the next id of a kind."""
        value = self._next[kind]
        self._next[kind] = value + self._step[kind]
        return value


# --------------------------------------------------------------------------- builder


class _Builder:
    """Stateful builder of one account."""

    def __init__(self, seed: int, n: int, base_url: str, admin_email: str, anchor: str,
                 burst: int | None) -> None:
        self.rnd = random.Random(seed)
        self.seed = seed
        self.n = max(0, int(n))
        self.base = base_url.rstrip("/")
        self.api = f"{self.base}/api/v2"
        self.admin_email = admin_email
        self.end = parse_iso(anchor)
        self.start = self.end - WINDOW_DAYS * DAY
        self.burst = burst
        # A second stream for the attachments added later (several per comment, inline images),
        # so the main stream, and every object generated from it, stays as it was.
        self.att_rnd = random.Random(seed * 1_000_003 + 12)
        self.subdomain = "demo"
        self.support_address = f"support@{self.subdomain}.zendesk.com"
        self.cols: dict[str, list[dict]] = {k: [] for k in COLLECTIONS}
        self.archived: set[int] = set()
        ids = self.ids = _Ids()
        off = (seed % 997) * 1000
        ids.seed("user", 1500000000001 + off * 10, 17)
        ids.seed("org", 360010000001 + off, 13)
        ids.seed("group", 360020000001 + off, 11)
        ids.seed("group_membership", 360030000001 + off, 7)
        ids.seed("org_membership", 360040000001 + off, 7)
        ids.seed("brand", 360050000001 + off, 101)
        ids.seed("custom_status", 360060000001 + off, 29)
        ids.seed("ticket_field", 360070000001 + off, 43)
        ids.seed("option", 360080000001 + off, 19)
        ids.seed("ticket_form", 360090000001 + off, 61)
        ids.seed("user_field", 360100000001 + off, 23)
        ids.seed("org_field", 360110000001 + off, 23)
        ids.seed("audit", 20000000000001 + off * 1000, 128)
        ids.seed("attachment", 21000000000001 + off * 100, 20)
        ids.seed("extra_attachment", 21500000000001 + off * 100, 20)
        ids.seed("metric", 22000000000001 + off * 100, 9)
        ids.seed("metric_event", 23000000000001 + off * 100, 5)
        ids.seed("rating", 24000000000001 + off * 100, 11)
        ids.seed("rule", 360120000001 + off, 37)
        ids.seed("role", 360130000001 + off, 41)
        ids.seed("schedule", 360140000001 + off, 31)
        ids.seed("hc", 25000000000001 + off * 100, 97)
        ids.seed("reason", 360150000001 + off, 3)

    # ----------------------------------------------------------------- small helpers

    def ts_between(self, lo: int, hi: int) -> int:
        """Return a random epoch second in [lo, hi]."""
        if hi <= lo:
            return lo
        return lo + int(self.rnd.random() * (hi - lo + 1))

    def attachment(self, ts_id: int | None = None, image: bool | None = None,
                   kind: str = "attachments") -> dict:
        """Build an attachment object (photo, logo or comment attachment)."""
        r = self.rnd
        aid = ts_id or self.ids("attachment")
        if image is None:
            image = r.random() < 0.5
        token = f"{r.getrandbits(96):024x}"
        if image:
            ext = r.choice(("png", "jpg"))
            name = f"screenshot_{aid % 100000}.{ext}"
            ctype = "image/png" if ext == "png" else "image/jpeg"
        else:
            name, ctype = r.choice((("crash.log", "text/plain"), ("invoice.pdf", "application/pdf"),
                                    ("export.csv", "text/csv"), ("README.md", "text/markdown")))
        if kind == "attachments":
            content_url = f"{self.base}/attachments/token/{token}/?name={name}"
        else:
            content_url = f"{self.base}/system/{kind}/{aid}/{name}"
        size = 500 + int(r.random() * 250000)
        att = {
            "url": f"{self.api}/attachments/{aid}.json", "id": aid, "file_name": name,
            "content_url": content_url, "mapped_content_url": content_url,
            "content_type": ctype, "size": size,
            "width": None, "height": None, "inline": False, "deleted": False,
            "malware_access_override": False,
            "malware_scan_result": "malware_not_found" if r.random() < 0.8 else "not_scanned",
            "thumbnails": [],
        }
        if image:
            w, h = 80 + int(r.random() * 1800), 80 + int(r.random() * 1000)
            att["width"], att["height"] = w, h
            tid = self.ids("attachment")
            tname = name.replace(".", "_thumb.", 1)
            turl = content_url.replace(name, tname)
            att["thumbnails"] = [{
                "url": f"{self.api}/attachments/{tid}.json", "id": tid, "file_name": tname,
                "content_url": turl, "mapped_content_url": turl, "content_type": ctype,
                "size": max(100, size // 20), "width": 32, "height": 32, "inline": False,
                "deleted": False, "malware_access_override": False,
                "malware_scan_result": att["malware_scan_result"], "thumbnails": [],
            }]
        return att

    def extra_attachments(self, tid: int, j: int, has_one: bool) -> list[dict]:
        """More files on some comments: a second or third file, and inline images.

        Several types and sizes (a few hundred bytes to ~2 MB); inline images are also
        referenced from the comment's html_body, as Zendesk does.
        """
        r = self.att_rnd
        out = []
        if has_one and r.random() < 0.35:
            for _ in range(1 + (r.random() < 0.4)):
                out.append(self._extra_file(r.choice(EXTRA_FILES), inline=False))
        if (tid * 7 + j) % 17 == 0:
            out.append(self._extra_file(r.choice(EXTRA_FILES[:2]), inline=True))
        return out

    def _extra_file(self, kind: tuple[str, str, int, int], inline: bool) -> dict:
        """One extra attachment (its own id sequence and random stream)."""
        r = self.att_rnd
        ext, ctype, low, high = kind
        aid = self.ids("extra_attachment")
        stem = "image" if inline else ("scan", "notes", "photo", "logs", "quote")[aid % 5]
        name = f"{stem}_{aid % 100000}.{ext}"
        token = f"{r.getrandbits(96):024x}"
        url = f"{self.base}/attachments/token/{token}/?name={name}"
        size = low + int(r.random() * (high - low))
        if r.random() < 0.01:
            size = 1_000_000 + int(r.random() * 1_000_000)
        image = ctype.startswith("image/")
        return {
            "url": f"{self.api}/attachments/{aid}.json", "id": aid, "file_name": name,
            "content_url": url, "mapped_content_url": url, "content_type": ctype, "size": size,
            "width": 640 if image else None, "height": 480 if image else None,
            "inline": inline, "deleted": False, "malware_access_override": False,
            "malware_scan_result": "malware_not_found", "thumbnails": [],
        }

    def metadata(self, agent: bool, api: bool = False) -> dict:
        """Build an audit/comment metadata object."""
        r = self.rnd
        loc = LOCATIONS[int(r.random() * len(LOCATIONS))]
        client = CLIENTS[3 + int(r.random() * 3)] if api else CLIENTS[int(r.random() * 3)]
        ip = f"192.0.2.{1 + int(r.random() * 250)}"
        meta = {"system": {"client": client, "ip_address": ip, "location": loc[0],
                           "latitude": loc[1], "longitude": loc[2]}, "custom": {}}
        if not agent and r.random() < 0.05:
            meta["flags"] = [11]
            meta["flags_options"] = {"11": {"trusted": False}}
        return meta

    # ----------------------------------------------------------------- account basics

    def account_basics(self) -> None:
        """Create what every account has: admin, brand, group, statuses, system fields, form."""
        s = self.start
        api = self.api
        c = self.cols
        self.admin_id = self.ids("user")
        self.brand_ids: list[int] = []
        self.group_ids: list[int] = []
        self.status_by_cat: dict[str, list[int]] = {}
        # default group
        gid = self.ids("group")
        c["groups"].append({
            "url": f"{api}/groups/{gid}.json", "id": gid, "is_public": True, "name": "Support",
            "description": "", "default": True, "deleted": False,
            "created_at": iso(s), "updated_at": iso(s + 5),
        })
        self.group_ids.append(gid)
        # custom statuses (defaults)
        defaults = (
            ("new", "New", "Open", "Ticket is awaiting assignment to an agent",
             "We are working on a response for you"),
            ("open", "Open", "Open", "Staff is working on the ticket",
             "We are working on a response for you"),
            ("pending", "Pending", "Awaiting your reply",
             "Staff is waiting for the requester to reply", "We are waiting for you to respond"),
            ("hold", "On-hold", "Open", "Staff is waiting for a third party",
             "We are working on a response for you"),
            ("solved", "Solved", "Solved", "The ticket has been solved",
             "This request has been solved"),
        )
        for cat, agent_label, eu_label, desc, eu_desc in defaults:
            self._custom_status(cat, agent_label, eu_label, desc, eu_desc, True, s)
        # system ticket fields
        self.ticket_field_ids: list[int] = []
        self._system_ticket_fields()
        # default form
        fid = self.ids("ticket_form")
        self.default_form_id = fid
        c["ticket_forms"].append(self._form(fid, "Default Ticket Form", 1, True,
                                            list(self.ticket_field_ids), s, [], []))
        # default brand
        bid = self.ids("brand")
        self.brand_ids.append(bid)
        c["brands"].append({
            "url": f"{api}/brands/{bid}.json", "id": bid, "name": "Demo",
            "brand_url": self.base, "subdomain": self.subdomain, "host_mapping": None,
            "has_help_center": self.n > 0, "help_center_state": "enabled" if self.n else "disabled",
            "active": True, "default": True, "is_deleted": False, "logo": None,
            "ticket_form_ids": [fid], "signature_template": "{{agent.signature}}",
            "created_at": iso(s), "updated_at": iso(s + 60),
        })
        # admin user
        tz = TIME_ZONES[0]
        c["users"].append(self._user(
            self.admin_id, "Demo Admin", self.admin_email, "admin", s, s + 3600, tz, ("en-US", 1),
            org_id=None, role_type=4, custom_role_id=None, default_group_id=gid,
            last_login=self.end - 3600, verified=True,
        ))
        mid = self.ids("group_membership")
        c["group_memberships"].append({
            "url": f"{api}/group_memberships/{mid}.json", "id": mid, "user_id": self.admin_id,
            "group_id": gid, "default": True,
            "created_at": iso(s), "updated_at": iso(s),
        })

    def _custom_status(self, cat: str, agent_label: str, eu_label: str, desc: str | None,
                       eu_desc: str | None, default: bool, ts: int) -> dict:
        """Append a custom status and return it."""
        sid = self.ids("custom_status")
        obj = {
            "url": f"{self.api}/custom_statuses/{sid}.json", "id": sid, "status_category": cat,
            "agent_label": agent_label, "raw_agent_label": agent_label,
            "end_user_label": eu_label, "raw_end_user_label": eu_label,
            "description": desc, "raw_description": desc,
            "end_user_description": eu_desc, "raw_end_user_description": eu_desc,
            "active": True, "default": default, "created_at": iso(ts), "updated_at": iso(ts),
        }
        self.cols["custom_statuses"].append(obj)
        self.status_by_cat.setdefault(cat, []).append(sid)
        return obj

    def _ticket_field(self, ftype: str, title: str, position: int, ts: int, *,
                      removable: bool = True, description: str = "", key: str | None = None,
                      regexp: str | None = None, tag: str | None = None, active: bool = True,
                      required: bool = False, portal: bool = False) -> dict:
        """Build a ticket field definition with the full real field set."""
        fid = self.ids("ticket_field")
        obj = {
            "url": f"{self.api}/ticket_fields/{fid}.json", "id": fid, "type": ftype,
            "title": title, "raw_title": title, "description": description,
            "raw_description": description, "position": position, "active": active,
            "required": required, "collapsed_for_agents": False,
            "regexp_for_validation": regexp, "title_in_portal": title,
            "raw_title_in_portal": title, "visible_in_portal": portal,
            "editable_in_portal": portal, "required_in_portal": False,
            "agent_can_edit": True, "tag": tag, "created_at": iso(ts),
            "updated_at": iso(ts + (0 if not removable else 3600)), "removable": removable,
            "key": key, "agent_description": None, "raw_agent_description": None,
        }
        self.cols["ticket_fields"].append(obj)
        if active:
            self.ticket_field_ids.append(fid)
        return obj

    def _system_ticket_fields(self) -> None:
        """Create the built-in ticket fields."""
        s = self.start
        tf = self._ticket_field
        tf("subject", "Subject", 1, s, removable=False, description="", portal=True)
        tf("description", "Description", 2, s, removable=False,
           description="Please enter the details of your request. A member of our support staff "
           "will respond as soon as possible.", portal=True)
        st = tf("status", "Status", 3, s, removable=False, description="Request status")
        st["system_field_options"] = [
            {"name": "Open", "value": "open"}, {"name": "Pending", "value": "pending"},
            {"name": "Solved", "value": "solved"}]
        st["sub_type_id"] = 0
        cs = tf("custom_status", "Ticket status", 4, s, removable=False,
                description="Request ticket status")
        cs["custom_statuses"] = [
            {k: v for k, v in obj.items() if not k.startswith("raw_")}
            for obj in self.cols["custom_statuses"]]
        self.custom_status_field = cs
        tt = tf("tickettype", "Type", 5, s, removable=False, description="Request type")
        tt["system_field_options"] = [
            {"name": "Question", "value": "question"}, {"name": "Incident", "value": "incident"},
            {"name": "Problem", "value": "problem"}, {"name": "Task", "value": "task"}]
        pr = tf("priority", "Priority", 6, s, removable=False, description="Request priority")
        pr["system_field_options"] = [
            {"name": "Low", "value": "low"}, {"name": "Normal", "value": "normal"},
            {"name": "High", "value": "high"}, {"name": "Urgent", "value": "urgent"}]
        pr["sub_type_id"] = 0
        tf("group", "Group", 7, s, removable=False, description="Request group")
        tf("assignee", "Assignee", 8, s, removable=False,
           description="Agent assigned to your request")

    def _form(self, fid: int, name: str, position: int, default: bool, field_ids: list[int],
              ts: int, agent_conditions: list, end_user_conditions: list) -> dict:
        """Build a ticket form."""
        return {
            "url": f"{self.api}/ticket_forms/{fid}.json", "id": fid, "name": name,
            "raw_name": name, "display_name": name, "raw_display_name": name,
            "end_user_visible": True, "position": position, "ticket_field_ids": field_ids,
            "active": True, "default": default, "in_all_brands": True,
            "restricted_brand_ids": [], "end_user_conditions": end_user_conditions,
            "agent_conditions": agent_conditions, "form_type": "standard", "deleted_at": None,
            "created_at": iso(ts), "updated_at": iso(ts + 120),
        }

    def _user(self, uid: int, name: str, email: str | None, role: str, created: int,
              updated: int, tz: tuple, locale: tuple, *, org_id: int | None, role_type: int | None,
              custom_role_id: int | None, default_group_id: int | None,
              last_login: int | None, verified: bool, active: bool = True,
              user_fields: dict | None = None, tags: list | None = None,
              external_id: str | None = None, phone: str | None = None,
              photo: dict | None = None, suspended: bool = False) -> dict:
        """Build a user with the full real field set."""
        agent = role != "end-user"
        return {
            "id": uid, "url": f"{self.api}/users/{uid}.json", "name": name, "email": email,
            "created_at": iso(created), "updated_at": iso(updated), "time_zone": tz[0],
            "iana_time_zone": tz[1], "phone": phone, "shared_phone_number": None if not phone
            else False, "photo": photo, "locale_id": locale[1], "locale": locale[0],
            "organization_id": org_id, "role": role, "verified": verified,
            "external_id": external_id, "tags": tags or [], "alias": "" if agent else None,
            "active": active, "shared": False, "shared_agent": False,
            "last_login_at": iso(last_login) if last_login else None,
            "last_active": day_str(last_login) if last_login else None,
            "two_factor_auth_enabled": (role == "admin") if agent else None,
            "signature": f"Best regards,\n{name}" if agent else None,
            "details": "" if agent else None, "notes": "" if agent else None,
            "role_type": role_type, "custom_role_id": custom_role_id,
            "is_billing_admin": role == "admin" if agent else None, "moderator": role == "admin",
            "ticket_restriction": None if role == "admin" else ("groups" if agent else "requested"),
            "only_private_comments": False, "restricted_agent": not (role == "admin"
                                                                      or role_type == 0),
            "suspended": suspended, "chat_only": False, "default_group_id": default_group_id,
            "report_csv": role == "admin", "permanently_deleted": False,
            "suspension_details": None, "user_fields": user_fields if user_fields is not None
            else {k: None for k in getattr(self, "user_field_keys", ())},
        }

    # ----------------------------------------------------------------- definitions

    def definitions(self) -> None:
        """Create custom fields, forms, statuses, groups, brands, roles and schedules."""
        s = self.start
        api = self.api
        c = self.cols
        t = s + DAY
        # extra custom statuses
        self._custom_status("open", "In Progress", "In Progress", "Ticket is being worked on",
                            "Ticket is being worked on", False, t)
        self._custom_status("hold", "Awaiting vendor", "Open", None, None, False, t + 60)
        self.custom_status_field["custom_statuses"] = [
            {k: v for k, v in obj.items() if not k.startswith("raw_")}
            for obj in c["custom_statuses"]]
        # custom ticket fields of every type
        tf = self._ticket_field
        cf: list[tuple[dict, str]] = []
        pos = 9
        def add(ftype: str, title: str, **kw: object) -> dict:
            nonlocal pos
            obj = tf(ftype, title, pos, t + pos * 600, **kw)
            pos += 1
            cf.append((obj, ftype))
            return obj
        add("text", "Order number", description="Order number from the web shop")
        add("textarea", "Internal notes", description="Notes for agents only")
        add("checkbox", "Escalated", tag="escalated", description="Escalated to tier 2")
        add("date", "Follow-up date", regexp="\\A([0-9]{4})-(1[0-2]|0[1-9])-(3[01]|[12][0-9]|"
            "0[1-9])\\z")
        add("integer", "Seats affected", regexp="\\A[-+]?\\d+\\z")
        add("decimal", "Refund amount", regexp="\\A[-+]?[0-9]*[.,]?[0-9]+\\z")
        add("regexp", "Serial number", regexp="^[0-9]+-[0-9]+-[0-9]+$")
        add("partialcreditcard", "Card used")
        ms = add("multiselect", "Products")
        ms["custom_field_options"] = self._options(
            [("Printer", "product_printer"), ("Router", "product_router"),
             ("Laptop", "product_laptop"), ("Mobile app", "product_mobile_app")])
        tg = add("tagger", "Plan", description="Customer plan")
        tg["custom_field_options"] = self._options(
            [("Gold", "plan_gold"), ("Silver", "plan_silver"), ("Bronze", "plan_bronze"),
             ("Hardware::Printer", "hardware__printer")], default_index=1)
        tg2 = add("tagger", "Resolution type", key="standard::resolution_type")
        tg2["custom_field_options"] = self._options(
            [("Automated", "zd_automated_resolution"), ("Assisted", "zd_assisted_resolution")])
        lk = add("lookup", "Related customer")
        lk["relationship_target_type"] = "zen:user"
        lk["relationship_filter"] = {"all": [{"field": "role", "operator": "is",
                                              "value": "end-user"}], "any": []}
        add("text", "Ticket summary", key="standard::ticket_summary")
        # an inactive field: not on tickets
        tf("text", "Legacy reference", pos, t, active=False)
        self.custom_ticket_fields = cf
        # second form
        fid = self.ids("ticket_form")
        self.form_ids = [self.default_form_id, fid]
        sys_ids = self.ticket_field_ids[:8]
        sub = sys_ids + [f["id"] for f, _ in cf[::2]]
        escalated = next(f for f, ft in cf if ft == "checkbox")
        plan = next(f for f, ft in cf if ft == "tagger")
        conds = [{"parent_field_id": plan["id"], "value": "plan_gold",
                  "child_fields": [{"id": escalated["id"], "is_required": False,
                                    "required_on_statuses": {"type": "NO_STATUSES"}}]}]
        eu_conds = [{"parent_field_id": plan["id"], "value": "plan_gold",
                     "child_fields": [{"id": escalated["id"], "is_required": False}]}]
        c["ticket_forms"].append(self._form(fid, "Billing request", 2, False, sub, t + DAY,
                                            conds, eu_conds))
        # user and organization field definitions
        self.user_field_defs = self._custom_field_defs("user_fields", "user", (
            ("text", "crm_id", "CRM id"), ("textarea", "bio", "Biography"),
            ("checkbox", "vip", "VIP"), ("date", "signup_date", "Signup date"),
            ("integer", "seats", "Seats"), ("decimal", "lifetime_value", "Lifetime value"),
            ("regexp", "member_code", "Member code"), ("dropdown", "plan", "Plan"),
            ("multiselect", "interests", "Interests"), ("lookup", "account_manager",
                                                        "Account manager")), t)
        self.user_field_keys = [d["key"] for d, _ in self.user_field_defs]
        self.org_field_defs = self._custom_field_defs("organization_fields", "org", (
            ("dropdown", "tier", "Tier"), ("date", "renewal_date", "Renewal date"),
            ("integer", "employees", "Employees"), ("decimal", "arr", "Annual revenue"),
            ("text", "crm_account", "CRM account"), ("textarea", "about", "About"),
            ("checkbox", "strategic", "Strategic"), ("regexp", "vat_number", "VAT number"),
            ("multiselect", "industries", "Industries"),
            ("lookup", "success_manager", "Success manager")), t)
        # the admin now has every user field key
        c["users"][0]["user_fields"] = {k: None for k in self.user_field_keys}
        # groups
        for name, desc in (("Billing", "Invoices and refunds"), ("Tier 2", "Escalations"),
                           ("Hardware", "")):
            gid = self.ids("group")
            c["groups"].append({
                "url": f"{api}/groups/{gid}.json", "id": gid, "is_public": True, "name": name,
                "description": desc, "default": False, "deleted": False,
                "created_at": iso(t), "updated_at": iso(t + 300),
            })
            self.group_ids.append(gid)
        gid = self.ids("group")
        c["groups"].append({
            "url": f"{api}/groups/{gid}.json", "id": gid, "is_public": False,
            "name": "Old team", "description": "Disbanded", "default": False, "deleted": True,
            "created_at": iso(t), "updated_at": iso(t + 90 * DAY),
        })
        # brands
        for i, name in enumerate(("Demo Hardware", "Demo Labs")[: 1 + (self.n >= 200)]):
            bid = self.ids("brand")
            sub = f"{self.subdomain}-{_slug(name.lower()).split('-')[-1]}"
            logo = self.attachment(image=True, kind="brands") if i == 0 else None
            c["brands"].append({
                "url": f"{api}/brands/{bid}.json", "id": bid, "name": name,
                "brand_url": f"https://{sub}.zendesk.com", "subdomain": sub,
                "host_mapping": None if i else f"help.{sub}.example.com",
                "has_help_center": i == 0, "help_center_state": "enabled" if i == 0 else
                "disabled", "active": True, "default": False, "is_deleted": False,
                "logo": logo, "ticket_form_ids": list(self.form_ids),
                "signature_template": "{{agent.signature}}\n" + name,
                "created_at": iso(t + i * DAY), "updated_at": iso(t + i * DAY + 600),
            })
            self.brand_ids.append(bid)
        c["brands"][0]["ticket_form_ids"] = list(self.form_ids)
        # custom roles
        self.roles = {}
        for name, rtype, desc, light in (
            ("Admin", 4, "Can manage all settings, except billing", False),
            ("Staff", 0, "Can edit tickets within their groups", False),
            ("Light agent", 1, "Can view and add private comments to tickets", True),
        ):
            rid = self.ids("role")
            self.roles[name] = rid
            c["custom_roles"].append({
                "id": rid, "name": name, "description": desc, "role_type": rtype,
                "created_at": iso(s), "updated_at": iso(s + 30 * DAY),
                "configuration": {
                    "chat_access": not light, "end_user_list_access": "full",
                    "end_user_profile_access": "readonly" if light else "full",
                    "explore_access": "readonly", "forum_access": "readonly",
                    "forum_access_restricted_content": False, "group_access": not light,
                    "light_agent": light, "macro_access": "readonly" if light else "full",
                    "manage_business_rules": rtype == 4, "manage_dynamic_content": rtype == 4,
                    "manage_extensions_and_channels": rtype == 4, "manage_facebook": False,
                    "moderate_forums": False, "organization_editing": not light,
                    "organization_notes_editing": not light, "report_access": "readonly",
                    "side_conversation_create": True,
                    "ticket_access": "all" if rtype == 4 else "within-groups",
                    "ticket_comment_access": "none" if light else "public",
                    "ticket_deletion": rtype == 4, "ticket_editing": not light,
                    "ticket_merge": not light, "ticket_tag_editing": not light,
                    "twitter_search_access": False, "user_view_access": "full",
                    "view_access": "full" if not light else "readonly",
                    "view_deleted_tickets": rtype == 4, "voice_access": not light,
                    "voice_dashboard_access": rtype == 4, "manage_roles": "all" if rtype == 4
                    else "none",
                },
                "team_member_count": 0,
            })
        c["users"][0]["custom_role_id"] = self.roles["Admin"]
        # schedules
        for name, tz in (("Business hours", "Eastern Time (US & Canada)"),
                         ("EMEA support", "Copenhagen")):
            sid = self.ids("schedule")
            c["schedules"].append({
                "id": sid, "name": name, "time_zone": tz,
                "intervals": [{"start_time": d * 1440 + 540, "end_time": d * 1440 + 1020}
                              for d in range(1, 6)],
                "created_at": iso(t), "updated_at": iso(t + DAY),
            })

    def _options(self, pairs: list[tuple[str, str]], default_index: int = -1) -> list[dict]:
        """Build ticket field custom_field_options."""
        return [{"id": self.ids("option"), "name": name, "raw_name": name, "value": value,
                 "default": i == default_index} for i, (name, value) in enumerate(pairs)]

    def _custom_field_defs(self, col: str, kind: str, specs: tuple, ts: int) -> list:
        """Build user/organization field definitions and return (def, type) pairs."""
        out = []
        for pos, (ftype, key, title) in enumerate(specs):
            fid = self.ids("user_field" if kind == "user" else "org_field")
            regexp = "^[A-Z]{2}[0-9]{4,8}$" if ftype == "regexp" else None
            obj = {
                "url": f"{self.api}/{col}/{fid}.json", "id": fid, "type": ftype, "key": key,
                "title": title, "description": f"{title} of the {kind}", "raw_title": title,
                "raw_description": f"{title} of the {kind}", "position": pos, "active": True,
                "system": False, "regexp_for_validation": regexp,
                "tag": f"{key}_yes" if ftype == "checkbox" else None,
                "created_at": iso(ts + pos * 60), "updated_at": iso(ts + pos * 60 + 3600),
            }
            if ftype in ("dropdown", "multiselect"):
                names = (("Gold", "Silver", "Bronze") if ftype == "dropdown"
                         else ("Retail", "Finance", "Healthcare", "Education"))
                obj["custom_field_options"] = [
                    {"id": self.ids("option"), "name": nm, "raw_name": nm,
                     "value": f"{key}_{nm.lower()}", "position": i, "default": False,
                     "url": f"{self.api}/{col}/{fid}/options/{self.ids._next['option']}.json"}
                    for i, nm in enumerate(names)]
            if ftype == "lookup":
                obj["relationship_target_type"] = "zen:user"
                obj["relationship_filter"] = {"all": [{"field": "role", "operator": "is",
                                                       "value": "Agent"}], "any": []}
            self.cols[col].append(obj)
            out.append((obj, ftype))
        return out

    def _field_values(self, defs: list, agent_ids: list[int], density: float) -> dict:
        """Return a user_fields/organization_fields dict with typed values."""
        r = self.rnd
        out = {}
        for d, ftype in defs:
            key = d["key"]
            if r.random() > density:
                out[key] = False if ftype == "checkbox" else None
                continue
            if ftype == "text":
                out[key] = f"CRM-{int(r.random() * 1e6):06d}"
            elif ftype == "textarea":
                out[key] = "Long-time customer.\nPrefers e-mail contact."
            elif ftype == "checkbox":
                out[key] = r.random() < 0.4
            elif ftype == "date":
                out[key] = day_str(self.ts_between(self.start, self.end)) + "T00:00:00+00:00"
            elif ftype == "integer":
                out[key] = int(r.random() * 500)
            elif ftype == "decimal":
                out[key] = round(r.random() * 10000, 2)
            elif ftype == "regexp":
                out[key] = f"DK{int(r.random() * 1e6):06d}"
            elif ftype == "dropdown":
                out[key] = r.choice(d["custom_field_options"])["value"]
            elif ftype == "multiselect":
                opts = d["custom_field_options"]
                out[key] = [o["value"] for o in opts if r.random() < 0.4] or [opts[0]["value"]]
            elif ftype == "lookup":
                out[key] = r.choice(agent_ids)
        return out

    # ----------------------------------------------------------------- people

    def people(self) -> None:
        """Create agents, organizations, end-users and memberships."""
        r = self.rnd
        n = self.n
        api = self.api
        c = self.cols
        s, e = self.start, self.end
        ids = self.ids
        real_groups = self.group_ids  # excludes the deleted group
        self.agents: list[int] = [self.admin_id]
        self.group_members: dict[int, list[int]] = {g: [] for g in real_groups}
        self.group_members[real_groups[0]].append(self.admin_id)
        n_agents = max(5, n // 100)
        for i in range(n_agents):
            uid = ids("user")
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            created = self.ts_between(s + DAY, s + 120 * DAY)
            light = i % 10 == 9
            role_name = "Light agent" if light else "Staff"
            groups = [real_groups[i % len(real_groups)]]
            if r.random() < 0.4:
                other = r.choice(real_groups)
                if other not in groups:
                    groups.append(other)
            last_login = self.ts_between(e - 30 * DAY, e - 60)
            c["users"].append(self._user(
                uid, f"{first} {last}", f"{first.lower()}.{last.lower()}.agent{i + 1}@"
                f"{self.subdomain}.example.com", "agent", created,
                self.ts_between(created, e - DAY), TIME_ZONES[i % len(TIME_ZONES)],
                LOCALES[i % 3], org_id=None, role_type=1 if light else 0,
                custom_role_id=self.roles[role_name], default_group_id=groups[0],
                last_login=last_login, verified=True,
                phone=f"+1555555{1000 + i:04d}" if i % 3 == 0 else None,
                photo=self.attachment(image=True, kind="photos") if i % 4 == 0 else None,
            ))
            for j, g in enumerate(groups):
                mid = ids("group_membership")
                c["group_memberships"].append({
                    "url": f"{api}/group_memberships/{mid}.json", "id": mid, "user_id": uid,
                    "group_id": g, "default": j == 0,
                    "created_at": iso(created), "updated_at": iso(created + 60),
                })
                if not light:
                    self.group_members[g].append(uid)
            self.agents.append(uid)
        for members in self.group_members.values():
            if not members:
                members.append(self.admin_id)
        role_counts: dict[int, int] = {}
        for u in c["users"]:
            if u["custom_role_id"]:
                role_counts[u["custom_role_id"]] = role_counts.get(u["custom_role_id"], 0) + 1
        for role in c["custom_roles"]:
            role["team_member_count"] = role_counts.get(role["id"], 0)
        # organizations
        self.org_ids: list[int] = []
        n_orgs = max(3, n // 20)
        for i in range(n_orgs):
            oid = ids("org")
            word = LAST[i % len(LAST)]
            name = f"{word} {('Ltd', 'Inc', 'GmbH', 'AS', 'LLC')[i % 5]} {i + 1}"
            created = self.ts_between(s, s + 300 * DAY)
            deleted = i % 25 == 24
            updated = self.ts_between(created, e - DAY)
            c["organizations"].append({
                "url": f"{api}/organizations/{oid}.json", "id": oid,
                "name": f"{oid}_deleted_{name}" if deleted else name,
                "shared_tickets": i % 4 == 0, "shared_comments": i % 8 == 0,
                "external_id": f"crm-org-{i + 1}" if i % 2 == 0 else None,
                "created_at": iso(created), "updated_at": iso(updated),
                "domain_names": [f"{word.lower()}{i + 1}.example"] if i % 3 else [],
                "details": "Key account" if i % 5 == 0 else "",
                "notes": "" if i % 2 else None,
                "group_id": real_groups[i % len(real_groups)] if i % 6 == 0 else None,
                "tags": ["key_account"] if i % 5 == 0 else [],
                "organization_fields": self._field_values(self.org_field_defs, self.agents, 0.6),
                "deleted_at": iso(updated) if deleted else None,
            })
            if not deleted:
                self.org_ids.append(oid)
        # end users
        self.end_users: list[int] = []
        self.user_org: dict[int, int | None] = {}
        self.user_name: dict[int, str] = {}
        self.user_email: dict[int, str | None] = {}
        for u in c["users"]:
            self.user_name[u["id"]] = u["name"]
            self.user_email[u["id"]] = u["email"]
        n_end = max(10, n // 4)
        uf = self.user_field_defs
        agents = self.agents
        nf, nl = len(FIRST), len(LAST)
        for i in range(n_end):
            uid = ids("user")
            first, last = FIRST[(i * 13 + 5) % nf], LAST[(i * 11 + 3) % nl]
            name = f"{first} {last}"
            created = s + int(r.random() * (e - s - 2 * DAY))
            deleted = i % 97 == 50
            org = self.org_ids[int(r.random() * len(self.org_ids))] if r.random() < 0.6 else None
            email = None if deleted else f"{first.lower()}.{last.lower()}{i + 1}@example.org"
            last_login = (self.ts_between(created, e - 60) if r.random() < 0.3 else None)
            tz = TIME_ZONES[int(r.random() * len(TIME_ZONES))]
            loc = LOCALES[int(r.random() * len(LOCALES))]
            user = self._user(
                uid, name, email, "end-user", created,
                self.ts_between(created, e - 120), tz, loc,
                org_id=org, role_type=None, custom_role_id=None, default_group_id=None,
                last_login=last_login, verified=r.random() < 0.7, active=not deleted,
                user_fields=self._field_values(uf, agents, 0.3),
                tags=["vip"] if r.random() < 0.05 else [],
                external_id=f"crm-{i + 1}" if r.random() < 0.3 else None,
                phone=f"+1555555{i % 10000:04d}" if r.random() < 0.1 else None,
                suspended=(not deleted) and r.random() < 0.01,
            )
            c["users"].append(user)
            self.user_name[uid] = name
            self.user_email[uid] = email
            self.user_org[uid] = org
            if not deleted:
                self.end_users.append(uid)
            if org is not None:
                orgs = [org]
                if r.random() < 0.05 and len(self.org_ids) > 1:
                    other = self.org_ids[int(r.random() * len(self.org_ids))]
                    if other != org:
                        orgs.append(other)
                for j, o in enumerate(orgs):
                    mid = ids("org_membership")
                    c["organization_memberships"].append({
                        "url": f"{api}/organization_memberships/{mid}.json", "id": mid,
                        "user_id": uid, "organization_id": o, "default": j == 0,
                        "organization_name": None, "view_tickets": True,
                        "created_at": iso(created), "updated_at": iso(created),
                    })
        org_names = {o["id"]: o["name"] for o in c["organizations"]}
        for m in c["organization_memberships"]:
            m["organization_name"] = org_names[m["organization_id"]]

    # ----------------------------------------------------------------- tickets

    def _ticket_times(self) -> tuple[list[int], list[int], list[int], list[str]]:
        """Return created, updated, generated timestamps and final status per ticket."""
        r = self.rnd.random
        n = self.n
        s, e = self.start, self.end
        span = e - s - 2 * DAY
        created = sorted(s + int(r() * span) for _ in range(n))
        updated = [0] * n
        gts = [0] * n
        status = [""] * n
        last = e - 120
        for i in range(n):
            c = created[i]
            age = e - c
            x = r()
            if age < 3 * DAY:
                st = ("new" if x < 0.25 else "open" if x < 0.6 else "pending" if x < 0.75
                      else "hold" if x < 0.8 else "solved")
            elif age < 30 * DAY:
                st = ("new" if x < 0.03 else "open" if x < 0.2 else "pending" if x < 0.35
                      else "hold" if x < 0.4 else "solved" if x < 0.7 else "closed")
            else:
                st = ("open" if x < 0.03 else "pending" if x < 0.05 else "hold" if x < 0.06
                      else "solved" if x < 0.1 else "closed")
            if r() < 0.03:
                st = "deleted"
            if st == "new":
                u = c + int(r() * min(age, 2 * DAY) * 0.2)
            elif st == "closed":
                u = c + int(r() * min(age - 4 * DAY, 40 * DAY)) + 4 * DAY if age > 5 * DAY \
                    else c + int(r() * age)
            else:
                u = c + int((r() ** 2) * min(age, 60 * DAY))
            if u > last:
                u = max(c, last - int(r() * DAY))
            g = u
            if r() < 0.15:
                g = min(u + 1 + int(r() * 2 * DAY), last)
            updated[i], gts[i], status[i] = u, g, st
        return created, updated, gts, status

    def _apply_bursts(self, created: list[int], updated: list[int], gts: list[int]) -> None:
        """Give one big group and a few small groups of tickets identical timestamps."""
        r = self.rnd
        n = self.n
        size = self.burst if self.burst is not None else (
            DEFAULT_BURST if n >= BURST_THRESHOLD else 0)
        size = min(size, n)
        taken: set[int] = set()
        if size > 1:
            # pick the time point after which the chosen tickets were all created
            k = min(n - 1, max(size + (n - size) // 10, int(n * 0.6)))
            t = min(created[k] + 1, self.end - 120)
            pool = [i for i in range(n) if created[i] <= t]
            chosen = r.sample(pool, min(size, len(pool)))
            for i in chosen:
                updated[i] = gts[i] = t
            taken.update(chosen)
            self.burst_ts = t
        else:
            self.burst_ts = None
        free = [i for i in range(n) if i not in taken]
        groups = 0
        for _ in range(40 if len(free) >= 20 else 0):
            if groups == 4:
                break
            j = free[int(r.random() * len(free))]
            if j in taken:
                continue
            t = gts[j]
            cands = [i for i in range(max(0, j - 400), j) if i not in taken and created[i] <= t]
            if not cands:
                continue
            updated[j] = t
            taken.add(j)
            for i in r.sample(cands, min(len(cands), 1 + int(r.random() * 4))):
                updated[i] = gts[i] = t
                taken.add(i)
            groups += 1

    def tickets(self) -> None:
        """Create tickets with comments, audits, metrics, metric events, ratings and more."""
        n = self.n
        if not n:
            return
        rnd = self.rnd
        r = rnd.random
        api, base = self.api, self.base
        ids = self.ids
        cols = self.cols
        created, updated, gts, status = self._ticket_times()
        self._apply_bursts(created, updated, gts)
        end = self.end
        archive_before = end - 120 * DAY

        tickets_out: list[dict] = []
        comments_out = cols["ticket_comments"]
        audits_out = cols["ticket_audits"]
        metrics_out = cols["ticket_metrics"]
        mevents_out = cols["ticket_metric_events"]
        ratings_out = cols["satisfaction_ratings"]
        sides_out = cols["side_conversations"]
        tag_counts: dict[str, int] = {}

        end_users = self.end_users
        n_end = len(end_users)
        agents = self.agents
        agent_set = set(agents)
        n_agents = len(agents)
        user_org = self.user_org
        user_name = self.user_name
        user_email = self.user_email
        groups = self.group_ids
        group_members = self.group_members
        brands = self.brand_ids
        forms = self.form_ids
        default_form = forms[0]
        status_by_cat = self.status_by_cat
        cf_specs = [(f["id"], ft, f.get("custom_field_options"), f.get("tag"))
                    for f, ft in self.custom_ticket_fields]
        support = self.support_address
        policy = self.sla_policy_ref
        reason_ids = self.reason_ids
        trig = self.trigger_refs

        def rule_via(title: str) -> dict:
            return {"channel": "rule", "source": {"from": {
                "deleted": False, "title": title, "id": trig[title]}, "rel": "trigger"}}

        notify_new_via = rule_via("Notify requester of new ticket")
        notify_update_via = rule_via("Notify requester and CCs of comment update")
        route_via = rule_via("Route tickets to groups")
        problems: list[dict] = []
        closed_list: list[dict] = []
        next_audit = ids._next["audit"]
        next_metric = ids._next["metric"]
        next_mevent = ids._next["metric_event"]
        att_every = 9
        html = _html
        html_cache: dict[str, str] = {}
        meta = self.metadata
        types = ("question", "incident", "problem", "task", None, None, "question")
        priorities = ("low", "normal", "normal", "high", "urgent", None, None)
        products, problem_words = PRODUCTS, PROBLEMS
        enc_alpha = ENCODE_ALPHABET
        seed = self.seed

        for i in range(n):
            tid = i + 1
            c_ts, u_ts, g_ts, st = created[i], updated[i], gts[i], status[i]
            c_iso, u_iso = iso(c_ts), iso(u_ts)
            req = end_users[int(r() * n_end)]
            org = user_org.get(req)
            gi = int(r() * len(groups)) if r() < 0.9 else None
            gid = groups[gi] if gi is not None else None
            members = group_members[gid] if gid is not None else agents
            assignee = None if st == "new" or (gid is None) else \
                members[int(r() * len(members))]
            ttype = types[int(r() * 7)]
            prio = priorities[int(r() * 7)]
            channel = CHANNELS[int(r() * 9)]
            product = products[int(r() * 10)]
            num = 100 + int(r() * 9900)
            problem = problem_words[int(r() * 9)].format(n=num)
            subject = f"{product.capitalize()} {problem}"
            rname = user_name[req]
            remail = user_email[req]
            followup_src = None
            if closed_list and r() < 0.02:
                src_u, src_t = closed_list[int(r() * len(closed_list))]
                if src_u < c_ts:
                    followup_src = src_t
                    channel = "web"
            if followup_src is not None:
                description = f"Follow-up: my {product} still {problem}."
                via = {"channel": "web", "source": {
                    "from": {"ticket_id": followup_src["id"], "subject": followup_src["subject"],
                             "channel": "web"}, "to": {}, "rel": "follow_up"}}
                recipient = None
                submitter = req
            elif channel == "voice":
                phone = f"+1555555{num:04d}"
                description = (f"Call from: {phone}\nTime of call: {c_iso}")
                subject = f"Call from: {phone}"
                via = {"channel": "voice", "source": {
                    "rel": "voicemail" if r() < 0.5 else "inbound",
                    "from": {"formatted_phone": phone, "phone": phone, "name": f"Caller {phone}"},
                    "to": {"formatted_phone": "+1 (555) 555-0100", "phone": "+15555550100",
                           "name": "Demo", "brand_id": brands[0]}}}
                recipient = None
                submitter = agents[int(r() * n_agents)]
            elif channel == "email":
                description = (f"Hello,\n\nMy {product} {problem}. Can you help?\n\n"
                               f"Thanks,\n{rname}")
                via = {"channel": "email", "source": {
                    "from": {"address": remail, "name": rname},
                    "to": {"name": "Demo", "address": support}, "rel": None}}
                recipient = support
                submitter = req
            else:
                description = f"My {product} {problem}."
                via = {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}
                recipient = None
                submitter = req if channel != "api" else agents[int(r() * n_agents)]
            # custom fields and tags
            tags = []
            cfs = []
            flds = []
            for fid, ft, opts, ftag in cf_specs:
                v = None
                if r() < 0.5:
                    if ft == "text":
                        v = f"ORD-{num}{tid % 97:02d}"
                    elif ft == "textarea":
                        v = f"Customer called about {product}.\nSecond line of notes."
                    elif ft == "checkbox":
                        v = r() < 0.3
                        if v and ftag:
                            tags.append(ftag)
                    elif ft == "date":
                        v = day_str(c_ts + int(r() * 30) * DAY)
                    elif ft == "integer":
                        v = str(int(r() * 500))
                    elif ft == "decimal":
                        v = f"{r() * 1000:.2f}"
                    elif ft == "regexp":
                        v = f"{num}-{tid % 1000}-{int(r() * 100)}"
                    elif ft == "partialcreditcard":
                        v = f"XXXXXXXXXXXX{num % 10000:04d}"
                    elif ft == "multiselect":
                        v = [o["value"] for o in opts if r() < 0.4] or [opts[0]["value"]]
                        tags.extend(v)
                    elif ft == "tagger":
                        v = opts[int(r() * len(opts))]["value"]
                        tags.append(v)
                    elif ft == "lookup":
                        v = end_users[int(r() * n_end)]
                elif ft == "checkbox":
                    v = False
                entry = {"id": fid, "value": v}
                cfs.append(entry)
                flds.append(entry)
            if r() < 0.6:
                tags.append(TOPIC_TAGS[int(r() * 13)])
                if r() < 0.3:
                    tags.append(product.replace(" ", "_"))
            tags = sorted(set(tags))
            for tg in tags:
                tag_counts[tg] = tag_counts.get(tg, 0) + 1
            cat = "solved" if st in ("closed", "deleted") else st
            if st == "deleted":
                cat = "open" if r() < 0.5 else "solved"
            cands = status_by_cat[cat]
            cstatus = cands[0] if len(cands) == 1 or r() < 0.8 else cands[1]
            email_ccs = [end_users[int(r() * n_end)]] if r() < 0.1 else []
            followers = [agents[int(r() * n_agents)]] if r() < 0.1 else []
            collab = sorted(set(email_ccs + followers))
            brand = brands[0] if r() < 0.85 else brands[int(r() * len(brands))]
            form = default_form if r() < 0.8 else forms[1]
            x = int(tid * 2654435761 + seed * 40503) % (30 ** 11)
            enc = []
            for _ in range(11):
                x, d = divmod(x, 30)
                enc.append(enc_alpha[d])
            encoded = "".join(enc[:6]) + "-" + "".join(enc[6:])
            is_public = channel != "voice" or r() < 0.5
            t = {
                "url": f"{api}/tickets/{tid}.json", "id": tid,
                "external_id": f"legacy-{tid}" if r() < 0.1 else None, "via": via,
                "created_at": c_iso, "updated_at": u_iso, "generated_timestamp": g_ts,
                "type": ttype, "subject": subject, "raw_subject": subject,
                "description": description, "priority": prio, "status": st,
                "recipient": recipient, "requester_id": req, "submitter_id": submitter,
                "assignee_id": assignee, "organization_id": org, "group_id": gid,
                "collaborator_ids": collab, "follower_ids": followers, "email_cc_ids": email_ccs,
                "forum_topic_id": None, "problem_id": None, "has_incidents": False,
                "is_public": is_public,
                "due_at": iso(c_ts + 7 * DAY) if ttype == "task" else None,
                "tags": tags, "custom_fields": cfs, "satisfaction_rating": None,
                "sharing_agreement_ids": [], "custom_status_id": cstatus,
                "encoded_id": encoded, "fields": flds, "followup_ids": [],
                "ticket_form_id": form, "brand_id": brand, "satisfaction_probability": None,
                "allow_channelback": False, "allow_attachments": True,
                "from_messaging_channel": channel == "chat" and r() < 0.5,
                "support_type": "agent",
            }
            if ttype == "problem":
                problems.append(t)
            elif ttype == "incident" and problems and r() < 0.5:
                p = problems[int(r() * len(problems))]
                t["problem_id"] = p["id"]
                p["has_incidents"] = True
            if followup_src is not None:
                followup_src["followup_ids"].append(tid)
            if st == "closed":
                closed_list.append((u_ts, t))
                if u_ts < archive_before and r() < 0.7:
                    self.archived.add(tid)
            tickets_out.append(t)

            # ---- comments + audits
            k = 1 + int(r() * r() * 5)
            if u_ts - c_ts < 60:
                k = 1
            times = [c_ts] + sorted(c_ts + 1 + int(r() * (u_ts - c_ts)) for _ in range(k - 1))
            prev_status = "new" if assignee is None else "open"
            first_agent_reply = None
            solved_at = None
            replies = 0
            latest_iso = c_iso
            if k > 1:
                agent_via = {"channel": "web", "source": {"from": {}, "to": {
                    "name": rname, "address": remail}, "rel": None}}
                web_via = {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}}
            for j in range(k):
                ct = times[j]
                latest_iso = ct_iso = iso(ct) if j else c_iso
                aid = next_audit
                cid = aid + 128
                ev_id = cid + 128
                if j == 0:
                    author = submitter if channel in ("api", "voice") else req
                    body = description
                    public = is_public
                    cvia = via
                else:
                    agent_turn = (j % 2 == 1)
                    author = (assignee or agents[int(r() * n_agents)]) if agent_turn else req
                    if agent_turn:
                        public = r() >= 0.2
                        body = (f"Hi {rname.split()[0]},\n\nThanks for reaching out about your "
                                f"{product}. Could you try restarting it?" if public
                                else f"Internal note: checked logs for ticket {tid}.")
                        if public:
                            replies += 1
                            if first_agent_reply is None:
                                first_agent_reply = ct
                        cvia = agent_via
                    else:
                        public = True
                        body = "Still not working, sorry. Any other ideas?"
                        cvia = via if channel == "email" else web_via
                attachments = [self.attachment()] if (tid + j) % att_every == 0 else []
                attachments += self.extra_attachments(tid, j, bool(attachments))
                cmeta = meta(author in agent_set, channel == "api")
                hb = html_cache.get(body)
                if hb is None:
                    hb = html_cache[body] = html(body)
                for att in attachments:
                    if att["inline"]:
                        hb = hb[: -len("</div>")] + (
                            f'<p dir="auto"><img src="{att["content_url"]}" '
                            f'alt="{att["file_name"]}"></p></div>')
                voice = (j == 0 and channel == "voice")
                comment = {
                    "id": cid, "type": "VoiceComment" if voice else "Comment",
                    "author_id": author, "body": body, "html_body": hb, "plain_body": body,
                    "public": public, "attachments": attachments, "audit_id": aid,
                    "via": cvia, "created_at": ct_iso, "metadata": cmeta, "ticket_id": tid,
                }
                ev = {"id": cid, "type": comment["type"], "author_id": author, "body": body,
                      "html_body": hb, "plain_body": body, "public": public,
                      "attachments": attachments, "audit_id": aid}
                if voice:
                    src = via["source"]
                    data = {
                        "from": src["from"]["phone"], "to": src["to"]["phone"],
                        "recording_url": f"{base}/v2/recordings/{cid}/sound.mp3",
                        "call_id": cid + 7, "call_duration": 30 + int(r() * 600),
                        "answered_by_id": assignee, "answered_by_name":
                            user_name.get(assignee) if assignee else None,
                        "transcription_text": "Hi, I am calling about my order.",
                        "transcription_status": "completed", "started_at": iso(ct - 60),
                        "location": "Boardman, OR, United States", "via_id": 34,
                        "recording_consent_action": None, "recording_type": "voicemail",
                        "brand_id": brand,
                    }
                    extra = {"data": data, "formatted_from": src["from"]["formatted_phone"],
                             "formatted_to": src["to"]["formatted_phone"],
                             "transcription_visible": True, "trusted": True}
                    comment.update(extra)
                    ev.update(extra)
                comments_out.append(comment)
                events = [ev]
                if j == 0:
                    routed = gid is not None and r() < 0.3
                    for fname, fval in (
                        ("subject", subject), ("requester_id", str(req)),
                        ("status", prev_status), ("priority", prio), ("type", ttype),
                        ("assignee_id", str(assignee) if assignee else None),
                        ("group_id", str(gid) if gid and not routed else None),
                        ("organization_id", str(org) if org else None),
                        ("brand_id", str(brand)), ("ticket_form_id", str(form)),
                        ("custom_status_id", str(status_by_cat[prev_status][0])),
                    ):
                        events.append({"id": ev_id, "type": "Create", "value": fval,
                                       "field_name": fname})
                        ev_id += 128
                    if routed:
                        events.append({"id": ev_id, "type": "Change", "via": route_via,
                                       "value": str(gid), "field_name": "group_id",
                                       "previous_value": None})
                        ev_id += 128
                    if tags:
                        events.append({"id": ev_id, "type": "Create", "value": tags,
                                       "field_name": "tags"})
                        ev_id += 128
                    events.append({
                        "id": ev_id, "type": "Notification",
                        "via": notify_new_via,
                        "subject": "[Request received] {{ticket.title}}",
                        "body": "Your request ({{ticket.id}}) has been received and is being "
                                "reviewed by our support staff.",
                        "recipients": [req]})
                    ev_id += 128
                else:
                    if j == k - 1:
                        new_status = ("solved" if st in ("closed", "solved") else
                                      prev_status if st == "deleted" else st)
                    else:
                        new_status = ("pending" if j % 2 == 1 else "open")
                    if new_status != prev_status:
                        events.append({"id": ev_id, "type": "Change", "value": new_status,
                                       "field_name": "status", "previous_value": prev_status})
                        ev_id += 128
                        if new_status == "solved" and solved_at is None:
                            solved_at = ct
                        prev_status = new_status
                    if public and r() < 0.5:
                        events.append({
                            "id": ev_id, "type": "Notification",
                            "via": notify_update_via,
                            "subject": "[{{ticket.account}}] Re: {{ticket.title}}",
                            "body": "{{ticket.latest_comment_html}}",
                            "recipients": [req] + email_ccs})
                        ev_id += 128
                audits_out.append({
                    "id": aid, "ticket_id": tid, "created_at": ct_iso, "author_id": author,
                    "metadata": cmeta, "events": events, "via": cvia,
                })
                next_audit = ev_id
            if st in ("solved", "closed") and solved_at is None:
                solved_at = u_ts if k == 1 else times[-1]

            solved_iso = iso(solved_at) if solved_at is not None else None

            # ---- ratings
            if st in ("solved", "closed") and r() < 0.2:
                rid = ids("rating")
                x = r()
                score = "good" if x < 0.5 else "bad" if x < 0.65 else "offered"
                rc = min(u_ts, (solved_at or u_ts) + int(r() * DAY))
                comment_txt = ("Great support!" if score == "good" and r() < 0.6 else
                               "Took too long." if score == "bad" and r() < 0.6 else None)
                reason_id = reason_ids[0] if score != "bad" else reason_ids[1 + int(r() * 3)]
                reason = ("No reason provided" if score != "bad" else
                          ("The issue took too long to resolve", "The issue was not resolved",
                           "The agent's knowledge is unsatisfactory")[reason_ids.index(reason_id)
                                                                       - 1])
                ratings_out.append({
                    "url": f"{api}/satisfaction_ratings/{rid}.json", "id": rid,
                    "assignee_id": assignee, "group_id": gid, "requester_id": req,
                    "ticket_id": tid, "score": score, "comment": comment_txt,
                    "reason": reason, "reason_id": reason_id,
                    "reason_code": 0 if score != "bad" else 5 + reason_ids.index(reason_id),
                    "created_at": iso(rc), "updated_at": iso(rc),
                })
                if score == "offered":
                    t["satisfaction_rating"] = {"score": "offered"}
                else:
                    t["satisfaction_rating"] = {"score": score, "id": rid,
                                                "comment": comment_txt, "reason": reason,
                                                "reason_id": reason_id}
            elif r() < 0.15:
                t["satisfaction_rating"] = {"score": "unoffered"}

            # ---- side conversations
            if r() < 0.05:
                sc_ts = c_ts + int(r() * max(1, u_ts - c_ts))
                sid = str(uuid.UUID(int=rnd.getrandbits(128), version=1))
                agent_id = assignee or agents[0]
                other = end_users[int(r() * n_end)]
                state = "closed" if st in ("solved", "closed") else "open"
                sides_out.append({
                    "url": f"{api}/tickets/{tid}/side_conversations/{sid}", "id": sid,
                    "ticket_id": tid, "subject": f"Re: {subject}",
                    "preview_text": "Can you check the warehouse stock for this order?",
                    "state": state,
                    "participants": [
                        {"user_id": agent_id, "name": user_name[agent_id],
                         "email": user_email[agent_id]},
                        {"user_id": other, "name": user_name[other],
                         "email": user_email[other]}],
                    "external_ids": {}, "created_at": iso(sc_ts),
                    "updated_at": iso(sc_ts + 600 if sc_ts + 600 <= u_ts else sc_ts),
                    "message_added_at": iso(sc_ts), "state_updated_at": iso(sc_ts),
                })

            if st == "deleted":
                continue

            # ---- ticket metrics
            mid = next_metric
            next_metric += 9
            reply_min = (first_agent_reply - c_ts) // 60 if first_agent_reply else None
            solved_min = (solved_at - c_ts) // 60 if solved_at else None
            assigned = iso(c_ts + 60) if assignee else None
            metrics_out.append({
                "url": f"{api}/ticket_metrics/{mid}.json", "id": mid, "ticket_id": tid,
                "created_at": c_iso, "updated_at": u_iso,
                "group_stations": 1 if gid else 0, "assignee_stations": 1 if assignee else 0,
                "reopens": 1 if (k > 3 and r() < 0.2) else 0, "replies": replies,
                "assignee_updated_at": latest_iso if assignee else None,
                "requester_updated_at": c_iso, "status_updated_at": u_iso,
                "initially_assigned_at": assigned, "assigned_at": assigned,
                "solved_at": solved_iso,
                "latest_comment_added_at": latest_iso, "custom_status_updated_at": u_iso,
                "reply_time_in_minutes": {"calendar": reply_min, "business":
                                          reply_min // 3 if reply_min is not None else None},
                "reply_time_in_seconds": {"calendar": reply_min * 60
                                          if reply_min is not None else None},
                "first_resolution_time_in_minutes": {
                    "calendar": solved_min, "business": solved_min // 3
                    if solved_min is not None else None},
                "full_resolution_time_in_minutes": {
                    "calendar": solved_min, "business": solved_min // 3
                    if solved_min is not None else None},
                "agent_wait_time_in_minutes": {
                    "calendar": solved_min // 4 if solved_min is not None else None,
                    "business": solved_min // 12 if solved_min is not None else None},
                "requester_wait_time_in_minutes": {
                    "calendar": solved_min // 2 if solved_min is not None else None,
                    "business": solved_min // 6 if solved_min is not None else None},
                "on_hold_time_in_minutes": {"calendar": 0, "business": 0},
            })

            # ---- ticket metric events
            ct_iso = c_iso
            me = next_mevent
            mevents_out.append({"id": me, "ticket_id": tid, "metric": "agent_work_time",
                                "instance_id": 1, "type": "activate", "time": ct_iso,
                                "deleted": False})
            mevents_out.append({"id": me + 5, "ticket_id": tid, "metric": "reply_time",
                                "instance_id": 1, "type": "activate", "time": ct_iso,
                                "deleted": False})
            me += 10
            if prio in ("high", "urgent"):
                target = 60 if prio == "urgent" else 240
                mevents_out.append({"id": me, "ticket_id": tid, "metric": "reply_time",
                                    "instance_id": 1, "type": "apply_sla", "time": ct_iso,
                                    "sla": {"target": target, "target_in_seconds": target * 60,
                                            "business_hours": False, "policy": policy}})
                me += 5
                if reply_min is None or reply_min > target:
                    mevents_out.append({"id": me, "ticket_id": tid, "metric": "reply_time",
                                        "instance_id": 1, "type": "breach",
                                        "time": iso(min(end, c_ts + target * 60)),
                                        "deleted": False})
                    me += 5
            if first_agent_reply is not None:
                mevents_out.append({"id": me, "ticket_id": tid, "metric": "reply_time",
                                    "instance_id": 1, "type": "fulfill",
                                    "time": iso(first_agent_reply), "deleted": False})
                me += 5
            if st in ("pending", "hold"):
                mevents_out.append({"id": me, "ticket_id": tid, "metric": "requester_wait_time",
                                    "instance_id": 1, "type": "pause", "time": latest_iso,
                                    "deleted": False})
                me += 5
            if solved_at is not None:
                s_iso = solved_iso
                mevents_out.append({"id": me, "ticket_id": tid, "metric": "resolution_time",
                                    "instance_id": 1, "type": "measure", "time": s_iso})
                me += 5
                mevents_out.append({"id": me, "ticket_id": tid, "metric": "agent_work_time",
                                    "instance_id": 1, "type": "fulfill", "time": s_iso,
                                    "deleted": False})
                mevents_out.append({"id": me + 5, "ticket_id": tid,
                                    "metric": "requester_wait_time", "instance_id": 1,
                                    "type": "update_status", "time": s_iso,
                                    "status": {"calendar": solved_min // 2,
                                               "business": solved_min // 6}})
                me += 10
            next_mevent = me

        ids._next["audit"] = next_audit
        ids._next["metric"] = next_metric
        ids._next["metric_event"] = next_mevent
        # stable sorts: rows were produced in ascending id order, so ties stay ordered by id
        tickets_out.sort(key=itemgetter("generated_timestamp"))
        cols["tickets"] = tickets_out
        mevents_out.sort(key=itemgetter("time"))
        cols["tags"] = [{"name": k, "count": v}
                        for k, v in sorted(tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    # ----------------------------------------------------------------- business rules

    def rules(self) -> None:
        """Create SLA policies, macros, triggers, automations and views."""
        api = self.api
        c = self.cols
        t = self.start + 2 * DAY
        ids = self.ids
        self.reason_ids = [ids("reason") for _ in range(4)]
        pid = ids("rule")
        c["sla_policies"].append({
            "url": f"{api}/slas/policies/{pid}.json", "id": pid, "title": "Priority SLA",
            "description": "Reply fast to high and urgent tickets", "position": 1,
            "filter": {"all": [{"field": "type", "operator": "is_not", "value": "task"}],
                       "any": []},
            "policy_metrics": [
                {"priority": "urgent", "metric": "first_reply_time", "target": 60,
                 "business_hours": False, "target_in_seconds": 3600},
                {"priority": "high", "metric": "first_reply_time", "target": 240,
                 "business_hours": False, "target_in_seconds": 14400},
                {"priority": "normal", "metric": "requester_wait_time", "target": 1440,
                 "business_hours": True, "target_in_seconds": 86400},
            ],
            "metric_settings": None,
            "created_at": iso(t), "updated_at": iso(t + 30 * DAY),
        })
        self.sla_policy_ref = {"id": pid, "title": "Priority SLA",
                               "description": "Reply fast to high and urgent tickets"}
        pid2 = ids("rule")
        c["sla_policies"].append({
            "url": f"{api}/slas/policies/{pid2}.json", "id": pid2, "title": "VIP customers",
            "description": "", "position": 2,
            "filter": {"all": [{"field": "current_tags", "operator": "includes",
                                "value": "vip"}], "any": []},
            "policy_metrics": [
                {"priority": "low", "metric": "first_reply_time", "target": 120,
                 "business_hours": False, "target_in_seconds": 7200}],
            "metric_settings": {"first_reply_time": {"activate_on_ticket_created_for_end_user":
                                                     True}},
            "created_at": iso(t + DAY), "updated_at": iso(t + DAY),
        })
        for i, (title, actions) in enumerate((
            ("Customer not responding", [
                {"field": "status", "value": "pending"},
                {"field": "comment_value", "value": "Hello {{ticket.requester.name}}. Our agent "
                 "has tried to contact you about this request but we haven't heard back."}]),
            ("Downgrade and inform", [{"field": "priority", "value": "low"},
                                      {"field": "comment_value", "value": "We have lowered the "
                                       "priority of this request."}]),
            ("Close and redirect to topics", [{"field": "status", "value": "solved"},
                                              {"field": "current_tags", "value": "redirected"}]),
            ("Escalate to tier 2", [{"field": "group_id", "value": str(self.group_ids[2])},
                                    {"field": "priority", "value": "high"}]),
        )):
            mid = ids("rule")
            c["macros"].append({
                "url": f"{api}/macros/{mid}.json", "id": mid, "title": title,
                "active": i != 2, "updated_at": iso(t + i * DAY), "created_at": iso(t),
                "default": i < 3, "position": 9999 + i, "description": None if i else
                "Use when the customer goes quiet", "actions": actions,
                "restriction": None if i != 3 else {"type": "Group", "id": self.group_ids[2],
                                                    "ids": [self.group_ids[2]]},
                "raw_title": title, "permissions": {"can_edit": True},
            })
        cat_id = str(ids("rule"))
        self.trigger_refs: dict[str, int] = {}
        for i, (title, conds, actions) in enumerate((
            ("Notify requester of new ticket",
             {"all": [{"field": "update_type", "operator": "is", "value": "Create"}],
              "any": []},
             [{"field": "notification_user", "value": ["requester_id",
                                                       "[Request received] {{ticket.title}}",
                                                       "Your request has been received."]}]),
            ("Notify assignee of assignment",
             {"all": [{"field": "assignee_id", "operator": "changed", "value": None},
                      {"field": "assignee_id", "operator": "is_not", "value": "current_user"}],
              "any": []},
             [{"field": "notification_user", "value": ["assignee_id", "Assignment",
                                                       "You have been assigned."]}]),
            ("Notify requester and CCs of comment update",
             {"all": [{"field": "update_type", "operator": "is", "value": "Change"},
                      {"field": "comment_is_public", "operator": "is", "value": "true"}],
              "any": []},
             [{"field": "notification_user", "value": ["requester_and_ccs",
                                                       "[{{ticket.account}}] Re: "
                                                       "{{ticket.title}}",
                                                       "{{ticket.latest_comment_html}}"]}]),
            ("Route tickets to groups",
             {"all": [{"field": "update_type", "operator": "is", "value": "Create"},
                      {"field": "group_id", "operator": "is", "value": ""}], "any": []},
             [{"field": "group_id", "value": str(self.group_ids[0])}]),
        )):
            tid = ids("rule")
            self.trigger_refs[title] = tid
            c["triggers"].append({
                "url": f"{api}/triggers/{tid}.json", "id": tid, "title": title,
                "active": True, "updated_at": iso(t + DAY), "created_at": iso(t),
                "default": i < 3, "actions": actions, "conditions": conds,
                "description": None if i else "Sends a receipt", "position": i + 1,
                "raw_title": title, "category_id": cat_id,
            })
        for i, (title, hours, status) in enumerate((
            ("Close ticket 4 days after status is set to solved", "96", "closed"),
            ("Pending notification 24 hours", "24", "open"),
        )):
            aid = ids("rule")
            c["automations"].append({
                "url": f"{api}/automations/{aid}.json", "id": aid, "title": title,
                "active": True, "updated_at": iso(t + DAY), "created_at": iso(t),
                "default": i == 0, "actions": [{"field": "status", "value": status}],
                "conditions": {"all": [
                    {"field": "status", "operator": "is", "value": "solved" if i == 0 else
                     "pending"},
                    {"field": "SOLVED" if i == 0 else "PENDING", "operator": "greater_than",
                     "value": hours}], "any": []},
                "position": i, "raw_title": title,
            })
        cols_ = [{"id": "subject", "title": "Subject"}, {"id": "requester", "title": "Requester"},
                 {"id": "created", "title": "Requested"}, {"id": "type", "title": "Type"},
                 {"id": "priority", "title": "Priority"}]
        for i, (title, conds) in enumerate((
            ("Your unsolved tickets", {"all": [
                {"field": "status", "operator": "less_than", "value": "solved"},
                {"field": "assignee_id", "operator": "is", "value": "current_user"}], "any": []}),
            ("Unassigned tickets", {"all": [
                {"field": "assignee_id", "operator": "is", "value": ""},
                {"field": "status", "operator": "less_than", "value": "solved"}], "any": []}),
            ("Recently solved tickets", {"all": [
                {"field": "status", "operator": "is", "value": "solved"}], "any": []}),
        )):
            vid = ids("rule")
            c["views"].append({
                "url": f"{api}/views/{vid}.json", "id": vid, "title": title, "active": True,
                "updated_at": iso(t + DAY), "created_at": iso(t), "default": i < 2,
                "position": i, "description": None if i else "Tickets waiting for you",
                "execution": {"group_by": "status" if i == 0 else None, "group_order": "asc",
                              "sort_by": "created", "sort_order": "desc",
                              "group": {"id": "status", "title": "Status", "order": "asc"}
                              if i == 0 else None,
                              "sort": {"id": "created", "title": "Requested", "order": "desc"},
                              "columns": cols_, "fields": cols_, "custom_fields": []},
                "conditions": conds, "restriction": None, "watchable": True, "raw_title": title,
            })

    # ----------------------------------------------------------------- help center

    def help_center(self) -> None:
        """Create Help Center categories, sections, articles, community topics and posts."""
        r = self.rnd
        api, base = self.api, self.base
        c = self.cols
        ids = self.ids
        s, e = self.start, self.end
        t = s + 3 * DAY
        authors = self.agents[: max(2, min(6, len(self.agents)))]
        sections = []
        perm_group = ids("hc")
        segment = ids("hc")
        for ci, cname in enumerate(("General", "Billing", "Hardware")):
            cid = ids("hc")
            c["categories"].append({
                "id": cid, "url": f"{api}/help_center/en-us/categories/{cid}.json",
                "html_url": f"{base}/hc/en-us/categories/{cid}-{_slug(cname)}",
                "position": ci, "created_at": iso(t), "updated_at": iso(t + ci * DAY),
                "name": cname, "description": "" if ci else None, "locale": "en-us",
                "source_locale": "en-us", "outdated": False,
            })
            for si, sname in enumerate(("FAQ", "Troubleshooting")):
                sid = ids("hc")
                name = f"{cname} {sname}"
                c["sections"].append({
                    "id": sid, "url": f"{api}/help_center/en-us/sections/{sid}.json",
                    "html_url": f"{base}/hc/en-us/sections/{sid}-{_slug(name)}",
                    "category_id": cid, "position": si, "sorting": "manual",
                    "created_at": iso(t + DAY), "updated_at": iso(t + 2 * DAY), "name": name,
                    "description": f"{sname} for {cname.lower()}" if si else None,
                    "locale": "en-us", "source_locale": "en-us", "outdated": False,
                    "parent_section_id": None, "theme_template": "section_page",
                })
                sections.append(sid)
        n_articles = max(5, self.n // 20)
        for i in range(n_articles):
            aid = ids("hc")
            product = PRODUCTS[i % len(PRODUCTS)]
            title = f"How to fix: {product} {PROBLEMS[i % len(PROBLEMS)].format(n=100 + i)}"
            created = self.ts_between(t, e - DAY)
            updated = self.ts_between(created, e - 60)
            seg = segment if i % 4 == 0 else None
            c["articles"].append({
                "id": aid, "url": f"{api}/help_center/en-us/articles/{aid}.json",
                "html_url": f"{base}/hc/en-us/articles/{aid}-{_slug(title)}",
                "author_id": authors[i % len(authors)], "comments_disabled": i % 7 == 0,
                "draft": i % 11 == 5, "promoted": i % 9 == 0, "position": i % 5,
                "vote_sum": int(r.random() * 10), "vote_count": int(r.random() * 20),
                "section_id": sections[i % len(sections)], "created_at": iso(created),
                "updated_at": iso(updated), "name": title, "title": title,
                "source_locale": "en-us", "locale": "en-us", "outdated": False,
                "outdated_locales": [], "edited_at": iso(updated), "user_segment_id": seg,
                "user_segment_ids": [seg] if seg else [], "permission_group_id": perm_group,
                "content_tag_ids": [], "label_names": [product.replace(" ", "_")]
                if i % 3 == 0 else [],
                "body": f"<p>If your {product} misbehaves, try these steps.</p><ol><li>Restart"
                        f" it.</li><li>Update it.</li><li>Contact support.</li></ol>",
            })
        community = ids("hc")
        topics = []
        for i, (name, desc) in enumerate((("General Discussion", None),
                                          ("Feature Requests", "Ideas for the product"))):
            tid = ids("hc")
            c["topics"].append({
                "id": tid, "url": f"{api}/help_center/community/topics/{tid}.json",
                "html_url": f"{base}/hc/en-us/community/topics/{tid}-{_slug(name)}",
                "name": name, "description": desc, "position": i, "follower_count": i + 1,
                "community_id": community, "created_at": iso(t), "updated_at": iso(t + DAY),
                "manageable_by": "managers" if i == 0 else "staff", "user_segment_id": None,
            })
            topics.append(tid)
        n_posts = max(3, self.n // 200)
        users = self.end_users or self.agents
        for i in range(n_posts):
            pid = ids("hc")
            title = f"Feature idea {i + 1}: better {PRODUCTS[i % len(PRODUCTS)]} support"
            created = self.ts_between(t, e - DAY)
            updated = self.ts_between(created, e - 60)
            slug = _slug(title)
            c["posts"].append({
                "id": pid, "url": f"{api}/help_center/community/posts/{pid}-{slug}.json",
                "html_url": f"{base}/hc/en-us/community/posts/{pid}-{slug}",
                "title": title, "details": f"<p>It would be great to have {title.lower()}.</p>",
                "author_id": users[i % len(users)], "topic_id": topics[i % 2],
                "status": ("none", "planned", "not_planned", "answered", "completed")[i % 5],
                "pinned": i == 0, "featured": i % 7 == 1, "closed": i % 9 == 8, "frozen": False,
                "vote_sum": i % 4, "vote_count": i % 6, "comment_count": i % 3,
                "follower_count": 1 + i % 2, "content_tag_ids": [],
                "non_author_editor_id": None, "non_author_updated_at": None,
                "created_at": iso(created), "updated_at": iso(updated),
            })

    # ----------------------------------------------------------------- entry

    def build(self) -> Dataset:
        """Build the whole dataset."""
        self.account_basics()
        if self.n > 0:
            self.definitions()
            self.people()
            self.rules()
            self.tickets()
            self.help_center()
        c = self.cols
        c["users"].sort(key=lambda u: u["id"])
        return Dataset(collections=c, archived_ticket_ids=self.archived,
                       admin_user_id=self.admin_id)


def generate_account(
    *,
    seed: int = 7,
    tickets: int = 2000,
    base_url: str = "http://127.0.0.1:8080",
    admin_email: str = "demo@example.com",
    anchor: str = "2026-01-01T00:00:00Z",
    burst: int | None = None,
) -> Dataset:
    """Generate a deterministic fake Zendesk account (same arguments give identical output)."""
    # millions of small acyclic dicts: cyclic GC passes would only slow generation down
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Builder(seed, tickets, base_url, admin_email, anchor, burst).build()
    finally:
        if was_enabled:
            gc.enable()
