"""A policy file and its rules (DESIGN.md "Gating merges"): read from YAML, every problem
at its file:line, into frozen values the checker evaluates on a plan.

    rules:
      - deny: [delete, replace, rebuild]       # create update resize rebuild replace delete
        address: "server.db*"                  # a glob over addresses; or `kind: volume`
        message: the database is never destroyed from CI
      - allow_flavors: [m1.tiny, m1.small]     # globs over names
      - allow_images: ["ubuntu-*", "cirros-*"]
      - max_delta: {vcpus: 16, ram_mb: 32768}  # what the plan may add, net, by measure
      - require_metadata: [owner]              # on every resource with metadata it changes
      - deny_ingress_from: 0.0.0.0/0           # a rule admitting all of this network
        except_ports: [80, 443]
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackplan.errors import Problem, SpecError
from stackplan.frozen import frozen_map
from stackplan.spec.load import LoadedYaml, Path_, read_yaml_file
from stackplan.suggest import did_you_mean

ACTIONS = ("create", "update", "resize", "rebuild", "replace", "delete")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its type (the key that names it), what it says, where it is written."""

    type: str
    message: str = ""  # the policy's own words; a default one is made from the rule
    where: str = ""  # file:line
    actions: tuple[str, ...] = ()  # deny
    address: str | None = None  # deny: a glob over addresses
    kind: str | None = None  # deny: a kind's name
    patterns: tuple[str, ...] = ()  # allow_flavors, allow_images: globs over names
    limits: Mapping[str, int] = field(default_factory=frozen_map)  # max_delta
    keys: tuple[str, ...] = ()  # require_metadata
    network: str | None = None  # deny_ingress_from
    except_ports: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    file: str
    digest: str  # sha256 of the file's bytes: a saved plan records which policy passed it
    rules: tuple[Rule, ...]


_TYPES = (
    "deny",
    "allow_flavors",
    "allow_images",
    "max_delta",
    "require_metadata",
    "deny_ingress_from",
)
_OPTIONS = {"deny": ("address", "kind"), "deny_ingress_from": ("except_ports",)}


def load_policy(path: Path, kinds: Collection[str], measures: Collection[str]) -> Policy:
    """The policy at `path`; `SpecError` with every problem at its file:line. `kinds` and
    `measures` are those rules may name (`kind: volume`, `max_delta: {vcpus: ...}`)."""
    doc, data = read_yaml_file(path, "policy")
    reader = _Reader(doc, tuple(kinds), tuple(measures))
    rules = reader.rules()
    if reader.problems:
        raise SpecError(reader.problems, "the policy")
    return Policy(str(path), "sha256:" + hashlib.sha256(data).hexdigest(), tuple(rules))


