"""`GET /networking/` (versions), `GET /networking/v2.0/` (core resources) and
`GET /networking/v2.0/extensions[/{alias}]`: the extensions this simulator implements,
with the names, descriptions and dates Neutron gives them."""

from __future__ import annotations

from stackplan.sim.neutron.common import NeutronError, http_not_found
from stackplan.sim.neutron.query import param
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response

TAGGABLE = ("network", "subnet", "port", "router", "security_group", "floatingip")
# alias -> (name, description, updated)
EXTENSIONS: dict[str, tuple[str, str, str]] = {
    "allowed-address-pairs": (
        "Allowed Address Pairs",
        "Provides allowed address pairs",
        "2013-07-23T10:00:00-00:00",
    ),
    "empty-string-filtering": (
        "Empty String Filtering Extension",
        "Allow filtering by attributes with empty string value",
        "2018-05-01T10:00:00-00:00",
    ),
    "ext-gw-mode": (
        "Neutron L3 Configurable external gateway mode",
        "Extension of the router abstraction for specifying whether SNAT should occur on "
        "the external gateway",
        "2013-03-28T10:00:00-00:00",
    ),
    "external-net": (
        "Neutron external network",
        "Adds external network attribute to network resource.",
        "2013-01-14T10:00:00-00:00",
    ),
    "filter-validation": (
        "Filter parameters validation",
        "Provides validation on filter parameters.",
        "2018-07-04T10:00:00-00:00",
    ),
    "fip-port-details": (
        "Floating IP Port Details Extension",
        "Add port_details attribute to Floating IP resource",
        "2018-04-09T10:00:00-00:00",
    ),
    "ip-substring-filtering": (
        "IP address substring filtering",
        "Provides IP address substring filtering when listing ports",
        "2017-11-28T09:00:00-00:00",
    ),
    "net-mtu": (
        "Network MTU",
        "Provides MTU attribute for a network resource.",
        "2015-03-25T10:00:00-00:00",
    ),
    "net-mtu-writable": (
        "Network MTU (writable)",
        "Provides a writable MTU attribute for a network resource.",
        "2017-07-12T00:00:00-00:00",
    ),
    "pagination": (
        "Pagination support",
        "Extension that indicates that pagination is enabled.",
        "2016-06-12T00:00:00-00:00",
    ),
    "port-security": ("Port Security", "Provides port security", "2012-07-23T10:00:00-00:00"),
    "port-security-groups-filtering": (
        "Port filtering on security groups",
        "Provides security groups filtering when listing ports",
        "2018-01-09T09:00:00-00:00",
    ),
    "project-id": (
        "project_id field enabled",
        "Extension that indicates that project_id field is enabled.",
        "2016-09-09T09:09:09-09:09",
    ),
    "quota_details": (
        "Quota details management support",
        "Expose functions for quotas usage statistics per project",
        "2017-02-10T10:00:00-00:00",
    ),
    "quotas": (
        "Quota management support",
        "Expose functions for quotas management per project",
        "2012-07-29T10:00:00-00:00",
    ),
    "router": (
        "Neutron L3 Router",
        "Router abstraction for basic L3 forwarding between L2 Neutron networks and access "
        "to external networks via a NAT gateway.",
        "2012-07-20T10:00:00-00:00",
    ),
    "security-group": (
        "security-group",
        "The security groups extension.",
        "2012-10-05T10:00:00-00:00",
    ),
    "security-groups-normalized-cidr": (
        "Normalized CIDR field for security group rules",
        "Add new field with normalized remote_ip_prefix cidr in SG rule",
        "2020-07-28T10:00:00-00:00",
    ),
    "security-groups-rules-belongs-to-default-sg": (
        "Security group rule belongs to the project's default security group",
        "Flag to determine if the security group rule belongs to the project's default "
        "security group",
        "2023-05-23T10:00:00-00:00",
    ),
    "security-groups-shared-filtering": (
        "Security group filtering on the shared field",
        "Support filtering security groups on the shared field",
        "2021-10-05T09:00:00-00:00",
    ),
    "sorting": (
        "Sorting support",
        "Extension that indicates that sorting is enabled.",
        "2016-06-12T00:00:00-00:00",
    ),
    "standard-attr-description": (
        "standard-attr-description",
        "Extension to add descriptions to standard attributes",
        "2016-02-10T10:00:00-00:00",
    ),
    "standard-attr-revisions": (
        "Resource revision numbers",
        "This extension will display the revision number of neutron resources.",
        "2016-04-11T10:00:00-00:00",
    ),
    "standard-attr-tag": (
        "Tag support for resources with standard attribute: " + ", ".join(TAGGABLE),
        "Enables to set tag on resources with standard attribute.",
        "2017-01-01T00:00:00-00:00",
    ),
    "standard-attr-timestamp": (
        "Resource timestamps",
        "Adds created_at and updated_at fields to all Neutron resources that have Neutron "
        "standard attributes.",
        "2016-09-12T10:00:00-00:00",
    ),
    "stateful-security-group": (
        "Stateful security group",
        "Indicates if the security group is stateful or not",
        "2019-11-26T09:00:00-00:00",
    ),
    "subnet-external-network": (
        "Subnet belongs to an external network",
        "Informs if the subnet belongs to an external network",
        "2024-02-05T18:00:00-00:00",
    ),
    "tag-ports-during-bulk-creation": (
        "Tag Ports During Bulk Creation",
        "Allow to tag ports during bulk creation",
        "2019-12-29T19:00:00-00:00",
    ),
}


def _extension(alias: str) -> dict[str, object]:
    name, description, updated = EXTENSIONS[alias]
    return {
        "name": name,
        "alias": alias,
        "description": description,
        "updated": updated,
        "links": [],
    }


def versions(ctx: Context, req: Request) -> Response:
    href = f"{req.base}/networking/v2.0/"
    body = {
        "versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]
    }
    return Response(200, body)


def resources(ctx: Context, req: Request) -> Response:
    if not req.path.endswith("/"):
        raise http_not_found()
    layout = [
        {
            "name": name,
            "collection": f"{name}s",
            "links": [{"rel": "self", "href": f"{req.base}{req.path}{name}s"}],
        }
        for name in ("network", "subnet", "subnetpool", "port")
    ]
    return Response(200, {"resources": layout})


def _aliases(ctx: Context) -> list[str]:
    """The extensions this cloud has (ML2's extension drivers are a deployment's choice)."""
    dropped = () if ctx.options.port_tags_at_create else ("tag-ports-during-bulk-creation",)
    return [a for a in EXTENSIONS if a not in dropped]


def extensions(ctx: Context, req: Request) -> Response:
    return Response(200, {"extensions": [_extension(a) for a in _aliases(ctx)]})


def extension(ctx: Context, req: Request) -> Response:
    alias = param(req, "alias")
    if alias not in _aliases(ctx):
        raise NeutronError(404, "HTTPNotFound", f"Extension with alias {alias} does not exist")
    return Response(200, {"extension": _extension(alias)})
