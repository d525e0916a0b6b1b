"""`stackplan sim serve | env`: run the embedded OpenStack cloud, print its openrc lines.

The simulator modules are imported inside the commands, so `stackplan --help` stays fast.
"""

from __future__ import annotations

import errno
import shlex

import typer

from stackplan.errors import StackplanError

# Keep in step with stackplan.sim.options.DEFAULT_PORT (not imported: startup speed).
DEFAULT_PORT = 5555

sim_app = typer.Typer(
    name="sim",
    help="The embedded OpenStack cloud (Keystone, Nova, Glance) for demos and tests.",
    no_args_is_help=True,
)


def _private_cidr(value: str) -> str:
    from stackplan.sim.options import check_private_cidr

    try:
        check_private_cidr(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


@sim_app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind (loopback by default)."),
    port: int = typer.Option(DEFAULT_PORT, help="Port; 0 picks a free one."),
    db: str = typer.Option(
        None, help="SQLite file kept across restarts; default: a temp file removed at exit."
    ),
    latency_ms: float = typer.Option(0.0, help="Milliseconds added to every response."),
    build_seconds: float = typer.Option(2.0, help="Seconds a server (or action) stays busy."),
    delete_seconds: float = typer.Option(0.0, help="Seconds a delete takes."),
    fault_rate: float = typer.Option(0.0, help="Fraction of API requests answered 500/503."),
    rate_limit: float = typer.Option(0.0, help="API requests per second, then 429; 0 = off."),
    token_ttl: float = typer.Option(3600.0, help="Token lifetime in seconds."),
    seed: int = typer.Option(None, help="Seed of the random generator (fault injection)."),
    quota_instances: int = typer.Option(10, help="Servers per project; -1 = unlimited."),
    quota_cores: int = typer.Option(20, help="vCPUs per project; -1 = unlimited."),
    quota_ram: int = typer.Option(51200, help="RAM MiB per project; -1 = unlimited."),
    quota_server_groups: int = typer.Option(10, help="Server groups per project; -1 = unlimited."),
    quota_server_group_members: int = typer.Option(
        10, help="Servers per server group; -1 = unlimited."
    ),
    quota_networks: int = typer.Option(100, help="Neutron networks per project; -1 = unlimited."),
    quota_subnets: int = typer.Option(100, help="Neutron subnets per project; -1 = unlimited."),
    quota_ports: int = typer.Option(500, help="Neutron ports per project; -1 = unlimited."),
    quota_routers: int = typer.Option(10, help="Neutron routers per project; -1 = unlimited."),
    quota_floatingips: int = typer.Option(50, help="Floating IPs per project; -1 = unlimited."),
    quota_security_groups: int = typer.Option(
        10, help="Security groups per project; -1 = unlimited."
    ),
    quota_security_group_rules: int = typer.Option(
        100, help="Security group rules per project; -1 = unlimited."
    ),
    quota_volumes: int = typer.Option(10, help="Cinder volumes per project; -1 = unlimited."),
    quota_gigabytes: int = typer.Option(
        1000, help="Cinder volume GiB per project; -1 = unlimited."
    ),
    hosts: int = typer.Option(1, help="Compute hosts (server group policies place on them)."),
    no_shared_network: bool = typer.Option(
        False,
        "--no-shared-network",
        help="Seed no `shared` network: the demo project then sees one network only.",
    ),
    private_cidr: str = typer.Option(
        "10.0.0.0/26",
        help="CIDR of the seeded private-subnet (devstack's /26: ~60 servers at once).",
        callback=_private_cidr,
    ),
    no_quota: bool = typer.Option(False, "--no-quota", help="Make every quota unlimited."),
    no_port_tags_at_create: bool = typer.Option(
        False,
        "--no-port-tags-at-create",
        help="Leave the tags of a port's POST off it, as a Neutron without ML2's "
        "tag_ports_during_bulk_creation driver does (the client tags it after).",
    ),
) -> None:
    """Serve the cloud on one port laid out like devstack: /identity, /compute, /image."""
    from stackplan.sim.app import SimOptions
    from stackplan.sim.app import serve as _serve

    if no_quota:
        quota_instances = quota_cores = quota_ram = -1
        quota_server_groups = quota_server_group_members = -1
        quota_networks = quota_subnets = quota_ports = quota_routers = -1
        quota_floatingips = quota_security_groups = quota_security_group_rules = -1
        quota_volumes = quota_gigabytes = -1
    try:
        _serve(
            SimOptions(
                host=host,
                port=port,
                db=db,
                latency_ms=latency_ms,
                build_seconds=build_seconds,
                delete_seconds=delete_seconds,
                fault_rate=fault_rate,
                rate_limit=rate_limit,
                token_ttl=token_ttl,
                seed=seed,
                quota_instances=quota_instances,
                quota_cores=quota_cores,
                quota_ram=quota_ram,
                quota_server_groups=quota_server_groups,
                quota_server_group_members=quota_server_group_members,
                quota_networks=quota_networks,
                quota_subnets=quota_subnets,
                quota_ports=quota_ports,
                quota_routers=quota_routers,
                quota_floatingips=quota_floatingips,
                quota_security_groups=quota_security_groups,
                quota_security_group_rules=quota_security_group_rules,
                quota_volumes=quota_volumes,
                quota_gigabytes=quota_gigabytes,
                hosts=hosts,
                shared_network=not no_shared_network,
                private_cidr=private_cidr,
                port_tags_at_create=not no_port_tags_at_create,
            )
        )
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise StackplanError(
            f"cannot serve on {host}:{port}: the port is in use",
            hint="stop what listens there, pick another --port, or give --port 0 for a free one",
        ) from None


def env_lines(url: str, user: str = "demo", v2: bool = False) -> list[str]:
    """The `export OS_...` lines for a simulator at `url` (also used by test fixtures)."""
    common = {
        "OS_USERNAME": user,
        "OS_PASSWORD": "secret",
        "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "public",
    }
    if v2:
        values = {
            "OS_AUTH_URL": f"{url}/identity/v2.0",
            "OS_IDENTITY_API_VERSION": "2.0",
            "OS_TENANT_NAME": user,
            "OS_PROJECT_NAME": user,
            **common,
        }
    else:
        values = {
            "OS_AUTH_URL": f"{url}/identity/v3",
            "OS_IDENTITY_API_VERSION": "3",
            "OS_PROJECT_NAME": user,
            "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default",
            **common,
        }
    return [f"export {k}={shlex.quote(v)}" for k, v in values.items()]


@sim_app.command()
def env(
    host: str = typer.Option("127.0.0.1", help="Host the simulator listens on."),
    port: int = typer.Option(DEFAULT_PORT, help="Port the simulator listens on."),
    v2: bool = typer.Option(False, "--v2", help="Keystone v2.0 (the classic flow)."),
    user: str = typer.Option("demo", help="demo or admin (password: secret)."),
) -> None:
    """Print `export OS_...=...` lines; use as `eval "$(stackplan sim env)"`."""
    for line in env_lines(f"http://{host}:{port}", user=user, v2=v2):
        typer.echo(line)
