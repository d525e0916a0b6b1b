"""Keystone: version discovery, v2.0 and v3 tokens, and token checks for the other services.

Follows keystone's shapes (identity-and-config.md 2-4); errors are raised as `ApiError`
and rendered by `app.py` in keystone's `{"error": ...}` envelope.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from stackplan.sim import seed
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

_V3 = {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z"}
# Keystone reported v2.0 as deprecated from Newton until it removed v2.0 in Rocky; the
# simulator still serves v2.0 tokens, so it says what keystone said while it did.
_V2 = {"id": "v2.0", "status": "deprecated", "updated": "2016-08-04T00:00:00Z"}
_MEDIA = "application/vnd.openstack.identity-{}+json"
UNAUTHORIZED = "The request you have made requires authentication."


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    user_id: str
    project_id: str | None
    methods: tuple[str, ...]
    audit_ids: tuple[str, ...]
    issued_at: float
    expires_at: float


def iso(ts: float) -> str:
    """Keystone's timestamp form: microseconds truncated to whole seconds, then `Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(ts))


# -- version discovery -----------------------------------------------------------------


def _v3_entry(base: str) -> dict[str, Any]:
    return {
        **_V3,
        "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
        "media-types": [{"base": "application/json", "type": _MEDIA.format("v3")}],
    }


def _v2_entry(base: str, listed: bool = False) -> dict[str, Any]:
    links: list[dict[str, str]] = [{"rel": "self", "href": f"{base}/identity/v2.0/"}]
    if not listed:
        # GET /v2.0 keeps the describedby link keystone gave; in the list of GET / every
        # entry has rel and href only, as today's keystone lists its versions
        links.append(
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"}
        )
    return {
        **_V2,
        "links": links,
        "media-types": [{"base": "application/json", "type": _MEDIA.format("v2.0")}],
    }


def versions(ctx: Context, req: Request) -> Response:
    body = {"versions": {"values": [_v3_entry(req.base), _v2_entry(req.base, listed=True)]}}
    return Response(300, body, {"Location": f"{req.base}/identity/v3/"})


def version_v3(ctx: Context, req: Request) -> Response:
    return Response(200, {"version": _v3_entry(req.base)})


def version_v2(ctx: Context, req: Request) -> Response:
    return Response(200, {"version": _v2_entry(req.base)})


# -- token storage ---------------------------------------------------------------------

_cache: dict[tuple[str, str], Token] = {}  # (db path, token id) -> Token; tokens never change


def issue_token(
    ctx: Context,
    user: seed.User,
    project: seed.Project | None,
    methods: tuple[str, ...],
    parent: Token | None,
) -> Token:
    now = ctx.now()
    audit = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    audit_ids = (audit, parent.audit_ids[0]) if parent else (audit,)
    # A re-scoped token never outlives the token it came from, as in keystone.
    expires = now + ctx.options.token_ttl
    if parent:
        expires = min(expires, parent.expires_at)
    token = Token(
        secrets.token_hex(16),
        user.id,
        project.id if project else None,
        methods,
        audit_ids,
        now,
        expires,
    )
    with ctx.db.write() as conn:
        conn.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                token.id,
                token.user_id,
                token.project_id,
                json.dumps(methods),
                json.dumps(audit_ids),
                token.issued_at,
                token.expires_at,
            ),
        )
    return token


def lookup(ctx: Context, token_id: str | None) -> Token | None:
    """The token if it exists and has not expired, else None."""
    if not token_id:
        return None
    key = (ctx.db.path, token_id)
    token = _cache.get(key)
    if token is None:
        row = ctx.db.read().execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            return None
        token = Token(
            row["id"],
            row["user_id"],
            row["project_id"],
            tuple(json.loads(row["methods"])),
            tuple(json.loads(row["audit_ids"])),
            row["issued_at"],
            row["expires_at"],
        )
        _cache[key] = token
    return token if token.expires_at > ctx.now() else None


def revoke(ctx: Context, token: Token) -> None:
    _cache.pop((ctx.db.path, token.id), None)
    with ctx.db.write() as conn:
        conn.execute("DELETE FROM tokens WHERE id = ?", (token.id,))


def is_admin(token: Token | None) -> bool:
    """Whether the token carries the admin role (the seeded admin user's, on any project)."""
    if token is None or token.project_id is None:
        return False
    user = seed.find_user(user_id=token.user_id)
    return user is not None and user.role == "admin"


def _has_role(user: seed.User, project: seed.Project) -> bool:
    return user.project == project or user.role == "admin"


def scoped(user: seed.User, project: seed.Project | None) -> seed.Project | None:
    if project is None:
        raise ApiError(401, UNAUTHORIZED)
    if not _has_role(user, project):
        raise ApiError(401, f"User {user.id} has no access to project {project.id}")
    return project


# -- catalog ---------------------------------------------------------------------------


