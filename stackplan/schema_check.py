"""A compiled yes-or-no check of a JSON Schema, for big documents (a 10,000-server spec, the
state of its 10,000 servers).

jsonschema walks such a document in seconds; fastjsonschema compiles the schema to Python
once and checks it in a fraction of that. It speaks draft 7, so the schema is translated
(`dependentRequired` → `dependencies`; a `$ref` with siblings, which draft 7 would ignore,
into an `allOf`). It only answers yes or no: a document it refuses is validated again by
jsonschema, which says what is wrong and where. A leaf module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import fastjsonschema

DRAFT_7 = "http://json-schema.org/draft-07/schema#"
_NOT_VALIDATING = {"$ref", "description", "title", "$comment", "examples", "default"}


def draft7(schema: Any) -> Any:
    """`schema` (2020-12) in draft 7 words, meaning the same."""
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


def compiled_check(schema: Mapping[str, Any]) -> Callable[[Any], bool]:
    """A function telling whether a document is valid against `schema` (compiling costs
    ~0.1 s: worth it for big documents only)."""
    translated = draft7(schema)
    translated["$schema"] = DRAFT_7
    compiled = fastjsonschema.compile(translated)

    def check(data: Any) -> bool:
        try:
            compiled(data)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check
