"""TargetZendesk: configuration and stream -> sink routing."""

from __future__ import annotations

from singer_sdk import typing as th
from singer_sdk.target_base import Target


class TargetZendesk(Target):
    """Singer target for Zendesk Support."""

    name = "target-zendesk"
    config_jsonschema = th.PropertiesList(
        th.Property("subdomain", th.StringType, description="Zendesk subdomain, e.g. `acme`."),
    ).to_dict()


if __name__ == "__main__":
    TargetZendesk.cli()
