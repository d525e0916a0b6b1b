"""The simulator's knobs (one frozen value) and the context handlers receive."""

from __future__ import annotations

import ipaddress
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stackplan.sim.db import Database

DEFAULT_PORT = 5555  # fixed so `sim env` without --port matches `sim serve` without --port
UNLIMITED = -1  # Nova's spelling of "no quota"


@dataclass(frozen=True, slots=True)
class SimOptions:
    """How the simulator behaves. Defaults are a small, calm, fast cloud.

    db: SQLite path; None means a fresh temp file removed at stop (nothing persists).
    quota_*: per-project limits enforced at create/resize; -1 is unlimited.
    fault_rate: fraction of API requests answered 500/503 before any effect.
    rate_limit: API requests per second over the whole server; 0 disables it.
    private_cidr: the seeded `private-subnet` (devstack's 10.0.0.0/26: 61 addresses for
        ports, so at most ~60 servers on `private` at once).
    port_tags_at_create: Neutron takes a port's `tags` in its POST only with ML2's
        `tag_ports_during_bulk_creation` extension driver (and lists the extension); a
        Neutron without it, as the conformance harness's, leaves them off the port.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    db: str | None = None
    latency_ms: float = 0.0
    build_seconds: float = 2.0
    delete_seconds: float = 0.0
    fault_rate: float = 0.0
    rate_limit: float = 0.0
    token_ttl: float = 3600.0
    seed: int | None = None
    quota_instances: int = 10
    quota_cores: int = 20
    quota_ram: int = 51200
    quota_server_groups: int = 10
    quota_server_group_members: int = 10
    quota_networks: int = 100  # Neutron's per-project defaults ([QUOTAS] in neutron.conf)
    quota_subnets: int = 100
    quota_ports: int = 500
    quota_routers: int = 10
    quota_floatingips: int = 50
    quota_security_groups: int = 10
    quota_security_group_rules: int = 100
    quota_volumes: int = 10  # Cinder's defaults (quota_volumes, quota_gigabytes)
    quota_gigabytes: int = 1000
    hosts: int = 1  # compute hosts the scheduler places servers on (server group policies)
    # devstack's `shared` network: with it the demo project sees two networks, and Nova
    # refuses a server that names none ("Multiple possible networks found").
    shared_network: bool = True
    private_cidr: str = "10.0.0.0/26"
    port_tags_at_create: bool = True

    def __post_init__(self) -> None:
        check_private_cidr(self.private_cidr)


def check_private_cidr(cidr: str) -> None:
    """ValueError unless `cidr` is an IPv4 network (no host bits) with room for ports:
    Neutron takes its first address for the gateway, which router1 holds."""
    try:
        network = ipaddress.ip_network(cidr)
    except ValueError:
        raise ValueError(
            f"private_cidr {cidr!r} is not an IPv4 network such as 10.0.0.0/26"
        ) from None
    if network.version != 4 or network.prefixlen > 29:
        raise ValueError(f"private_cidr {cidr!r} must be an IPv4 network of /29 or wider")


@dataclass(slots=True)
class Context:
    """What every handler may use: the options, the database, one random generator."""

    options: SimOptions
    db: Database
    rng: random.Random = field(default_factory=random.Random)

    def now(self) -> float:
        return time.time()
