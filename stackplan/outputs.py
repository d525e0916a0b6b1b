"""Outputs: the spec's `outputs:` expressions evaluated against what the state records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackplan.plan.refs import KNOWN_AFTER_APPLY, UNKNOWN, interpolate, state_lookup
from stackplan.spec.interpolate import parse_reference
from stackplan.state.model import State


def evaluate_outputs(expressions: Mapping[str, str], state: State) -> dict[str, Any]:
    """Each output's value; a whole-expression reference keeps its type (a list for [*])."""
    lookup = state_lookup(state)
    values: dict[str, Any] = {}
    for name, expression in sorted(expressions.items()):
        text = str(expression).strip()
        is_whole = text.startswith("${") and text.endswith("}") and text.count("${") == 1
        whole = parse_reference(text[2:-1]) if is_whole else None
        if whole is not None:
            value = lookup(whole)
            values[name] = KNOWN_AFTER_APPLY if value is UNKNOWN else value
            continue
        filled, unknown = interpolate({name: expression}, lookup)
        values[name] = KNOWN_AFTER_APPLY if unknown else filled[name]
    return values
