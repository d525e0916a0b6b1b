"""A compiled check of the spec schema for big specs: whether a document is valid, fast
(`stackplan.schema_check`); a spec it refuses is validated again by jsonschema, which says
what is wrong and where."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from stackplan.schema_check import compiled_check
from stackplan.spec.schema import SchemaKind, spec_schema


@cache
def fast_check(kinds: tuple[SchemaKind, ...]) -> Callable[[Any], bool]:
    """A function telling whether a document is valid against the spec schema of `kinds`."""
    return compiled_check(spec_schema(kinds))
