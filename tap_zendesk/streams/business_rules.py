"""Business rules: macros, triggers, automations, views, SLA policies."""

from __future__ import annotations

from tap_zendesk.client import CursorListStream, NextPageListStream


class MacrosStream(CursorListStream):
    """Macros."""

    name = "macros"
    path = "/api/v2/macros.json"


class TriggersStream(CursorListStream):
    """Triggers."""

    name = "triggers"
    path = "/api/v2/triggers.json"


class AutomationsStream(CursorListStream):
    """Automations."""

    name = "automations"
    path = "/api/v2/automations.json"


class ViewsStream(CursorListStream):
    """Views."""

    name = "views"
    path = "/api/v2/views.json"


class SlaPoliciesStream(NextPageListStream):
    """SLA policies (plan-gated); unpaged."""

    name = "sla_policies"
    path = "/api/v2/slas/policies.json"
