"""Neutron (network v2.0): networks, subnets, routers, ports, security groups and rules,
floating IPs, tags, quotas — as typed frozen values.

Wire names stop here. Neutron takes tags at create for ports only; other resources are
tagged right after their create (`PUT /{collection}/{id}/tags`). Deletes that Neutron
refuses with 409 while a port is being released are retried for a bounded time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from stackplan.cloud.network_model import (
    FixedIp,
    FloatingIp,
    Network,
    NeutronQuota,
    Port,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from stackplan.cloud.pages import pages
from stackplan.cloud.session import Session
from stackplan.errors import CloudError

# Collections and how their tag URLs spell them (Neutron writes security-groups with '-').
COLLECTIONS = {
    "network": "networks",
    "subnet": "subnets",
    "router": "routers",
    "port": "ports",
    "security_group": "security-groups",
    "floatingip": "floatingips",
}
IN_USE_SECONDS = 30.0  # how long a delete refused as "in use" is retried


class NetworkClient:
    """Neutron at the catalog's `network` endpoint. Thread-safe; one per run."""

    def __init__(self, session: Session, endpoint: str | None = None, page_size: int | None = None):
        self.session = session
        self._endpoint = endpoint
        self.page_size = page_size
        self.sleep = time.sleep
        # The kinds whose create answered with the tags its body carried (ports, on this
        # Neutron): their marker is there from the first instant. Filled as creates answer.
        self.tags_at_create: set[str] = set()

    @property
    def root(self) -> str:
        """`.../v2.0`: devstack registers Neutron without the version."""
        url = (self._endpoint or self.session.endpoint("network")).rstrip("/")
        return url if url.endswith("/v2.0") else f"{url}/v2.0"

    def available(self) -> bool:
        """Whether the cloud has Neutron at all (in its catalog, or configured)."""
        if self._endpoint:
            return True
        try:
            self.session.endpoint("network")
        except CloudError:
            return False
        return True

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Any = None,
        retry_safe: bool | None = None,
    ) -> Any:
        url = path if urlsplit(path).scheme else f"{self.root}/{path.lstrip('/')}"
        response = self.session.request(
            method, url, json_body=body, params=params, retry_safe=retry_safe
        )
        return response.json() if response.content else None

    def _list(self, collection: str, filters: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
        if self.page_size:
            params["limit"] = self.page_size
        key = collection.replace("-", "_")

        def fetch(url: str, query: Mapping[str, Any] | None) -> Any:
            return self._call("GET", url, params=query)

        return pages(fetch, collection, key, params)

    def _create(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        data = self._call("POST", COLLECTIONS[kind], body={kind: dict(body)}, retry_safe=False)
        return data[kind]

    def _update(self, kind: str, resource_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        collection = COLLECTIONS[kind]
        data = self._call("PUT", f"{collection}/{resource_id}", body={kind: dict(body)})
        return data[kind]

    def _delete(self, kind: str, resource_id: str) -> None:
        """Delete; gone already is fine; 'in use' (409) is retried while Nova lets go."""
        deadline = time.monotonic() + IN_USE_SECONDS
        delay = 0.5
        while True:
            try:
                self._call("DELETE", f"{COLLECTIONS[kind]}/{resource_id}")
                return
            except CloudError as exc:
                if exc.status == 404:
                    return
                if exc.status != 409 or time.monotonic() + delay > deadline:
                    raise
            self.sleep(delay)
            delay = min(delay * 2, 4.0)

    def set_tags(self, kind: str, resource_id: str, tags: Sequence[str]) -> None:
        """Replace the resource's tags (the marker goes on right after a create)."""
        body = {"tags": list(tags)}
        self._call("PUT", f"{COLLECTIONS[kind]}/{resource_id}/tags", body=body, retry_safe=True)

    # -- networks ------------------------------------------------------------------------

    def list_networks(self, **filters: Any) -> tuple[Network, ...]:
        return tuple(_network(n) for n in self._list("networks", filters))

    def create_network(self, body: Mapping[str, Any]) -> Network:
        return _network(self._create("network", body))

    def update_network(self, network_id: str, body: Mapping[str, Any]) -> Network:
        return _network(self._update("network", network_id, body))

    def delete_network(self, network_id: str) -> None:
        self._delete("network", network_id)

    # -- subnets -------------------------------------------------------------------------

    def list_subnets(self, **filters: Any) -> tuple[Subnet, ...]:
        return tuple(_subnet(s) for s in self._list("subnets", filters))

    def create_subnet(self, body: Mapping[str, Any]) -> Subnet:
        return _subnet(self._create("subnet", body))

    def update_subnet(self, subnet_id: str, body: Mapping[str, Any]) -> Subnet:
        return _subnet(self._update("subnet", subnet_id, body))

    def delete_subnet(self, subnet_id: str) -> None:
        self._delete("subnet", subnet_id)

    # -- routers -------------------------------------------------------------------------

    def list_routers(self, **filters: Any) -> tuple[Router, ...]:
        return tuple(_router(r) for r in self._list("routers", filters))

    def create_router(self, body: Mapping[str, Any]) -> Router:
        return _router(self._create("router", body))

    def update_router(self, router_id: str, body: Mapping[str, Any]) -> Router:
        return _router(self._update("router", router_id, body))

    def delete_router(self, router_id: str) -> None:
        self._delete("router", router_id)

    def add_router_interface(self, router_id: str, subnet_id: str) -> None:
        self._call(
            "PUT", f"routers/{router_id}/add_router_interface", body={"subnet_id": subnet_id}
        )

    def remove_router_interface(self, router_id: str, subnet_id: str) -> None:
        try:
            self._call(
                "PUT",
                f"routers/{router_id}/remove_router_interface",
                body={"subnet_id": subnet_id},
            )
        except CloudError as exc:
            if exc.status != 404:  # not attached (any more): nothing to remove
                raise

    # -- ports ---------------------------------------------------------------------------

    def list_ports(self, **filters: Any) -> tuple[Port, ...]:
        return tuple(_port(p) for p in self._list("ports", filters))

    def create_port(self, body: Mapping[str, Any]) -> Port:
        return _port(self._create("port", body))

    def update_port(self, port_id: str, body: Mapping[str, Any]) -> Port:
        return _port(self._update("port", port_id, body))

    def delete_port(self, port_id: str) -> None:
        self._delete("port", port_id)

    # -- security groups -------------------------------------------------------------------

    def list_security_groups(self, **filters: Any) -> tuple[SecurityGroup, ...]:
        return tuple(_security_group(g) for g in self._list("security-groups", filters))

    def create_security_group(self, body: Mapping[str, Any]) -> SecurityGroup:
        return _security_group(self._create("security_group", body))

    def update_security_group(self, group_id: str, body: Mapping[str, Any]) -> SecurityGroup:
        return _security_group(self._update("security_group", group_id, body))

    def delete_security_group(self, group_id: str) -> None:
        self._delete("security_group", group_id)

    def create_security_group_rule(self, body: Mapping[str, Any]) -> SecurityGroupRule:
        data = self._call(
            "POST",
            "security-group-rules",
            body={"security_group_rule": dict(body)},
            retry_safe=False,
        )
        return _rule(data["security_group_rule"])

    def delete_security_group_rule(self, rule_id: str) -> None:
        try:
            self._call("DELETE", f"security-group-rules/{rule_id}")
        except CloudError as exc:
            if exc.status != 404:
                raise

    # -- floating IPs --------------------------------------------------------------------

    def list_floating_ips(self, **filters: Any) -> tuple[FloatingIp, ...]:
        return tuple(_floating_ip(f) for f in self._list("floatingips", filters))

    def create_floating_ip(self, body: Mapping[str, Any]) -> FloatingIp:
        return _floating_ip(self._create("floatingip", body))

    def update_floating_ip(self, floating_ip_id: str, body: Mapping[str, Any]) -> FloatingIp:
        return _floating_ip(self._update("floatingip", floating_ip_id, body))

    def delete_floating_ip(self, floating_ip_id: str) -> None:
        self._delete("floatingip", floating_ip_id)

    # -- quotas --------------------------------------------------------------------------

    def get_quota(self, project_id: str) -> dict[str, NeutronQuota]:
        """The project's quota by Neutron resource name, with what is in use."""
        data = self._call("GET", f"quotas/{project_id}/details")["quota"]
        return {
            name: NeutronQuota(int(v.get("limit", -1)), int(v.get("used", 0)))
            for name, v in data.items()
            if isinstance(v, Mapping)
        }


# -- mapping wire → values ---------------------------------------------------------------


def _tags(data: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(data.get("tags") or ()))


def _network(d: Mapping[str, Any]) -> Network:
    return Network(
        id=str(d["id"]),
        name=str(d.get("name") or ""),
        status=str(d.get("status") or "ACTIVE"),
        admin_state_up=bool(d.get("admin_state_up", True)),
        shared=bool(d.get("shared", False)),
        external=bool(d.get("router:external", False)),
        mtu=d.get("mtu"),
        port_security_enabled=d.get("port_security_enabled"),
        description=str(d.get("description") or ""),
        subnet_ids=tuple(d.get("subnets") or ()),
        project_id=str(d.get("project_id") or d.get("tenant_id") or ""),
        tags=_tags(d),
    )


def _subnet(d: Mapping[str, Any]) -> Subnet:
    return Subnet(
        id=str(d["id"]),
        name=str(d.get("name") or ""),
        network_id=str(d["network_id"]),
        cidr=str(d.get("cidr") or ""),
        ip_version=int(d.get("ip_version") or 4),
        gateway_ip=d.get("gateway_ip"),
        enable_dhcp=bool(d.get("enable_dhcp", True)),
        dns_nameservers=tuple(d.get("dns_nameservers") or ()),
        allocation_pools=tuple(
            {"start": p["start"], "end": p["end"]} for p in d.get("allocation_pools") or ()
        ),
        host_routes=tuple(
            {"destination": r["destination"], "nexthop": r["nexthop"]}
            for r in d.get("host_routes") or ()
        ),
        description=str(d.get("description") or ""),
        project_id=str(d.get("project_id") or d.get("tenant_id") or ""),
        tags=_tags(d),
    )


def _fixed_ips(items: Any) -> tuple[FixedIp, ...]:
    return tuple(FixedIp(str(i["subnet_id"]), str(i["ip_address"])) for i in items or ())


def _port(d: Mapping[str, Any]) -> Port:
    return Port(
        id=str(d["id"]),
        name=str(d.get("name") or ""),
        network_id=str(d["network_id"]),
        status=str(d.get("status") or "DOWN"),
        mac_address=str(d.get("mac_address") or ""),
        fixed_ips=_fixed_ips(d.get("fixed_ips")),
        device_id=str(d.get("device_id") or ""),
        device_owner=str(d.get("device_owner") or ""),
        security_group_ids=tuple(sorted(d.get("security_groups") or ())),
        allowed_address_pairs=tuple(
            {"ip_address": p["ip_address"], "mac_address": p.get("mac_address", "")}
            for p in d.get("allowed_address_pairs") or ()
        ),
        admin_state_up=bool(d.get("admin_state_up", True)),
        port_security_enabled=d.get("port_security_enabled"),
        description=str(d.get("description") or ""),
        project_id=str(d.get("project_id") or d.get("tenant_id") or ""),
        tags=_tags(d),
    )


def _router(d: Mapping[str, Any]) -> Router:
    gateway = d.get("external_gateway_info") or {}
    return Router(
        id=str(d["id"]),
        name=str(d.get("name") or ""),
        status=str(d.get("status") or "ACTIVE"),
        admin_state_up=bool(d.get("admin_state_up", True)),
        external_network_id=gateway.get("network_id"),
        external_fixed_ips=_fixed_ips(gateway.get("external_fixed_ips")),
        description=str(d.get("description") or ""),
        project_id=str(d.get("project_id") or d.get("tenant_id") or ""),
        tags=_tags(d),
    )


def _rule(d: Mapping[str, Any]) -> SecurityGroupRule:
    return SecurityGroupRule(
        id=str(d["id"]),
        security_group_id=str(d["security_group_id"]),
        direction=str(d["direction"]),
        ethertype=str(d.get("ethertype") or "IPv4"),
        protocol=d.get("protocol"),
        port_range_min=d.get("port_range_min"),
        port_range_max=d.get("port_range_max"),
        remote_ip_prefix=d.get("remote_ip_prefix"),
        remote_group_id=d.get("remote_group_id"),
        description=str(d.get("description") or ""),
    )


def _security_group(d: Mapping[str, Any]) -> SecurityGroup:
    return SecurityGroup(
        id=str(d["id"]),
        name=str(d.get("name") or ""),
        description=str(d.get("description") or ""),
        rules=tuple(_rule(r) for r in d.get("security_group_rules") or ()),
        stateful=bool(d.get("stateful", True)),
        project_id=str(d.get("project_id") or d.get("tenant_id") or ""),
        tags=_tags(d),
    )


def _floating_ip(d: Mapping[str, Any]) -> FloatingIp:
    return FloatingIp(
        id=str(d["id"]),
        floating_ip_address=str(d.get("floating_ip_address") or ""),
        floating_network_id=str(d["floating_network_id"]),
        port_id=d.get("port_id"),
        fixed_ip_address=d.get("fixed_ip_address"),
        router_id=d.get("router_id"),
        status=str(d.get("status") or "DOWN"),
        description=str(d.get("description") or ""),
        project_id=str(d.get("project_id") or d.get("tenant_id") or ""),
        tags=_tags(d),
    )
