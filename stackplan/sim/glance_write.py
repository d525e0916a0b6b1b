"""Glance v2 writes: `POST /v2/images`, `PATCH` (JSON patch), `DELETE`, and the data upload
`PUT /v2/images/{id}/file` that takes a queued image to active."""

from __future__ import annotations

import hashlib
import re
import struct
import uuid
from typing import Any

from stackplan.sim import identity, image_store
from stackplan.sim.image import find
from stackplan.sim.image_store import Image
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

_UUID = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
_DISK_FORMATS = [None, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi"]
_DISK_FORMATS += ["iso", "ploop"]
_CONTAINER_FORMATS = [None, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
# Glance's image schema for the base properties a client may write: (types, rule, arg).
_SCHEMA: dict[str, tuple[tuple[str, ...], str | None, Any]] = {
    "id": (("string",), "pattern", _UUID),
    "name": (("string", "null"), "maxLength", 255),
    "owner": (("string", "null"), "maxLength", 255),
    "visibility": (("string",), "enum", ["community", "public", "private", "shared"]),
    "protected": (("boolean",), None, None),
    "os_hidden": (("boolean",), None, None),
    "min_disk": (("integer",), None, None),
    "min_ram": (("integer",), None, None),
    "disk_format": (("string", "null"), "enum", _DISK_FORMATS),
    "container_format": (("string", "null"), "enum", _CONTAINER_FORMATS),
    "tags": (("array",), "items", 255),
}
# What a create may not set (Glance's image factory), and what a PATCH may not touch.
_CREATE_READ_ONLY = ("created_at", "updated_at", "status", "checksum", "size", "virtual_size")
_CREATE_READ_ONLY += ("os_hash_algo", "os_hash_value")
_READ_ONLY = (*_CREATE_READ_ONLY, "direct_url", "self", "file", "schema", "id")
_RESERVED = ("location", "deleted", "deleted_at")
_PATCH_TYPES = {
    "application/openstack-images-v2.0-json-patch": 4,
    "application/openstack-images-v2.1-json-patch": 10,
}
# Formats Glance's inspector recognises; content it sees as raw passes for the others.
_INSPECTABLE = {"raw", "qcow2", "vhd", "vhdx", "vmdk", "vdi", "iso"}
_JSON_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "null": type(None)}


def _schema_error(reason: str) -> ApiError:
    return ApiError(400, f"Provided object does not match schema 'image': {reason}")


def _is(value: Any, kind: str) -> bool:
    if kind == "integer" and isinstance(value, bool):
        return False  # JSON Schema's integer excludes booleans, unlike Python's int
    return isinstance(value, _JSON_TYPES[kind])


def _check(key: str, value: Any) -> None:
    """jsonschema's verdict (and message) on one property of Glance's image schema."""
    if key not in _SCHEMA:
        if key in _READ_ONLY:
            return  # in the schema with its own type; refused as read-only afterwards
        if not isinstance(value, str):
            raise _schema_error(f"{value!r} is not of type 'string'")
        return
    types, rule, arg = _SCHEMA[key]
    if not any(_is(value, t) for t in types):
        raise _schema_error(f"{value!r} is not of type {', '.join(repr(t) for t in types)}")
    if rule == "enum" and value not in arg:
        raise _schema_error(f"{value!r} is not one of {arg!r}")
    if rule == "pattern" and not re.match(arg, value):
        raise _schema_error(f"{value!r} does not match {arg!r}")
    if rule == "maxLength" and value is not None and len(value) > arg:
        raise _schema_error(f"{value!r} is too long")
    if rule == "items":
        for tag in value:
            if not isinstance(tag, str):
                raise _schema_error(f"{tag!r} is not of type 'string'")
            if len(tag) > arg:
                raise _schema_error(f"{tag!r} is too long")
    if key in ("min_disk", "min_ram") and value < 0:
        raise ApiError(
            400, f"Invalid value '{value}' for parameter '{key}': Cannot be a negative value"
        )


def _check_custom_key(key: str) -> None:
    if len(key) > 255:
        raise ApiError(400, "Custom property should not be greater than 255 characters.")
    if key in _RESERVED or key.startswith("os_glance"):
        raise ApiError(403, f"Attribute '{key}' is reserved.")


def _forbidden(action: str) -> ApiError:
    return ApiError(403, f"You are not authorized to complete {action} action.")


def _check_visibility(req: Request, visibility: Any, owner: str) -> None:
    admin = identity.is_admin(req.token)
    if visibility == "public" and not admin:
        raise _forbidden("publicize_image")
    if visibility == "community" and not admin and owner != req.token.project_id:
        raise _forbidden("communitize_image")


def create(ctx: Context, req: Request) -> Response:
    body = req.json()
    if body is None:
        raise ApiError(400, "Body expected in request.")
    if not isinstance(body, dict):
        raise _schema_error(f"{body!r} is not of type 'object'")
    for key in ("direct_url", "self", "file", "schema", "stores"):
        if key in body:
            raise ApiError(403, f"Attribute '{key}' is read-only.")
    for key, value in body.items():
        _check(key, value)
        if key not in image_store.BASE:
            _check_custom_key(key)
    project = req.token.project_id
    owner = body.get("owner") or project
    if owner != project and not identity.is_admin(req.token):
        raise ApiError(403, f"You are not permitted to create images owned by '{owner}'")
    _check_visibility(req, body.get("visibility"), owner)
    for key in _CREATE_READ_ONLY:
        if key in body:
            raise ApiError(403, f"Attribute '{key}' is read-only.")
    image_id = body.get("id") or str(uuid.uuid4())
    now = image_store.now_iso(ctx.now())
    image = Image(
        id=image_id,
        name=body.get("name"),
        status="queued",
        owner=owner,
        created_at=now,
        updated_at=now,
        visibility=body.get("visibility", "shared"),
        protected=body.get("protected", False),
        os_hidden=body.get("os_hidden", False),
        min_disk=body.get("min_disk") or 0,
        min_ram=body.get("min_ram") or 0,
        disk_format=body.get("disk_format"),
        container_format=body.get("container_format"),
        tags=tuple(dict.fromkeys(body.get("tags", []))),
        properties={k: v for k, v in body.items() if k not in image_store.BASE},
    )
    with ctx.db.write() as conn:
        if image_store.exists(ctx, image_id, conn):
            raise ApiError(409, f"Image with identifier {image_id} already exists!")
        image_store.save(conn, image)
    location = f"{req.base}/image/v2/images/{image_id}"
    return Response(201, image_store.render(image), {"Location": location})


# -- PATCH -----------------------------------------------------------------------------


def _pointer(pointer: Any) -> str:
    """Glance's restricted JSON pointer: one level, `~1` and `~0` escapes."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise ApiError(400, f'Pointer `{pointer}` does not start with "/".')
    if re.search(r"/\s*?/", pointer[1:]):
        raise ApiError(400, f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise ApiError(400, f'Pointer `{pointer}` end with "/".')
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise ApiError(
            400, f'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.'
        )
    parts = [p.replace("~1", "/").replace("~0", "~").strip() for p in pointer[1:].split("/")]
    if len(parts) != 1:
        raise ApiError(400, f"Invalid JSON pointer for this resource: '/{'/'.join(parts)}'")
    return parts[0]


def _parse_change(raw: Any, draft: int) -> tuple[str, str, Any]:
    ops = ("add", "remove", "replace")
    if not isinstance(raw, dict):
        raise ApiError(400, "Operations must be JSON objects.")
    if draft == 10:
        op = raw.get("op")
        if op is None:
            raise ApiError(
                400,
                "Unable to find `op` in JSON Schema change. It must be one of the "
                "following: add, remove, replace.",
            )
        if op not in ops:
            raise ApiError(
                400,
                f"Invalid operation: `{op}`. It must be one of the following: "
                "add, remove, replace.",
            )
        if "path" not in raw:
            raise ApiError(400, "Unable to find 'path' in JSON Schema change")
        path = _pointer(raw["path"])
    else:
        named = [k for k in ops if k in raw]
        if len(named) != 1:
            raise ApiError(
                400,
                'Operation objects must contain exactly one member named "add", '
                '"remove", or "replace".',
            )
        op = named[0]
        path = _pointer(raw[op])
    value = None
    if op != "remove":
        if "value" not in raw:
            raise ApiError(400, f'Operation "{op}" requires a member named "value".')
        value = raw["value"]
    if path in _READ_ONLY:
        raise ApiError(403, f"Attribute '{path}' is read-only.")
    if path in _RESERVED or path.startswith("os_glance"):
        raise ApiError(403, f"Attribute '{path}' is reserved.")
    if op != "remove":
        _check(path, value)
    return op, path, value


def _apply(
    req: Request, image: Image, op: str, path: str, value: Any, draft: int
) -> tuple[Image, dict[str, str]]:
    props = dict(image.properties)
    base = path in image_store.BASE
    if op != "remove" and path == "visibility":
        _check_visibility(req, value, image.owner)
    if op == "remove":
        if base:
            raise ApiError(403, f"Property {path} may not be removed.")
        if path not in props:
            raise ApiError(409, f"Property {path} does not exist.")
        del props[path]
        return image, props
    if op == "add" and draft == 4 and (base or path in props):
        raise ApiError(409, f"Property {path} already present.")
    if op == "replace" and not base and path not in props:
        raise ApiError(409, f"Property {path} does not exist.")
    if not base:
        props[path] = value
        return image, props
    if path == "owner" and not identity.is_admin(req.token):
        raise ApiError(403, "Owner can't be updated by non admin.")
    if path in ("disk_format", "container_format") and image.status != "queued":
        raise ApiError(403, f"Attribute {path} can be only replaced for a queued image.")
    if path == "tags":
        value = tuple(dict.fromkeys(value))
    return image.changed(**{path: value}), props


def _may_modify(req: Request, image: Image, action: str) -> None:
    if not identity.is_admin(req.token) and image.owner != req.token.project_id:
        raise _forbidden(action)


def update(ctx: Context, req: Request) -> Response:
    content_type = (req.header("Content-Type") or "").split(";")[0].strip()
    if content_type not in _PATCH_TYPES:
        allowed = ", ".join(sorted(_PATCH_TYPES))
        raise ApiError(
            415, f"Image PATCH expects Content-Type one of: {allowed}", {"Accept-Patch": allowed}
        )
    draft = _PATCH_TYPES[content_type]
    body = req.json()
    if body is None:
        raise ApiError(400, "Body expected in request.")
    if not isinstance(body, list):
        raise ApiError(400, "Request body must be a JSON array of operation objects.")
    changes = [_parse_change(raw, draft) for raw in body]
    with ctx.db.write() as conn:
        image = find(ctx, req)
        if changes:
            _may_modify(req, image, "modify_image")
            for op, path, value in changes:
                image, props = _apply(req, image, op, path, value, draft)
                image = image.changed(properties=props)
            image = image.changed(updated_at=image_store.now_iso(ctx.now()))
            image_store.save(conn, image)
    return Response(200, image_store.render(image))


def delete(ctx: Context, req: Request) -> Response:
    with ctx.db.write() as conn:
        image = find(ctx, req)
        _may_modify(req, image, "delete_image")
        if image.protected:
            raise ApiError(403, f"Image {image.id} is protected and cannot be deleted.")
        image = image.changed(status="deleted", updated_at=image_store.now_iso(ctx.now()))
        image_store.save(conn, image, deleted=True)
    return Response(204)


# -- data ------------------------------------------------------------------------------


def _virtual_size(data: bytes, disk_format: str) -> int | None:
    """What Glance's format inspector finds: a qcow2 header's disk size, else raw bytes;
    content whose format differs from the claimed one is refused (415)."""
    found = "qcow2" if data[:4] == b"QFI\xfb" and len(data) >= 32 else "raw"
    if found == disk_format:
        return struct.unpack(">Q", data[24:32])[0] if found == "qcow2" else len(data)
    if disk_format == "raw":
        return len(data)
    if found == "raw" and disk_format not in _INSPECTABLE:
        return None  # ami, aki, ploop...: not inspectable, so anything raw-looking passes
    raise ApiError(415, f"Image disk_format {disk_format} does not match stream data {found}")


def upload(ctx: Context, req: Request) -> Response:
    content_type = (req.header("Content-Type") or "").split(";")[0].strip()
    if content_type != "application/octet-stream":
        raise ApiError(415, f"Invalid content type {content_type}")
    with ctx.db.write() as conn:
        image = find(ctx, req)
        _may_modify(req, image, "upload_image")
        if image.status != "queued":
            raise ApiError(
                409, f"Image status transition from {image.status} to saving is not allowed"
            )
        missing = [k for k in ("disk_format", "container_format") if not getattr(image, k)]
        if missing:
            noun = "Property" if len(missing) == 1 else "Properties"
            raise ApiError(400, f"{noun} {', '.join(missing)} must be set prior to saving data.")
        assert image.disk_format is not None
        data = req.body
        image = image.changed(
            status="active",
            size=len(data),
            virtual_size=_virtual_size(data, image.disk_format),
            checksum=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            os_hash_algo="sha512",
            os_hash_value=hashlib.sha512(data).hexdigest(),
            updated_at=image_store.now_iso(ctx.now()),
        )
        image_store.save(conn, image)
    return Response(204)
