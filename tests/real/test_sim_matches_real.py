"""The simulator held against the real services: every route stackplan's client uses (and
those the official clients hit in tests/compat/), sent alike to `stackplan sim` (in this
process) and to the harness (Keystone and Nova in RegionOne, Neutron and Cinder in
RegionTwo), compared by status, body shape (key sets and value types, error bodies
included), the headers clients read and the pagination links.

Each step runs in order on both sides (a scenario per service: what a step creates, the
next ones use), then each is one test. A difference fails its test unless it is in
`HARNESS` (the harness's own: fixtures, fake drivers, no agents, its data) or `DESIGN`
(what the simulator does differently on purpose, and says so in its README): one list,
with the reason, never skipped quietly. A step whose difference is a simulator bug is
marked `xfail(strict=True)` in `SIM_BUGS` with the difference named.

The full list of differences of a run is written to $HARNESS_HOME/logs/sim-vs-real.json.
"""

from __future__ import annotations

import json
import re
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from stackplan.sim.app import SimOptions, start
from tests.real.harness import (
    AUTH_URL,
    DEMO,
    HARNESS_HOME,
    IMAGE_ID,
    REGION_ONE,
    REGION_TWO,
    ROOT,
    HarnessFlake,
    password_auth,
    placement_locks,
)

SIM_IMAGE = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01"  # the simulator's cirros
COMPUTE = {"OpenStack-API-Version": "compute 2.64", "X-OpenStack-Nova-API-Version": "2.64"}
PROXY = {"OpenStack-API-Version": "compute 2.35", "X-OpenStack-Nova-API-Version": "2.35"}
VOLUME = {"OpenStack-API-Version": "volume 3.42"}  # what stackplan's VolumeClient sends
HEADERS = ("x-openstack-request-id", "openstack-api-version", "x-subject-token", "location")
PUBLIC_KEY = (ROOT / "examples" / "web" / "keys" / "deploy.pub").read_text().strip()
REPORT = HARNESS_HOME / "logs" / "sim-vs-real.json"

# Dicts whose keys are data, not fields: their values are compared, not their keys.
MAPS = (
    "*.metadata",
    "*.extra_specs",
    "*.addresses",
    "*.volume_image_metadata",
    "*.quota_set",
    "*.absolute",
)


# -- the two sides -----------------------------------------------------------------------


@dataclass
class Side:
    name: str
    roots: dict[str, str]  # service -> URL the steps' paths are relative to
    password: str
    image_id: str
    http: requests.Session = field(default_factory=requests.Session)
    token: str = ""
    project_id: str = ""
    user_id: str = ""

    def login(self) -> None:
        resp = self.http.post(
            f"{self.roots['identity']}/auth/tokens",
            json=password_auth("demo", self.password, "demo"),
            timeout=30,
        )
        resp.raise_for_status()
        self.token = resp.headers["X-Subject-Token"]
        body = resp.json()["token"]
        self.project_id, self.user_id = body["project"]["id"], body["user"]["id"]
        self.catalog = body["catalog"]

    def endpoint(self, service_type: str, region: str) -> str:
        for service in self.catalog:
            if service["type"] == service_type:
                for ep in service["endpoints"]:
                    if ep["interface"] == "public" and ep["region_id"] == region:
                        return ep["url"].rstrip("/")
        raise LookupError(service_type)


def real_side() -> Side:
    side = Side("real", {"identity": AUTH_URL}, DEMO[1], IMAGE_ID)
    side.login()
    nova = side.endpoint("compute", REGION_ONE)
    side.roots.update(
        {
            "identity-root": AUTH_URL.removesuffix("/v3"),
            "compute": nova,
            "compute-root": nova.removesuffix("/v2.1"),
            "network": side.endpoint("network", REGION_TWO),
            "volume": side.endpoint("block-storage", REGION_TWO),
            "volume-root": side.endpoint("block-storage", REGION_TWO).removesuffix("/v3"),
        }
    )
    return side


def sim_side(url: str) -> Side:
    side = Side("sim", {"identity": f"{url}/identity/v3"}, "secret", SIM_IMAGE)
    side.login()
    side.roots.update(
        {
            "identity-root": f"{url}/identity",
            "compute": side.endpoint("compute", "RegionOne"),
            "compute-root": f"{url}/compute",
            "network": side.endpoint("network", "RegionOne"),
            "volume": side.endpoint("block-storage", "RegionOne"),
            "volume-root": f"{url}/volume",
        }
    )
    return side


# -- steps -------------------------------------------------------------------------------


@dataclass
class Exchange:
    status: int
    headers: dict[str, str]
    body: Any  # decoded JSON, the text when it is not JSON, None when empty
    url: str
    error: str = ""


Ctx = dict[str, Any]


@dataclass(frozen=True)
class Step:
    id: str
    service: str
    method: str
    path: str  # relative to the service's root; {names} from the context
    body: Any = None  # a dict, or ctx -> dict
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True
    save: dict[str, Callable[[Exchange], Any]] = field(default_factory=dict)
    before: Callable[[Side, Ctx], None] | None = None  # waits, run first on each side
    paged: str = ""  # the list's key: its `<key>_links` next link is compared too


