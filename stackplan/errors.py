"""Every error stackplan raises on purpose, each carrying a message meant for a user.

Imports nothing from stackplan: every layer may raise these.

    StackplanError(message, where=None, hint=None)
    ├── SpecError            the spec, a variable or a file it names is wrong (many problems)
    ├── ConfigError          no usable cloud configuration (OS_*, clouds.yaml)
    ├── ResolveError         a name that resolves to nothing, to many, or to something unusable
    ├── StateError           a state file that is corrupt, foreign or from a newer stackplan
    │   ├── LockError        the state is locked by someone else
    │   ├── ForeignStateError   a write of another lineage (another stack's history)
    │   └── StaleWriteError  a write on top of an older serial (someone wrote meanwhile)
    ├── PlanError            a plan that must not be applied (prevent_destroy, quota, ...)
    │   └── StalePlanError   a saved plan made from an older state or spec
    ├── CloudError           the cloud answered with an error or did not answer
    │   └── AuthError        Keystone refused the credentials or the token
    └── ApplyError           an apply finished with failed resources
"""

from __future__ import annotations

from dataclasses import dataclass


class StackplanError(Exception):
    """Base of every error meant for a user: a message, where it happened, what to do."""

    def __init__(self, message: str, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def render(self) -> str:
        """The text the CLI prints: `where: message` then the hint on its own line."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a spec, at a position: `file:line:col: field.path: message`."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(StackplanError):
    """One or more problems in a spec; all are reported at once, sorted by position."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], what: str = "the spec"):
        ordered = tuple(sorted(problems, key=lambda p: (p.file, p.line, p.column, p.path)))
        self.problems = ordered
        count = len(ordered)
        summary = f"{count} problem{'s' if count != 1 else ''} in {what}"
        super().__init__("\n".join(p.render() for p in ordered) + f"\n{summary}")

    def render(self) -> str:
        return self.message


class ConfigError(StackplanError):
    """No usable cloud configuration."""


class ResolveError(StackplanError):
    """An image, flavor or keypair name that cannot be turned into one usable ID."""


class StateError(StackplanError):
    """A state file that cannot be used as it is; it is never overwritten."""


class LockError(StateError):
    """The state is locked by another run."""


class ForeignStateError(StateError):
    """A state of another lineage than the stored one: never written over it."""

    def __init__(self, message: str, *, stored: str, written: str, **kw: str | None):
        self.stored_lineage = stored
        self.written_lineage = written
        super().__init__(message, **kw)


class StaleWriteError(StateError):
    """A write whose serial is not above the stored one: someone wrote in between."""

    def __init__(self, message: str, *, stored: int, written: int, **kw: str | None):
        self.stored_serial = stored
        self.written_serial = written
        super().__init__(message, **kw)


class PlanError(StackplanError):
    """A plan that must not go ahead."""


class StalePlanError(PlanError):
    """A saved plan whose state or spec has moved on since it was made."""


class CloudError(StackplanError):
    """The cloud answered with an error status, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        where: str | None = None,
        hint: str | None = None,
    ):
        self.method = method
        self.path = path
        self.status = status
        self.request_id = request_id
        super().__init__(message, where=where, hint=hint)

    def render(self) -> str:
        text = super().render()
        if self.method and self.path:
            status = f" -> {self.status}" if self.status is not None else ""
            text += f"\n  request: {self.method} {self.path}{status}"
            if self.request_id:
                text += f" ({self.request_id})"
        return text


class AuthError(CloudError):
    """Keystone refused the credentials or the token."""


class ApplyError(StackplanError):
    """An apply that ended with some resources failed or skipped."""
