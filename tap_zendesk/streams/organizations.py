"""Organizations, their field definitions and memberships."""

from __future__ import annotations

import typing as t

from tap_zendesk.client import CursorListStream, TimeExportStream
from tap_zendesk.custom_fields import TypedObjectFields

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class OrganizationsStream(TypedObjectFields, TimeExportStream):
    """Organizations from the time-based export (there is no cursor variant)."""

    name = "organizations"
    path = "/api/v2/incremental/organizations.json"
    fields_container = "organization_fields"

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Type the custom `organization_fields` values."""
        return self.typed_custom_fields(row)


class OrganizationFieldsStream(CursorListStream):
    """Organization field definitions."""

    name = "organization_fields"
    path = "/api/v2/organization_fields.json"


class OrganizationMembershipsStream(CursorListStream):
    """Which user belongs to which organization."""

    name = "organization_memberships"
    path = "/api/v2/organization_memberships.json"
