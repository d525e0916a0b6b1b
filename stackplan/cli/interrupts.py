"""Ctrl-C during apply: the first stops starting new operations, the second exits at once.

The state is written atomically after every step, so even the second, immediate exit
leaves a valid state file behind.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from stackplan.cli import exit_codes


@contextmanager
def first_stops(cancel: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread (tests call the CLI from others)
        return

    def on_sigint(signum: int, frame: object) -> None:
        if cancel.is_set():
            typer.echo("\nSecond interrupt: exiting now. The state is valid.", err=True)
            os._exit(exit_codes.INTERRUPTED)
        cancel.set()
        typer.echo(
            "\nInterrupt: finishing operations in flight and writing the state; "
            "press Ctrl-C again to exit at once.",
            err=True,
        )

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
