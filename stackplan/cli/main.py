"""The `stackplan` command: flags → one workflow call → render → exit code.

Heavy modules (requests, jsonschema, networkx) are imported inside the commands that
need them, so that `stackplan --help` starts fast.
"""

from __future__ import annotations

import logging
import sys
import traceback

import typer

from stackplan.cli import exit_codes, options
from stackplan.cli.sim import sim_app
from stackplan.errors import StackplanError
from stackplan.spec import DEFAULT_SPEC

app = typer.Typer(
    name="stackplan",
    help="Declarative provisioning for OpenStack clouds, driven by YAML.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(sim_app, name="sim")

_debug = False


@app.callback()
def _root(
    debug: bool = typer.Option(
        False, "--debug", help="Log HTTP traffic (secrets masked) and show tracebacks."
    ),
) -> None:
    global _debug
    _debug = debug
    if debug:
        logging.basicConfig(
            level=logging.DEBUG, stream=sys.stderr, format="DEBUG %(name)s: %(message)s"
        )
        # urllib3 logs raw request lines; our own http layer logs them masked instead.
        logging.getLogger("urllib3").setLevel(logging.WARNING)


@app.command()
def validate(
    file: options.SpecFile = DEFAULT_SPEC,
    var: options.Vars = None,
    var_file: options.VarFiles = None,
    online: bool = typer.Option(
        False, "--online", help="Also check image, flavor and keypair names in the cloud."
    ),
) -> None:
    """Check the spec: its shape, variables, references and the files it names."""
    from stackplan import workflow

    result = workflow.validate(options.spec_input(file, var, var_file), online=online)
    typer.echo(result.summary())


def main() -> None:
    """Entry point: one place turns errors into a message and exit code 1."""
    try:
        app()
    except StackplanError as exc:
        if _debug:
            traceback.print_exc()
        typer.echo(f"Error: {exc.render()}", err=True)
        raise SystemExit(exit_codes.ERROR) from None
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise SystemExit(exit_codes.INTERRUPTED) from None
