"""The library API: what the CLI and tests call, one function per command.

Each function takes an options value and returns a result value; rendering and exit
codes belong to the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from stackplan.errors import SpecError, StackplanError
from stackplan.spec import DEFAULT_SPEC
from stackplan.spec.expand import expand
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


@dataclass(frozen=True, slots=True)
class ValidateResult:
    desired: Desired

    def summary(self) -> str:
        """`Spec web.yaml is valid: 3 servers, 1 keypair.`"""
        counts: dict[str, int] = {}
        for resource in self.desired.resources:
            counts[resource.kind] = counts.get(resource.kind, 0) + 1
        parts = [
            f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(counts.items(), reverse=True)
        ]
        return f"Spec {self.desired.spec_path} is valid: {', '.join(parts) or 'no resources'}."


def load_desired(spec: SpecInput) -> Desired:
    """The spec loaded, checked against the schema and expanded; `SpecError` lists every problem.

    Offline: reads the spec, its var-files and the files it names, and nothing else.
    """
    doc, spec_bytes = read_yaml_file(spec.path)
    if problems := schema_problems(doc):
        raise SpecError(problems)
    var_files = tuple(read_yaml_file(path, "var")[0] for path in spec.var_files)
    variables = resolve_variables(doc, VariableInputs(spec.vars, var_files, spec.env))
    return expand(doc, spec_bytes, variables, FileReader(spec.path.parent))


def validate(spec: SpecInput, *, online: bool = False) -> ValidateResult:
    """Check the spec offline; `online` (resolving names in the cloud) is not wired yet."""
    if online:
        # FIXME(resolve.py is being written): check image/flavor/keypair names in the cloud.
        raise StackplanError("--online is not available yet", hint="run without --online")
    return ValidateResult(load_desired(spec))
