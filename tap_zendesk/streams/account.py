"""Account configuration: brands, custom roles, schedules."""

from __future__ import annotations

from tap_zendesk.client import CursorListStream, NextPageListStream


class BrandsStream(CursorListStream):
    """Brands."""

    name = "brands"
    path = "/api/v2/brands.json"


class CustomRolesStream(NextPageListStream):
    """Custom agent roles (Enterprise); unpaged."""

    name = "custom_roles"
    path = "/api/v2/custom_roles.json"


class SchedulesStream(NextPageListStream):
    """Business-hours schedules (plan-gated); unpaged."""

    name = "schedules"
    path = "/api/v2/business_hours/schedules.json"
