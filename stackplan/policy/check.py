"""A policy evaluated on a plan value: pure, no cloud. What a rule checks of a resource
(its flavor, its image, its metadata, the ingress its rules admit) the resource's kind
says (`Kind.facts`); this room never knows a kind by name.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterator, Mapping

from stackplan.kinds.base import Ingress, Kind
from stackplan.plan.model import Action, Change, Plan, PolicyReport, Violation
from stackplan.plan.quota import moves
from stackplan.policy.rules import Policy, Rule

_VERBS = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.RESIZE: "resize",
    Action.REBUILD: "rebuild",
    Action.DELETE: "delete",
    Action.DELETE_THEN_CREATE: "replace",
    Action.CREATE_THEN_DELETE: "replace",
}


def check_policy(plan: Plan, policy: Policy, kinds: Mapping[str, Kind]) -> PolicyReport:
    """Every rule of `policy` the plan breaks, in the policy's order."""
    found = []
    for rule in policy.rules:
        offenders = tuple(_offenders(rule, plan, kinds))
        if offenders:
            found.append(
                Violation(rule.type, rule.message or _default(rule), rule.where, offenders)
            )
    return PolicyReport(policy.file, policy.digest, tuple(found))


def verb(change: Change) -> str:
    return _VERBS.get(change.action, "")


def _offenders(rule: Rule, plan: Plan, kinds: Mapping[str, Kind]) -> Iterator[tuple[str, str]]:
    if rule.type == "max_delta":
        yield from _over_delta(rule, plan, kinds)
        return
    for change in plan.actionable:
        address = str(change.address)
        action = verb(change)
        if rule.type == "deny":
            matches = (
                fnmatch.fnmatchcase(address, rule.address)
                if rule.address is not None
                else change.kind == rule.kind
            )
            if matches and action in rule.actions:
                yield address, action
            continue
        if change.action is Action.DELETE or change.after is None:
            continue  # what goes away carries nothing the rules below look at
        facts = kinds[change.kind].facts(change.after)
        if rule.type in ("allow_flavors", "allow_images"):
            fact = "flavor" if rule.type == "allow_flavors" else "image"
            name = facts.get(fact)
            if name is not None and not any(fnmatch.fnmatchcase(name, p) for p in rule.patterns):
                yield address, f"{fact} {name}"
        elif rule.type == "require_metadata" and "metadata" in facts:
            missing = [k for k in rule.keys if k not in (facts["metadata"] or {})]
            if missing:
                yield address, "no " + ", ".join(missing)
        elif rule.type == "deny_ingress_from":
            for ingress in facts.get("ingress", ()):
                if _open(ingress, rule):
                    yield address, _ingress_text(ingress)


def _over_delta(rule: Rule, plan: Plan, kinds: Mapping[str, Kind]) -> Iterator[tuple[str, str]]:
    net: dict[str, int] = {}
    for change in plan.actionable:
        plus, minus = moves(change, kinds[change.kind])
        for name, amount in plus.items():
            net[name] = net.get(name, 0) + amount
        for name, amount in minus.items():
            net[name] = net.get(name, 0) - amount
    for name, limit in rule.limits.items():
        if net.get(name, 0) > limit:
            yield "plan", f"{name} +{net[name]}, at most +{limit}"


def _open(ingress: Ingress, rule: Rule) -> bool:
    """Whether the rule admits all of the denied network, on a port not excepted."""
    denied = ipaddress.ip_network(rule.network or "0.0.0.0/0")
    try:
        source = ipaddress.ip_network(ingress.prefix, strict=False)
    except ValueError:
        return False
    if source.version != denied.version or not denied.subnet_of(source):  # type: ignore[arg-type]
        return False
    if ingress.low is None:  # every port: no exception covers it
        return True
    high = ingress.high if ingress.high is not None else ingress.low
    return not all(port in rule.except_ports for port in range(ingress.low, high + 1))


def _ingress_text(ingress: Ingress) -> str:
    ports = "all ports"
    if ingress.low is not None:
        ports = (
            f"port {ingress.low}"
            if ingress.high in (None, ingress.low)
            else (f"ports {ingress.low}-{ingress.high}")
        )
    return f"{ingress.protocol or 'any'} {ports} from {ingress.prefix}"


def _default(rule: Rule) -> str:
    """The violation's words when the policy gives none."""
    match rule.type:
        case "deny":
            target = rule.address if rule.address is not None else f"kind {rule.kind}"
            return f"{', '.join(rule.actions)} of {target} is denied"
        case "allow_flavors":
            return "only flavors " + ", ".join(rule.patterns) + " are allowed"
        case "allow_images":
            return "only images " + ", ".join(rule.patterns) + " are allowed"
        case "max_delta":
            limits = ", ".join(f"{k} +{v}" for k, v in rule.limits.items())
            return f"the plan may add at most {limits}"
        case "require_metadata":
            return "metadata " + ", ".join(rule.keys) + " is required"
    excepted = ", ".join(map(str, rule.except_ports))
    tail = f" except on ports {excepted}" if excepted else ""
    return f"no ingress from {rule.network}{tail}"
