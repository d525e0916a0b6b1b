"""The `stackplan` command: flags → one workflow call → render → exit code.

Heavy modules (requests, jsonschema, networkx) are imported inside the commands that
need them, so that `stackplan --help` starts fast.
"""

from __future__ import annotations

import gc
import json
import logging
import platform
import sys
import traceback
from pathlib import Path
from typing import Any

import typer

from stackplan import __version__
from stackplan.cli import exit_codes, interrupts, options, output
from stackplan.cli.sim import sim_app
from stackplan.cli.state import state_app
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
app.add_typer(state_app, name="state")

_debug = False


def _print_version(as_json: bool) -> None:
    from stackplan.plan.model import PLAN_FORMAT_VERSION
    from stackplan.plan.render.jsonplan import JSON_FORMAT_VERSION
    from stackplan.state.model import FORMAT_VERSION

    if not as_json:
        typer.echo(f"stackplan {__version__}")
        return
    doc = {
        "version": __version__,
        "python": platform.python_version(),
        "state_format": FORMAT_VERSION,
        "plan_file_format": PLAN_FORMAT_VERSION,
        "json_plan_format": JSON_FORMAT_VERSION,
    }
    typer.echo(json.dumps(doc, indent=2))


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(
        False, "--debug", help="Log HTTP traffic (secrets masked) and show tracebacks."
    ),
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
    as_json: bool = typer.Option(False, "--json", help="With --version: print JSON for tools."),
) -> None:
    if version:
        _print_version(as_json)
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help(), err=True)
        raise typer.Exit(exit_codes.ERROR)
    global _debug
    _debug = debug
    if debug:
        logging.basicConfig(
            level=logging.DEBUG, stream=sys.stderr, format="DEBUG %(name)s: %(message)s"
        )
        # urllib3 logs raw request lines; our own http layer logs them masked instead.
        logging.getLogger("urllib3").setLevel(logging.WARNING)


@app.command("version")
def version_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print JSON for tools."),
) -> None:
    """Print the version of stackplan and of the formats it reads and writes."""
    _print_version(as_json)


@app.command()
def validate(
    file: options.SpecFile = DEFAULT_SPEC,
    var: options.Vars = None,
    var_file: options.VarFiles = None,
    online: bool = typer.Option(
        False, "--online", help="Also resolve image and flavor names in the cloud."
    ),
    cloud: options.CloudName = None,
) -> None:
    """Check the spec: its shape, variables, references and the files it names."""
    from stackplan import workflow
    from stackplan.plan.render.reports import validate_summary

    spec = options.spec_input(file, var, var_file)
    result = workflow.validate(spec, online=online, cloud=options.cloud_input(cloud))
    typer.echo(validate_summary(result.desired, result.online))


@app.command()
def plan(
    file: options.SpecFile = DEFAULT_SPEC,
    var: options.Vars = None,
    var_file: options.VarFiles = None,
    state: options.StatePath = None,
    out: Path | None = typer.Option(None, "--out", help="Save the plan for `apply PLANFILE`."),
    fmt: str = typer.Option("text", "--format", help="text, json or markdown."),
    detailed_exitcode: bool = typer.Option(
        False, "--detailed-exitcode", help="Exit 0 without changes, 2 with changes, 1 on error."
    ),
    target: options.Targets = None,
    replace: options.Replaces = None,
    no_refresh: options.NoRefresh = False,
    destroy: options.Destroy = False,
    cloud: options.CloudName = None,
    lock_timeout: options.LockTimeout = 0.0,
    allow_duplicate: options.AllowDuplicate = False,
    policy: options.PolicyFile = None,
) -> None:
    """Show what apply would change, without changing anything."""
    from stackplan import workflow
    from stackplan.plan.planfile import save_plan

    _check_format(fmt)
    spec = options.spec_input(file, var, var_file)
    run = options.run_options(
        spec, command="plan", state=state, cloud=cloud, lock_timeout=lock_timeout
    )
    made = options.plan_options(target, replace, destroy, no_refresh, allow_duplicate, policy)
    result = workflow.plan(run, made)
    typer.echo(output.render_plan(result.plan, fmt))
    if (refused := workflow.refusal(result.plan)) is not None:
        raise refused  # shown above, and not saved: apply would refuse it
    if out is not None:
        save_plan(result.plan, out)
        typer.echo(f"Saved the plan to {out}: apply it with `stackplan apply {out}`.", err=True)
    if detailed_exitcode and result.plan.has_changes:
        raise typer.Exit(exit_codes.CHANGES)


