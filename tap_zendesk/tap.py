"""TapZendesk: configuration and stream discovery."""

from __future__ import annotations

from singer_sdk import Tap
from singer_sdk import typing as th


class TapZendesk(Tap):
    """Singer tap for Zendesk Support."""

    name = "tap-zendesk"
    config_jsonschema = th.PropertiesList(
        th.Property("subdomain", th.StringType, description="Zendesk subdomain, e.g. `acme`."),
    ).to_dict()

    def discover_streams(self) -> list:
        """No streams yet (issue 4 fills them)."""
        return []


if __name__ == "__main__":
    TapZendesk.cli()
