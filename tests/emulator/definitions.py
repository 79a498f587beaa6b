"""Account definitions a migration maps: create endpoints and pre-created destination accounts.

* `POST` for ticket, user and organization fields, groups, brands, ticket forms and custom
  statuses, and `PUT` of a field's options (the whole list, zendesk_api.md 5.9), with the
  validation a migration meets (unique keys and names, options on dropdowns).
* The `definitions` knob: an empty account (`tickets=0`) that already holds all or some of the
  definitions a seeded account has, under its own ids (another seed gives other ids).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .util import ApiError, ItemInvalid, iso, json_response, not_found, now

if TYPE_CHECKING:
    from collections.abc import Callable

    from .app import App
    from .config import EmulatorConfig
    from .generator import Dataset
    from .request import Req
    from .util import Response

TICKET_FIELD_TYPES = frozenset({"text", "textarea", "checkbox", "date", "integer", "decimal",
                                "regexp", "partialcreditcard", "multiselect", "tagger",
                                "lookup"})
OBJECT_FIELD_TYPES = frozenset({"text", "textarea", "checkbox", "date", "integer", "decimal",
                                "regexp", "dropdown", "multiselect", "lookup"})
WITH_OPTIONS = frozenset({"tagger", "dropdown", "multiselect"})
STATUS_CATEGORIES = ("new", "open", "pending", "hold", "solved")
KEY_RE = re.compile(r"^[A-Za-z0-9_]+$")
#: What each endpoint is called: collection, singular body key.
KINDS = {
    "ticket_fields": "ticket_field", "user_fields": "user_field",
    "organization_fields": "organization_field", "groups": "group", "brands": "brand",
    "ticket_forms": "ticket_form", "custom_statuses": "custom_status",
}


def _invalid(fieldname: str, description: str, error: str = "InvalidValue") -> ApiError:
    return ItemInvalid(fieldname, description, error).api_error()


def _body(req: Req, key: str) -> dict[str, Any]:
    data = req.json()
    obj = data.get(key) if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise ApiError(400, {"error": "InvalidParameter",
                             "description": f"Parameter {key} is required"})
    return obj


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(name, f"{name.replace('_', ' ').capitalize()}: cannot be blank",
                       "BlankValue")
    return value.strip()


def _options(app: App, kind: str, fid: int, given: Any, old: list[dict] | None,
             ftype: str) -> list[dict]:
    """Validate a whole options list; options keep their id when their value stays."""
    if not isinstance(given, list) or not given:
        raise _invalid("custom_field_options",
                       f"Custom field options: a {ftype} field needs at least one option",
                       "BlankValue")
    by_value = {o.get("value"): o for o in old or ()}
    out: list[dict] = []
    seen: set[str] = set()
    for pos, raw in enumerate(given):
        if not isinstance(raw, dict):
            raise _invalid("custom_field_options", "Custom field options: is invalid")
        name, value = raw.get("name"), raw.get("value")
        if not isinstance(name, str) or not name.strip() or not isinstance(value, str) \
                or not value.strip():
            raise _invalid("custom_field_options",
                           "Custom field options: each option needs a name and a value",
                           "BlankValue")
        if value in seen:
            raise _invalid("custom_field_options",
                           f"Custom field options: value {value} is used twice",
                           "DuplicateValue")
        seen.add(value)
        kept = by_value.get(value)
        oid = kept["id"] if kept else app.store.new_id("custom_field_options")
        option = {"id": oid, "name": name, "raw_name": name, "value": value,
                  "default": bool(raw.get("default", False))}
        if kind != "ticket_fields":
            option.update(position=pos,
                          url=f"{app.base_url}/api/v2/{kind}/{fid}/options/{oid}.json")
        out.append(option)
    return out


def _field(app: App, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate and build a new ticket/user/organization field."""
    store = app.store
    ftype = data.get("type")
    allowed = TICKET_FIELD_TYPES if kind == "ticket_fields" else OBJECT_FIELD_TYPES
    if ftype not in allowed:
        raise _invalid("type", f"Type: {ftype} is not a valid value")
    title = _text(data, "title")
    fid = store.new_id(kind)
    stamp = iso(now())
    obj: dict[str, Any] = {
        "url": f"{app.base_url}/api/v2/{kind}/{fid}.json", "id": fid, "type": ftype,
        "title": title, "raw_title": title, "description": data.get("description") or "",
        "raw_description": data.get("description") or "",
        "position": int(data.get("position") or len(store.rows(kind)) + 1),
        "active": bool(data.get("active", True)),
        "regexp_for_validation": data.get("regexp_for_validation"), "tag": data.get("tag"),
        "created_at": stamp, "updated_at": stamp,
    }
    if kind == "ticket_fields":
        obj.update(required=False, collapsed_for_agents=False, title_in_portal=title,
                   raw_title_in_portal=title, visible_in_portal=False,
                   editable_in_portal=False, required_in_portal=False, agent_can_edit=True,
                   removable=True, key=None, agent_description=None,
                   raw_agent_description=None)
    else:
        key = data.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise _invalid("key", "Key: letters, digits and underscores only", "InvalidValue")
        if any(f.get("key") == key for f in store.rows(kind)):
            raise _invalid("key", f"Key: {key} has already been taken", "DuplicateValue")
        obj.update(key=key, system=False)
    if ftype in WITH_OPTIONS:
        obj["custom_field_options"] = _options(app, kind, fid, data.get("custom_field_options"),
                                               None, ftype)
    if ftype == "lookup":
        obj["relationship_target_type"] = data.get("relationship_target_type") or "zen:user"
        obj["relationship_filter"] = data.get("relationship_filter") or {"all": [], "any": []}
    return obj


