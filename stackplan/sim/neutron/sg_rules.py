"""Security group rules (`/security-group-rules`): Neutron's protocol, port range,
ethertype and remote checks, and its duplicate test (`_rule_to_key`), from
`neutron/extensions/securitygroup.py` and `neutron/db/securitygroups_db.py`."""

from __future__ import annotations

import ipaddress
import sqlite3
from typing import Any

from stackplan.sim.neutron import checks, quotas, store
from stackplan.sim.neutron import security_groups as groups
from stackplan.sim.neutron.common import (
    STANDARD_READ_ONLY,
    Attr,
    AttrMap,
    Caller,
    NeutronError,
    bulk_requested,
    caller,
    conflict,
    new_id,
    not_found,
    prepare,
    read_only,
)
from stackplan.sim.neutron.query import BASE_FILTERS, Collection, listing, param, show
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response

TABLE = "neutron_security_group_rules"
# neutron_lib.constants.IP_PROTOCOL_MAP, in its order (error messages list it)
_PROTOCOL_TABLE = (
    "ah:51 dccp:33 egp:8 esp:50 gre:47 hopopt:0 icmp:1 igmp:2 ip:0 ipip:4 ipv6-encap:41 "
    "ipv6-frag:44 ipv6-icmp:58 icmpv6:58 ipv6-nonxt:59 ipv6-opts:60 ipv6-route:43 ospf:89 "
    "pgm:113 rsvp:46 sctp:132 tcp:6 udp:17 udplite:136 vrrp:112"
)
PROTOCOLS = {k: int(v) for k, v in (p.split(":") for p in _PROTOCOL_TABLE.split())}
SUPPORTED = (None, "any", *PROTOCOLS)
NUM_TO_NAME = {str(v): k for k, v in PROTOCOLS.items() if k != "icmpv6"}
PORT_PROTOCOLS = {"dccp", "sctp", "tcp", "udp", "33", "132", "6", "17"}
IPV6_ONLY = {
    "ipv6-encap",
    "ipv6-frag",
    "ipv6-icmp",
    "icmpv6",
    "ipv6-nonxt",
    "ipv6-opts",
    "ipv6-route",
    "41",
    "44",
    "58",
    "59",
    "60",
    "43",
}


def _bad(kind: str, message: str) -> NeutronError:
    return NeutronError(400, kind, message)


def rule_not_found(rule_id: str) -> NeutronError:
    return not_found("SecurityGroupRuleNotFound", f"Security group rule {rule_id} does not exist")


def convert_protocol(value: Any) -> str | None:
    if value in (None, "any"):
        return None
    invalid = _bad(
        "SecurityGroupRuleInvalidProtocol",
        f"Security group rule protocol {value} not supported. Only protocol values "
        f"{SUPPORTED} and integer representations [0 to 255] are supported.",
    )
    try:
        number = int(value)
    except (ValueError, TypeError):
        if isinstance(value, str) and value.lower() in SUPPORTED:
            return value.lower()
        raise invalid from None
    if 0 <= number <= 255:
        return str(value)
    raise invalid


def convert_ethertype(value: Any) -> str:
    if isinstance(value, str):
        for ethertype in ("IPv4", "IPv6"):
            if ethertype.lower() == value.lower():
                return ethertype
    raise _bad(
        "SecurityGroupRuleInvalidEtherType",
        f"Security group rule for ethertype '{value}' not supported. "
        "Allowed values are ['IPv4', 'IPv6'].",
    )


def convert_port(port: Any) -> int | None:
    if port is None:
        return None
    try:
        number = int(port)
    except (ValueError, TypeError):
        number = -1
    if 0 <= number <= 65535:
        return number
    raise _bad("SecurityGroupInvalidPortValue", f"Invalid value for port {port}")


def convert_prefix(prefix: Any) -> str | None:
    if not prefix:
        return None
    try:
        return str(ipaddress.ip_interface(prefix))
    except (ValueError, TypeError):
        raise _bad("InvalidCIDR", f"Invalid CIDR {prefix} given as IP prefix.") from None


