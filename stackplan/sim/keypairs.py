"""Nova keypairs (`/os-keypairs`), owned by the token's user, addressed by name."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import sqlite3
from typing import Any

from stackplan.sim import compute, quota, servers
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

_NAME = re.compile(r"^[A-Za-z0-9 _-]{1,255}$")


def _fingerprint(public_key: str) -> str:
    """MD5 of the decoded key blob, colon-separated, as Nova computes it for ssh keys."""
    parts = public_key.split()
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-")):
        raise ApiError(400, "Keypair data is invalid: failed to generate fingerprint")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def _generate(name: str) -> tuple[str, str]:
    """A syntactically valid ed25519 public key and a stand-in private key (the simulator
    holds no crypto library; clients only store what they get)."""
    raw = os.urandom(32)
    blob = b"".join(len(p).to_bytes(4, "big") + p for p in (b"ssh-ed25519", raw))
    public = f"ssh-ed25519 {base64.b64encode(blob).decode()} {name}@stackplan-sim"
    body = base64.encodebytes(os.urandom(192)).decode()
    private = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}-----END OPENSSH PRIVATE KEY-----\n"
    return public, private


def _render(req: Request, row: sqlite3.Row, full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": row["name"],
        "public_key": row["public_key"],
        "fingerprint": row["fingerprint"],
    }
    if req.version >= (2, 2):
        body["type"] = row["type"]
    if full:
        body.update(
            {
                "user_id": row["user_id"],
                "id": row["id"],
                "created_at": servers.ts_naive(row["created_at"]),
                "updated_at": None,
                "deleted": False,
                "deleted_at": None,
            }
        )
    return body


def create(ctx: Context, req: Request) -> Response:
    body = req.json()
    keypair = body.get("keypair") if isinstance(body, dict) else None
    if not isinstance(keypair, dict) or "name" not in keypair:
        raise ApiError(
            400, "Invalid input for field/attribute keypair. 'name' is a required property"
        )
    name = keypair["name"]
    if not isinstance(name, str) or not _NAME.match(name) or name != name.strip():
        raise ApiError(400, "Keypair data is invalid: Keypair name contains unsafe characters")
    kind = keypair.get("type", "ssh") if req.version >= (2, 2) else "ssh"
    if kind not in ("ssh", "x509"):
        raise ApiError(400, f"Invalid input for field/attribute type. Value: {kind}.")
    private = None
    public = keypair.get("public_key")
    if public is None:
        public, private = _generate(name)
    fingerprint = _fingerprint(public)
    user_id = req.token.user_id
    with ctx.db.write() as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM keypairs WHERE user_id = ?", (user_id,)
        ).fetchone()
        if count >= quota.MAX_KEYPAIRS:
            raise ApiError(403, "Quota exceeded, too many key pairs.")
        try:
            conn.execute(
                "INSERT INTO keypairs (user_id, name, type, public_key, fingerprint,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, name, kind, public, fingerprint, ctx.now()),
            )
        except sqlite3.IntegrityError:
            raise ApiError(409, f"Key pair '{name}' already exists.") from None
    result: dict[str, Any] = {
        "name": name,
        "public_key": public,
        "fingerprint": fingerprint,
        "user_id": user_id,
    }
    if req.version >= (2, 2):
        result["type"] = kind
    if private is not None:
        result["private_key"] = private
    return Response(201 if req.version >= (2, 2) else 200, {"keypair": result})


def _row(ctx: Context, req: Request) -> sqlite3.Row:
    name = req.params["name"]
    row = (
        ctx.db.read()
        .execute("SELECT * FROM keypairs WHERE user_id = ? AND name = ?", (req.token.user_id, name))
        .fetchone()
    )
    if row is None:
        raise ApiError(404, f"Keypair {name} not found for user {req.token.user_id}")
    return row


def show(ctx: Context, req: Request) -> Response:
    return Response(200, {"keypair": _render(req, _row(ctx, req), full=True)})


def listing(ctx: Context, req: Request) -> Response:
    rows = (
        ctx.db.read()
        .execute("SELECT * FROM keypairs WHERE user_id = ? ORDER BY name", (req.token.user_id,))
        .fetchall()
    )
    extra: dict[str, Any] = {}
    if req.version >= (2, 35):
        rows, extra = compute.paginate(req, rows, lambda r: r["name"], "keypairs", "os-keypairs")
    items = [{"keypair": _render(req, row, full=False)} for row in rows]
    return Response(200, {"keypairs": items, **extra})


def delete(ctx: Context, req: Request) -> Response:
    row = _row(ctx, req)
    with ctx.db.write() as conn:
        conn.execute("DELETE FROM keypairs WHERE id = ?", (row["id"],))
    return Response(204 if req.version >= (2, 2) else 202)