def _unique_name(app: App, kind: str, field: str, value: str) -> None:
    for row in app.store.rows(kind):
        if str(row.get(field) or "").lower() == value.lower() and not row.get("deleted"):
            raise _invalid(field, f"{field.capitalize()}: {value} has already been taken",
                           "DuplicateValue")


def _group(app: App, data: dict[str, Any]) -> dict[str, Any]:
    name = _text(data, "name")
    _unique_name(app, "groups", "name", name)
    gid = app.store.new_id("groups")
    stamp = iso(now())
    return {"url": f"{app.base_url}/api/v2/groups/{gid}.json", "id": gid,
            "is_public": bool(data.get("is_public", True)), "name": name,
            "description": data.get("description") or "", "default": False,
            "deleted": False, "created_at": stamp, "updated_at": stamp}


def _brand(app: App, data: dict[str, Any]) -> dict[str, Any]:
    name = _text(data, "name")
    subdomain = _text(data, "subdomain").lower()
    _unique_name(app, "brands", "subdomain", subdomain)
    bid = app.store.new_id("brands")
    stamp = iso(now())
    return {"url": f"{app.base_url}/api/v2/brands/{bid}.json", "id": bid, "name": name,
            "brand_url": f"https://{subdomain}.zendesk.com", "subdomain": subdomain,
            "host_mapping": None, "has_help_center": False, "help_center_state": "disabled",
            "active": bool(data.get("active", True)), "default": False, "is_deleted": False,
            "logo": None, "ticket_form_ids": [], "signature_template": "{{agent.signature}}",
            "created_at": stamp, "updated_at": stamp}


def _form(app: App, data: dict[str, Any]) -> dict[str, Any]:
    name = _text(data, "name")
    ids = data.get("ticket_field_ids") or []
    for fid in ids:
        if app.store.get("ticket_fields", fid) is None:
            raise _invalid("ticket_field_ids", f"Ticket field ids: {fid} is not a ticket field")
    form_id = app.store.new_id("ticket_forms")
    stamp = iso(now())
    display = data.get("display_name") or name
    return {"url": f"{app.base_url}/api/v2/ticket_forms/{form_id}.json", "id": form_id,
            "name": name, "raw_name": name, "display_name": display,
            "raw_display_name": display, "end_user_visible": bool(data.get("end_user_visible")),
            "position": int(data.get("position") or len(app.store.rows("ticket_forms")) + 1),
            "ticket_field_ids": list(ids), "active": bool(data.get("active", True)),
            "default": False, "in_all_brands": bool(data.get("in_all_brands", True)),
            "restricted_brand_ids": [], "end_user_conditions": [], "agent_conditions": [],
            "form_type": "standard", "deleted_at": None, "created_at": stamp,
            "updated_at": stamp}


def _status(app: App, data: dict[str, Any]) -> dict[str, Any]:
    category = data.get("status_category")
    if category not in STATUS_CATEGORIES:
        raise _invalid("status_category", f"Status category: {category} is not a valid value")
    label = _text(data, "agent_label")
    for row in app.store.rows("custom_statuses"):
        if row.get("status_category") == category and \
                str(row.get("agent_label")).lower() == label.lower():
            raise _invalid("agent_label", f"Agent label: {label} has already been taken",
                           "DuplicateValue")
    sid = app.store.new_id("custom_statuses")
    stamp = iso(now())
    eu_label = data.get("end_user_label") or label
    return {"url": f"{app.base_url}/api/v2/custom_statuses/{sid}.json", "id": sid,
            "status_category": category, "agent_label": label, "raw_agent_label": label,
            "end_user_label": eu_label, "raw_end_user_label": eu_label,
            "description": data.get("description"), "raw_description": data.get("description"),
            "end_user_description": data.get("end_user_description"),
            "raw_end_user_description": data.get("end_user_description"),
            "active": bool(data.get("active", True)), "default": False,
            "created_at": stamp, "updated_at": stamp}


