"""STREAM_TYPES: every stream, in sync order.

Users and organizations come first and comments before tickets, so that target-zendesk can map
owners and stage each ticket's comments before the ticket itself arrives.
"""

from __future__ import annotations

from tap_zendesk.streams.account import BrandsStream, CustomRolesStream, SchedulesStream
from tap_zendesk.streams.business_rules import (
    AutomationsStream,
    MacrosStream,
    SlaPoliciesStream,
    TriggersStream,
    ViewsStream,
)
from tap_zendesk.streams.help_center import (
    ArticlesStream,
    CategoriesStream,
    PostsStream,
    SectionsStream,
    TopicsStream,
)
from tap_zendesk.streams.organizations import (
    OrganizationFieldsStream,
    OrganizationMembershipsStream,
    OrganizationsStream,
)
from tap_zendesk.streams.tickets import (
    CustomStatusesStream,
    SatisfactionRatingsStream,
    TagsStream,
    TicketAuditsStream,
    TicketCommentsStream,
    TicketEventsStream,
    TicketFieldsStream,
    TicketFormsStream,
    TicketMetricEventsStream,
    SideConversationsStream,
    TicketMetricsStream,
    TicketsStream,
)
from tap_zendesk.streams.users import (
    GroupMembershipsStream,
    GroupsStream,
    UserFieldsStream,
    UsersStream,
)

STREAM_TYPES = (
    BrandsStream,
    GroupsStream,
    CustomStatusesStream,
    TicketFieldsStream,
    TicketFormsStream,
    UserFieldsStream,
    OrganizationFieldsStream,
    OrganizationsStream,
    UsersStream,
    GroupMembershipsStream,
    OrganizationMembershipsStream,
    TicketCommentsStream,
    TicketsStream,
    SideConversationsStream,
    TicketEventsStream,
    TicketAuditsStream,
    TicketMetricsStream,
    TicketMetricEventsStream,
    SatisfactionRatingsStream,
    TagsStream,
    MacrosStream,
    TriggersStream,
    AutomationsStream,
    ViewsStream,
    SlaPoliciesStream,
    CustomRolesStream,
    SchedulesStream,
    CategoriesStream,
    SectionsStream,
    ArticlesStream,
    TopicsStream,
    PostsStream,
)