SPEC: AttrMap = {
    **read_only("id"),
    "security_group_id": Attr(put=False, required=True, validate=checks.string(36)),
    "remote_group_id": Attr(put=False, default=None),
    "direction": Attr(put=False, required=True, validate=checks.values(["ingress", "egress"])),
    "protocol": Attr(put=False, default=None, convert=convert_protocol),
    "port_range_min": Attr(put=False, default=None, convert=convert_port),
    "port_range_max": Attr(put=False, default=None, convert=convert_port),
    "ethertype": Attr(
        put=False,
        default="IPv4",
        convert=convert_ethertype,
        validate=checks.values(["IPv4", "IPv6"]),
    ),
    "remote_ip_prefix": Attr(put=False, default=None, convert=convert_prefix),
    "description": Attr(put=False, default="", validate=checks.string(255)),
    "remote_address_group_id": Attr(put=False, default=None),
    **read_only("normalized_cidr", "belongs_to_default_sg"),
    **STANDARD_READ_ONLY,
}
_ANY = {"0.0.0.0/0", "::/0", None}


def _number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return int(PROTOCOLS.get(protocol, protocol))


def validate(rule: dict[str, Any]) -> None:
    """Neutron's `_validate_base_security_group_rule_attributes`, in its order."""
    if rule["ethertype"] == "IPv6":  # legacy IPv6 ICMP spellings become ipv6-icmp
        if rule["protocol"] in ("icmp", "icmpv6"):
            rule["protocol"] = "ipv6-icmp"
        elif rule["protocol"] == "1":
            rule["protocol"] = "58"
    if rule["port_range_min"] == 1 and rule["port_range_max"] == 65535:
        rule["port_range_min"] = rule["port_range_max"] = None  # the whole range: none
    low, high = rule["port_range_min"], rule["port_range_max"]
    if low is not None or high is not None:
        if not rule["protocol"]:
            raise _bad(
                "SecurityGroupProtocolRequiredWithPorts",
                "Must also specify protocol if port range is given.",
            )
        number = _number(rule["protocol"])
        if rule["protocol"] in PORT_PROTOCOLS or str(number) in PORT_PROTOCOLS:
            if low == 0 or high == 0:
                raise _bad("SecurityGroupInvalidPortValue", "Invalid value for port 0")
            if low is None or high is None or low > high:
                raise _bad(
                    "SecurityGroupInvalidPortRange",
                    "For TCP/UDP protocols, port_range_min must be <= port_range_max",
                )
        elif number in (1, 58):
            for attr, name in (("port_range_min", "type"), ("port_range_max", "code")):
                if rule[attr] is not None and not 0 <= rule[attr] <= 255:
                    raise _bad(
                        "SecurityGroupInvalidIcmpValue",
                        f"Invalid value for ICMP {name} ({attr}) {rule[attr]}. "
                        "It must be 0 to 255.",
                    )
            if low is None and high is not None:
                raise _bad(
                    "SecurityGroupMissingIcmpType",
                    f"ICMP code (port-range-max) {high} is provided but ICMP type "
                    "(port-range-min) is missing.",
                )
        else:
            raise _bad(
                "SecurityGroupInvalidProtocolForPort",
                f"Ports cannot be specified for protocol {number}. Ports are only supported "
                "for DCCP, SCTP, TCP, UDP.",
            )
    prefix = rule["remote_ip_prefix"]
    if prefix and rule["ethertype"] != f"IPv{ipaddress.ip_interface(prefix).version}":
        raise _bad(
            "SecurityGroupRuleParameterConflict",
            f"Conflicting value ethertype {rule['ethertype']} for CIDR {prefix}",
        )
    if rule["protocol"] in IPV6_ONLY and rule["ethertype"] == "IPv4":
        raise _bad(
            "SecurityGroupEthertypeConflictWithProtocol",
            f"Invalid ethertype IPv4 for protocol {rule['protocol']}.",
        )
    remotes = [k for k in ("remote_ip_prefix", "remote_group_id", "remote_address_group_id")]
    if sum(1 for k in remotes if rule.get(k)) > 1:
        raise _bad(
            "SecurityGroupMultipleRemoteEntites",
            "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id "
            "may be provided.",
        )