class _Reader:
    def __init__(self, doc: LoadedYaml, kinds: tuple[str, ...], measures: tuple[str, ...]):
        self.doc = doc
        self.kinds = kinds
        self.measures = measures
        self.problems: list[Problem] = []

    def problem(self, path: Path_, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, prefer_key=key))

    def rules(self) -> list[Rule]:
        data = self.doc.data
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            self.problem((), "a policy is a mapping with `rules:`, a list of rules")
            return []
        for key in data:
            if key != "rules":
                self.problem((key,), f"unknown key{did_you_mean(key, ['rules']) or ''}", key=True)
        found = []
        for i, raw in enumerate(data["rules"]):
            rule = self.rule(("rules", i), raw)
            if rule is not None:
                found.append(rule)
        return found

    def rule(self, path: Path_, raw: Any) -> Rule | None:
        if not isinstance(raw, dict):
            self.problem(path, f"a rule is a mapping with one of: {', '.join(_TYPES)}")
            return None
        named = [k for k in raw if k in _TYPES]
        if len(named) != 1:
            unknown = [k for k in raw if k not in _TYPES and k != "message"]
            hint = did_you_mean(unknown[0], _TYPES) if unknown else ""
            which = f"{', '.join(named)} in one rule" if named else "no rule type"
            self.problem(path, f"{which}: write one of {', '.join(_TYPES)}{hint}")
            return None
        kind = named[0]
        allowed = {kind, "message", *_OPTIONS.get(kind, ())}
        for key in raw:
            if key not in allowed:
                hint = did_you_mean(key, sorted(allowed)) or f"; {kind} takes " + ", ".join(
                    sorted(allowed - {kind})
                )
                self.problem((*path, key), f"unknown key{hint}", key=True)
        message = raw.get("message") or ""
        if not isinstance(message, str):
            self.problem((*path, "message"), "must be a string")
            message = ""
        where = self.doc.where(path)
        value = raw[kind]
        at = (*path, kind)
        if kind == "deny":
            return self.deny(path, at, value, raw, message, where)
        if kind in ("allow_flavors", "allow_images"):
            patterns = self.strings(at, value)
            for n, pattern in enumerate(patterns):
                self.glob((*at, n), pattern)
            return Rule(kind, message, where, patterns=patterns)
        if kind == "max_delta":
            return Rule(kind, message, where, limits=frozen_map(self.limits(at, value)))
        if kind == "require_metadata":
            return Rule(kind, message, where, keys=self.strings(at, value))
        return self.ingress(path, at, value, raw, message, where)

    def deny(self, path: Path_, at: Path_, value: Any, raw: dict, message: str, where: str) -> Rule:
        actions = self.strings(at, value)
        for n, action in enumerate(actions):
            if action not in ACTIONS:
                hint = did_you_mean(action, ACTIONS)
                self.problem((*at, n), f"no action {action!r}{hint}: one of {', '.join(ACTIONS)}")
        address, kind = raw.get("address"), raw.get("kind")
        if (address is None) == (kind is None):
            self.problem(path, "deny needs `address:` (a glob) or `kind:`, one of them")
        if address is not None:
            if isinstance(address, str):
                self.glob((*path, "address"), address)
            else:
                self.problem((*path, "address"), "must be a glob string such as server.db*")
        if kind is not None and kind not in self.kinds:
            hint = did_you_mean(str(kind), self.kinds)
            self.problem((*path, "kind"), f"no kind {kind!r}{hint}: one of {', '.join(self.kinds)}")
        return Rule("deny", message, where, actions=actions, address=address, kind=kind)

    def ingress(
        self, path: Path_, at: Path_, value: Any, raw: dict, message: str, where: str
    ) -> Rule:
        network = None
        try:
            network = str(ipaddress.ip_network(str(value), strict=False))
        except ValueError:
            self.problem(at, f"{value!r} is not a network such as 0.0.0.0/0")
        ports: list[int] = []
        for n, port in enumerate(raw.get("except_ports") or ()):
            if isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535:
                ports.append(port)
            else:
                self.problem((*path, "except_ports", n), "must be a port number, 1 to 65535")
        return Rule("deny_ingress_from", message, where, network=network, except_ports=tuple(ports))

    def strings(self, at: Path_, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.problem(at, "must be a list of strings")
            return ()
        return tuple(value)

    def limits(self, at: Path_, value: Any) -> dict[str, int]:
        if not isinstance(value, dict) or not value:
            self.problem(at, f"must map measures to numbers: {', '.join(self.measures)}")
            return {}
        found = {}
        for key, limit in value.items():
            if key not in self.measures:
                hint = did_you_mean(str(key), self.measures)
                known = ", ".join(self.measures)
                self.problem((*at, key), f"no measure {key!r}{hint}: one of {known}", key=True)
            elif not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                self.problem((*at, key), "must be a whole number, 0 or more")
            else:
                found[key] = limit
        return found

    def glob(self, at: Path_, pattern: str) -> None:
        """A glob `fnmatch` would read as another: empty, or an unclosed `[`."""
        if not pattern:
            self.problem(at, "an empty glob matches nothing")
            return
        depth = 0
        for char in pattern:
            if char == "[":
                depth += 1
            elif char == "]" and depth:
                depth -= 1
        if depth:
            self.problem(at, f"{pattern!r}: a '[' is not closed by ']'")
