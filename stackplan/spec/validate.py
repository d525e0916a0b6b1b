"""A loaded spec checked against its JSON Schema (`spec.schema`), as positioned Problems.

The schema is the source of truth for the spec's shape; this module only turns
jsonschema's errors into messages a user can act on (at a line, with a did-you-mean).
Rules the schema cannot express (variables, references, files) live in `expand`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from stackplan.errors import Problem
from stackplan.spec.fast_schema import fast_check
from stackplan.spec.load import LoadedYaml, Path_
from stackplan.spec.schema import SchemaKind, spec_schema
from stackplan.suggest import did_you_mean

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


# Entries from which a spec is checked by the compiled schema first (compiling costs
# ~0.1 s, which a small spec does not win back).
BIG_SPEC = 300


def schema_problems(doc: LoadedYaml, kinds: Iterable[SchemaKind]) -> list[Problem]:
    """Every way the document breaks the spec schema of `kinds`, each at its position."""
    kinds = tuple(kinds)
    if _entries(doc.data) >= BIG_SPEC and fast_check(kinds)(doc.data):
        return []
    problems: list[Problem] = []
    for error in _validator(kinds).iter_errors(doc.data):
        problems.extend(_problems(doc, error))
    return sorted(set(problems), key=lambda p: (p.line, p.column, p.path, p.message))


def _entries(data: object) -> int:
    if not isinstance(data, dict):
        return 0
    return sum(len(v) for v in data.values() if isinstance(v, dict))


@cache
def _validator(kinds: tuple[SchemaKind, ...]) -> Draft202012Validator:
    # Not checked against the metaschema here: that costs ~0.1 s a run, and the tests
    # check the schema of the registered kinds (test_spec_schema).
    return Draft202012Validator(spec_schema(kinds))


def _problems(doc: LoadedYaml, error: ValidationError) -> list[Problem]:
    path: Path_ = tuple(error.absolute_path)
    keyword = str(error.validator)
    if keyword == "additionalProperties":
        return _unknown_keys(doc, error, path)
    custom = _custom_messages(error)
    if keyword in ("oneOf", "anyOf") and keyword not in custom and error.context:
        return _problems(doc, best_match(error.context))
    if error.schema_path and "propertyNames" in error.schema_path:
        # jsonschema reports a bad key at its mapping; the key's own line is more useful.
        path = (*path, str(error.instance))
        return [doc.problem(path, _message(error), prefer_key=True)]
    # A rule about a mapping's contents points at the line naming it; a wrong type or
    # value points at the value itself.
    about_contents = isinstance(error.instance, dict | list) and keyword != "type"
    return [doc.problem(path, _message(error), prefer_key=about_contents)]


def _unknown_keys(doc: LoadedYaml, error: ValidationError, path: Path_) -> list[Problem]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    known: Sequence[str] = list(schema.get("properties", {}))
    problems = []
    for key in error.instance:
        if key in known:
            continue
        hint = did_you_mean(key, known)
        allowed = ", ".join(known)
        message = f"unknown key{hint}" if hint else f"unknown key; allowed keys: {allowed}"
        problems.append(doc.problem((*path, key), message.strip(), prefer_key=True))
    return problems


def _custom_messages(error: ValidationError) -> dict[str, str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    return schema.get("x-messages", {})


def _message(error: ValidationError) -> str:
    """The schema's own `x-messages` text for the failed rule, else a generic one."""
    keyword = str(error.validator)
    custom = _custom_messages(error).get(keyword)
    if custom:
        return custom
    value = error.validator_value
    match keyword:
        case "type":
            types = [value] if isinstance(value, str) else list(value)
            return "must be " + " or ".join(_TYPE_NAMES.get(t, t) for t in types)
        case "required":
            missing = [k for k in value if k not in error.instance]
            return "missing required key " + ", ".join(f"'{k}'" for k in missing)
        case "enum":
            choices = ", ".join(str(v) for v in value)
            return f"must be one of: {choices}{did_you_mean(str(error.instance), map(str, value))}"
        case "minimum":
            return f"must be at least {value}"
        case "minLength":
            return "must not be empty" if value == 1 else f"must be at least {value} characters"
        case "maxLength":
            return f"is {len(error.instance)} characters long; at most {value} are allowed"
        case "maxProperties":
            return f"has {len(error.instance)} items; at most {value} are allowed"
        case "dependentRequired":
            return f"needs {', '.join(_dependents(error))}"
    return error.message


def _dependents(error: ValidationError) -> list[str]:
    return [
        f"'{need}' with '{key}'"
        for key, needs in error.validator_value.items()
        if key in error.instance
        for need in needs
        if need not in error.instance
    ]
