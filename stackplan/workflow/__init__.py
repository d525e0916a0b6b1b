"""The library API: what the CLI and tests call, one function per command.

Each function takes option values and returns a result value; rendering and exit codes
belong to the CLI. `context` holds what every command shares (the spec, the store, its
lock, the connected cloud); `runs` the pipeline commands; `state_commands` the rest.
"""

from stackplan.spec.source import SpecInput
from stackplan.workflow.context import CloudInput, RunOptions, load
from stackplan.workflow.runs import (
    ApplyOptions,
    ApplyOutcome,
    DriftResult,
    ImportResult,
    PlanOptions,
    PlanResult,
    RefreshResult,
    ValidateResult,
    apply,
    drift,
    import_resource,
    make_plan,
    plan,
    refresh_state,
    refusal,
    validate,
)
from stackplan.workflow.state_commands import (
    dependency_graph,
    outputs,
    state_list,
    state_migrate,
    state_mv,
    state_pull,
    state_push,
    state_rm,
    state_show,
    state_unlock,
    state_versions,
)

__all__ = [
    "ApplyOptions",
    "ApplyOutcome",
    "CloudInput",
    "DriftResult",
    "ImportResult",
    "PlanOptions",
    "PlanResult",
    "RefreshResult",
    "RunOptions",
    "SpecInput",
    "ValidateResult",
    "apply",
    "dependency_graph",
    "drift",
    "import_resource",
    "load",
    "make_plan",
    "outputs",
    "plan",
    "refresh_state",
    "refusal",
    "state_list",
    "state_migrate",
    "state_mv",
    "state_pull",
    "state_push",
    "state_rm",
    "state_show",
    "state_unlock",
    "state_versions",
    "validate",
]