def _services(base: str, project_id: str, v2: bool) -> list[tuple[str, str, str]]:
    """(type, name, url) for every service; v2 catalogs put the project in the compute URL,
    as the classic guide shows, v3 ones use the project-less form devstack registers."""
    compute = f"{base}/compute/v2.1/{project_id}" if v2 else f"{base}/compute/v2.1"
    identity = f"{base}/identity/v2.0" if v2 else f"{base}/identity"
    return [
        ("compute", "nova", compute),
        ("image", "glance", f"{base}/image"),
        ("network", "neutron", f"{base}/networking"),
        # devstack registers Cinder twice, both with the project in the URL
        ("block-storage", "cinder", f"{base}/volume/v3/{project_id}"),
        ("volumev3", "cinderv3", f"{base}/volume/v3/{project_id}"),
        ("identity", "keystone", identity),
    ]


def _endpoint_id(service: str, interface: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{service}/{interface}").hex


def catalog_v3(base: str, project_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid5(uuid.NAMESPACE_URL, kind).hex,
            "type": kind,
            "name": name,
            "endpoints": [
                {
                    "id": _endpoint_id(kind, i),
                    "interface": i,
                    "region": seed.REGION,
                    "region_id": seed.REGION,
                    "url": url,
                }
                for i in ("public", "internal", "admin")
            ],
        }
        for kind, name, url in _services(base, project_id, v2=False)
    ]


def catalog_v2(base: str, project_id: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "type": kind,
            "endpoints_links": [],
            "endpoints": [
                {
                    "id": _endpoint_id(kind, "all"),
                    "region": seed.REGION,
                    "publicURL": url,
                    "internalURL": url,
                    "adminURL": url,
                }
            ],
        }
        for kind, name, url in _services(base, project_id, v2=True)
    ]


# -- v2.0 ------------------------------------------------------------------------------


def _access(req: Request, token: Token) -> dict[str, Any]:
    user = seed.find_user(user_id=token.user_id)
    assert user is not None
    project = seed.find_project(project_id=token.project_id) if token.project_id else None
    body: dict[str, Any] = {
        "id": token.id,
        "audit_ids": list(token.audit_ids),
        "issued_at": iso(token.issued_at),
        "expires": iso(token.expires_at),
    }
    if project:
        body["tenant"] = {
            "id": project.id,
            "name": project.name,
            "description": "",
            "enabled": True,
        }
    role = user.role if project else None
    return {
        "access": {
            "token": body,
            "serviceCatalog": catalog_v2(req.base, project.id) if project else [],
            "user": {
                "id": user.id,
                "name": user.name,
                "username": user.name,
                "roles": [{"name": role}] if role else [],
                "roles_links": [],
            },
            "metadata": {"is_admin": 0, "roles": [seed.ROLE_IDS[role]] if role else []},
        }
    }


def tokens_v2(ctx: Context, req: Request) -> Response:
    body = req.json()
    auth = body.get("auth") if isinstance(body, dict) else None
    if not isinstance(auth, dict):
        raise ApiError(400, expecting("auth", "request body"))
    if "tenantName" in auth and "tenantId" in auth:
        raise ApiError(400, "tenantId and tenantName are mutually exclusive.")
    parent = None
    if isinstance(auth.get("token"), dict):
        parent = lookup(ctx, auth["token"].get("id"))
        if parent is None:
            raise ApiError(401, UNAUTHORIZED)
        user = seed.find_user(user_id=parent.user_id)
        methods = parent.methods
    elif isinstance(auth.get("passwordCredentials"), dict):
        creds = auth["passwordCredentials"]
        if "password" not in creds:
            raise ApiError(400, expecting("password", "passwordCredentials"))
        if "username" not in creds and "userId" not in creds:
            raise ApiError(400, expecting("username", "passwordCredentials"))
        user = seed.find_user(creds.get("username"), creds.get("userId"))
        if user is None or creds["password"] != seed.PASSWORD:
            raise ApiError(401, UNAUTHORIZED)
        methods = ("password",)
    else:
        raise ApiError(400, expecting("passwordCredentials or token", "auth"))
    assert user is not None
    project = None
    if auth.get("tenantId") or auth.get("tenantName"):  # "" counts as absent (unscoped)
        found = seed.find_project(auth.get("tenantName") or None, auth.get("tenantId") or None)
        project = scoped(user, found)
    token = issue_token(ctx, user, project, methods, parent)
    return Response(200, _access(req, token))


def validate_v2(ctx: Context, req: Request) -> Response:
    token = lookup(ctx, req.params["token_id"])
    if token is None:
        raise ApiError(404, f"Could not find token: {req.params['token_id']}.")
    belongs = req.arg("belongsTo")
    if belongs and token.project_id != belongs:
        raise ApiError(401, UNAUTHORIZED)
    if req.method == "DELETE":
        revoke(ctx, token)
        return Response(204)
    return Response(200, None if req.method == "HEAD" else _access(req, token))


def expecting(attr: str, target: str) -> str:
    return (
        f"Expecting to find {attr} in {target}. The server could not comply with the "
        "request since it is either malformed or otherwise incorrect. The client is "
        "assumed to be in error."
    )
