"""`stackplan state list | show | rm | mv | pull | push | unlock | migrate`: work on the
state itself, wherever its backend keeps it."""

from __future__ import annotations

from pathlib import Path

import typer

from stackplan.cli import options
from stackplan.spec import DEFAULT_SPEC

state_app = typer.Typer(
    name="state", help="Inspect and change the state file.", no_args_is_help=True
)


def _run(file: Path, state: Path | None, command: str, lock_timeout: float = 0.0):
    return options.run_options(
        options.spec_input(file), command=command, state=state, lock_timeout=lock_timeout
    )


@state_app.command("list")
def list_(
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    versions: bool = typer.Option(
        False, "--versions", help="List the kept versions of the state instead."
    ),
) -> None:
    """List the addresses in the state, with their IDs (or the state's kept versions)."""
    from stackplan import workflow
    from stackplan.plan.render.reports import record_line

    run = _run(file, state, "state list")
    if versions:
        for version in workflow.state_versions(run):
            typer.echo(
                f"serial {version.serial}  {version.written_at}  "
                f"{version.resources} resources  lineage {version.lineage}"
            )
        return
    for record in workflow.state_list(run):
        typer.echo(record_line(record))


@state_app.command()
def show(
    address: str, file: options.SpecFile = DEFAULT_SPEC, state: options.StatePath = None
) -> None:
    """Show one resource's record."""
    from stackplan import workflow
    from stackplan.kinds.registry import parse_address
    from stackplan.plan.render.reports import record_text

    record = workflow.state_show(_run(file, state, "state show"), parse_address(address))
    typer.echo(record_text(record))


@state_app.command()
def rm(
    address: str,
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    lock_timeout: options.LockTimeout = 0.0,
) -> None:
    """Forget a resource: it stays in the cloud. Remove it from the spec too, or the next
    plan finds it again by the stackplan tag on it and adopts it back."""
    from stackplan import workflow
    from stackplan.kinds.registry import kind_of, parse_address

    record = workflow.state_rm(_run(file, state, "state rm", lock_timeout), parse_address(address))
    typer.echo(f"Removed {record.address} [id={record.id}] from the state; the cloud keeps it.")
    if kind_of(record.kind).marked:
        # FIXME(no tombstone in the state yet): the resource keeps its stackplan tag, which
        # the diff follows to adopt a lost create; nothing tells it this one was let go.
        typer.echo(
            f"It still carries this stack's stackplan tag: while the spec has "
            f"{record.address}, the next plan adopts it again. Remove it from the "
            "spec to leave it unmanaged."
        )


@state_app.command()
def mv(
    src: str,
    dst: str,
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    lock_timeout: options.LockTimeout = 0.0,
) -> None:
    """Move a resource to another address (after renaming it in the spec)."""
    from stackplan import workflow
    from stackplan.kinds.registry import parse_address

    workflow.state_mv(
        _run(file, state, "state mv", lock_timeout), parse_address(src), parse_address(dst)
    )
    typer.echo(f"Moved {src} to {dst}.")


@state_app.command()
def pull(
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    serial: int | None = typer.Option(
        None, "--serial", help="A kept version (see `state list --versions`)."
    ),
) -> None:
    """Print the state (as a state file)."""
    from stackplan import workflow
    from stackplan.state.file import dump_state

    pulled = workflow.state_pull(_run(file, state, "state pull"), serial)
    typer.echo(dump_state(pulled), nl=False)


@state_app.command()
def migrate(
    to: str = typer.Option(
        ..., "--to", help="A state file path or postgresql://USER@HOST:PORT/DB[?schema=S]."
    ),
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    lock_timeout: options.LockTimeout = 0.0,
) -> None:
    """Copy the state to another backend, lineage and serial kept; then point the spec's
    `backend:` (or STACKPLAN_BACKEND) at it."""
    from stackplan import workflow

    moved, where = workflow.state_migrate(_run(file, state, "state migrate", lock_timeout), to)
    typer.echo(
        f"Migrated stack {moved.stack!r} (serial {moved.serial}, lineage {moved.lineage}) "
        f"to {where}. Point the spec's backend (or STACKPLAN_BACKEND) at it; the old copy "
        "is left as it was."
    )


@state_app.command()
def push(
    source: Path,
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    lock_timeout: options.LockTimeout = 0.0,
) -> None:
    """Replace the state with a file (same lineage, not older)."""
    from stackplan import workflow

    pushed = workflow.state_push(_run(file, state, "state push", lock_timeout), source)
    typer.echo(f"Pushed {source}: the state is now at serial {pushed.serial}.")


@state_app.command()
def unlock(
    lock_id: str,
    file: options.SpecFile = DEFAULT_SPEC,
    state: options.StatePath = None,
    force: bool = typer.Option(
        False, "--force", help="Remove the lock even though its holder still runs."
    ),
) -> None:
    """Remove a lock left behind (by a run on another host, say)."""
    from stackplan import workflow

    workflow.state_unlock(
        _run(file, state, "state unlock"),
        lock_id,
        lambda message: typer.echo(message, err=True),
        force=force,
    )
    typer.echo(f"Lock {lock_id} removed.")