def _key(rule: dict[str, Any]) -> tuple[str, ...]:
    """Neutron's `_rule_to_key`: what makes two rules the same rule."""

    def norm(name: str) -> str:
        value = rule.get(name)
        if name == "remote_ip_prefix":
            return "+" if value in _ANY else str(value)
        if value is None:
            return "+"
        if name == "protocol":
            text = str(value)
            if rule.get("ethertype") == "IPv6":
                text = "ipv6-icmp" if text in ("icmp", "icmpv6") else "58" if text == "1" else text
            if text in PROTOCOLS:
                return str([text, str(PROTOCOLS[text])])
            return str([NUM_TO_NAME.get(text, text), text])
        return str(value)

    names = (
        "direction",
        "ethertype",
        "port_range_max",
        "port_range_min",
        "protocol",
        "remote_group_id",
        "remote_address_group_id",
        "remote_ip_prefix",
        "security_group_id",
    )
    return tuple(norm(n) for n in names)


def render(
    conn: sqlite3.Connection, row: sqlite3.Row, in_default: bool | None = None
) -> dict[str, Any]:
    if in_default is None:
        group = store.get(conn, groups.TABLE, row["security_group_id"])
        in_default = bool(group and group["is_default"])
    prefix = row["remote_ip_prefix"]
    body: dict[str, Any] = {
        "id": row["id"],
        **store.owner(row["project_id"]),
        "security_group_id": row["security_group_id"],
        "ethertype": row["ethertype"],
        "direction": row["direction"],
        "protocol": row["protocol"],
        "port_range_min": row["port_range_min"],
        "port_range_max": row["port_range_max"],
        "remote_ip_prefix": prefix,
        "remote_address_group_id": None,
        "normalized_cidr": str(ipaddress.ip_interface(prefix).network) if prefix else None,
        "remote_group_id": row["remote_group_id"],
        "belongs_to_default_sg": in_default,
        **store.standard(conn, None, row),
    }
    if row["made_by_neutron"]:
        body["description"] = None
    return body


def render_inside(
    conn: sqlite3.Connection, row: sqlite3.Row, in_default: bool | None
) -> dict[str, Any]:
    """A rule as its group shows it: Neutron's `_make_security_group_rule_dict` output
    with nothing filtered out, so `standard_attr_id` and the (empty) `tags` its standard
    attributes carry show too; `in_default` is the flag as the group's view has it."""
    body = render(conn, row, bool(in_default))  # any flag: it is replaced just below
    body["belongs_to_default_sg"] = in_default
    # Neutron's id is a counter over every resource's standard attributes; only rules
    # show it, so one counted over rules alone looks the same from outside.
    body["standard_attr_id"] = row["seq"]
    body["tags"] = []
    return body


def _visible(conn: sqlite3.Connection, who: Caller, row: sqlite3.Row) -> bool:
    if who.owns(row["project_id"]):
        return True
    group = store.get(conn, groups.TABLE, row["security_group_id"])
    return group is not None and who.owns(group["project_id"])


COLLECTION = Collection(
    "security_group_rules",
    {
        **BASE_FILTERS,
        **dict.fromkeys(("security_group_id", "remote_group_id", "direction")),
        "protocol": convert_protocol,
        "port_range_min": convert_port,
        "port_range_max": convert_port,
        "ethertype": convert_ethertype,
        "remote_ip_prefix": convert_prefix,
        "remote_address_group_id": None,
        "normalized_cidr": None,
        "belongs_to_default_sg": checks.to_bool,
    },
    frozenset(
        {
            "id",
            "security_group_id",
            "remote_group_id",
            "direction",
            "protocol",
            "port_range_min",
            "port_range_max",
            "ethertype",
            "remote_ip_prefix",
            "tenant_id",
            "project_id",
            "remote_address_group_id",
        }
    ),
    rule_not_found,
)


