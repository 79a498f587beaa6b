"""Organizations, their field definitions and memberships."""

from __future__ import annotations

from tap_zendesk.client import CursorListStream, TimeExportStream


class OrganizationsStream(TimeExportStream):
    """Organizations from the time-based export (there is no cursor variant)."""

    name = "organizations"
    path = "/api/v2/incremental/organizations.json"


class OrganizationFieldsStream(CursorListStream):
    """Organization field definitions."""

    name = "organization_fields"
    path = "/api/v2/organization_fields.json"


class OrganizationMembershipsStream(CursorListStream):
    """Which user belongs to which organization."""

    name = "organization_memberships"
    path = "/api/v2/organization_memberships.json"
