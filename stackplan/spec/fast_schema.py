"""A compiled check of the spec schema for big specs: whether a document is valid, fast.

jsonschema walks a 10,000-server spec in seconds; fastjsonschema compiles the schema to
Python once and checks the same spec in a fraction of that. It speaks draft 7, so the
schema is translated (`dependentRequired` → `dependencies`; a `$ref` with siblings, which
draft 7 would ignore, into an `allOf`). It only answers yes or no: a spec it refuses is
validated again by jsonschema, which says what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import fastjsonschema

from stackplan.spec.schema import SchemaKind, spec_schema

DRAFT_7 = "http://json-schema.org/draft-07/schema#"
_NOT_VALIDATING = {"$ref", "description", "title", "$comment", "examples", "default"}


def draft7(schema: Any) -> Any:
    """`schema` (2020-12, as the spec's) in draft 7 words, meaning the same."""
    if isinstance(schema, list):
        return [draft7(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {k: draft7(v) for k, v in schema.items() if not k.startswith("x-")}
    if "dependentRequired" in out:
        out["dependencies"] = out.pop("dependentRequired")
    if "$ref" in out and set(out) - _NOT_VALIDATING:
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}, out]}
    return out


@cache
def fast_check(kinds: tuple[SchemaKind, ...]) -> Callable[[Any], bool]:
    """A function telling whether a document is valid against the spec schema of `kinds`."""
    schema = draft7(spec_schema(kinds))
    schema["$schema"] = DRAFT_7
    compiled = fastjsonschema.compile(schema)

    def check(data: Any) -> bool:
        try:
            compiled(data)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check
