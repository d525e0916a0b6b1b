"""What narrows a plan or stops it before it is shown: --target, --replace, prevent_destroy.

Pure: changes in, changes (or a PlanError) out.
"""

from __future__ import annotations

from collections.abc import Iterable

from stackplan.addr import Address
from stackplan.errors import PlanError
from stackplan.plan.model import Action, Change, Reason
from stackplan.spec.model import Desired
from stackplan.suggest import did_you_mean


def _expand(addresses: Iterable[Address], known: Iterable[Address]) -> set[Address]:
    """Concrete addresses meant by `addresses` (a base address means every index)."""
    known = tuple(known)
    return {k for a in addresses for k in known if k == a or (a.index is None and k.base == a)}


def targeted(
    changes: list[Change], targets: tuple[Address, ...], destroy: bool, warnings: list[str]
) -> list[Change]:
    """Only the targeted changes and what they need (with --destroy: what needs them)."""
    every = {c.address for c in changes}
    chosen = _expand(targets, every)
    for target in targets:
        if not _expand((target,), every):
            warnings.append(f"--target {target} matches no resource in the spec or the state")
    deps = {c.address: set(c.depends_on) for c in changes}
    if destroy:  # also destroy what depends on a destroyed resource
        deps = {a: {b for b, needs in deps.items() if a in _expand(needs, every)} for a in deps}
    todo = list(chosen)
    while todo:
        for needed in _expand(deps.get(todo.pop(), ()), every) - chosen:
            chosen.add(needed)
            todo.append(needed)
    names = ", ".join(str(t) for t in targets)
    warnings.append(
        f"Resource targeting is in effect: this plan covers only {names} and the resources "
        f"{'depending on them' if destroy else 'they depend on'}; other changes may be "
        "pending. Use --target for exceptional cases, not routinely."
    )
    return [c for c in changes if c.address in chosen]


def check_replace_targets(changes: list[Change], replace: tuple[Address, ...]) -> None:
    """Refuse `--replace ADDR` naming nothing: a typo must not plan a silent no-op."""
    every = {c.address for c in changes}
    missing = [a for a in replace if not _expand((a,), every)]
    if not missing:
        return
    known = [str(a) for a in sorted(every, key=Address.sort_key)]
    lines = [
        f"--replace {a}: no such resource in the spec or the state{did_you_mean(str(a), known)}"
        for a in missing
    ]
    raise PlanError("\n".join(lines), hint=f"the plan has: {', '.join(known) or 'nothing'}")


def check_prevent_destroy(changes: list[Change], desired: Desired) -> None:
    """Refuse a plan that deletes, replaces or rebuilds a resource the spec protects."""
    protected = {r.address for r in desired.resources if r.lifecycle.prevent_destroy}
    blocked = [
        c
        for c in changes
        if c.address in protected
        and c.action.is_destructive
        and not (c.action is Action.DELETE and (c.before is None or c.id is None))
    ]
    if not blocked:
        return
    lines = [f"  {c.address}: {_why_destroyed(c)}" for c in blocked]
    raise PlanError(
        "lifecycle.prevent_destroy forbids this plan, which would "
        "delete or wipe these resources:\n" + "\n".join(lines),
        where=", ".join(str(c.address) for c in blocked),
        hint="revert the change that forces it, or remove prevent_destroy from the resource "
        "in the spec if losing it is really intended",
    )


def _why_destroyed(change: Change) -> str:
    verb = {Action.DELETE: "delete", Action.REBUILD: "rebuild (root disk wiped)"}.get(
        change.action, "replace"
    )
    if change.replace_paths:
        return f"{verb}, because {', '.join(change.replace_paths)} changed"
    why = {
        Reason.TAINTED: "it is tainted",
        Reason.REPLACE_REQUESTED: "--replace asks for it",
        Reason.DESTROY: "destroy deletes everything",
    }.get(change.reason, change.reason.value)
    return f"{verb}, because {why}"
