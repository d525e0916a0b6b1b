"""The security group kind: Neutron security groups with their rules inline, as a set.

One rule added or removed changes the group in place; the group itself is replaced by
nothing (its name and description change in place too). Neutron's default egress rules
are part of the set unless `delete_default_rules: true`, so a rule nobody wrote — added
by hand — shows as a change and is removed. The rules are set after the group exists
(late): a rule may name the group itself, or a group that names this one back.

A rule, as the spec writes it: {direction: ingress|egress, protocol: tcp|udp|icmp|any|N,
port: N | "N-M", remote_ip_prefix: CIDR, remote_group: GROUP, ethertype: IPv4|IPv6}
(ingress, any protocol, any source by default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.kinds.base import Await, Effect, Ingress, Limit, Measure, ObservedResource, Reads
from stackplan.kinds.network import TAGS_SCHEMA
from stackplan.kinds.neutron import NeutronKind, changed, marker_of, neutron_limits, user_tags

if TYPE_CHECKING:
    from stackplan.cloud import Cloud
    from stackplan.cloud.network_model import SecurityGroup, SecurityGroupRule
    from stackplan.spec.expand import Entry

_PROTOCOLS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "any": None}
_RULE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "direction": {"enum": ["ingress", "egress"]},
        "ethertype": {"enum": ["IPv4", "IPv6"]},
        "protocol": {"type": ["string", "integer"]},
        "port": {
            "type": ["integer", "string"],
            "pattern": "^[0-9]+(-[0-9]+)?$",
            "x-messages": {"pattern": "a port is N or N-M"},
        },
        "remote_ip_prefix": {"type": "string"},
        "remote_group": {"$ref": "#/$defs/ref"},
        "description": {"type": "string"},
    },
    "not": {"required": ["remote_ip_prefix", "remote_group"]},
    "x-messages": {"not": "give remote_ip_prefix or remote_group, not both"},
}
_DEFAULT_EGRESS = (
    {"direction": "egress", "ethertype": "IPv4"},
    {"direction": "egress", "ethertype": "IPv6"},
)
_KEYS = (
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
)


def rule_form(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule in the one form both sides are compared in: every key, None for "any"."""
    return {k: rule.get(k) for k in _KEYS}


