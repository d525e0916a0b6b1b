"""Where a spec comes from and how it becomes `Desired`: the file, variables, files it names.

Offline: reads the spec, its var-files and the files it names, and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from stackplan.errors import SpecError
from stackplan.spec import DEFAULT_SPEC
from stackplan.spec.expand import SpecKind, expand
from stackplan.spec.files import FileReader
from stackplan.spec.load import read_yaml_file
from stackplan.spec.model import Desired
from stackplan.spec.validate import schema_problems
from stackplan.spec.variables import VariableInputs, resolve_variables


@dataclass(frozen=True, slots=True)
class SpecInput:
    """Where the spec is and the variable values given outside it."""

    path: Path = DEFAULT_SPEC  # as the user gave it: messages name it so
    vars: tuple[str, ...] = ()  # "NAME=VALUE", from --var
    var_files: tuple[Path, ...] = ()  # --var-file, later ones win
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(os.environ)))
    recorded: Mapping[str, Any] | None = None  # every variable's value, from a saved plan


def load_desired(spec: SpecInput, kinds: Mapping[str, SpecKind]) -> Desired:
    """The spec loaded, checked against the schema of `kinds` and expanded; `SpecError`
    lists every problem."""
    doc, spec_bytes = read_yaml_file(spec.path)
    if problems := schema_problems(doc, kinds.values()):
        raise SpecError(problems)
    var_files = tuple(read_yaml_file(path, "var")[0] for path in spec.var_files)
    inputs = VariableInputs(spec.vars, var_files, spec.env, spec.recorded)
    variables = resolve_variables(doc, inputs)
    return expand(doc, spec_bytes, variables, FileReader(spec.path.parent), kinds)
