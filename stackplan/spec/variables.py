"""The value of each declared variable, from its default, the environment, var-files, --var.

Precedence, lowest to highest, as in Terraform: default, `STACKPLAN_VAR_<name>`,
`--var-file` (later files win), `--var NAME=VALUE`. Values from the command line and the
environment are parsed as YAML (`3` is the int 3) unless the variable's type is string.

Declarations (`variables:` in the spec), see the schema:
    NAME: VALUE                           default VALUE (a scalar or a list)
    NAME: null                            no default: a value must be given
    NAME: {default, description, type, sensitive}
                                          type: string|number|integer|boolean|list|map;
                                          sensitive: true hides the value (sensitive.py)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml

from stackplan.errors import Problem
from stackplan.spec.load import LoadedYaml
from stackplan.suggest import did_you_mean

ENV_PREFIX = "STACKPLAN_VAR_"
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "list": (list,),
    "map": (dict,),
}


@dataclass(frozen=True, slots=True)
class VariableInputs:
    """Values given outside the spec: `--var` texts, loaded var-files, the environment."""

    cli: tuple[str, ...] = ()  # "NAME=VALUE"
    files: tuple[LoadedYaml, ...] = ()
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Every value, as a saved plan recorded them: the other inputs are not read then.
    recorded: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Declaration:
    name: str
    default: Any  # None: no default
    type: str | None
    sensitive: bool = False  # shown as (sensitive) in plans and logs, digested in the state


@dataclass(frozen=True, slots=True)
class Variables:
    """Effective values; `missing` names declared variables that got no value (reported)."""

    values: Mapping[str, Any]
    missing: frozenset[str]
    problems: tuple[Problem, ...]
    sensitive: frozenset[str] = frozenset()  # the names declared `sensitive: true`


def declarations(doc: LoadedYaml) -> dict[str, Declaration]:
    """The spec's `variables:` section, in its long form."""
    found = {}
    for name, decl in (doc.data.get("variables") or {}).items():
        if isinstance(decl, dict):
            found[name] = Declaration(
                name, decl.get("default"), decl.get("type"), bool(decl.get("sensitive"))
            )
        else:
            found[name] = Declaration(name, decl, None)
    return found


def resolve_variables(doc: LoadedYaml, inputs: VariableInputs) -> Variables:
    """Every variable's effective value, with every problem in declarations and inputs."""
    decls = declarations(doc)
    problems: list[Problem] = []
    values: dict[str, Any] = {n: d.default for n, d in decls.items() if d.default is not None}
    if inputs.recorded is not None:
        values.update({k: v for k, v in inputs.recorded.items() if k in decls})
    else:
        for name, decl in decls.items():
            if (text := inputs.env.get(ENV_PREFIX + name)) is not None:
                values[name] = parse_value(text, decl.type)
        for var_file in inputs.files:
            values.update(_from_file(var_file, decls, problems))
        values.update(_from_cli(doc, inputs.cli, decls, problems))
    missing = set()
    for name, decl in decls.items():
        path = ("variables", name)
        if name not in values:
            missing.add(name)
            problems.append(doc.problem(path, _no_value(name), prefer_key=True))
        elif decl.type and not _has_type(values[name], decl.type):
            problems.append(doc.problem(path, f"value {values[name]!r} is not a {decl.type}"))
    sensitive = frozenset(n for n, d in decls.items() if d.sensitive)
    return Variables(MappingProxyType(values), frozenset(missing), tuple(problems), sensitive)


def parse_value(text: str, declared_type: str | None) -> Any:
    """A command-line or environment value: YAML (`3` is an int) unless typed string."""
    if declared_type == "string":
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None or not isinstance(value, str | int | float | bool | list | dict):
        return text  # null, dates...: keep what the user typed
    return value


def _from_file(
    var_file: LoadedYaml, decls: Mapping[str, Declaration], problems: list[Problem]
) -> dict[str, Any]:
    if not isinstance(var_file.data, dict):
        problems.append(var_file.problem((), "a var-file must be a mapping of NAME: VALUE"))
        return {}
    values = {}
    for name, value in var_file.data.items():
        if name not in decls:
            message = f"no variable '{name}' is declared in the spec{did_you_mean(name, decls)}"
            problems.append(var_file.problem((name,), message, prefer_key=True))
        else:
            values[name] = value
    return values


def _from_cli(
    doc: LoadedYaml,
    texts: tuple[str, ...],
    decls: Mapping[str, Declaration],
    problems: list[Problem],
) -> dict[str, Any]:
    # --var has no line of its own: point at the spec's `variables:` where it should be.
    values = {}
    for text in texts:
        name, sep, raw = text.partition("=")
        name = name.strip()
        if not sep or not name:
            message = f"--var {text!r} must look like NAME=VALUE"
            problems.append(doc.problem(("variables",), message, prefer_key=True))
        elif name not in decls:
            hint = did_you_mean(name, decls)
            message = f"--var {name}: no variable '{name}' is declared in the spec{hint}"
            problems.append(doc.problem(("variables",), message, prefer_key=True))
        else:
            values[name] = parse_value(raw, decls[name].type)
    return values


def _has_type(value: Any, type_name: str) -> bool:
    if isinstance(value, bool) and type_name != "boolean":
        return False
    return isinstance(value, _TYPES[type_name])


def _no_value(name: str) -> str:
    return (
        f"variable '{name}' has no value: give --var {name}=VALUE, a --var-file, "
        f"or {ENV_PREFIX}{name} in the environment"
    )
