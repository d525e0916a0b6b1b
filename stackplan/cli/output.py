"""What the CLI prints: plans, apply events, outputs, prompts. Colour only on a terminal."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from stackplan.apply.events import Event
    from stackplan.plan.model import Plan


def is_terminal() -> bool:
    """Whether to colour: a terminal that did not ask for none (NO_COLOR, TERM=dumb)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def render_plan(plan: Plan, fmt: str) -> str:
    from stackplan.plan.render import render_json, render_markdown, render_text

    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    return render_text(plan, color=is_terminal())


class EventPrinter:
    """Prints one line per apply event; safe to call from the executor's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.color = is_terminal()

    def __call__(self, event: Event) -> None:
        from stackplan.apply.events import ChangeFailed, render_event

        line = render_event(event)
        if self.color and isinstance(event, ChangeFailed):
            line = typer.style(line, fg="red")
        with self._lock:
            typer.echo(line)


def render_outputs(outputs: Mapping[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(dict(outputs), indent=2, sort_keys=True)
    return "\n".join(f"{name} = {json.dumps(value)}" for name, value in sorted(outputs.items()))


def confirm_plan() -> bool:
    """Ask for `yes` on a terminal; without one (CI) refuse rather than guess."""
    from stackplan.errors import StackplanError

    if not sys.stdin.isatty():
        raise StackplanError(
            "apply needs approval and there is no terminal to ask on",
            hint="review the plan and pass --auto-approve, or apply a saved plan file",
        )
    answer = typer.prompt(
        "Do you want to perform these actions? Only 'yes' will be accepted", default=""
    )
    return answer.strip() == "yes"
