"""Keystone v3: `POST/GET/HEAD/DELETE /v3/auth/tokens` and `/v3/auth/catalog`.

Password (user by id, or name + domain) and token methods; project scope by id or by
name + domain, the explicit "unscoped", or the user's default project when omitted.
"""

from __future__ import annotations

from typing import Any

from stackplan.sim import seed
from stackplan.sim.identity import (
    UNAUTHORIZED,
    Token,
    catalog_v3,
    expecting,
    iso,
    issue_token,
    lookup,
    revoke,
    scoped,
)
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

_DOMAIN = {"id": seed.DOMAIN_ID, "name": seed.DOMAIN_NAME}


def _check_domain(domain: Any, target: str) -> None:
    if not isinstance(domain, dict) or not ("id" in domain or "name" in domain):
        raise ApiError(400, expecting("id or name", f"domain in {target}"))
    if domain.get("id", seed.DOMAIN_ID) != seed.DOMAIN_ID:
        raise ApiError(401, UNAUTHORIZED)
    if domain.get("name", seed.DOMAIN_NAME) != seed.DOMAIN_NAME:
        raise ApiError(401, UNAUTHORIZED)


def _password_user(payload: dict[str, Any]) -> seed.User:
    user = payload.get("user")
    if not isinstance(user, dict):
        raise ApiError(400, expecting("user", "password"))
    if "id" in user:
        found = seed.find_user(user_id=user["id"])
    elif "name" in user:
        if "domain" not in user:
            raise ApiError(400, expecting("domain", "user"))
        _check_domain(user["domain"], "user")
        found = seed.find_user(name=user["name"])
    else:
        raise ApiError(400, expecting("id or name", "user"))
    if found is None or user.get("password") != seed.PASSWORD:
        raise ApiError(401, UNAUTHORIZED)
    return found


def _project(scope: Any, user: seed.User) -> seed.Project | None:
    if scope is None:  # keystone falls back to the user's default project
        return user.project
    if scope == "unscoped":
        return None
    if not isinstance(scope, dict) or len(scope) != 1:
        raise ApiError(
            400, expecting("system, project, domain, OS-TRUST:trust or unscoped", "scope")
        )
    if "project" not in scope:
        raise ApiError(401, f"User {user.id} has no access to the requested scope.")
    project = scope["project"]
    if not isinstance(project, dict):
        raise ApiError(400, expecting("id or name", "project"))
    if "id" in project:
        return scoped(user, seed.find_project(project_id=project["id"]))
    if "name" not in project:
        raise ApiError(400, expecting("id or name", "project"))
    if "domain" not in project:
        raise ApiError(400, expecting("domain", "project"))
    _check_domain(project["domain"], "project")
    return scoped(user, seed.find_project(name=project["name"]))


def _token_body(req: Request, token: Token) -> dict[str, Any]:
    user = seed.find_user(user_id=token.user_id)
    assert user is not None
    body: dict[str, Any] = {
        "methods": list(token.methods),
        "user": {"id": user.id, "name": user.name, "domain": _DOMAIN, "password_expires_at": None},
        "audit_ids": list(token.audit_ids),
        "issued_at": iso(token.issued_at),
        "expires_at": iso(token.expires_at),
    }
    project = seed.find_project(project_id=token.project_id) if token.project_id else None
    if project is not None:
        body["project"] = {"id": project.id, "name": project.name, "domain": _DOMAIN}
        body["is_domain"] = False
        body["roles"] = [{"id": seed.ROLE_IDS[user.role], "name": user.role}]
        if "nocatalog" not in req.query:
            body["catalog"] = catalog_v3(req.base, project.id)
    return {"token": body}


def issue(ctx: Context, req: Request) -> Response:
    body = req.json()
    auth = body.get("auth") if isinstance(body, dict) else None
    if not isinstance(auth, dict):
        raise ApiError(400, expecting("auth", "request body"))
    identity = auth.get("identity")
    if not isinstance(identity, dict) or not isinstance(identity.get("methods"), list):
        raise ApiError(400, expecting("methods", "identity"))
    methods = identity["methods"]
    for method in methods:
        if not isinstance(identity.get(method), dict):
            raise ApiError(400, expecting(str(method), "identity"))
    parent = None
    if "password" in methods:
        user = _password_user(identity["password"])
    elif "token" in methods:
        token_id = identity["token"].get("id")
        parent = lookup(ctx, token_id)
        if parent is None:
            raise ApiError(404, f"Could not find token: {token_id}.")
        found = seed.find_user(user_id=parent.user_id)
        assert found is not None
        user = found
    else:
        raise ApiError(401, UNAUTHORIZED)
    project = _project(auth.get("scope"), user)
    token = issue_token(ctx, user, project, tuple(methods), parent)
    return Response(201, _token_body(req, token), {"X-Subject-Token": token.id})


def _caller_and_subject(ctx: Context, req: Request) -> Token:
    if lookup(ctx, req.header("X-Auth-Token")) is None:
        raise ApiError(401, UNAUTHORIZED)
    subject_id = req.header("X-Subject-Token")
    subject = lookup(ctx, subject_id)
    if subject is None:
        raise ApiError(404, f"Could not find token: {subject_id}.")
    return subject


def check(ctx: Context, req: Request) -> Response:
    """GET validates, HEAD checks, DELETE revokes the token named by `X-Subject-Token`."""
    subject = _caller_and_subject(ctx, req)
    if req.method == "DELETE":
        revoke(ctx, subject)
        return Response(204)
    body = None if req.method == "HEAD" else _token_body(req, subject)
    return Response(200, body, {"X-Subject-Token": subject.id})


def catalog(ctx: Context, req: Request) -> Response:
    token = lookup(ctx, req.header("X-Auth-Token"))
    if token is None:
        raise ApiError(401, UNAUTHORIZED)
    if token.project_id is None:
        raise ApiError(403, "You are not authorized to perform the requested action.")
    return Response(
        200,
        {
            "catalog": catalog_v3(req.base, token.project_id),
            "links": {"self": f"{req.base}/identity/v3/auth/catalog"},
        },
    )
