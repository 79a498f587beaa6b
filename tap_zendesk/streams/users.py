"""Users, their field definitions, groups and group memberships."""

from __future__ import annotations

import typing as t

from tap_zendesk.client import CursorExportStream, CursorListStream
from tap_zendesk.custom_fields import TypedObjectFields

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class UsersStream(TypedObjectFields, CursorExportStream):
    """Every user (deleted ones with active=false) from the cursor-based export."""

    name = "users"
    path = "/api/v2/incremental/users/cursor.json"
    time_path = "/api/v2/incremental/users.json"
    fields_container = "user_fields"

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Type the custom `user_fields` values."""
        return self.typed_custom_fields(row)


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
