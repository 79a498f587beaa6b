"""Typed custom fields: ticket, user and organization field definitions -> schema types.

Zendesk returns custom values loosely (integers and decimals as strings, dropdowns as tags; see
zendesk_api.md 5.9). At discovery the tap reads the field definitions and declares each custom
value with a real type, so a warehouse gets typed columns: tickets gain one property per custom
field, `custom_field_<id>` (the raw `custom_fields` list stays), and users' `user_fields` and
organizations' `organization_fields` objects gain one typed property per field key. At sync time
records are converted by the schema in effect (the catalog's, when one is given).
"""

from __future__ import annotations

import copy
import logging
import typing as t
from decimal import Decimal, InvalidOperation

#: JSON type of each custom field type (ticket fields say `tagger`, user/org fields `dropdown`).
FIELD_TYPES: dict[str, dict[str, t.Any]] = {
    "text": {"type": ["string", "null"]},
    "textarea": {"type": ["string", "null"]},
    "regexp": {"type": ["string", "null"]},
    "partialcreditcard": {"type": ["string", "null"]},
    "tagger": {"type": ["string", "null"]},
    "dropdown": {"type": ["string", "null"]},
    "date": {"type": ["string", "null"]},
    "checkbox": {"type": ["boolean", "null"]},
    "integer": {"type": ["integer", "null"]},
    "decimal": {"type": ["number", "null"]},
    "lookup": {"type": ["integer", "null"]},
    "multiselect": {"type": ["array", "null"], "items": {"type": ["string"]}},
}
TICKET_PREFIX = "custom_field_"
logger = logging.getLogger(__name__)


def _property(field: dict[str, t.Any]) -> dict[str, t.Any] | None:
    """The schema of one field's value, described with its title and type."""
    kind = FIELD_TYPES.get(str(field.get("type")))
    if kind is None:
        return None
    prop = copy.deepcopy(kind)
    prop["description"] = f"{field.get('title') or field.get('key')} ({field.get('type')})"
    return prop


def typed_ticket_schema(schema: dict, ticket_fields: t.Iterable[dict]) -> dict:
    """Tickets' schema plus `custom_field_<id>` for every custom ticket field."""
    schema = copy.deepcopy(schema)
    for field in ticket_fields:
        if field.get("id") is None or field.get("removable") is False:
            continue  # system fields (subject, status, ...) are ticket properties already
        prop = _property(field)
        if prop is not None:
            schema["properties"][f"{TICKET_PREFIX}{field['id']}"] = prop
    return schema


def typed_object_schema(schema: dict, container: str, fields: t.Iterable[dict]) -> dict:
    """Users'/organizations' schema with `user_fields`/`organization_fields` typed by key."""
    schema = copy.deepcopy(schema)
    holder = schema["properties"].setdefault(container, {"type": ["object", "null"]})
    props = holder.setdefault("properties", {})
    for field in fields:
        prop = _property(field)
        if field.get("key") and prop is not None:
            props[str(field["key"])] = prop
    holder.setdefault("additionalProperties", True)
    return schema


def _to_int(value: t.Any) -> t.Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    return int(Decimal(str(value).strip()))


def _to_number(value: t.Any) -> t.Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    number = Decimal(str(value).strip())
    return int(number) if number == number.to_integral_value() else float(number)


def _to_bool(value: t.Any) -> t.Any:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def _to_list(value: t.Any) -> t.Any:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _to_str(value: t.Any) -> t.Any:
    return value if isinstance(value, str) else str(value)


def converter(prop: dict[str, t.Any]) -> t.Callable[[t.Any], t.Any]:
    """The function that brings a raw Zendesk value to the property's declared type."""
    types = prop.get("type") or []
    types = [types] if isinstance(types, str) else types
    for name, func in (
        ("integer", _to_int),
        ("number", _to_number),
        ("boolean", _to_bool),
        ("array", _to_list),
        ("string", _to_str),
    ):
        if name in types:
            return func
    return lambda value: value


def convert(func: t.Callable[[t.Any], t.Any], value: t.Any) -> t.Any:
    """Convert, keeping null as null; a value that does not fit becomes null (raw value stays)."""
    if value is None or value == "":
        return None
    try:
        return func(value)
    except (ValueError, TypeError, InvalidOperation):
        logger.debug("Custom field value does not fit its declared type; typed copy left null.")
        return None


def ticket_converters(schema: dict) -> dict[int, tuple[str, t.Callable]]:
    """field id -> (property name, converter) for every typed custom ticket field."""
    out = {}
    for name, prop in (schema.get("properties") or {}).items():
        if name.startswith(TICKET_PREFIX) and name[len(TICKET_PREFIX) :].isdigit():
            out[int(name[len(TICKET_PREFIX) :])] = (name, converter(prop))
    return out


def object_converters(schema: dict, container: str) -> dict[str, t.Callable]:
    """field key -> converter for the typed keys of `user_fields`/`organization_fields`."""
    holder = (schema.get("properties") or {}).get(container) or {}
    return {key: converter(prop) for key, prop in (holder.get("properties") or {}).items()}


class TypedTicketFields:
    """Stream mixin: copy each custom ticket value into its typed `custom_field_<id>` property."""

    def typed_custom_fields(self, row: dict) -> dict:
        """Runs per record; the converter table is built once from the schema in effect."""
        table = self.__dict__.get("_ticket_converters")
        if table is None:
            table = self.__dict__["_ticket_converters"] = ticket_converters(
                self.effective_schema  # type: ignore[attr-defined]
            )
        if table:
            for item in row.get("custom_fields") or ():
                entry = table.get(item.get("id"))
                if entry is not None:
                    row[entry[0]] = convert(entry[1], item.get("value"))
        return row


class TypedObjectFields:
    """Stream mixin: type the values of `user_fields` / `organization_fields` in place."""

    fields_container: str

    def typed_custom_fields(self, row: dict) -> dict:
        """Runs per record; converts only keys the schema in effect declares."""
        table = self.__dict__.get("_object_converters")
        if table is None:
            table = self.__dict__["_object_converters"] = object_converters(
                self.effective_schema, self.fields_container  # type: ignore[attr-defined]
            )
        values = row.get(self.fields_container)
        if table and isinstance(values, dict):
            for key, func in table.items():
                if key in values:
                    values[key] = convert(func, values[key])
        return row