def _sorted(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    forms = {json.dumps(rule_form(r), sort_keys=True): rule_form(r) for r in rules}
    return [forms[k] for k in sorted(forms)]


class SecurityGroupKind(NeutronKind):
    name: ClassVar[str] = "security_group"
    section: ClassVar[str] = "security_groups"
    noun: ClassVar[str] = "security group"
    client_kind: ClassVar[str] = "security_group"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"$ref": "#/$defs/cloudName"},
            "description": {"type": "string", "maxLength": 255},
            "rules": {"type": "array", "items": _RULE},
            "delete_default_rules": {"type": "boolean"},
            "tags": TAGS_SCHEMA,
        },
    }
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "name")
    ignorable: ClassVar[Mapping[str, str]] = {
        "name": "name",
        "description": "description",
        "rules": "rules",
        "tags": "tags",
    }
    effects: ClassVar[Mapping[str, Effect]] = {
        f: Effect.UPDATE for f in ("name", "description", "rules", "tags")
    }
    late: ClassVar[frozenset[str]] = frozenset({"rules"})
    measures: ClassVar[tuple[Measure, ...]] = (
        Measure("security_groups", quota_label="security groups"),
        Measure("security_group_rules", quota_label="security group rules"),
    )

    def expand(self, entry: Entry) -> dict[str, Any]:
        rules = [] if entry.raw.get("delete_default_rules") else [dict(r) for r in _DEFAULT_EGRESS]
        with entry.late():
            for i, raw in enumerate(entry.raw.get("rules") or ()):
                rules.append(self._rule(entry, raw, i))
        return {
            "name": entry.cloud_name(),
            "description": entry.value("description", ""),
            "rules": _sorted(rules),
            "tags": sorted(set(entry.value("tags") or ())),
        }

    def _rule(self, entry: Entry, given: Mapping[str, Any], i: int) -> dict[str, Any]:
        raw = {
            k: v if k == "remote_group" else entry.value_at(v, "rules", i, k)
            for k, v in given.items()
        }
        protocol = raw.get("protocol", "any")
        if isinstance(protocol, str):
            if protocol not in _PROTOCOLS and not protocol.isdigit():
                entry.problem(
                    "rules",
                    f"rule {i}: protocol {protocol!r} is not tcp, udp, icmp, any or a number",
                )
            protocol = _PROTOCOLS.get(protocol, protocol)
        low = high = None
        if "port" in raw:
            text = str(raw["port"])
            low, _, top = text.partition("-")
            low, high = int(low), int(top or low)
            if protocol not in ("tcp", "udp", "sctp") or not 1 <= low <= high <= 65535:
                entry.problem(
                    "rules", f"rule {i}: port {text} needs tcp or udp and 1 <= N <= M <= 65535"
                )
        prefix = raw.get("remote_ip_prefix")
        ethertype = raw.get("ethertype") or ("IPv6" if prefix and ":" in prefix else "IPv4")
        remote = None
        if "remote_group" in raw:
            remote = entry.ref("security_group", raw["remote_group"], "rules", i, "remote_group")
        return {
            "direction": raw.get("direction", "ingress"),
            "ethertype": ethertype,
            "protocol": None if protocol is None else str(protocol),
            "port_range_min": low,
            "port_range_max": high,
            "remote_ip_prefix": prefix,
            "remote_group_id": remote,
        }

    def items(self, field: str, value: Any) -> list[str] | None:
        if field != "rules" or not isinstance(value, list):
            return None
        return sorted(rule_text(r) for r in value)

    def facts(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        anywhere = {"IPv4": "0.0.0.0/0", "IPv6": "::/0"}
        return {
            "ingress": [
                Ingress(
                    r.get("remote_ip_prefix") or anywhere.get(str(r.get("ethertype")), "0.0.0.0/0"),
                    r.get("protocol"),
                    r.get("port_range_min"),
                    r.get("port_range_max"),
                )
                for r in attrs.get("rules") or ()
                if r.get("direction") == "ingress" and not r.get("remote_group_id")
            ]
        }

    def usage(self, attrs: Mapping[str, Any]) -> dict[str, int]:
        return {"security_groups": 1, "security_group_rules": len(attrs.get("rules") or ())}

    def limits(self, reads: Reads) -> dict[str, Limit]:
        return neutron_limits(
            reads,
            {"security_groups": "security_group", "security_group_rules": "security_group_rule"},
        )

    def _list(self, cloud: Cloud, **filters: Any) -> Sequence[SecurityGroup]:
        return cloud.network.list_security_groups(**filters)

    def _observe(self, item: SecurityGroup, reads: Reads | None) -> ObservedResource:
        attrs = {
            "name": item.name,
            "description": item.description,
            "rules": _sorted([_rule_attrs(r) for r in item.rules]),
            "tags": user_tags(item.tags),
        }
        return ObservedResource("security_group", item.id, attrs, "", None, marker_of(item.tags))

    def _create(self, cloud: Cloud, attrs: Mapping[str, Any], tags: list[str]) -> SecurityGroup:
        body = {"name": attrs["name"], "description": attrs.get("description") or ""}
        return cloud.network.create_security_group(body)

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        body = changed(before, after, ("name", "description"))
        if body:
            cloud.network.update_security_group(resource_id, body)
        if "rules" in after:
            self._set_rules(cloud, resource_id, after["rules"])
        self.set_user_tags(cloud, resource_id, before, after)
        return None

    def _set_rules(self, cloud: Cloud, group_id: str, wanted: Sequence[Mapping[str, Any]]) -> None:
        """Add the rules the spec has and the group lacks; delete those it has and the
        spec does not (one by one: the others are never touched)."""
        (group,) = cloud.network.list_security_groups(id=[group_id]) or (None,)
        rules = group.rules if group else ()
        current = {json.dumps(rule_form(_rule_attrs(r)), sort_keys=True): r for r in rules}
        want = {json.dumps(rule_form(r), sort_keys=True): r for r in wanted}
        for key in sorted(set(current) - set(want)):
            cloud.network.delete_security_group_rule(current[key].id)
        for key in sorted(set(want) - set(current)):
            rule = want[key]
            body = {k: v for k, v in rule.items() if v is not None}
            cloud.network.create_security_group_rule({**body, "security_group_id": group_id})

    def _delete(self, cloud: Cloud, resource_id: str) -> None:
        cloud.network.delete_security_group(resource_id)


_SPEC_GROUP = re.compile(r"^\$\{security_group\.([^.}]+)\.id\}$")


def rule_text(rule: Mapping[str, Any]) -> str:
    """`ingress IPv4 tcp 22 from 10.0.0.0/8`, `egress IPv6 any to anywhere`."""
    words = [str(rule.get("direction")), str(rule.get("ethertype")), rule.get("protocol") or "any"]
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if low is not None:
        words.append(str(low) if high in (None, low) else f"{low}-{high}")
    group = rule.get("remote_group_id")
    if group:
        spec = _SPEC_GROUP.match(str(group))
        remote = f"group {spec.group(1) if spec else group}"
    else:
        remote = rule.get("remote_ip_prefix") or "anywhere"
    words += ["from" if rule.get("direction") == "ingress" else "to", remote]
    return " ".join(words)


def _rule_attrs(rule: SecurityGroupRule) -> dict[str, Any]:
    return {
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix,
        "remote_group_id": rule.remote_group_id,
    }
