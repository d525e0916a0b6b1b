"""What Neutron answers, as frozen values: networks, subnets, routers, ports, security
groups and their rules, floating IPs. Plain data with no wire names; `network.py` maps
Neutron's JSON onto these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stackplan.frozen import frozen_map


@dataclass(frozen=True, slots=True)
class Network:
    id: str
    name: str
    status: str = "ACTIVE"
    admin_state_up: bool = True
    shared: bool = False
    external: bool = False  # router:external
    mtu: int | None = None
    port_security_enabled: bool | None = None
    description: str = ""
    subnet_ids: tuple[str, ...] = ()
    project_id: str = ""  # the owner (an admin sees every project's)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Subnet:
    id: str
    name: str
    network_id: str
    cidr: str
    ip_version: int = 4
    gateway_ip: str | None = None
    enable_dhcp: bool = True
    dns_nameservers: tuple[str, ...] = ()
    allocation_pools: tuple[Mapping[str, str], ...] = ()  # {"start", "end"}
    host_routes: tuple[Mapping[str, str], ...] = ()  # {"destination", "nexthop"}
    description: str = ""
    project_id: str = ""  # the owner (an admin sees every project's)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FixedIp:
    subnet_id: str
    ip_address: str


@dataclass(frozen=True, slots=True)
class Port:
    id: str
    name: str
    network_id: str
    status: str = "DOWN"
    mac_address: str = ""
    fixed_ips: tuple[FixedIp, ...] = ()
    device_id: str = ""
    device_owner: str = ""
    security_group_ids: tuple[str, ...] = ()
    allowed_address_pairs: tuple[Mapping[str, str], ...] = ()  # {"ip_address", "mac_address"}
    admin_state_up: bool = True
    port_security_enabled: bool | None = None
    description: str = ""
    project_id: str = ""  # the owner (an admin sees every project's)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Router:
    id: str
    name: str
    status: str = "ACTIVE"
    admin_state_up: bool = True
    external_network_id: str | None = None  # external_gateway_info.network_id
    external_fixed_ips: tuple[FixedIp, ...] = ()
    description: str = ""
    project_id: str = ""  # the owner (an admin sees every project's)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SecurityGroupRule:
    id: str
    security_group_id: str
    direction: str  # ingress | egress
    ethertype: str = "IPv4"
    protocol: str | None = None  # None: any
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: str | None = None
    remote_group_id: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    id: str
    name: str
    description: str = ""
    rules: tuple[SecurityGroupRule, ...] = ()
    stateful: bool = True
    project_id: str = ""  # the owner (an admin sees every project's)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FloatingIp:
    id: str
    floating_ip_address: str
    floating_network_id: str
    port_id: str | None = None
    fixed_ip_address: str | None = None
    router_id: str | None = None
    status: str = "DOWN"
    description: str = ""
    project_id: str = ""  # the owner (an admin sees every project's)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NeutronQuota:
    """The project's quota for one resource: its limit (-1 unlimited) and what is used."""

    limit: int
    used: int = 0
    extra: Mapping[str, Any] = field(default_factory=frozen_map)
