"""Keystone v3 project reads: `GET /v3/projects` (admin), `GET /v3/projects/{id}` (the
project's members and admins), `GET /v3/users/{id}/projects` (the user itself), with
keystone's default policies and 403 wording."""

from __future__ import annotations

from typing import Any

from stackplan.sim import identity, seed
from stackplan.sim.identity import UNAUTHORIZED, Token
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

_TRUE = {"1", "true", "yes", "on", "y", "t"}


def _caller(ctx: Context, req: Request) -> Token:
    token = identity.lookup(ctx, req.header("X-Auth-Token"))
    if token is None:
        raise ApiError(401, UNAUTHORIZED)
    return token


def _denied(action: str) -> ApiError:
    return ApiError(
        403, f"You are not authorized to perform the requested action: identity:{action}."
    )


def render(req: Request, project: seed.Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "domain_id": seed.DOMAIN_ID,
        "description": "",
        "enabled": True,
        "parent_id": seed.DOMAIN_ID,
        "is_domain": False,
        "tags": [],
        "options": {},
        "links": {"self": f"{req.base}/identity/v3/projects/{project.id}"},
    }


def _collection(req: Request, projects: list[seed.Project], path: str) -> Response:
    wanted_name = req.arg("name")
    enabled = req.arg("enabled")
    domain = req.arg("domain_id")
    picked = [
        p
        for p in projects
        if wanted_name in (None, p.name)
        and (enabled is None or enabled.lower() in _TRUE)
        and domain in (None, seed.DOMAIN_ID)
    ]
    return Response(
        200,
        {
            "projects": [render(req, p) for p in picked],
            "links": {"self": f"{req.base}{path}", "previous": None, "next": None},
        },
    )


def listing(ctx: Context, req: Request) -> Response:
    token = _caller(ctx, req)
    if not identity.is_admin(token):
        raise _denied("list_projects")
    return _collection(req, list(seed.PROJECTS), "/identity/v3/projects")


def show(ctx: Context, req: Request) -> Response:
    """A member reads its own project; anything else is 403 for it, found or not, since
    keystone checks the policy against a target it could not load."""
    token = _caller(ctx, req)
    project_id = req.params["project_id"]
    if not identity.is_admin(token) and token.project_id != project_id:
        raise _denied("get_project")
    project = seed.find_project(project_id=project_id)
    if project is None:
        raise ApiError(404, f"Could not find project: {project_id}.")
    return Response(200, {"project": render(req, project)})


def of_user(ctx: Context, req: Request) -> Response:
    """The projects where the user holds a role: its own, or every one for the admin."""
    token = _caller(ctx, req)
    user_id = req.params["user_id"]
    if not identity.is_admin(token) and token.user_id != user_id:
        raise _denied("list_user_projects")
    user = seed.find_user(user_id=user_id)
    if user is None:
        raise ApiError(404, f"Could not find user: {user_id}.")
    projects = list(seed.PROJECTS) if user.role == "admin" else [user.project]
    return _collection(req, projects, f"/identity/v3/users/{user_id}/projects")
