"""The tap skips the SDK's per-record type conformance only where it could not change a record.

`ZendeskStream.TYPE_CONFORMANCE_LEVEL` is NONE while every object schema in effect allows
undeclared keys; the SDK's recursive conformance (about 70% of the tap's CPU per record) then
returns an equal copy of every decoded-JSON record, which the sample check below shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_zendesk.client import allows_undeclared_keys
from tap_zendesk.tap import TapZendesk

SAMPLES = Path("/work/shared/zendesk_samples/objects")
#: Credentials so the config checks pass; no field definitions are read, so no request is sent.
OFFLINE = {
    "subdomain": "demo",
    "email": "a@example.com",
    "api_token": "x",
    "type_custom_fields": False,
}


def offline_streams() -> dict:
    """Every stream, discovered without a request."""
    return TapZendesk(config=OFFLINE, parse_env_config=False).streams


@pytest.fixture(scope="module")
def streams() -> dict:
    """Every stream, discovered offline."""
    return offline_streams()


def test_every_stream_skips_conformance_with_its_own_schema(streams: dict) -> None:
    """All our schemas allow undeclared keys at every level, so no stream conforms records."""
    levels = {name: stream.TYPE_CONFORMANCE_LEVEL for name, stream in streams.items()}
    assert set(levels.values()) == {TypeConformanceLevel.NONE}, levels


def test_a_schema_that_forbids_undeclared_keys_gets_recursive_conformance() -> None:
    """A schema (e.g. from a user's catalog) without additionalProperties keeps SDK pruning."""
    stream = offline_streams()["groups"]
    assert stream.TYPE_CONFORMANCE_LEVEL is TypeConformanceLevel.NONE
    stream.schema = {
        "type": "object",
        "additionalProperties": True,
        "properties": {"id": {"type": "integer"}, "via": {"type": "object", "properties": {}}},
    }
    assert stream.TYPE_CONFORMANCE_LEVEL is TypeConformanceLevel.RECURSIVE


def test_allows_undeclared_keys_looks_inside_arrays_and_nested_objects() -> None:
    """Object schemas nested in properties and array items count, not only the root."""
    def schema(items: dict) -> dict:
        return {
            "additionalProperties": True,
            "properties": {"a": {"type": "array", "items": items}},
        }

    assert allows_undeclared_keys(schema({"properties": {}, "additionalProperties": True}))
    assert not allows_undeclared_keys(schema({"properties": {}}))


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="Zendesk samples not found")
@pytest.mark.parametrize("stream_name", ["tickets", "users", "organizations"])
def test_sdk_conformance_would_return_real_records_unchanged(
    streams: dict, stream_name: str
) -> None:
    """On real Zendesk objects the SDK's recursive conformance returns an equal record.

    Imports the SDK's private conformance function on purpose: it is what the tap skips.
    """
    import logging

    from singer_sdk.helpers._typing import conform_record_data_types

    schema = streams[stream_name].schema
    samples = sorted((SAMPLES / stream_name).glob("*.json"))
    assert samples
    for path in samples:
        data = json.loads(path.read_text(encoding="utf-8"))
        for record in data if isinstance(data, list) else [data]:
            conformed = conform_record_data_types(
                stream_name, record, schema, TypeConformanceLevel.RECURSIVE, logging.getLogger()
            )
            assert json.dumps(conformed) == json.dumps(record), path.name
