"""The route table: method, path template, service, handler, and whether it needs a token.

Templates double as the keys of `/_sim/stats`, so benchmarks count calls per route.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stackplan.sim import (
    availability_zones,
    cinder,
    compute,
    flavor_specs,
    floating_ip_pools,
    glance_write,
    identity,
    identity_projects,
    identity_v3,
    image,
    instance_actions,
    interfaces,
    keypairs,
    neutron,
    quota_sets,
    security_groups,
    server_groups,
    server_list,
    server_ops,
    server_tags,
    servers,
    volume_attachments,
)
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response

Handler = Callable[[Context, Request], Response]


@dataclass(frozen=True, slots=True)
class Route:
    methods: frozenset[str]
    template: str
    service: str  # identity | compute | image | network | volume | sim: the error envelope
    handler: Handler | None  # None: served by app.py itself (the /_sim routes)
    authenticated: bool = True
    discovery: bool = False  # version documents: no token, no injected faults
    pattern: re.Pattern[str] | None = None


def _r(
    methods: str,
    template: str,
    service: str,
    handler: Handler | None,
    *,
    auth: bool = True,
    discovery: bool = False,
) -> Route:
    regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return Route(
        frozenset(methods.split()),
        template,
        service,
        handler,
        auth,
        discovery,
        re.compile(f"^{regex}$"),
    )


C = "/compute/v2.1"
S = f"{C}/servers/{{server_id}}"
ROUTES: tuple[Route, ...] = (
    _r("GET", "/identity", "identity", identity.versions, auth=False, discovery=True),
    _r("GET", "/identity/v3", "identity", identity.version_v3, auth=False, discovery=True),
    _r("GET", "/identity/v2.0", "identity", identity.version_v2, auth=False, discovery=True),
    _r("POST", "/identity/v2.0/tokens", "identity", identity.tokens_v2, auth=False),
    _r(
        "GET HEAD DELETE",
        "/identity/v2.0/tokens/{token_id}",
        "identity",
        identity.validate_v2,
        auth=False,
    ),
    _r("POST", "/identity/v3/auth/tokens", "identity", identity_v3.issue, auth=False),
    _r("GET HEAD DELETE", "/identity/v3/auth/tokens", "identity", identity_v3.check, auth=False),
    _r("GET", "/identity/v3/auth/catalog", "identity", identity_v3.catalog, auth=False),
    _r("GET", "/identity/v3/projects", "identity", identity_projects.listing, auth=False),
    _r(
        "GET",
        "/identity/v3/projects/{project_id}",
        "identity",
        identity_projects.show,
        auth=False,
    ),
    _r(
        "GET",
        "/identity/v3/users/{user_id}/projects",
        "identity",
        identity_projects.of_user,
        auth=False,
    ),
    _r("GET", "/compute", "compute", compute.versions, auth=False, discovery=True),
    _r("GET", C, "compute", compute.version, auth=False, discovery=True),
    _r("GET", f"{C}/flavors", "compute", compute.flavor_list),
    _r("GET", f"{C}/flavors/detail", "compute", compute.flavor_detail),
    _r("GET", f"{C}/flavors/{{flavor_id}}", "compute", compute.flavor_show),
    _r("GET", f"{C}/flavors/{{flavor_id}}/os-extra_specs", "compute", flavor_specs.index),
    _r("POST", f"{C}/flavors/{{flavor_id}}/os-extra_specs", "compute", flavor_specs.create),
    _r("GET", f"{C}/flavors/{{flavor_id}}/os-extra_specs/{{key}}", "compute", flavor_specs.show),
    _r("PUT", f"{C}/flavors/{{flavor_id}}/os-extra_specs/{{key}}", "compute", flavor_specs.update),
    _r(
        "DELETE",
        f"{C}/flavors/{{flavor_id}}/os-extra_specs/{{key}}",
        "compute",
        flavor_specs.delete,
    ),
    _r("GET", f"{C}/images", "compute", compute.image_list),
    _r("GET", f"{C}/images/detail", "compute", compute.image_detail),
    _r("GET", f"{C}/images/{{image_id}}", "compute", compute.image_show),
    _r("GET", f"{C}/limits", "compute", compute.limits),
    _r("GET", f"{C}/os-availability-zone", "compute", availability_zones.listing),
    _r("GET", f"{C}/os-availability-zone/detail", "compute", availability_zones.detail),
    _r("GET", f"{C}/os-quota-sets/{{project_id}}", "compute", quota_sets.show),
    _r("GET", f"{C}/os-quota-sets/{{project_id}}/detail", "compute", quota_sets.detail),
    _r("GET", f"{C}/os-quota-sets/{{project_id}}/defaults", "compute", quota_sets.defaults),
    _r("GET", f"{C}/os-security-groups", "compute", security_groups.listing),
    _r("GET", f"{C}/os-floating-ip-pools", "compute", floating_ip_pools.listing),
    _r("GET", f"{C}/os-keypairs", "compute", keypairs.listing),
    _r("POST", f"{C}/os-keypairs", "compute", keypairs.create),
    _r("GET", f"{C}/os-keypairs/{{name}}", "compute", keypairs.show),
    _r("DELETE", f"{C}/os-keypairs/{{name}}", "compute", keypairs.delete),
    _r("GET", f"{C}/os-server-groups", "compute", server_groups.listing),
    _r("POST", f"{C}/os-server-groups", "compute", server_groups.create),
    _r("GET", f"{C}/os-server-groups/{{group_id}}", "compute", server_groups.show),
    _r("DELETE", f"{C}/os-server-groups/{{group_id}}", "compute", server_groups.delete),
    _r("GET", f"{C}/servers", "compute", server_list.server_list),
    _r("POST", f"{C}/servers", "compute", servers.create),
    _r("GET", f"{C}/servers/detail", "compute", server_list.server_detail),
    _r("GET", S, "compute", server_list.server_show),
    _r("PUT", S, "compute", server_ops.update),
    _r("DELETE", S, "compute", server_ops.delete),
    _r("POST", f"{S}/action", "compute", server_ops.action),
    _r("GET", f"{S}/os-security-groups", "compute", security_groups.of_server),
    _r("GET", f"{S}/os-instance-actions", "compute", instance_actions.listing),
    _r("GET", f"{S}/os-instance-actions/{{request_id}}", "compute", instance_actions.show),
    _r("GET", f"{S}/os-interface", "compute", interfaces.listing),
    _r("POST", f"{S}/os-interface", "compute", interfaces.attach),
    _r("GET", f"{S}/os-interface/{{port_id}}", "compute", interfaces.show),
    _r("DELETE", f"{S}/os-interface/{{port_id}}", "compute", interfaces.detach),
    _r("GET", f"{S}/os-volume_attachments", "compute", volume_attachments.listing),
    _r("POST", f"{S}/os-volume_attachments", "compute", volume_attachments.attach_volume),
    _r("GET", f"{S}/os-volume_attachments/{{volume_id}}", "compute", volume_attachments.show),
    _r(
        "DELETE",
        f"{S}/os-volume_attachments/{{volume_id}}",
        "compute",
        volume_attachments.detach_volume,
    ),
    _r("GET", f"{S}/metadata", "compute", server_ops.metadata_show),
    _r("POST PUT", f"{S}/metadata", "compute", server_ops.metadata_write),
    _r("GET", f"{S}/metadata/{{key}}", "compute", server_ops.meta_show),
    _r("PUT", f"{S}/metadata/{{key}}", "compute", server_ops.meta_put),
    _r("DELETE", f"{S}/metadata/{{key}}", "compute", server_ops.meta_delete),
    _r("GET", f"{S}/tags", "compute", server_tags.index),
    _r("PUT", f"{S}/tags", "compute", server_tags.update_all),
    _r("DELETE", f"{S}/tags", "compute", server_tags.delete_all),
    _r("GET", f"{S}/tags/{{tag}}", "compute", server_tags.show),
    _r("PUT", f"{S}/tags/{{tag}}", "compute", server_tags.update),
    _r("DELETE", f"{S}/tags/{{tag}}", "compute", server_tags.delete),
    _r("GET", "/image", "image", image.versions, auth=False, discovery=True),
    _r("GET", "/image/v2/images", "image", image.listing),
    _r("POST", "/image/v2/images", "image", glance_write.create),
    _r("GET", "/image/v2/images/{image_id}", "image", image.show),
    _r("PATCH", "/image/v2/images/{image_id}", "image", glance_write.update),
    _r("DELETE", "/image/v2/images/{image_id}", "image", glance_write.delete),
    _r("PUT", "/image/v2/images/{image_id}/file", "image", glance_write.upload),
    *(
        _r(methods, template, "network", handler, auth=auth, discovery=discovery)
        for methods, template, handler, auth, discovery in neutron.ROUTES
    ),
    *(
        _r(methods, template, "volume", handler, auth=auth, discovery=discovery)
        for methods, template, handler, auth, discovery in cinder.ROUTES
    ),
    _r("GET DELETE", "/_sim/stats", "sim", None, auth=False, discovery=True),
)

_PROJECT_SEGMENT = re.compile(r"^[0-9a-f-]+$")


def split_project(path: str) -> tuple[str, str | None]:
    """`/compute/v2.1/<project>/x` -> (`/compute/v2.1/x`, project); Nova serves both forms."""
    prefix = C + "/"
    if path.startswith(prefix):
        first, _, rest = path[len(prefix) :].partition("/")
        if _PROJECT_SEGMENT.match(first):
            return (f"{C}/{rest}" if rest else C), first
    return path, None


def service_of(path: str) -> str:
    head = path.lstrip("/").split("/", 1)[0]
    return {
        "identity": "identity",
        "compute": "compute",
        "image": "image",
        "networking": "network",
        "volume": "volume",
    }.get(head, "sim")


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """The route, its path parameters, and whether the path exists under another method."""
    path_found = False
    for route in ROUTES:
        assert route.pattern is not None
        m = route.pattern.match(path)
        if m is None:
            continue
        if method in route.methods:
            return route, m.groupdict(), True
        path_found = True
    return None, {}, path_found
