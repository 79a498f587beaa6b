"""Help Center (Guide) and community: categories, sections, articles, topics, posts."""

from __future__ import annotations

from tap_zendesk.client import CursorListStream, TimeExportStream


class CategoriesStream(CursorListStream):
    """Help Center categories."""

    name = "categories"
    path = "/api/v2/help_center/categories.json"


class SectionsStream(CursorListStream):
    """Help Center sections."""

    name = "sections"
    path = "/api/v2/help_center/sections.json"


class ArticlesStream(TimeExportStream):
    """Help Center articles, incrementally (every locale); plan-gated like all of Guide."""

    name = "articles"
    path = "/api/v2/help_center/incremental/articles.json"
    optional = True
    dedupe_fields = ("id", "updated_at", "locale")


class TopicsStream(CursorListStream):
    """Community topics."""

    name = "topics"
    path = "/api/v2/community/topics.json"


class PostsStream(CursorListStream):
    """Community posts."""

    name = "posts"
    path = "/api/v2/community/posts.json"
