"""Discovery and `--about` through the installed `tap-zendesk` console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tap_zendesk.streams import STREAM_TYPES
from tests.shared.schemas import BUSINESS_RULE_STREAMS, STREAMS
from tests.tap.tapkit import start_emulator, tap_config

TAP = Path(sys.executable).parent / "tap-zendesk"

#: Every stream issue 4 asks for, by Zendesk's collection key.
ISSUE_STREAMS = set(STREAMS) - BUSINESS_RULE_STREAMS
#: stream -> replication key of the incremental streams; every other stream is FULL_TABLE.
INCREMENTAL = {
    "tickets": "updated_at",
    "users": "updated_at",
    "organizations": "updated_at",
    "articles": "updated_at",
    "ticket_comments": "created_at",
    "ticket_events": "created_at",
    "ticket_metric_events": "time",
}
OFF_BY_DEFAULT = {"side_conversations", "ticket_events"}
CAPABILITIES = {
    "state",
    "catalog",
    "discover",
    "about",
    "stream-maps",
    "schema-flattening",
    "batch",
}


def cli(*args: str) -> subprocess.CompletedProcess:
    """Run the console script; fail with its stderr if it fails."""
    done = subprocess.run([str(TAP), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def catalog(emulator_factory, tmp_path_factory) -> dict:
    """`tap-zendesk --config ... --discover` against a small emulator."""
    emu = start_emulator(emulator_factory, tickets=10, seed=1)
    config = tmp_path_factory.mktemp("discover") / "config.json"
    config.write_text(json.dumps(tap_config(emu)))
    return json.loads(cli("--config", str(config), "--discover").stdout)


def entries(catalog: dict) -> dict[str, dict]:
    """Catalog entries by stream id."""
    return {entry["tap_stream_id"]: entry for entry in catalog["streams"]}


def root_metadata(entry: dict) -> dict:
    """The stream-level metadata of a catalog entry."""
    return next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])


def test_discover_lists_every_stream(catalog):
    """--discover lists STREAM_TYPES, which covers every stream of the issue."""
    names = list(entries(catalog))
    assert len(names) == len(set(names))
    assert set(names) == {cls.name for cls in STREAM_TYPES}
    assert not ISSUE_STREAMS - set(names), f"missing: {sorted(ISSUE_STREAMS - set(names))}"


def test_every_discovered_schema_is_resolved(catalog):
    """No `$ref` survives discovery: targets need self-contained schemas."""
    for name, entry in entries(catalog).items():
        text = json.dumps(entry["schema"])
        assert "$ref" not in text, name
        assert entry["schema"]["properties"], name


def test_replication_methods_and_keys_are_as_documented(catalog):
    """Exports are INCREMENTAL on their own time field; lists are FULL_TABLE."""
    for name, entry in entries(catalog).items():
        meta = root_metadata(entry)
        if name in INCREMENTAL:
            key = INCREMENTAL[name]
            assert entry["replication_method"] == "INCREMENTAL", name
            assert entry["replication_key"] == key, name
            assert meta.get("valid-replication-keys") == [key], name
            assert key in entry["schema"]["properties"], name
        else:
            assert entry["replication_method"] == "FULL_TABLE", name
            assert not entry.get("replication_key"), name


def test_primary_keys_and_default_selection(catalog):
    """`id` is the key (tags: `name`); side conversations and ticket events are opt-in."""
    for name, entry in entries(catalog).items():
        expected = ["name"] if name == "tags" else ["id"]
        assert list(entry["key_properties"]) == expected, name
        assert root_metadata(entry).get("selected-by-default") is (name not in OFF_BY_DEFAULT), name


def test_tickets_schema_types_custom_fields_from_the_account(catalog):
    """Discovery gives each custom ticket field a typed `custom_field_<id>` property."""
    tickets = entries(catalog)["tickets"]["schema"]["properties"]
    typed = [key for key in tickets if key.startswith("custom_field_")]
    assert typed, "no typed custom fields in the tickets schema"
    assert "custom_fields" in tickets


def test_about_lists_the_required_capabilities():
    """--about (JSON) declares state, catalog, discover, about, stream maps, flattening, batch."""
    about = json.loads(cli("--about", "--format=json").stdout)
    missing = CAPABILITIES - set(about["capabilities"])
    assert not missing, f"capabilities missing: {sorted(missing)}"
    settings = set(about["settings"]["properties"])
    assert {
        "subdomain",
        "email",
        "api_token",
        "oauth_token",
        "start_date",
        "api_url",
        "request_timeout",
        "page_size",
        "max_retries",
    } <= settings


def test_about_markdown_renders():
    """--about --format=markdown prints a readable page with capabilities and settings."""
    text = cli("--about", "--format=markdown").stdout
    assert text.startswith("# `tap-zendesk`")
    assert "## Capabilities" in text and "## Settings" in text
    assert "`api_token`" in text or "api_token" in text