def _creator(kind: str) -> Callable[[App, Req], Response]:
    build = {"groups": _group, "brands": _brand, "ticket_forms": _form,
             "custom_statuses": _status}.get(kind)

    def create(app: App, req: Req) -> Response:
        """`POST /api/v2/{kind}` -> 201 {singular: object}."""
        data = _body(req, KINDS[kind])
        with app.store.lock:
            obj = build(app, data) if build else _field(app, kind, data)
            app.store.insert(kind, obj)
        return json_response(201, {KINDS[kind]: obj})

    create.__doc__ = f"`POST /api/v2/{kind}` -> 201 {{{KINDS[kind]}}}."
    return create


def _options_updater(kind: str) -> Callable[..., Response]:
    def update(app: App, req: Req, **groups: str) -> Response:
        """`PUT /api/v2/{kind}/{id}`: title, description, active or the whole options list."""
        data = _body(req, KINDS[kind])
        with app.store.lock:
            old = app.store.get(kind, groups["id"])
            if old is None:
                raise not_found()
            changes: dict[str, Any] = {"updated_at": iso(now())}
            for name in ("title", "description", "active", "position"):
                if name in data:
                    changes[name] = data[name]
            if "custom_field_options" in data:
                if old.get("type") not in WITH_OPTIONS:
                    raise _invalid("custom_field_options",
                                   "Custom field options: this field type has no options")
                changes["custom_field_options"] = _options(
                    app, kind, old["id"], data["custom_field_options"],
                    old.get("custom_field_options"), str(old.get("type")))
            obj = app.store.update(kind, old["id"], changes)
        return json_response(200, {KINDS[kind]: obj})

    return update


def register(route: Callable[..., None]) -> None:
    """Add the create endpoints (and field updates) to the route table."""
    for kind in KINDS:
        route("POST", f"/api/v2/{kind}", _creator(kind), kind, admin_only=True)
    for kind in ("ticket_fields", "user_fields", "organization_fields"):
        route("PUT", f"/api/v2/{kind}/{{id}}", _options_updater(kind), kind, admin_only=True)


# -- pre-created definitions (the `definitions` knob) ------------------------------------------
#: With `definitions=some`, these are left out (by title or name): the rest exist.
LEFT_OUT = {
    "ticket_fields": {"Internal notes", "Seats affected", "Card used", "Related customer",
                      "Ticket summary"},
    "user_fields": {"bio", "member_code"},
    "organization_fields": {"about", "vat_number"},
    "groups": {"Hardware"},
    "brands": {"Demo Labs"},
    "ticket_forms": {"Billing request"},
    "custom_statuses": {"Awaiting vendor"},
}
#: ...and these dropdown options are missing from fields that exist (by option value).
MISSING_OPTIONS = {"plan_bronze", "tier_bronze"}


def prepare(dataset: Dataset, cfg: EmulatorConfig, base_url: str) -> None:
    """Apply the `definitions` knob to a freshly generated empty account."""
    if not cfg.definitions or cfg.tickets:
        return
    from .generator import _Builder

    builder = _Builder(cfg.seed, 200, base_url, cfg.email, cfg.anchor, cfg.burst)
    builder.account_basics()
    builder.definitions()
    for kind in KINDS:
        rows = builder.cols[kind]
        if cfg.definitions == "some":
            rows = [_trim(r) for r in rows if r.get(NAME_FIELD[kind]) not in LEFT_OUT[kind]]
        dataset.collections[kind] = rows
    admin = dataset.collections["users"][0]
    admin["user_fields"] = {f["key"]: None for f in dataset.collections["user_fields"]}


#: The field that names a definition of each kind (what LEFT_OUT lists).
NAME_FIELD = {"ticket_fields": "title", "user_fields": "key", "organization_fields": "key",
              "groups": "name", "brands": "name", "ticket_forms": "name",
              "custom_statuses": "agent_label"}


def _trim(row: dict[str, Any]) -> dict[str, Any]:
    options = row.get("custom_field_options")
    if options:
        row = {**row, "custom_field_options": [o for o in options
                                               if o.get("value") not in MISSING_OPTIONS]}
    return row
