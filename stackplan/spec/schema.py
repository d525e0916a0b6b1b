"""The spec's JSON Schema, put together from the top level and every kind's fragment.

The kinds are passed in (`spec` names none): each adds its section and the `$defs` of its
entry; what every kind takes (count, depends_on, lifecycle) is added here once, and the
address pattern lists the kinds given. `schemas/stackplan.schema.json` is this value
for the registered kinds, written out for the tools that read it (`make schemas`); a test
keeps the file and the code the same.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

_TOP = ("stack", "backend", "variables")


class SchemaKind(Protocol):
    """What the schema needs of a kind (stackplan.kinds.base.Kind provides it)."""

    name: str
    section: str
    schema: Mapping[str, Any]
    schema_defs: Mapping[str, Any]
    ignorable: Mapping[str, str]


def _named_section(ref: str) -> dict[str, Any]:
    return {
        "type": ["object", "null"],
        "propertyNames": {"$ref": "#/$defs/name"},
        "additionalProperties": {"$ref": ref},
    }


_BASE_PROPERTIES: dict[str, Any] = {
    "stack": {
        "description": "The stack's name (default: the spec file's stem); names the state file.",
        "type": "string",
        "pattern": "^[A-Za-z0-9_.-]+$",
        "x-messages": {"pattern": "a stack name may only hold letters, digits, '_', '-' and '.'"},
    },
    "backend": {
        "description": "Where the stack's state is kept (default: a local file beside the "
        "spec). STACKPLAN_BACKEND overrides it; --state PATH overrides both.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "postgresql": {
                "type": "object",
                "required": ["url"],
                "additionalProperties": False,
                "properties": {
                    "url": {
                        "type": "string",
                        "pattern": "^postgres(ql)?://([^@/:]*@)?[^@]*$",
                        "x-messages": {
                            "pattern": "must be postgresql://USER@HOST:PORT/DATABASE with no "
                            "password (libpq reads PGPASSWORD or ~/.pgpass)"
                        },
                    },
                    "schema": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                },
            },
            "local": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"path": {"type": "string", "minLength": 1}},
            },
        },
        "minProperties": 1,
        "maxProperties": 1,
        "x-messages": {
            "minProperties": "name one backend: postgresql or local",
            "maxProperties": "name one backend: postgresql or local",
        },
    },
    "variables": {
        "description": "NAME -> default value. null declares a variable with no default (it "
        "must be given). A mapping is always the long form {default, description, type}: "
        "write a map-valued default as {default: {...}}.",
        "type": ["object", "null"],
        "propertyNames": {"$ref": "#/$defs/name"},
        "additionalProperties": {"$ref": "#/$defs/variable"},
    },
}

_BASE_DEFS: dict[str, Any] = {
    "name": {
        "type": "string",
        "pattern": "^[A-Za-z0-9_-]+$",
        "x-messages": {"pattern": "a name may only hold letters, digits, '_' and '-'"},
    },
    "variable": {
        "if": {"type": "object"},
        "then": {
            "additionalProperties": False,
            "properties": {
                "default": True,
                "description": {"type": "string"},
                "type": {"enum": ["string", "number", "integer", "boolean", "list", "map"]},
                "sensitive": {
                    "description": "Hide the value: (sensitive) in plans and logs, a digest "
                    "in the state where the value is compared, not kept.",
                    "type": "boolean",
                },
            },
        },
    },
    "cloudName": {"type": "string", "minLength": 1, "maxLength": 255},
    "count": {
        "type": ["integer", "string"],
        "minimum": 0,
        "pattern": "^\\$\\{var\\.[A-Za-z0-9_-]+\\}$",
        "x-messages": {
            "type": "must be a whole number >= 0 or ${var.NAME}",
            "pattern": "must be a whole number >= 0 or exactly ${var.NAME}",
        },
    },
    "ref": {
        "description": "A resource of the spec by its key (NAME, or NAME[INDEX] with count), "
        "else the cloud's by name; {id: ...} or {name: ...} names the cloud's explicitly.",
        "type": ["string", "object"],
        "minLength": 1,
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "name": {"type": "string", "minLength": 1},
        },
        "minProperties": 1,
        "maxProperties": 1,
        "x-messages": {
            "type": "must be a name, {id: ...} or {name: ...}",
            "maxProperties": "give exactly one of id or name",
        },
    },
    "metadata": {
        "description": "At most 128 items, keys 1-255 characters, values at most 255.",
        "type": "object",
        "maxProperties": 128,
        "propertyNames": {
            "minLength": 1,
            "maxLength": 255,
            "x-messages": {
                "minLength": "a metadata key must not be empty",
                "maxLength": "a metadata key is at most 255 characters long",
            },
        },
        "additionalProperties": {
            "type": ["string", "number", "boolean"],
            "maxLength": 255,
            "x-messages": {"type": "must be a string, a number or a boolean"},
        },
    },
    "output": {
        "type": ["string", "object"],
        "additionalProperties": False,
        "required": ["value"],
        "properties": {"value": {"type": "string"}, "description": {"type": "string"}},
        "x-messages": {"type": "must be an expression string or {value: ..., description: ...}"},
    },
}


def spec_schema(kinds: Iterable[SchemaKind]) -> dict[str, Any]:
    """The whole spec schema for `kinds`, in the order given (their sections in that order)."""
    kinds = list(kinds)
    sections = ", ".join([*_TOP, *(k.section for k in kinds), "outputs"])
    properties = copy.deepcopy(_BASE_PROPERTIES)
    defs = copy.deepcopy(_BASE_DEFS)
    for kind in kinds:
        properties[kind.section] = _named_section(f"#/$defs/{kind.name}")
        defs[kind.name] = _entry(kind)
        for name, fragment in kind.schema_defs.items():
            defs[name] = copy.deepcopy(dict(fragment))
    properties["outputs"] = _named_section("#/$defs/output")
    names = "|".join(sorted(k.name for k in kinds))
    forms = ", ".join(f"{k.name}.NAME" for k in kinds)
    defs["address"] = {
        "type": "string",
        "pattern": rf"^({names})\.[A-Za-z0-9_-]+(\[[0-9]+\])?$",
        "x-messages": {"pattern": f"is not a resource address ({forms}, with [INDEX] for count)"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://stackplan.dev/schemas/stackplan.schema.json",
        "title": "stackplan spec",
        "description": "A stackplan spec: the resources of one stack, a section per kind. "
        "Keys named x-messages hold the text stackplan prints when the rule beside them fails.",
        "type": "object",
        "x-messages": {"type": f"the spec must be a mapping of {sections}"},
        "additionalProperties": False,
        "properties": properties,
        "$defs": defs,
    }


def _entry(kind: SchemaKind) -> dict[str, Any]:
    """One entry of the kind's section: its fragment plus what every kind takes."""
    entry = copy.deepcopy(dict(kind.schema))
    props = entry.setdefault("properties", {})
    props["count"] = {"$ref": "#/$defs/count"}
    props["depends_on"] = {"type": "array", "items": {"$ref": "#/$defs/address"}}
    ignorable = {"type": "array", "items": {"enum": list(kind.ignorable)}}
    props["lifecycle"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "prevent_destroy": {"type": "boolean"},
            "create_before_destroy": {"type": "boolean"},
            "ignore_changes": ignorable if kind.ignorable else {"type": "array", "maxItems": 0},
        },
    }
    entry["additionalProperties"] = False
    return entry


def render(schema: Mapping[str, Any]) -> str:
    """The schema as the published file holds it."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
