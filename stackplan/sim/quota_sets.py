"""Nova's `GET /os-quota-sets/{project_id}` (and `/detail`, `/defaults`): the limits the
simulator enforces (`SimOptions.quota_*`, -1 unlimited) plus Nova's fixed ones."""

from __future__ import annotations

from typing import Any

from stackplan.sim import identity, quota, seed, server_groups
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

# Nova's defaults for what the simulator does not enforce. The nova-network quotas have
# no config option left, so Nova reports them as -1 (until 2.36 hides them).
_FIXED = {
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "injected_files": 5,
    "fixed_ips": -1,
    "floating_ips": -1,
    "security_group_rules": -1,
    "security_groups": -1,
}
_GONE_AT_2_36 = {"fixed_ips", "floating_ips", "security_group_rules", "security_groups"}
_GONE_AT_2_57 = {"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}


def _limits(ctx: Context, req: Request) -> dict[str, int]:
    opts = ctx.options
    limits = {
        **_FIXED,
        "cores": opts.quota_cores,
        "instances": opts.quota_instances,
        "key_pairs": quota.MAX_KEYPAIRS,
        "metadata_items": quota.MAX_METADATA,
        "ram": opts.quota_ram,
        "server_group_members": opts.quota_server_group_members,
        "server_groups": opts.quota_server_groups,
    }
    gone = set()
    if req.version >= (2, 36):
        gone |= _GONE_AT_2_36
    if req.version >= (2, 57):
        gone |= _GONE_AT_2_57
    return {k: limits[k] for k in sorted(limits) if k not in gone}  # Nova sorts them


def _authorize(req: Request, action: str) -> str:
    """The project in the URL: a member reads its own, an admin any existing one. Nova
    asks Keystone whether it exists; Keystone's 403 to a member counts as yes."""
    project_id = req.params["project_id"]
    admin = identity.is_admin(req.token)
    if action != "defaults" and not admin and project_id != req.token.project_id:
        raise ApiError(
            403, f"Policy doesn't allow os_compute_api:os-quota-sets:{action} to be performed."
        )
    if admin and seed.find_project(project_id=project_id) is None:
        raise ApiError(400, f"Project ID {project_id} is not a valid project.")
    return project_id


def _body(project_id: str, values: dict[str, Any]) -> Response:
    return Response(200, {"quota_set": {"id": project_id, **values}})


def show(ctx: Context, req: Request) -> Response:
    return _body(_authorize(req, "show"), _limits(ctx, req))


def defaults(ctx: Context, req: Request) -> Response:
    return _body(_authorize(req, "defaults"), _limits(ctx, req))


def detail(ctx: Context, req: Request) -> Response:
    project_id = _authorize(req, "detail")
    used = quota.usage(ctx, project_id)
    # Key pairs and group members are counted per user, so Nova shows them as 0 here.
    in_use = {
        "instances": used.instances,
        "cores": used.cores,
        "ram": used.ram,
        "server_groups": server_groups.used(ctx, project_id),
    }
    values = {
        k: {"in_use": in_use.get(k, 0), "limit": v, "reserved": 0}
        for k, v in _limits(ctx, req).items()
    }
    return _body(project_id, values)
