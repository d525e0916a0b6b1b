"""Command-line options shared by the commands that read a spec (validate, plan, apply...).

Declared once as `Annotated` types so every command spells them the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stackplan.spec import DEFAULT_SPEC

if TYPE_CHECKING:
    from stackplan.workflow import SpecInput

SpecFile = Annotated[
    Path,
    typer.Option("-f", "--file", help="The spec file.", show_default=True),
]
Vars = Annotated[
    list[str] | None,
    typer.Option(
        "--var",
        metavar="NAME=VALUE",
        help="Set a variable (the value is read as YAML: 3 is a number). Repeatable.",
    ),
]
VarFiles = Annotated[
    list[Path] | None,
    typer.Option("--var-file", metavar="FILE", help="A YAML file of NAME: VALUE. Repeatable."),
]


def spec_input(
    file: Path = DEFAULT_SPEC, var: list[str] | None = None, var_file: list[Path] | None = None
) -> SpecInput:
    """The `SpecInput` for these flags, with the variables of the current environment."""
    from stackplan.workflow import SpecInput  # jsonschema and networkx: only when needed

    return SpecInput(
        path=file, vars=tuple(var or ()), var_files=tuple(var_file or ()), env=dict(os.environ)
    )