@app.command()
def apply(
    planfile: Path | None = typer.Argument(None, help="A plan saved by `plan --out`."),
    file: options.SpecFile = DEFAULT_SPEC,
    var: options.Vars = None,
    var_file: options.VarFiles = None,
    state: options.StatePath = None,
    auto_approve: options.AutoApprove = False,
    parallelism: options.Parallelism = 10,
    target: options.Targets = None,
    replace: options.Replaces = None,
    no_refresh: options.NoRefresh = False,
    destroy: options.Destroy = False,
    cloud: options.CloudName = None,
    lock_timeout: options.LockTimeout = 0.0,
    allow_duplicate: options.AllowDuplicate = False,
    policy: options.PolicyFile = None,
) -> None:
    """Make the cloud match the spec (or carry out a saved plan)."""
    _apply(
        planfile,
        options.spec_input(file, var, var_file),
        state,
        cloud,
        lock_timeout,
        options.plan_options(target, replace, destroy, no_refresh, allow_duplicate, policy),
        auto_approve,
        parallelism,
        "apply",
    )


@app.command()
def destroy(
    file: options.SpecFile = DEFAULT_SPEC,
    var: options.Vars = None,
    var_file: options.VarFiles = None,
    state: options.StatePath = None,
    auto_approve: options.AutoApprove = False,
    parallelism: options.Parallelism = 10,
    target: options.Targets = None,
    cloud: options.CloudName = None,
    lock_timeout: options.LockTimeout = 0.0,
) -> None:
    """Delete everything the state manages."""
    _apply(
        None,
        options.spec_input(file, var, var_file),
        state,
        cloud,
        lock_timeout,
        options.plan_options(target, None, True, False),
        auto_approve,
        parallelism,
        "destroy",
    )


def _apply(
    planfile, spec, state, cloud, lock_timeout, plan_options, auto_approve, parallelism, command
) -> None:
    from stackplan import workflow
    from stackplan.plan.render.reports import apply_summary

    run = options.run_options(
        spec, command=command, state=state, cloud=cloud, lock_timeout=lock_timeout
    )
    apply_options = workflow.ApplyOptions(parallelism=parallelism)

    def approve(made) -> bool:
        typer.echo(output.render_plan(made, "text"))
        return auto_approve or planfile is not None or output.confirm_plan()

    with interrupts.first_stops(apply_options.cancel):
        outcome = workflow.apply(
            run, plan_options, apply_options, output.EventPrinter(), approve, planfile
        )
    if outcome.result is None:
        typer.echo(output.render_plan(outcome.plan, "text"))
    else:
        typer.echo(apply_summary(outcome.result, outcome.plan.counts()))
    if outcome.outputs and outcome.result is not None and not plan_options.destroy:
        typer.echo("\nOutputs:\n" + output.render_outputs(outcome.outputs, as_json=False))
    if outcome.result is not None and outcome.result.interrupted:
        raise typer.Exit(exit_codes.INTERRUPTED)
    if outcome.result is not None and not outcome.result.ok:
        raise typer.Exit(exit_codes.ERROR)


@app.command()
def refresh(
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    cloud: options.CloudName = None,
    lock_timeout: options.LockTimeout = 0.0,
) -> None:
    """Update the state from what the cloud holds now."""
    from stackplan import workflow
    from stackplan.plan.render.reports import refresh_lines

    run = options.run_options(
        options.spec_input(file),
        command="refresh",
        state=state,
        cloud=cloud,
        lock_timeout=lock_timeout,
    )
    result = workflow.refresh_state(run)
    for line in refresh_lines(result.gone, result.tainted, result.updated):
        typer.echo(line)
    typer.echo(f"Refresh complete: {len(result.state.resources)} resources in the state.")


@app.command()
def drift(
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    fmt: str = typer.Option("text", "--format", help="text, json or markdown."),
    cloud: options.CloudName = None,
) -> None:
    """Compare the cloud with the state (not the spec): exit 0 no drift, 2 drift, 1 error.
    Writes nothing and takes no lock."""
    from stackplan import workflow
    from stackplan.plan.render.drift import render_drift

    _check_format(fmt)
    run = options.run_options(options.spec_input(file), command="drift", state=state, cloud=cloud)
    result = workflow.drift(run)
    typer.echo(render_drift(result.report, fmt), nl=fmt == "json")
    if result.report.has_drift:
        raise typer.Exit(exit_codes.CHANGES)