def list_rules(ctx: Context, req: Request) -> Response:
    who = caller(req)
    project = (req.query.get("project_id") or req.query.get("tenant_id") or [who.project_id])[0]
    with ctx.db.write() as conn:
        groups.ensure_default(ctx, conn, who, project)
    conn = ctx.db.read()
    rows = conn.execute(f"SELECT * FROM {TABLE} ORDER BY seq").fetchall()
    return listing(req, COLLECTION, [render(conn, r) for r in rows if _visible(conn, who, r)])


def show_rule(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    row = store.get(conn, TABLE, param(req, "id"))
    if row is None or not _visible(conn, caller(req), row):
        raise rule_not_found(param(req, "id"))
    return show(req, "security_group_rule", render(conn, row))


def create(ctx: Context, conn: sqlite3.Connection, who: Caller, rule: dict[str, Any]) -> str:
    """Check and store one rule (already through `prepare`); its id."""
    validate(rule)
    if rule["remote_group_id"]:
        groups.load(conn, who, rule["remote_group_id"])
    if rule["remote_address_group_id"]:
        raise not_found(
            "AddressGroupNotFound",
            f"Address group {rule['remote_address_group_id']} could not be found.",
        )
    group = groups.load(conn, who, rule["security_group_id"])
    for other in conn.execute(
        f"SELECT * FROM {TABLE} WHERE security_group_id = ?",
        (group["id"],),
    ):
        if _key(dict(other)) == _key(rule):
            raise conflict(
                "SecurityGroupRuleExists",
                f"Security group rule already exists. Rule id is {other['id']}.",
            )
    now = ctx.now()
    rule_id = new_id()
    conn.execute(
        f"INSERT INTO {TABLE} (id, project_id, security_group_id, direction, ethertype,"
        " protocol, port_range_min, port_range_max, remote_ip_prefix, remote_group_id,"
        " description, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rule_id,
            rule["project_id"],
            group["id"],
            rule["direction"],
            rule["ethertype"],
            rule["protocol"],
            rule["port_range_min"],
            rule["port_range_max"],
            rule["remote_ip_prefix"],
            rule["remote_group_id"],
            rule["description"],
            now,
            now,
        ),
    )
    store.bump(conn, groups.TABLE, group["id"], now)
    return rule_id


def create_rule(ctx: Context, req: Request) -> Response:
    who = caller(req)
    items = prepare(req, "security_group_rule", SPEC, True, who, bulk=True)
    with ctx.db.write() as conn:
        wanted: dict[tuple[str, str], int] = {}
        for item in items:
            key = (item["project_id"], "security_group_rule")
            wanted[key] = wanted.get(key, 0) + 1
        quotas.check(ctx, conn, wanted)
        if len(items) > 1:
            keys = [_key(i) for i in items]
            if len(set(keys)) != len(keys):
                raise conflict(
                    "DuplicateSecurityGroupRuleInPost", "Duplicate Security Group Rule in POST."
                )
        made = [create(ctx, conn, who, item) for item in items]
        bodies = [render(conn, store.get(conn, TABLE, r)) for r in made]
    if not bulk_requested(req, "security_group_rule"):
        return show(req, "security_group_rule", bodies[0], 201)
    return Response(201, {"security_group_rules": bodies})


def delete_rule(ctx: Context, req: Request) -> Response:
    rule_id = param(req, "id")
    with ctx.db.write() as conn:
        row = store.get(conn, TABLE, rule_id)
        if row is None or not _visible(conn, caller(req), row):
            raise rule_not_found(rule_id)
        conn.execute(f"DELETE FROM {TABLE} WHERE id = ?", (rule_id,))
        store.bump(conn, groups.TABLE, row["security_group_id"], ctx.now())
    return Response(204)