def _fmt(value: Any, ctx: Ctx) -> Any:
    if callable(value):
        return value(ctx)
    if isinstance(value, str):
        return value.format(**ctx)
    if isinstance(value, dict):
        return {k: _fmt(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_fmt(v, ctx) for v in value]
    return value


def send(side: Side, step: Step, ctx: Ctx) -> Exchange:
    url = side.roots[step.service] + _fmt(step.path, ctx)
    headers = {**step.headers}
    headers = {k: _fmt(v, ctx) for k, v in headers.items()}
    if step.auth:
        headers["X-Auth-Token"] = side.token
    body = _fmt(step.body, ctx) if step.body is not None else None
    resp = side.http.request(step.method, url, json=body, headers=headers, timeout=60)
    try:
        data = resp.json() if resp.content else None
    except ValueError:
        data = resp.text
    return Exchange(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, data, url)


def wait_server(key: str, statuses: tuple[str, ...]) -> Callable[[Side, Ctx], None]:
    def wait(side: Side, ctx: Ctx) -> None:
        url = f"{side.roots['compute']}/servers/{ctx[key]}"
        deadline = time.monotonic() + 120
        while True:
            resp = side.http.get(url, headers={"X-Auth-Token": side.token, **COMPUTE}, timeout=30)
            status = resp.json()["server"]["status"] if resp.ok else str(resp.status_code)
            if status in statuses:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{side.name}: server {ctx[key]} stays {status}")
            time.sleep(0.3)

    return wait


def wait_gone(key: str) -> Callable[[Side, Ctx], None]:
    return wait_server(key, ("404",))


def wait_volume(key: str, status: str = "available", size: int | None = None):
    def wait(side: Side, ctx: Ctx) -> None:
        url = f"{side.roots['volume']}/volumes/{ctx[key]}"
        deadline = time.monotonic() + 60
        while True:
            resp = side.http.get(url, headers={"X-Auth-Token": side.token, **VOLUME}, timeout=30)
            vol = resp.json()["volume"] if resp.ok else {"status": str(resp.status_code)}
            if vol["status"] == status and size in (None, vol.get("size")):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{side.name}: volume {ctx[key]} stays {vol['status']}")
            time.sleep(0.2)

    return wait


def both(*waits: Callable[[Side, Ctx], None]) -> Callable[[Side, Ctx], None]:
    def wait(side: Side, ctx: Ctx) -> None:
        for w in waits:
            w(side, ctx)

    return wait


def _id(key: str) -> Callable[[Exchange], Any]:
    return lambda ex: ex.body[key]["id"]


def _auth(password: str, project: str = "demo") -> Callable[[Ctx], dict]:
    return lambda ctx: password_auth("demo", ctx[password], project)


S = "/servers/{server_id}"
S2 = "/servers/{server2_id}"
V = "/volumes/{vol_id}"
NONE = str(uuid.UUID(int=1))  # an ID nothing has

IDENTITY = [
    Step("identity.versions", "identity-root", "GET", "/", auth=False),
    Step("identity.v3", "identity", "GET", "", auth=False),
    Step(
        "identity.token",
        "identity",
        "POST",
        "/auth/tokens",
        body=_auth("password"),
        auth=False,
        save={"token2": lambda ex: ex.headers["x-subject-token"]},
    ),
    Step(
        "identity.token.bad_password",
        "identity",
        "POST",
        "/auth/tokens",
        auth=False,
        body=lambda ctx: password_auth("demo", "wrong", "demo"),
    ),
    Step(
        "identity.token.unknown_project",
        "identity",
        "POST",
        "/auth/tokens",
        auth=False,
        body=_auth("password", project="nope"),
    ),
    Step(
        "identity.token.validate",
        "identity",
        "GET",
        "/auth/tokens",
        headers={"X-Subject-Token": "{token2}"},
    ),
    Step(
        "identity.token.head",
        "identity",
        "HEAD",
        "/auth/tokens",
        headers={"X-Subject-Token": "{token2}"},
    ),
    Step("identity.catalog", "identity", "GET", "/auth/catalog"),
    Step("identity.user_projects", "identity", "GET", "/users/{user_id}/projects"),
    Step("identity.project", "identity", "GET", "/projects/{project_id}"),
    Step("identity.projects", "identity", "GET", "/projects"),
    Step(
        "identity.token.revoke",
        "identity",
        "DELETE",
        "/auth/tokens",
        headers={"X-Subject-Token": "{token2}"},
    ),
    Step(
        "identity.token.revoked",
        "identity",
        "GET",
        "/auth/tokens",
        headers={"X-Subject-Token": "{token2}"},
    ),
    Step(
        "identity.token.garbage",
        "identity",
        "GET",
        "/auth/tokens",
        headers={"X-Subject-Token": "not-a-token"},
    ),
    Step(
        "identity.v2_tokens",
        "identity-root",
        "POST",
        "/v2.0/tokens",
        auth=False,
        body=lambda ctx: {
            "auth": {
                "passwordCredentials": {"username": "demo", "password": ctx["password"]},
                "tenantName": "demo",
            }
        },
    ),
]

_SERVER = {
    "server": {
        "name": "{prefix}-a",
        "imageRef": "{image_id}",
        "flavorRef": "1",
        "networks": "none",
        "metadata": {"role": "a"},
        "key_name": "{prefix}-kp",
    },
    "os:scheduler_hints": {"group": "{group_id}"},
}
_SERVER2 = {  # alike enough that either may come first in a page of one
    "server": {
        "name": "{prefix}-b",
        "imageRef": "{image_id}",
        "flavorRef": "1",
        "networks": "none",
        "metadata": {"role": "b"},
        "key_name": "{prefix}-kp",
    }
}
C = COMPUTE
COMPUTE_STEPS = [
    Step("compute.versions", "compute-root", "GET", "/", auth=False),
    Step("compute.version", "compute", "GET", "", auth=False),  # stackplan's negotiation
    Step("compute.unauthorized", "compute", "GET", "/flavors", auth=False, headers=C),
    Step("compute.flavors", "compute", "GET", "/flavors", headers=C),
    Step("compute.flavors.detail", "compute", "GET", "/flavors/detail", headers=C),
    Step(
        "compute.flavors.page",
        "compute",
        "GET",
        "/flavors/detail?limit=1",
        headers=C,
        paged="flavors",
    ),
    Step("compute.flavor", "compute", "GET", "/flavors/1", headers=C),
    Step("compute.flavor.missing", "compute", "GET", "/flavors/nope", headers=C),
    Step("compute.flavor.extra_specs", "compute", "GET", "/flavors/1/os-extra_specs", headers=C),
    Step("compute.images", "compute", "GET", "/images/detail", headers=PROXY),
    Step("compute.image", "compute", "GET", "/images/{image_id}", headers=PROXY),
    Step("compute.limits", "compute", "GET", "/limits", headers=C),
    Step("compute.availability_zones", "compute", "GET", "/os-availability-zone", headers=C),
    Step("compute.quota", "compute", "GET", "/os-quota-sets/{project_id}", headers=C),
    Step("compute.quota.detail", "compute", "GET", "/os-quota-sets/{project_id}/detail", headers=C),
    Step(
        "compute.keypair.create",
        "compute",
        "POST",
        "/os-keypairs",
        headers=C,
        body={"keypair": {"name": "{prefix}-kp", "public_key": PUBLIC_KEY}},
    ),
    Step(
        "compute.keypair.duplicate",
        "compute",
        "POST",
        "/os-keypairs",
        headers=C,
        body={"keypair": {"name": "{prefix}-kp", "public_key": PUBLIC_KEY}},
    ),
    Step("compute.keypairs", "compute", "GET", "/os-keypairs", headers=C),
    Step("compute.keypair", "compute", "GET", "/os-keypairs/{prefix}-kp", headers=C),
    Step("compute.keypair.missing", "compute", "GET", "/os-keypairs/{prefix}-none", headers=C),
    Step(
        "compute.server_group.create",
        "compute",
        "POST",
        "/os-server-groups",
        headers=C,
        body={"server_group": {"name": "{prefix}-g", "policy": "anti-affinity"}},
        save={"group_id": _id("server_group")},
    ),
    Step(
        "compute.server_group.bad_policy",
        "compute",
        "POST",
        "/os-server-groups",
        headers=C,
        body={"server_group": {"name": "{prefix}-x", "policy": "nope"}},
    ),
    Step("compute.server_groups", "compute", "GET", "/os-server-groups", headers=C),
    Step("compute.server_group", "compute", "GET", "/os-server-groups/{group_id}", headers=C),
    Step(
        "compute.server.create",
        "compute",
        "POST",
        "/servers",
        headers=C,
        body=_SERVER,
        save={"server_id": _id("server")},
    ),
    Step(
        "compute.server.create.second",
        "compute",
        "POST",
        "/servers",
        headers=C,
        body=_SERVER2,
        save={"server2_id": _id("server")},
    ),
    Step(
        "compute.server.create.bad_flavor",
        "compute",
        "POST",
        "/servers",
        headers=C,
        body={
            "server": {
                "name": "{prefix}-x",
                "imageRef": "{image_id}",
                "flavorRef": "nope",
                "networks": "none",
            }
        },
    ),
    Step(
        "compute.servers",
        "compute",
        "GET",
        "/servers?name=^{prefix}-",
        headers=C,
        before=both(wait_server("server_id", ("ACTIVE",)), wait_server("server2_id", ("ACTIVE",))),
    ),
    Step("compute.servers.detail", "compute", "GET", "/servers/detail?name=^{prefix}-", headers=C),
    Step(
        "compute.servers.page",
        "compute",
        "GET",
        "/servers/detail?name=^{prefix}-&limit=1",
        headers=C,
        paged="servers",
    ),
    Step(
        "compute.servers.changes_since",
        "compute",
        "GET",
        "/servers/detail?name=^{prefix}-&changes-since={since}",
        headers=C,
    ),
    Step("compute.server", "compute", "GET", S, headers=C),
    Step("compute.server.missing", "compute", "GET", f"/servers/{NONE}", headers=C),
    Step(
        "compute.server.rename",
        "compute",
        "PUT",
        S,
        headers=C,
        body={"server": {"name": "{prefix}-a2"}},
    ),
    Step(
        "compute.metadata.merge",
        "compute",
        "POST",
        S + "/metadata",
        headers=C,
        body={"metadata": {"k": "v"}},
    ),
    Step(
        "compute.metadata.replace",
        "compute",
        "PUT",
        S + "/metadata",
        headers=C,
        body={"metadata": {"role": "b"}},
    ),
    Step("compute.metadata", "compute", "GET", S + "/metadata", headers=C),
    Step("compute.metadata.delete", "compute", "DELETE", S + "/metadata/role", headers=C),
    Step("compute.metadata.delete.missing", "compute", "DELETE", S + "/metadata/role", headers=C),
    Step(
        "compute.tags.replace",
        "compute",
        "PUT",
        S + "/tags",
        headers=C,
        body={"tags": ["t1", "t2"]},
    ),
    Step("compute.tags", "compute", "GET", S + "/tags", headers=C),
    Step("compute.servers.by_tag", "compute", "GET", "/servers/detail?tags=t1", headers=C),
    Step("compute.interfaces", "compute", "GET", S + "/os-interface", headers=C),
    Step("compute.volume_attachments", "compute", "GET", S + "/os-volume_attachments", headers=C),
    Step(
        "compute.server_group.members", "compute", "GET", "/os-server-groups/{group_id}", headers=C
    ),
    Step("compute.stop", "compute", "POST", S + "/action", headers=C, body={"os-stop": None}),
    Step(
        "compute.stop.again",
        "compute",
        "POST",
        S + "/action",
        headers=C,
        body={"os-stop": None},
        before=wait_server("server_id", ("SHUTOFF",)),
    ),
    Step("compute.server.shutoff", "compute", "GET", S, headers=C),
    Step("compute.start", "compute", "POST", S + "/action", headers=C, body={"os-start": None}),
    Step(
        "compute.reboot",
        "compute",
        "POST",
        S + "/action",
        headers=C,
        body={"reboot": {"type": "SOFT"}},
        before=wait_server("server_id", ("ACTIVE",)),
    ),
    Step(
        "compute.resize",
        "compute",
        "POST",
        S2 + "/action",
        headers=C,
        body={"resize": {"flavorRef": "2"}},
    ),
    Step(
        "compute.server.verify_resize",
        "compute",
        "GET",
        S2,
        headers=C,
        before=wait_server("server2_id", ("VERIFY_RESIZE",)),
    ),
    Step(
        "compute.resize.again",
        "compute",
        "POST",
        S2 + "/action",
        headers=C,
        body={"resize": {"flavorRef": "3"}},
    ),
    Step(
        "compute.confirm_resize",
        "compute",
        "POST",
        S2 + "/action",
        headers=C,
        body={"confirmResize": None},
    ),
    Step(
        "compute.rebuild",
        "compute",
        "POST",
        S2 + "/action",
        headers=C,
        body={"rebuild": {"imageRef": "{image_id}"}},
        before=wait_server("server2_id", ("ACTIVE",)),
    ),
    Step(
        "compute.instance_actions",
        "compute",
        "GET",
        S2 + "/os-instance-actions",
        headers=C,
        before=wait_server("server2_id", ("ACTIVE",)),
        save={"action_id": lambda ex: ex.body["instanceActions"][-1]["request_id"]},
    ),
    Step(
        "compute.instance_action",
        "compute",
        "GET",
        S2 + "/os-instance-actions/{action_id}",
        headers=C,
    ),
    Step(
        "compute.instance_action.missing",
        "compute",
        "GET",
        S2 + "/os-instance-actions/req-nope",
        headers=C,
    ),
    Step(
        "compute.server.delete",
        "compute",
        "DELETE",
        S,
        headers=C,
        before=both(wait_server("server_id", ("ACTIVE",)), wait_server("server2_id", ("ACTIVE",))),
    ),
    Step("compute.server.delete.second", "compute", "DELETE", S2, headers=C),
    Step(
        "compute.server.deleted",
        "compute",
        "GET",
        S,
        headers=C,
        before=both(wait_gone("server_id"), wait_gone("server2_id")),
    ),
    Step(
        "compute.server_group.delete",
        "compute",
        "DELETE",
        "/os-server-groups/{group_id}",
        headers=C,
    ),
    Step("compute.keypair.delete", "compute", "DELETE", "/os-keypairs/{prefix}-kp", headers=C),
]

N = "/v2.0"
NETWORK_STEPS = [
    Step("network.versions", "network", "GET", "/", auth=False),
    Step("network.unauthorized", "network", "GET", N + "/networks", auth=False),
    Step("network.extensions", "network", "GET", N + "/extensions"),
    Step("network.networks", "network", "GET", N + "/networks"),
    Step(
        "network.networks.public",
        "network",
        "GET",
        N + "/networks?name=public",
        save={"public_id": lambda ex: ex.body["networks"][0]["id"]},
    ),
    Step(
        "network.network.create",
        "network",
        "POST",
        N + "/networks",
        body={"network": {"name": "{prefix}-n"}},
        save={"net_id": _id("network")},
    ),
    Step(
        "network.network.create.second",
        "network",
        "POST",
        N + "/networks",
        body={"network": {"name": "{prefix}-n2"}},
        save={"net2_id": _id("network")},
    ),
    # Internal networks only: which network a page of one holds depends on the IDs, and an
    # external one (`public`) shows is_default where the others do not.
    Step(
        "network.networks.page",
        "network",
        "GET",
        N + "/networks?router:external=false&limit=1",
        paged="networks",
    ),
    Step(
        "network.network.update",
        "network",
        "PUT",
        N + "/networks/{net_id}",
        body={"network": {"name": "{prefix}-n1", "mtu": 1400}},
    ),
    Step(
        "network.network.tags",
        "network",
        "PUT",
        N + "/networks/{net_id}/tags",
        body={"tags": ["{prefix}", "stackplan:address=network.n"]},
    ),
    Step("network.networks.by_tag", "network", "GET", N + "/networks?tags={prefix}"),
    Step("network.network", "network", "GET", N + "/networks/{net_id}"),
    Step("network.network.missing", "network", "GET", N + f"/networks/{NONE}"),
    Step(
        "network.subnet.create",
        "network",
        "POST",
        N + "/subnets",
        body={
            "subnet": {
                "network_id": "{net_id}",
                "name": "{prefix}-s",
                "ip_version": 4,
                "cidr": "10.{octet}.0.0/24",
                "dns_nameservers": ["1.1.1.1"],
                "allocation_pools": [{"start": "10.{octet}.0.10", "end": "10.{octet}.0.200"}],
            }
        },
        save={"subnet_id": _id("subnet")},
    ),
    Step(
        "network.subnet.bad_cidr",
        "network",
        "POST",
        N + "/subnets",
        body={"subnet": {"network_id": "{net_id}", "ip_version": 4, "cidr": "10.0.0.0/33"}},
    ),
    Step(
        "network.subnet.update",
        "network",
        "PUT",
        N + "/subnets/{subnet_id}",
        body={"subnet": {"dns_nameservers": ["1.1.1.1", "9.9.9.9"]}},
    ),
    Step("network.subnets", "network", "GET", N + "/subnets?network_id={net_id}"),
    Step(
        "network.router.create",
        "network",
        "POST",
        N + "/routers",
        body={"router": {"name": "{prefix}-r"}},
        save={"router_id": _id("router")},
    ),
    Step(
        "network.router.gateway",
        "network",
        "PUT",
        N + "/routers/{router_id}",
        body={"router": {"external_gateway_info": {"network_id": "{public_id}"}}},
    ),
    Step(
        "network.router.add_interface",
        "network",
        "PUT",
        N + "/routers/{router_id}/add_router_interface",
        body={"subnet_id": "{subnet_id}"},
    ),
    Step("network.routers", "network", "GET", N + "/routers?name={prefix}-r"),
    Step(
        "network.security_group.create",
        "network",
        "POST",
        N + "/security-groups",
        body={"security_group": {"name": "{prefix}-sg", "description": "d"}},
        save={"sg_id": _id("security_group")},
    ),
    Step(
        "network.rule.create",
        "network",
        "POST",
        N + "/security-group-rules",
        body={
            "security_group_rule": {
                "security_group_id": "{sg_id}",
                "direction": "ingress",
                "ethertype": "IPv4",
                "protocol": "tcp",
                "port_range_min": 22,
                "port_range_max": 22,
            }
        },
        save={"rule_id": _id("security_group_rule")},
    ),
    Step(
        "network.rule.duplicate",
        "network",
        "POST",
        N + "/security-group-rules",
        body={
            "security_group_rule": {
                "security_group_id": "{sg_id}",
                "direction": "ingress",
                "ethertype": "IPv4",
                "protocol": "tcp",
                "port_range_min": 22,
                "port_range_max": 22,
            }
        },
    ),
    Step(
        "network.rule.remote_group",
        "network",
        "POST",
        N + "/security-group-rules",
        body={
            "security_group_rule": {
                "security_group_id": "{sg_id}",
                "direction": "ingress",
                "protocol": "tcp",
                "port_range_min": 8000,
                "port_range_max": 8100,
                "remote_group_id": "{sg_id}",
            }
        },
    ),
    Step(
        "network.security_group.update",
        "network",
        "PUT",
        N + "/security-groups/{sg_id}",
        body={"security_group": {"description": "e"}},
    ),
    Step("network.security_groups", "network", "GET", N + "/security-groups?name={prefix}-sg"),
    Step(
        "network.port.create",
        "network",
        "POST",
        N + "/ports",
        body={
            "port": {
                "network_id": "{net_id}",
                "name": "{prefix}-p",
                "fixed_ips": [{"subnet_id": "{subnet_id}", "ip_address": "10.{octet}.0.100"}],
                "security_groups": ["{sg_id}"],
                "tags": ["{prefix}"],
            }
        },
        save={"port_id": _id("port")},
    ),
    Step(
        "network.port.update",
        "network",
        "PUT",
        N + "/ports/{port_id}",
        body={"port": {"allowed_address_pairs": [{"ip_address": "10.{octet}.0.5"}]}},
    ),
    Step("network.ports", "network", "GET", N + "/ports?network_id={net_id}"),
    Step(
        "network.floating_ip.create",
        "network",
        "POST",
        N + "/floatingips",
        body={"floatingip": {"floating_network_id": "{public_id}", "port_id": "{port_id}"}},
        save={"fip_id": _id("floatingip")},
    ),
    Step(
        "network.port.fixed_ips.under_floating_ip",
        "network",
        "PUT",
        N + "/ports/{port_id}",
        body={
            "port": {"fixed_ips": [{"subnet_id": "{subnet_id}", "ip_address": "10.{octet}.0.101"}]}
        },
    ),
    Step("network.floating_ips", "network", "GET", N + "/floatingips?port_id={port_id}"),
    Step(
        "network.floating_ip.disassociate",
        "network",
        "PUT",
        N + "/floatingips/{fip_id}",
        body={"floatingip": {"port_id": None}},
    ),
    Step("network.quota", "network", "GET", N + "/quotas/{project_id}/details"),
    Step(
        "network.security_group.delete.in_use", "network", "DELETE", N + "/security-groups/{sg_id}"
    ),
    Step("network.router.delete.in_use", "network", "DELETE", N + "/routers/{router_id}"),
    Step("network.rule.delete", "network", "DELETE", N + "/security-group-rules/{rule_id}"),
    Step("network.floating_ip.delete", "network", "DELETE", N + "/floatingips/{fip_id}"),
    Step("network.port.delete", "network", "DELETE", N + "/ports/{port_id}"),
    Step(
        "network.router.remove_interface",
        "network",
        "PUT",
        N + "/routers/{router_id}/remove_router_interface",
        body={"subnet_id": "{subnet_id}"},
    ),
    Step(
        "network.router.remove_interface.again",
        "network",
        "PUT",
        N + "/routers/{router_id}/remove_router_interface",
        body={"subnet_id": "{subnet_id}"},
    ),
    Step(
        "network.router.clear_gateway",
        "network",
        "PUT",
        N + "/routers/{router_id}",
        body={"router": {"external_gateway_info": {}}},
    ),
    Step("network.router.delete", "network", "DELETE", N + "/routers/{router_id}"),
    Step("network.subnet.delete", "network", "DELETE", N + "/subnets/{subnet_id}"),
    Step("network.network.delete", "network", "DELETE", N + "/networks/{net_id}"),
    Step("network.network.delete.second", "network", "DELETE", N + "/networks/{net2_id}"),
    Step("network.network.delete.missing", "network", "DELETE", N + "/networks/{net_id}"),
    Step("network.security_group.delete", "network", "DELETE", N + "/security-groups/{sg_id}"),
]

VOLUME_STEPS = [
    Step("volume.versions", "volume-root", "GET", "/", auth=False),
    Step("volume.unauthorized", "volume", "GET", "/volumes", auth=False, headers=VOLUME),
    Step(
        "volume.create",
        "volume",
        "POST",
        "/volumes",
        headers=VOLUME,
        body={"volume": {"size": 1, "name": "{prefix}-v", "metadata": {"role": "data"}}},
        save={"vol_id": _id("volume")},
    ),
    Step(
        "volume.create.second",
        "volume",
        "POST",
        "/volumes",
        headers=VOLUME,
        body={"volume": {"size": 1, "name": "{prefix}-v2"}},
        save={"vol2_id": _id("volume")},
    ),
    Step(
        "volume.create.bad_size",
        "volume",
        "POST",
        "/volumes",
        headers=VOLUME,
        body={"volume": {"size": 0, "name": "{prefix}-x"}},
    ),
    Step(
        "volume.show",
        "volume",
        "GET",
        V,
        headers=VOLUME,
        before=both(wait_volume("vol_id"), wait_volume("vol2_id")),
    ),
    Step("volume.list", "volume", "GET", "/volumes", headers=VOLUME),
    Step("volume.detail", "volume", "GET", "/volumes/detail", headers=VOLUME),
    Step(
        "volume.detail.page",
        "volume",
        "GET",
        "/volumes/detail?limit=1",
        headers=VOLUME,
        paged="volumes",
    ),
    Step(
        "volume.update",
        "volume",
        "PUT",
        V,
        headers=VOLUME,
        body={"volume": {"name": "{prefix}-v1", "description": "d"}},
    ),
    Step(
        "volume.metadata.merge",
        "volume",
        "POST",
        V + "/metadata",
        headers=VOLUME,
        body={"metadata": {"k": "v"}},
    ),
    Step("volume.metadata.delete", "volume", "DELETE", V + "/metadata/k", headers=VOLUME),
    Step("volume.metadata.delete.missing", "volume", "DELETE", V + "/metadata/k", headers=VOLUME),
    Step(
        "volume.extend",
        "volume",
        "POST",
        V + "/action",
        headers=VOLUME,
        body={"os-extend": {"new_size": 2}},
    ),
    Step(
        "volume.shrink",
        "volume",
        "POST",
        V + "/action",
        headers=VOLUME,
        body={"os-extend": {"new_size": 1}},
        before=wait_volume("vol_id", size=2),
    ),
    Step("volume.types", "volume", "GET", "/types", headers=VOLUME),
    Step("volume.quota", "volume", "GET", "/os-quota-sets/{project_id}?usage=True", headers=VOLUME),
    Step("volume.limits", "volume", "GET", "/limits", headers=VOLUME),
    Step("volume.availability_zones", "volume", "GET", "/os-availability-zone", headers=VOLUME),
    Step("volume.missing", "volume", "GET", f"/volumes/{NONE}", headers=VOLUME),
    Step("volume.delete", "volume", "DELETE", V, headers=VOLUME),
    Step("volume.delete.second", "volume", "DELETE", "/volumes/{vol2_id}", headers=VOLUME),
]

SCENARIOS = {
    "identity": IDENTITY,
    "compute": COMPUTE_STEPS,
    "network": NETWORK_STEPS,
    "volume": VOLUME_STEPS,
}
STEPS = [step for steps in SCENARIOS.values() for step in steps]


# -- what differs, and why that is allowed -----------------------------------------------

# The harness's own differences (its fixtures, fake drivers, no agents, its data): the
# step (a glob), the difference (a glob over the text `differences` gives) and the reason.
HARNESS: list[tuple[str, str, str]] = [
    (
        "network.network*",
        "body.network*.qinq: only in real",
        "ML2 configuration: the `qinq` extension reports it; which of these a network "
        "carries depends on the mechanism drivers (the harness has none), devstack's OVN "
        "does not report it",
    ),
    (
        "network.network*",
        "body.network*.vlan_transparent: only in real",
        "ML2 configuration: `vlan-transparent` is reported only where the mechanism "
        "drivers allow it (the harness has none; devstack's OVN has it off)",
    ),
]

# What the simulator does differently on purpose (its README says so).
DESIGN: list[tuple[str, str, str]] = [
    (
        "identity.v2_tokens",
        "*",
        "the simulator serves Keystone v2.0 on purpose (README: 'Keystone v2.0 and v3', for "
        "the old clouds stackplan supports); Keystone 30 removed it: 404 in HTML",
    ),
]


class SimBug(AssertionError):
    """A difference that is the simulator's bug, known and xfail'ed below."""


# The simulator's bugs (none of them a field stackplan's client reads): the steps (a
# glob), the differences (globs) and what is wrong. A step any of them names is marked
# xfail(strict=True, raises=SimBug): it fails as expected while one of its differences is
# still there, passes (and so fails, strict) once the simulator is fixed, and any other
# difference still fails it for real.
SIM_BUGS: list[tuple[tuple[str, ...], tuple[str, ...], str]] = []


def glob(text: str, pattern: str) -> bool:
    """`*` matches anything; nothing else is special (paths hold `[]`)."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), text) is not None


def allowed(step: str, difference: str) -> str | None:
    for pattern, what, reason in (*HARNESS, *DESIGN):
        if glob(step, pattern) and glob(difference, what):
            return reason
    return None


def sim_bug(step: str, difference: str) -> str | None:
    for steps, whats, reason in SIM_BUGS:
        if any(glob(step, p) for p in steps) and any(glob(difference, w) for w in whats):
            return reason
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def shape(sim: Any, real: Any, path: str, out: list[str]) -> None:
    """The differences of shape between two bodies: keys only one side has, and value
    types that differ. The items of a list are compared as one sample per side (every
    key any item has, every type a key takes), so two lists in another order or of
    other data still compare alike; a value null on one side is only a difference when
    the other side never has it null."""
    _samples([sim], [real], path, out)


def _samples(sims: list[Any], reals: list[Any], path: str, out: list[str]) -> None:
    ks, kr = {_kind(v) for v in sims}, {_kind(v) for v in reals}
    some_s, some_r = ks - {"null"}, kr - {"null"}
    if not some_s or not some_r or some_s != some_r:
        if (some_s or some_r) and (some_s != some_r):
            out.append(f"body{path}: sim {'/'.join(sorted(ks))} vs real {'/'.join(sorted(kr))}")
        return
    if some_s == {"object"}:
        objs_s = [v for v in sims if isinstance(v, dict)]
        objs_r = [v for v in reals if isinstance(v, dict)]
        if any(glob(path, m) for m in MAPS):
            values_s = [x for o in objs_s for x in o.values()]
            values_r = [x for o in objs_r for x in o.values()]
            if values_s and values_r:
                _samples(values_s, values_r, path + ".*", out)
            return
        keys_s = {k for o in objs_s for k in o}
        keys_r = {k for o in objs_r for k in o}
        for key in sorted(keys_s | keys_r):
            if key not in keys_r:
                out.append(f"body{path}.{key}: only in sim")
            elif key not in keys_s:
                out.append(f"body{path}.{key}: only in real")
            else:
                _samples(
                    [o[key] for o in objs_s if key in o],
                    [o[key] for o in objs_r if key in o],
                    f"{path}.{key}",
                    out,
                )
    elif some_s == {"list"}:
        items_s = [x for v in sims if isinstance(v, list) for x in v]
        items_r = [x for v in reals if isinstance(v, list) for x in v]
        if items_s and items_r:
            _samples(items_s, items_r, path + "[]", out)


def _next_link(ex: Exchange, key: str) -> str | None:
    if not isinstance(ex.body, dict):
        return None
    links = ex.body.get(f"{key}_links") or []
    return next((link.get("href") for link in links if link.get("rel") == "next"), None)


def differences(step: Step, sim: Exchange, real: Exchange) -> list[str]:
    out: list[str] = []
    if sim.error or real.error:
        return [f"error: sim {sim.error or '-'} / real {real.error or '-'}"]
    if sim.status != real.status:
        out.append(f"status: sim {sim.status} vs real {real.status}")
    for name in HEADERS:
        if (name in sim.headers) != (name in real.headers):
            where = "sim" if name in sim.headers else "real"
            out.append(f"header {name}: only in {where}")
        elif (
            name == "openstack-api-version"
            and name in sim.headers
            and sim.headers[name].split()[0] != real.headers[name].split()[0]
        ):
            out.append(f"header {name}: sim {sim.headers[name]} vs {real.headers[name]}")
    sim_type = sim.headers.get("content-type", "").split(";")[0]
    real_type = real.headers.get("content-type", "").split(";")[0]
    if (sim.body is None) != (real.body is None) or (
        sim.body is not None and sim_type != real_type
    ):
        out.append(f"content-type: sim {sim_type or 'empty'} vs real {real_type or 'empty'}")
    shape(sim.body, real.body, "", out)
    if step.paged:
        links = {side: _next_link(ex, step.paged) for side, ex in (("sim", sim), ("real", real))}
        if bool(links["sim"]) != bool(links["real"]):
            out.append(f"pagination: next link sim {links['sim']} vs real {links['real']}")
        elif links["sim"]:
            query = {s: sorted(parse_qs(urlsplit(h).query)) for s, h in links.items() if h}
            if query["sim"] != query["real"]:
                out.append(f"pagination: next link query sim {query['sim']} vs {query['real']}")
    return out


# -- running ---------------------------------------------------------------------------


def run_scenario(side: Side, steps: list[Step], ctx: Ctx) -> dict[str, Exchange]:
    done: dict[str, Exchange] = {}
    for step in steps:
        try:
            if step.before is not None:
                step.before(side, ctx)
            ex = send(side, step, ctx)
            for name, pick in step.save.items():
                ctx[name] = pick(ex)
        except Exception as exc:  # the step and those after it report it, not the run
            ex = Exchange(0, {}, None, "", error=f"{type(exc).__name__}: {exc}")
        done[step.id] = ex
    return done


def _forget(side: Side, ctx: Ctx) -> None:
    """Delete what a compute scenario left (its servers, key pair and group)."""
    headers = {"X-Auth-Token": side.token, **COMPUTE}
    root, prefix = side.roots["compute"], ctx["prefix"]
    listed = side.http.get(f"{root}/servers?name=^{prefix}-", headers=headers, timeout=30)
    for server in listed.json().get("servers", []):
        side.http.delete(f"{root}/servers/{server['id']}", headers=headers, timeout=30)
    side.http.delete(f"{root}/os-keypairs/{prefix}-kp", headers=headers, timeout=30)
    groups = side.http.get(f"{root}/os-server-groups", headers=headers, timeout=30)
    for group in groups.json().get("server_groups", []):
        if group["name"].startswith(prefix):
            side.http.delete(f"{root}/os-server-groups/{group['id']}", headers=headers)


@pytest.fixture(scope="module")
def exchanges() -> Iterator[dict[str, tuple[Exchange, Exchange]]]:
    handle = start(SimOptions(port=0, build_seconds=0.3, shared_network=False))
    try:
        prefix = f"svr{uuid.uuid4().hex[:6]}"
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
        results: dict[str, dict[str, Exchange]] = {}
        for side in (sim_side(handle.url), real_side()):
            ctx: Ctx = {
                "prefix": prefix,
                "since": since,
                "image_id": side.image_id,
                "password": side.password,
                "project_id": side.project_id,
                "user_id": side.user_id,
                "octet": 100 + int(prefix[-4:], 16) % 100,
            }
            results[side.name] = {}
            for name, steps in SCENARIOS.items():
                locks = placement_locks()
                done = run_scenario(side, steps, ctx)
                if name == "compute" and side.name == "real" and placement_locks() > locks:
                    # HARNESS ALLOW-LIST, placement (see Stack.cli): it lost a write while
                    # servers were made or resized; once more, with names of their own.
                    warnings.warn(HarnessFlake("placement lock in the compute steps"), stacklevel=1)
                    _forget(side, ctx)
                    done = run_scenario(side, steps, {**ctx, "prefix": f"{prefix}r"})
                results[side.name].update(done)
        pairs = {s.id: (results["sim"][s.id], results["real"][s.id]) for s in STEPS}
        yield pairs
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    found: dict[str, Any] = {}
    yield found
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(found, indent=2, sort_keys=True))


def _params() -> list[Any]:
    params = []
    for step in STEPS:
        reasons = [r for steps, _, r in SIM_BUGS if any(glob(step.id, p) for p in steps)]
        marks = []
        if reasons:
            marks.append(pytest.mark.xfail(strict=True, raises=SimBug, reason="; ".join(reasons)))
        params.append(pytest.param(step, id=step.id, marks=marks))
    return params


@pytest.mark.parametrize("step", _params())
def test_sim_matches_real(step: Step, exchanges, report):
    sim, real = exchanges[step.id]
    found = differences(step, sim, real)
    why = {d: allowed(step.id, d) or sim_bug(step.id, d) for d in found}
    report[step.id] = {
        "request": f"{step.method} {step.service}:{step.path}",
        "url": {"sim": sim.url, "real": real.url},
        "status": {"sim": sim.status, "real": real.status},
        "differences": {d: why[d] or "UNEXPLAINED" for d in found},
    }
    unexplained = [d for d in found if why[d] is None]
    assert not unexplained, (
        f"{step.method} {step.path}\n  sim  {sim.status} {sim.url}\n  real {real.status} "
        f"{real.url}\n" + "\n".join(f"  - {d}" for d in unexplained)
    )
    bugs = [d for d in found if sim_bug(step.id, d)]
    if bugs:
        raise SimBug("\n".join(bugs))


def test_every_allowance_is_used(exchanges) -> None:
    """An allow-list entry no difference needs any more is stale: it goes."""
    used = set()
    for step in STEPS:
        for d in differences(step, *exchanges[step.id]):
            for entry in (*HARNESS, *DESIGN):
                if glob(step.id, entry[0]) and glob(d, entry[1]):
                    used.add(entry)
    assert [e[:2] for e in (*HARNESS, *DESIGN) if e not in used] == []


def test_every_route_stackplan_uses_is_a_step() -> None:
    """The client's routes (stackplan/cloud/*.py) each have a step here."""
    wanted = {
        ("compute", "GET", "/flavors/detail"),
        ("compute", "GET", "/flavors/{id}"),
        ("compute", "GET", "/images/detail"),
        ("compute", "GET", "/servers/detail"),
        ("compute", "GET", "/servers/{id}"),
        ("compute", "POST", "/servers"),
        ("compute", "PUT", "/servers/{id}"),
        ("compute", "DELETE", "/servers/{id}"),
        ("compute", "POST", "/servers/{id}/metadata"),
        ("compute", "PUT", "/servers/{id}/metadata"),
        ("compute", "DELETE", "/servers/{id}/metadata/{key}"),
        ("compute", "POST", "/servers/{id}/action"),
        ("compute", "PUT", "/servers/{id}/tags"),
        ("compute", "GET", "/servers/{id}/os-volume_attachments"),
        ("compute", "GET", "/os-keypairs"),
        ("compute", "GET", "/os-keypairs/{name}"),
        ("compute", "POST", "/os-keypairs"),
        ("compute", "DELETE", "/os-keypairs/{name}"),
        ("compute", "GET", "/os-server-groups"),
        ("compute", "GET", "/os-server-groups/{id}"),
        ("compute", "POST", "/os-server-groups"),
        ("compute", "DELETE", "/os-server-groups/{id}"),
        ("compute", "GET", "/limits"),
        ("network", "PUT", "/v2.0/routers/{id}/add_router_interface"),
        ("network", "PUT", "/v2.0/routers/{id}/remove_router_interface"),
        ("network", "POST", "/v2.0/security-group-rules"),
        ("network", "DELETE", "/v2.0/security-group-rules/{id}"),
        ("network", "GET", "/v2.0/quotas/{id}/details"),
        ("volume", "GET", "/volumes/detail"),
        ("volume", "GET", "/volumes/{id}"),
        ("volume", "POST", "/volumes"),
        ("volume", "PUT", "/volumes/{id}"),
        ("volume", "DELETE", "/volumes/{id}"),
        ("volume", "POST", "/volumes/{id}/action"),
        ("volume", "POST", "/volumes/{id}/metadata"),
        ("volume", "DELETE", "/volumes/{id}/metadata/{key}"),
        ("volume", "GET", "/os-quota-sets/{id}"),
        ("identity", "POST", "/auth/tokens"),
    }
    for kind in ("networks", "subnets", "routers", "ports", "security-groups", "floatingips"):
        wanted |= {
            ("network", "GET", f"/v2.0/{kind}"),
            ("network", "POST", f"/v2.0/{kind}"),
            ("network", "PUT", f"/v2.0/{kind}/{{id}}"),
            ("network", "DELETE", f"/v2.0/{kind}/{{id}}"),
        }
    wanted.add(("network", "PUT", "/v2.0/networks/{id}/tags"))

    def template(path: str) -> str:
        path = path.split("?")[0]
        parts = []
        for part in path.split("/"):
            if part.isdigit() or (part.startswith("{") and part.endswith("}")):
                parts.append("{key}" if part == "{key}" else "{id}")
            else:
                parts.append(part)
        text = "/".join(parts)
        return text.replace("{prefix}-kp", "{name}").replace(f"/{NONE}", "/{id}")

    have = {(s.service, s.method, template(s.path)) for s in STEPS}
    have |= {(svc, m, p.replace("/role", "/{key}").replace("/k", "/{key}")) for svc, m, p in have}
    missing = sorted(wanted - have)
    assert not missing, missing