@app.command()
def show(
    planfile: Path | None = typer.Argument(None, help="A saved plan; without it, the state."),
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    fmt: str = typer.Option("text", "--format", help="text, json or markdown (plans)."),
) -> None:
    """Show a saved plan, or the resources in the state."""
    from stackplan import workflow
    from stackplan.plan.render.reports import record_text

    _check_format(fmt)
    if planfile is not None:
        from stackplan.plan.planfile import load_plan

        typer.echo(output.render_plan(load_plan(planfile), fmt))
        return
    run = options.run_options(options.spec_input(file), command="show", state=state)
    records = workflow.state_list(run)
    if not records:
        typer.echo("The state is empty.")
    for record in records:
        typer.echo(f"# {record.address}\n{record_text(record)}")


@app.command("output")
def output_cmd(
    name: str | None = typer.Argument(None, help="One output; without it, all."),
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the outputs recorded by the last apply."""
    import json

    from stackplan import workflow

    run = options.run_options(options.spec_input(file), command="output", state=state)
    values = workflow.outputs(run)
    if name is None:
        typer.echo(output.render_outputs(values, as_json))
        return
    if name not in values:
        known = ", ".join(sorted(values)) or "none"
        raise StackplanError(f"no output named {name!r}", hint=f"the outputs are: {known}")
    value = values[name]
    typer.echo(json.dumps(value) if as_json or not isinstance(value, str) else value)


@app.command()
def graph(
    file: options.SpecFile = DEFAULT_SPEC,
    var: options.Vars = None,
    var_file: options.VarFiles = None,
) -> None:
    """Print the spec's dependency graph in Graphviz DOT."""
    from stackplan import workflow
    from stackplan.plan.render.reports import render_dot

    run = options.run_options(options.spec_input(file, var, var_file), command="graph")
    typer.echo(render_dot(workflow.dependency_graph(run)), nl=False)


@app.command("import")
def import_cmd(
    address: str = typer.Argument(..., help="The spec's address, e.g. server.web[0]."),
    resource_id: str = typer.Argument(..., metavar="ID", help="The cloud ID (a keypair's name)."),
    file: options.SpecFile = DEFAULT_SPEC,
    var: options.Vars = None,
    var_file: options.VarFiles = None,
    state: options.StatePath = None,
    cloud: options.CloudName = None,
    lock_timeout: options.LockTimeout = 0.0,
) -> None:
    """Take an existing cloud resource under management."""
    from stackplan import workflow
    from stackplan.kinds.registry import parse_address

    run = options.run_options(
        options.spec_input(file, var, var_file),
        command="import",
        state=state,
        cloud=cloud,
        lock_timeout=lock_timeout,
    )
    result = workflow.import_resource(run, parse_address(address), resource_id)
    typer.echo(
        f"{result.address}: imported [id={result.id}]. Run `stackplan plan` to compare "
        "it with the spec."
    )


def _check_format(fmt: str) -> None:
    if fmt not in ("text", "json", "markdown"):
        raise StackplanError(f"unknown format {fmt!r}", hint="use text, json or markdown")


def main() -> None:
    """Entry point: one place turns errors into a message and an exit code.

    Usage errors (a mistyped flag or command, a bad flag value) exit 1 like every other
    error: click's own 2 is what `--detailed-exitcode` means by "changes present", and a
    CI gate accepting 0 or 2 must not pass a typo.
    """
    click = _click_exceptions()
    try:
        code = app(standalone_mode=False)
    except click.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else exc.format_message(), err=True)
        raise SystemExit(exit_codes.ERROR) from None
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "stackplan"
        typer.echo(f"Error: {exc.format_message()}\n  hint: see '{where} --help'", err=True)
        raise SystemExit(exit_codes.ERROR) from None
    except StackplanError as exc:
        if _debug:
            traceback.print_exc()
        typer.echo(f"Error: {exc.render()}", err=True)
        raise SystemExit(exit_codes.ERROR) from None
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("Interrupted.", err=True)
        raise SystemExit(exit_codes.INTERRUPTED) from None
    except Exception as exc:  # a bug: say so plainly; the traceback is for --debug
        if _debug:
            traceback.print_exc()
        typer.echo(
            f"Error: internal error ({type(exc).__name__}: {exc}); "
            "run with --debug for the traceback and please report it",
            err=True,
        )
        raise SystemExit(exit_codes.ERROR) from None
    raise SystemExit(code if isinstance(code, int) else exit_codes.OK)


def entry_point() -> None:
    """The `stackplan` command: `main`, in a process that ends when it returns."""
    try:
        main()
    finally:
        # Interpreter shutdown's last full collection walks every object the run made
        # (0.1-0.17 s after a 1,000-server apply) to free memory the OS takes back anyway.
        # Frozen objects are left out of it; files, locks and state are closed already.
        gc.freeze()


def _click_exceptions() -> Any:
    """click's exception classes: typer vendors click from 0.20 on, older ones depend on it."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - an older typer
        from click import exceptions
    return exceptions
