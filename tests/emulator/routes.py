"""The route table: every served path, its handler, plan family, role gate and rate bucket."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import attachments, definitions, exports, oauth, reads, webhooks, writes
from .reads import ListSpec, ShowSpec, by_field, list_handler, show_handler

_TOKENS = {
    "{id}": r"(?P<id>\d+)",
    "{ticket_id}": r"(?P<ticket_id>\d+)",
    "{uuid}": r"(?P<id>[0-9A-Za-z-]+)",
    "{job}": r"(?P<id>[0-9A-Za-z-]+)",
    "{loc}": r"(?:/[a-z]{2}(?:-[a-z0-9]{2,4})?)?",
}
LOCALE_RE = re.compile(r"^(/api/v2/help_center)/[a-z]{2}(?:-[a-z0-9]{2,4})?(?=/)")


@dataclass(frozen=True)
class Route:
    """One served endpoint."""

    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Callable[..., Any]
    families: tuple[str, ...]
    admin_only: bool = False
    bucket: str | None = None  # endpoint rate-limit bucket (see ratelimit.ENDPOINT_BUCKETS)
    public: bool = False  # served without credentials and outside the API rate limit (OAuth)


def _compile(template: str) -> re.Pattern[str]:
    regex = re.escape(template)
    for token, sub in _TOKENS.items():
        regex = regex.replace(re.escape(token), sub)
    return re.compile(f"^{regex}$")


ROUTES: list[Route] = []


def route(method: str, template: str, handler: Callable[..., Any], *families: str,
          admin_only: bool = False, bucket: str | None = None, public: bool = False) -> None:
    """Register one endpoint."""
    ROUTES.append(Route(method, template, _compile(template), handler, families, admin_only,
                        bucket, public))


def lists(template: str, spec: ListSpec, *families: str, **kw: Any) -> None:
    """Register a list endpoint served by the generic list handler."""
    route("GET", template, list_handler(spec), spec.collection, *families, **kw)


def show(template: str, spec: ShowSpec, *families: str) -> None:
    """Register a show endpoint served by the generic show handler."""
    route("GET", template, show_handler(spec), spec.collection, *families)


V2 = "/api/v2"
HC = "/api/v2/help_center{loc}"
HELP = ("help_center",)

# ---- tickets and their children ---------------------------------------------------------------
_TICKET_SORTS = ("id", "updated_at", "created_at", "status")
_tickets = ListSpec("tickets", "tickets", scope=reads.visible_tickets,
                    scope_params=("external_id",), sorts=_TICKET_SORTS, sideloads=True)
lists(f"{V2}/tickets", _tickets, bucket="tickets_index")
for _suffix, _field in (("requested", "requester_id"), ("assigned", "assignee_id"),
                        ("ccd", "collaborator_ids")):
    lists(f"{V2}/users/{{id}}/tickets/{_suffix}",
          ListSpec("tickets", "tickets", scope=reads.tickets_of(_field), sorts=_TICKET_SORTS,
                   sideloads=True))
lists(f"{V2}/organizations/{{id}}/tickets",
      ListSpec("tickets", "tickets", scope=reads.tickets_of("organization_id"),
               sorts=_TICKET_SORTS, sideloads=True))
route("GET", f"{V2}/tickets/show_many", reads.show_many("tickets", "tickets", False), "tickets")
route("GET", f"{V2}/tickets/count", reads.counter("tickets"), "tickets")
show(f"{V2}/tickets/{{id}}", ShowSpec("tickets", "ticket", hide=reads.deleted_ticket))
route("GET", f"{V2}/tickets/{{ticket_id}}/metrics", reads.ticket_metrics_of, "ticket_metrics")
route("GET", f"{V2}/tickets/{{ticket_id}}/tags", reads.ticket_tags, "tickets")
route("GET", f"{V2}/tickets/{{ticket_id}}/comments/count", reads.comments_count, "tickets")
lists(f"{V2}/tickets/{{ticket_id}}/comments",
      ListSpec("ticket_comments", "comments", scope=reads.children_of_ticket("ticket_comments"),
               sorts=("id", "created_at"), default_sort="created_at", sideloads=True))
lists(f"{V2}/tickets/{{ticket_id}}/audits",
      ListSpec("ticket_audits", "audits", scope=reads.children_of_ticket("ticket_audits"),
               sorts=("id", "created_at"), default_sort="created_at", sideloads=True))
show(f"{V2}/tickets/{{ticket_id}}/audits/{{id}}",
     ShowSpec("ticket_audits", "audit", parent="ticket_id"))
lists(f"{V2}/tickets/{{ticket_id}}/side_conversations",
      ListSpec("side_conversations", "side_conversations", paging="offset",
               scope=reads.children_of_ticket("side_conversations"), depth_limited=False,
               default_sort="created_at"))
show(f"{V2}/tickets/{{ticket_id}}/side_conversations/{{uuid}}",
     ShowSpec("side_conversations", "side_conversation", parent="ticket_id"))
route("GET", f"{V2}/ticket_audits", reads.ticket_audits_all, "ticket_audits", admin_only=True)
lists(f"{V2}/ticket_metrics", ListSpec("ticket_metrics", "ticket_metrics"))
show(f"{V2}/ticket_metrics/{{id}}", ShowSpec("ticket_metrics", "ticket_metric"))
lists(f"{V2}/satisfaction_ratings",
      ListSpec("satisfaction_ratings", "satisfaction_ratings", scope=reads.satisfaction_filter,
               scope_params=("score", "start_time", "end_time")))
show(f"{V2}/satisfaction_ratings/{{id}}", ShowSpec("satisfaction_ratings",
                                                   "satisfaction_rating"))

# ---- users, organizations, groups, memberships ----------------------------------------------
route("GET", f"{V2}/users/me", reads.users_me, "users")
route("GET", f"{V2}/users/show_many", reads.show_many("users", "users", True), "users")
route("GET", f"{V2}/users/search", reads.users_search, "users")
route("GET", f"{V2}/users/count", reads.counter("users"), "users")
lists(f"{V2}/users", ListSpec("users", "users", scope=reads.users_filter,
                              scope_params=("role", "role[]", "roles", "permission_set",
                                            "external_id"), sideloads=True))
show(f"{V2}/users/{{id}}", ShowSpec("users", "user"))
route("GET", f"{V2}/organizations/show_many",
      reads.show_many("organizations", "organizations", True), "organizations")
route("GET", f"{V2}/organizations/search", reads.organizations_search, "organizations")
route("GET", f"{V2}/organizations/count", reads.counter("organizations"), "organizations")
lists(f"{V2}/organizations", ListSpec("organizations", "organizations"))
show(f"{V2}/organizations/{{id}}", ShowSpec("organizations", "organization"))
_groups = ListSpec("groups", "groups", scope=reads.groups_filter,
                   scope_params=("exclude_deleted",))
lists(f"{V2}/groups", _groups)
lists(f"{V2}/groups/assignable", _groups)
show(f"{V2}/groups/{{id}}", ShowSpec("groups", "group"))
lists(f"{V2}/group_memberships", ListSpec("group_memberships", "group_memberships"))
lists(f"{V2}/group_memberships/assignable", ListSpec("group_memberships", "group_memberships"))
lists(f"{V2}/groups/{{id}}/memberships",
      ListSpec("group_memberships", "group_memberships",
               scope=by_field("group_memberships", "group_id", "groups")))
lists(f"{V2}/users/{{id}}/group_memberships",
      ListSpec("group_memberships", "group_memberships",
               scope=by_field("group_memberships", "user_id", "users")))
show(f"{V2}/group_memberships/{{id}}", ShowSpec("group_memberships", "group_membership"))
lists(f"{V2}/organization_memberships",
      ListSpec("organization_memberships", "organization_memberships"))
lists(f"{V2}/users/{{id}}/organization_memberships",
      ListSpec("organization_memberships", "organization_memberships",
               scope=by_field("organization_memberships", "user_id", "users")))
lists(f"{V2}/organizations/{{id}}/organization_memberships",
      ListSpec("organization_memberships", "organization_memberships",
               scope=by_field("organization_memberships", "organization_id", "organizations")))
show(f"{V2}/organization_memberships/{{id}}",
     ShowSpec("organization_memberships", "organization_membership"))

# ---- account configuration ---------------------------------------------------------------------
lists(f"{V2}/brands", ListSpec("brands", "brands"))
show(f"{V2}/brands/{{id}}", ShowSpec("brands", "brand"))
lists(f"{V2}/ticket_fields",
      ListSpec("ticket_fields", "ticket_fields", paging="optional_cbp",
               default_sort="id", envelope=(("next_page", None), ("previous_page", None)),
               count_in_envelope=True))
show(f"{V2}/ticket_fields/{{id}}", ShowSpec("ticket_fields", "ticket_field"))
lists(f"{V2}/ticket_forms", ListSpec("ticket_forms", "ticket_forms", paging="one_page"))
show(f"{V2}/ticket_forms/{{id}}", ShowSpec("ticket_forms", "ticket_form"))
lists(f"{V2}/user_fields", ListSpec("user_fields", "user_fields"))
show(f"{V2}/user_fields/{{id}}", ShowSpec("user_fields", "user_field"))
lists(f"{V2}/organization_fields", ListSpec("organization_fields", "organization_fields"))
show(f"{V2}/organization_fields/{{id}}", ShowSpec("organization_fields", "organization_field"))
lists(f"{V2}/custom_statuses", ListSpec("custom_statuses", "custom_statuses", paging="none"))
show(f"{V2}/custom_statuses/{{id}}", ShowSpec("custom_statuses", "custom_status"))
lists(f"{V2}/slas/policies",
      ListSpec("sla_policies", "sla_policies", paging="none",
               envelope=(("next_page", None), ("previous_page", None)),
               count_in_envelope=True))
show(f"{V2}/slas/policies/{{id}}", ShowSpec("sla_policies", "sla_policy"))
lists(f"{V2}/tags", ListSpec("tags", "tags", sorts=("name", "count"), default_sort="name"))
for _coll, _one in (("macros", "macro"), ("triggers", "trigger"), ("automations", "automation"),
                    ("views", "view")):
    lists(f"{V2}/{_coll}", ListSpec(_coll, _coll, sorts=("id", "created_at", "updated_at",
                                                         "position", "title")))
    lists(f"{V2}/{_coll}/active", ListSpec(_coll, _coll, scope=reads.active_only(_coll)))
    show(f"{V2}/{_coll}/{{id}}", ShowSpec(_coll, _one))
lists(f"{V2}/custom_roles", ListSpec("custom_roles", "custom_roles", paging="none"))
show(f"{V2}/custom_roles/{{id}}", ShowSpec("custom_roles", "custom_role"))
lists(f"{V2}/business_hours/schedules", ListSpec("schedules", "schedules", paging="none"))
show(f"{V2}/business_hours/schedules/{{id}}", ShowSpec("schedules", "schedule"))

# ---- help center and community -----------------------------------------------------------------
_HC_SORTS = ("id", "position", "title", "name", "created_at", "updated_at")
for _coll, _one in (("articles", "article"), ("sections", "section"),
                    ("categories", "category")):
    lists(f"{HC}/{_coll}", ListSpec(_coll, _coll, help_center="help_center",
                                    default_per_page=30, sorts=_HC_SORTS), *HELP)
    show(f"{HC}/{_coll}/{{id}}", ShowSpec(_coll, _one), *HELP)
lists(f"{HC}/sections/{{id}}/articles",
      ListSpec("articles", "articles", scope=by_field("articles", "section_id", "sections"),
               help_center="help_center", default_per_page=30, sorts=_HC_SORTS), *HELP)
lists(f"{HC}/categories/{{id}}/articles",
      ListSpec("articles", "articles", scope=reads.articles_in_category,
               help_center="help_center", default_per_page=30, sorts=_HC_SORTS), *HELP)
lists(f"{HC}/categories/{{id}}/sections",
      ListSpec("sections", "sections", scope=by_field("sections", "category_id", "categories"),
               help_center="help_center", default_per_page=30, sorts=_HC_SORTS), *HELP)
for _prefix in (f"{V2}/community", f"{V2}/help_center/community"):
    lists(f"{_prefix}/topics", ListSpec("topics", "topics", help_center="community",
                                        sorts=_HC_SORTS), *HELP, "community")
    show(f"{_prefix}/topics/{{id}}", ShowSpec("topics", "topic"), *HELP, "community")
    lists(f"{_prefix}/posts", ListSpec("posts", "posts", help_center="community",
                                       sorts=_HC_SORTS), *HELP, "community")
    lists(f"{_prefix}/topics/{{id}}/posts",
          ListSpec("posts", "posts", scope=by_field("posts", "topic_id", "topics"),
                   help_center="community", sorts=_HC_SORTS), *HELP, "community")
    lists(f"{_prefix}/users/{{id}}/posts",
          ListSpec("posts", "posts", scope=reads.posts_of_user, help_center="community",
                   sorts=_HC_SORTS), *HELP, "community")
    show(f"{_prefix}/posts/{{id}}", ShowSpec("posts", "post"), *HELP, "community")

# ---- incremental exports (admin only) -----------------------------------------------------------
_INC = f"{V2}/incremental"
route("GET", f"{_INC}/tickets", exports.tickets_time, "tickets", "incremental",
      admin_only=True, bucket="incremental")
route("GET", f"{_INC}/tickets/cursor", exports.tickets_cursor, "tickets", "incremental",
      "cursor_exports", admin_only=True, bucket="incremental")
route("GET", f"{_INC}/users", exports.users_time, "users", "incremental", admin_only=True,
      bucket="incremental")
route("GET", f"{_INC}/users/cursor", exports.users_cursor, "users", "incremental",
      "cursor_exports", admin_only=True, bucket="incremental_cursor")
route("GET", f"{_INC}/organizations", exports.organizations_time, "organizations",
      "incremental", admin_only=True, bucket="incremental")
route("GET", f"{_INC}/ticket_events", exports.ticket_events_time, "ticket_events",
      "incremental", admin_only=True, bucket="incremental")
route("GET", f"{_INC}/ticket_metric_events", exports.ticket_metric_events,
      "ticket_metric_events", "incremental", admin_only=True, bucket="incremental")
route("GET", f"{V2}/help_center/incremental/articles", exports.articles_time, "articles",
      *HELP)

# ---- jobs --------------------------------------------------------------------------------------
route("GET", f"{V2}/job_statuses/show_many", reads.job_status_show_many, "job_statuses")
route("GET", f"{V2}/job_statuses/{{job}}", reads.job_status_show, "job_statuses")
lists(f"{V2}/job_statuses",
      ListSpec("job_statuses", "job_statuses", paging="cbp", scope=reads.jobs_newest_first))

# ---- writes ------------------------------------------------------------------------------------
route("POST", f"{V2}/imports/tickets", writes.import_ticket, "tickets", "imports",
      admin_only=True)
route("POST", f"{V2}/imports/tickets/create_many", writes.import_tickets_many, "tickets",
      "imports", admin_only=True)
route("POST", f"{V2}/tickets", writes.create_ticket, "tickets")
route("POST", f"{V2}/tickets/create_many", writes.create_tickets_many, "tickets")
route("PUT", f"{V2}/tickets/update_many", writes.update_tickets_many, "tickets")
route("PUT", f"{V2}/tickets/{{id}}", writes.update_ticket, "tickets")
route("POST", f"{V2}/users", writes.create_user, "users")
route("POST", f"{V2}/users/create_many", writes.create_users_many, "users",
      "bulk_user_import", admin_only=True)
route("POST", f"{V2}/users/create_or_update_many", writes.create_or_update_users_many, "users",
      "bulk_user_import", admin_only=True)
route("POST", f"{V2}/users/create_or_update", writes.create_or_update_user, "users",
      bucket="user_upsert")
route("PUT", f"{V2}/users/update_many", writes.update_users_many, "users")
route("PUT", f"{V2}/users/{{id}}", writes.update_user, "users")
route("POST", f"{V2}/organizations", writes.create_org, "organizations")
route("POST", f"{V2}/organizations/create_many", writes.create_orgs_many, "organizations")
route("POST", f"{V2}/organizations/create_or_update", writes.create_or_update_org,
      "organizations")
route("PUT", f"{V2}/organizations/update_many", writes.update_orgs_many, "organizations")
route("PUT", f"{V2}/organizations/{{id}}", writes.update_org, "organizations")
attachments.register(route)
definitions.register(route)

# ---- OAuth (same host, outside /api/v2; zendesk_api.md 1.1-1.2) ---------------------------------
route("GET", "/oauth/authorizations/new", oauth.authorizations_new, public=True)
route("POST", "/oauth/tokens", oauth.tokens, public=True)

# ---- webhooks and the triggers that call them (zendesk_api.md 7.1, 7.3) -------------------------
webhooks.register(route)

JOB_CREATING = frozenset({
    writes.import_tickets_many, writes.create_tickets_many, writes.update_tickets_many,
    writes.create_users_many, writes.create_or_update_users_many, writes.update_users_many,
    writes.create_orgs_many, writes.update_orgs_many,
})

_BY_METHOD: dict[str, list[Route]] = {}
for _r in ROUTES:
    _BY_METHOD.setdefault(_r.method, []).append(_r)


def resolve(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Find the route for a canonical path (no `.json`)."""
    for r in _BY_METHOD.get(method, ()):
        m = r.pattern.match(path)
        if m:
            return r, m.groupdict()
    return None


def path_exists(path: str) -> bool:
    """Whether any method serves this path (404 vs. method mismatch are both 404 here)."""
    return any(r.pattern.match(path) for r in ROUTES)


_ID_SEGMENT = re.compile(r"/(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|(?:V3-)?[0-9a-f]{32})(?=/|$)")


def normalize(path: str) -> str:
    """Path with ids replaced by `{id}` and locale dropped, for request statistics."""
    path = LOCALE_RE.sub(r"\1", path)
    return _ID_SEGMENT.sub("/{id}", path)
