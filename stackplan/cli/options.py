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
    from stackplan.spec.source import SpecInput

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
    from stackplan.spec.source import SpecInput  # jsonschema and networkx: only when needed

    return SpecInput(
        path=file, vars=tuple(var or ()), var_files=tuple(var_file or ()), env=dict(os.environ)
    )


StatePath = Annotated[
    Path | None,
    typer.Option("--state", help="The state file. Default: state/<stack>.json beside the spec."),
]
CloudName = Annotated[
    str | None,
    typer.Option("--cloud", help="The clouds.yaml entry to use (default: OS_CLOUD or OS_*)."),
]
LockTimeout = Annotated[
    float,
    typer.Option("--lock-timeout", help="Seconds to wait for the state lock (0: fail at once)."),
]
Targets = Annotated[
    list[str] | None,
    typer.Option("--target", metavar="ADDR", help="Plan only this resource and its dependencies."),
]
Replaces = Annotated[
    list[str] | None,
    typer.Option("--replace", metavar="ADDR", help="Replace this resource even if unchanged."),
]
NoRefresh = Annotated[
    bool, typer.Option("--no-refresh", help="Trust the state; do not read the cloud's resources.")
]
Destroy = Annotated[bool, typer.Option("--destroy", help="Plan to destroy everything managed.")]
PolicyFile = Annotated[
    Path | None,
    typer.Option(
        "--policy", help="A policy file the plan must keep to (a violation fails it, exit 1)."
    ),
]
AllowDuplicate = Annotated[
    bool,
    typer.Option(
        "--allow-duplicate-stack",
        help="Plan even though the state is missing and the cloud holds this stack's resources.",
    ),
]
Parallelism = Annotated[
    int, typer.Option("--parallelism", min=1, help="Concurrent API operations during apply.")
]
AutoApprove = Annotated[
    bool, typer.Option("--auto-approve", help="Apply without asking for 'yes'.")
]


def cloud_input(cloud: str | None):  # -> CloudInput (imported lazily)
    """The cloud of `--cloud` and the environment; retries are told on stderr."""
    from stackplan.workflow import CloudInput

    return CloudInput(cloud, dict(os.environ), notify=lambda message: typer.echo(message, err=True))


def run_options(
    spec: SpecInput,
    *,
    command: str,
    state: Path | None = None,
    cloud: str | None = None,
    lock_timeout: float = 0.0,
):  # -> RunOptions (imported lazily)
    from stackplan.workflow import RunOptions

    return RunOptions(
        spec=spec,
        cloud=cloud_input(cloud),
        state_path=state,
        lock_timeout=lock_timeout,
        command=command,
        notify=lambda message: typer.echo(message, err=True),
    )


def plan_options(
    targets: list[str] | None,
    replaces: list[str] | None,
    destroy: bool,
    no_refresh: bool,
    allow_duplicate: bool = False,
    policy: Path | None = None,
):  # -> PlanOptions
    from stackplan.kinds.registry import parse_address
    from stackplan.workflow import PlanOptions

    return PlanOptions(
        targets=tuple(parse_address(t) for t in targets or ()),
        replace=tuple(parse_address(r) for r in replaces or ()),
        destroy=destroy,
        refresh=not no_refresh,
        allow_duplicate_stack=allow_duplicate,
        policy=policy,
    )
