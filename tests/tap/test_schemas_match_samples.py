"""The tap's JSON schemas declare every field real Zendesk objects carry, in types that fit them.

Samples are real API objects (and a few connector outputs) recorded from real Zendesk accounts; see
zendesk_samples/MANIFEST.md. Set ZENDESK_SAMPLES_DIR to point at another copy.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from singer_sdk.singerlib import resolve_schema_references

from tests.shared.schemas import SAMPLES_ROOT, STREAMS, needs_samples

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "tap_zendesk" / "schemas"
SHARED_DIR = SCHEMAS_DIR / "shared"

# Sample type directory -> stream. Comment child events of incremental ticket_events (flattened by
# connectors) are what our ticket_comments stream emits.
SAMPLE_TYPE_TO_STREAM = {stream: stream for stream in STREAMS}
SAMPLE_TYPE_TO_STREAM["ticket_event_comment_children"] = "ticket_comments"

# Keys a connector copied onto a sample that our stream does not emit (ticket_id we do add).
CONNECTOR_COPIED_KEYS = {"ticket_event_comment_children": {"timestamp"}}

# Test-harness placeholder some connector outputs put where a value was (timestamps, ids, names).
REDACTED = "redacted"

# The type list used for genuinely polymorphic values (custom field values, Change values ...).
ANY_TYPES = {"null", "boolean", "integer", "number", "string", "array", "object"}

# Streams whose primary key is not an integer `id`.
NON_INTEGER_ID_STREAMS = {"side_conversations": ["string"], "tags": None}

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(RFC3339.match(value))


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _shared_refs() -> dict[str, dict]:
    return {f"shared/{p.name}": _load_json(p) for p in sorted(SHARED_DIR.glob("*.json"))}


def resolved_schema(stream: str) -> dict:
    """Load schemas/<stream>.json with its shared/*.json $refs resolved, as the tap does."""
    schema = _load_json(SCHEMAS_DIR / f"{stream}.json")
    return resolve_schema_references(schema, copy.deepcopy(_shared_refs()))


def _iter_refs(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield path, value
            else:
                yield from _iter_refs(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _iter_refs(value, f"{path}/{index}")


def _iter_subschemas(schema: dict, path: str = "") -> Iterator[tuple[str, dict]]:
    """Yield every property and items schema below `schema`, with a dotted path."""
    yield path or "<root>", schema
    for name, sub in schema.get("properties", {}).items():
        yield from _iter_subschemas(sub, f"{path}.{name}" if path else name)
    if isinstance(schema.get("items"), dict):
        yield from _iter_subschemas(schema["items"], f"{path}[]")


def _iter_samples() -> Iterator[tuple[str, str, Path]]:
    assert SAMPLES_ROOT is not None
    for sample_type, stream in sorted(SAMPLE_TYPE_TO_STREAM.items()):
        for path in sorted((SAMPLES_ROOT / sample_type).glob("*.json")):
            yield sample_type, stream, path


def _prepare_sample(sample_type: str, obj: dict) -> dict:
    """Drop connector-added keys: `_`-prefixed ones and keys copied from a parent record."""
    dropped = CONNECTOR_COPIED_KEYS.get(sample_type, set())
    return {k: v for k, v in obj.items() if not k.startswith("_") and k not in dropped}


def _undeclared_fields(value: Any, schema: dict, path: str) -> Iterator[str]:
    """Yield paths of keys the schema does not declare, wherever the schema declares properties.

    An object schema with empty properties is deliberately loose (child events, via.source.from,
    user_fields ...), so its keys are not checked.
    """
    if isinstance(value, dict) and schema.get("properties"):
        for key, sub_value in value.items():
            sub_path = f"{path}.{key}" if path else key
            if key.startswith("_"):
                continue
            if key not in schema["properties"]:
                yield sub_path
                continue
            yield from _undeclared_fields(sub_value, schema["properties"][key], sub_path)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            yield from _undeclared_fields(item, schema["items"], f"{path}[]")


def _sample_label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_every_stream_has_a_schema_file_named_after_it():
    """Each stream has schemas/<stream>.json and every top-level schema file is a known stream."""
    files = {p.stem for p in SCHEMAS_DIR.glob("*.json")}
    missing = sorted(set(STREAMS) - files)
    unknown = sorted(files - set(STREAMS))
    assert not missing, f"streams without a schema file: {missing}"
    assert not unknown, f"schema files that are not streams: {unknown}"


def test_every_schema_file_parses_as_a_json_object():
    """Every stream and shared schema file is valid JSON holding a schema object."""
    bad = []
    for path in sorted([*SCHEMAS_DIR.glob("*.json"), *SHARED_DIR.glob("*.json")]):
        try:
            schema = _load_json(path)
        except ValueError as exc:
            bad.append(f"{path.relative_to(SCHEMAS_DIR)}: {exc}")
            continue
        if not isinstance(schema, dict) or "type" not in schema:
            bad.append(f"{path.relative_to(SCHEMAS_DIR)}: not a schema object with a type")
    assert not bad, "unparsable schema files:\n" + "\n".join(bad)


def test_stream_schemas_are_open_objects_with_properties():
    """A stream schema is an object with properties that lets unknown Zendesk fields through."""
    bad = []
    for stream in STREAMS:
        schema = _load_json(SCHEMAS_DIR / f"{stream}.json")
        if schema.get("type") != "object":
            bad.append(f"{stream}: type must be 'object', got {schema.get('type')!r}")
        if not schema.get("properties"):
            bad.append(f"{stream}: no properties")
        if schema.get("additionalProperties") is not True:
            bad.append(f"{stream}: additionalProperties must be true")
    assert not bad, "\n".join(bad)


def test_every_ref_points_at_an_existing_shared_schema():
    """Every $ref is a `shared/<name>.json` ref to an existing file, gone after resolution."""
    shared = _shared_refs()
    bad = []
    for path in sorted([*SCHEMAS_DIR.glob("*.json"), *SHARED_DIR.glob("*.json")]):
        for where, ref in _iter_refs(_load_json(path)):
            if ref not in shared:
                bad.append(f"{path.relative_to(SCHEMAS_DIR)}{where}: unresolvable $ref {ref!r}")
    for stream in STREAMS:
        for where, ref in _iter_refs(resolved_schema(stream)):
            bad.append(f"{stream}{where}: $ref {ref!r} left after resolution")
    assert not bad, "\n".join(bad)


def test_resolved_schemas_are_valid_draft7():
    """Each resolved stream schema is itself a valid JSON Schema (draft 7)."""
    bad = []
    for stream in STREAMS:
        try:
            Draft7Validator.check_schema(resolved_schema(stream))
        except Exception as exc:  # jsonschema.SchemaError
            bad.append(f"{stream}: {exc}")
    assert not bad, "\n".join(bad)


def test_every_property_has_a_type_and_every_object_stays_open():
    """Schemas avoid shapes singer-sdk 0.54 mishandles when it conforms records.

    A typeless `{}` raises EmptySchemaTypeError; an object schema without a "properties" key
    raises KeyError when it is an array's items; an object without additionalProperties: true
    has its undeclared keys dropped. Polymorphic values use the all-types list instead of `{}`.
    """
    bad = []
    for stream in STREAMS:
        for path, sub in _iter_subschemas(resolved_schema(stream)):
            if "type" not in sub and "anyOf" not in sub:
                bad.append(f"{stream}.{path}: no type")
                continue
            types = sub.get("type", [])
            types = {types} if isinstance(types, str) else set(types)
            if types == ANY_TYPES:
                if path.endswith("[]"):
                    bad.append(f"{stream}.{path}: array items of any type (use an object schema)")
                continue
            if "object" in types:
                if "properties" not in sub:
                    bad.append(f"{stream}.{path}: object without a properties key")
                if sub.get("additionalProperties") is not True:
                    bad.append(f"{stream}.{path}: object without additionalProperties: true")
            if "array" in types and "items" not in sub:
                bad.append(f"{stream}.{path}: array without items")
    assert not bad, "\n".join(bad)


def test_ids_are_integers_except_uuid_side_conversations():
    """`id` is a non-null 64-bit integer; side conversations use UUID strings; tags have no id."""
    bad = []
    for stream in STREAMS:
        id_schema = _load_json(SCHEMAS_DIR / f"{stream}.json")["properties"].get("id")
        expected = NON_INTEGER_ID_STREAMS.get(stream, ["integer"])
        actual = None if id_schema is None else id_schema.get("type")
        if actual != expected:
            bad.append(f"{stream}: id type {actual!r}, expected {expected!r}")
    assert not bad, "\n".join(bad)


@needs_samples
def test_every_sample_field_is_declared_in_the_stream_schema():
    """Every field of every real sample is declared (recursing where properties are declared)."""
    schemas = {stream: resolved_schema(stream) for stream in STREAMS}
    missing = []
    checked = 0
    for sample_type, stream, path in _iter_samples():
        obj = _prepare_sample(sample_type, _load_json(path))
        checked += 1
        for field in _undeclared_fields(obj, schemas[stream], ""):
            missing.append(f"{stream}: {field}  ({_sample_label(path)})")
    assert checked, "no samples found"
    assert not missing, f"{len(missing)} undeclared sample fields:\n" + "\n".join(missing)


@needs_samples
def test_every_sample_object_validates_against_the_stream_schema():
    """Every real sample validates (date-time formats checked; "redacted" placeholders skipped)."""
    validators = {
        stream: Draft7Validator(resolved_schema(stream), format_checker=FORMAT_CHECKER)
        for stream in STREAMS
    }
    failures = []
    checked = 0
    for sample_type, stream, path in _iter_samples():
        obj = _prepare_sample(sample_type, _load_json(path))
        checked += 1
        for error in validators[stream].iter_errors(obj):
            if error.instance == REDACTED:
                continue
            where = ".".join(str(p) for p in error.absolute_path) or "<root>"
            failures.append(f"{stream}: {where}: {error.message[:200]}  ({_sample_label(path)})")
    assert checked, "no samples found"
    assert not failures, f"{len(failures)} validation errors:\n" + "\n".join(failures)


@needs_samples
def test_shared_attachment_schema_matches_attachment_samples():
    """shared/attachment.json (comment attachments, photos, logos) fits real attachment objects."""
    schema = _shared_refs()["shared/attachment.json"]
    validator = Draft7Validator(schema, format_checker=FORMAT_CHECKER)
    problems = []
    for path in sorted((SAMPLES_ROOT / "attachments").glob("*.json")):
        obj = _load_json(path)
        problems += [f"undeclared {f} ({path.name})" for f in _undeclared_fields(obj, schema, "")]
        problems += [f"{e.message} ({path.name})" for e in validator.iter_errors(obj)]
    assert not problems, "\n".join(problems)
