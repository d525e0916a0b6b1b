"""The library API: what the CLI and tests call, one function per command.

Each function takes options values and returns a result value; rendering and exit codes
belong to the CLI. Plan and apply live in `runs`, state commands in `stateops`.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackplan.runs import (
    ApplyOptions,
    ApplyOutcome,
    CloudInput,
    PlanOptions,
    PlanResult,
    RunOptions,
    apply,
    connect_cloud,
    plan,
)
from stackplan.spec.model import Desired
from stackplan.spec.source import SpecInput, load_desired
from stackplan.stateops import (
    ImportResult,
    RefreshResult,
    dependency_dot,
    import_resource,
    outputs,
    refresh_state,
    state_list,
    state_mv,
    state_pull,
    state_push,
    state_rm,
    state_show,
    state_unlock,
)


@dataclass(frozen=True, slots=True)
class ValidateResult:
    desired: Desired
    online: bool = False

    def summary(self) -> str:
        """`Spec web.yaml is valid: 3 servers, 1 keypair.`"""
        counts: dict[str, int] = {}
        for resource in self.desired.resources:
            counts[resource.kind] = counts.get(resource.kind, 0) + 1
        parts = [
            f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(counts.items(), reverse=True)
        ]
        checked = " (names resolved in the cloud)" if self.online else ""
        return (
            f"Spec {self.desired.spec_path} is valid{checked}: "
            f"{', '.join(parts) or 'no resources'}."
        )


def validate(
    spec: SpecInput, *, online: bool = False, cloud: CloudInput | None = None
) -> ValidateResult:
    """Check the spec offline; with `online`, also resolve its image and flavor names."""
    desired = load_desired(spec)
    if online:
        from stackplan.resolve import resolve

        connection = connect_cloud(cloud or CloudInput())
        try:
            desired = resolve(desired, connection)
        finally:
            connection.close()
    return ValidateResult(desired, online)


__all__ = [
    "ApplyOptions",
    "ApplyOutcome",
    "CloudInput",
    "ImportResult",
    "PlanOptions",
    "PlanResult",
    "RefreshResult",
    "RunOptions",
    "SpecInput",
    "ValidateResult",
    "apply",
    "dependency_dot",
    "import_resource",
    "load_desired",
    "outputs",
    "plan",
    "refresh_state",
    "state_list",
    "state_mv",
    "state_pull",
    "state_push",
    "state_rm",
    "state_show",
    "state_unlock",
    "validate",
]
