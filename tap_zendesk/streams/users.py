"""Users, their field definitions, groups and group memberships."""

from __future__ import annotations

from tap_zendesk.client import CursorExportStream, CursorListStream


class UsersStream(CursorExportStream):
    """Every user (deleted ones with active=false) from the cursor-based export."""

    name = "users"
    path = "/api/v2/incremental/users/cursor.json"


class UserFieldsStream(CursorListStream):
    """User field definitions."""

    name = "user_fields"
    path = "/api/v2/user_fields.json"


class GroupsStream(CursorListStream):
    """Agent groups, deleted ones included (`exclude_deleted=false`)."""

    name = "groups"
    path = "/api/v2/groups.json"
    extra_params = {"exclude_deleted": "false"}  # noqa: RUF012


class GroupMembershipsStream(CursorListStream):
    """Which agent is in which group."""

    name = "group_memberships"
    path = "/api/v2/group_memberships.json"
