"""Flavor extra specs (`/flavors/{id}/os-extra_specs[/{key}]`) as Nova's controller
serves them below 2.86 (no value validation), and the one thing the scheduler reads from
them here: `trait:<NAME>` = `required` / `forbidden`, matched against the traits every
simulated host reports (Placement would find no candidate otherwise).

Reading is the project reader's (everyone's); writing is the admin's.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim import identity, seed
from stackplan.sim.cinder.validation import Schema, validate
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

# What the harness's compute host (nova's fake driver) reports to Placement: the hosts
# here report the same, so a flavor asking for any other trait, a CUSTOM_ one for
# instance, fits no host.
HOST_TRAITS = frozenset(
    {
        "COMPUTE_ACCELERATORS",
        "COMPUTE_ADDRESS_SPACE_EMULATED",
        "COMPUTE_ADDRESS_SPACE_PASSTHROUGH",
        "COMPUTE_DEVICE_TAGGING",
        "COMPUTE_IMAGE_TYPE_RAW",
        "COMPUTE_MEM_BACKING_FILE",
        "COMPUTE_NET_ATTACH_INTERFACE",
        "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG",
        "COMPUTE_NODE",
        "COMPUTE_SECURITY_STATELESS_FIRMWARE",
        "COMPUTE_STORAGE_VIRTIO_FS",
        "COMPUTE_TRUSTED_CERTS",
        "COMPUTE_VOLUME_ATTACH_WITH_TAG",
        "COMPUTE_VOLUME_EXTEND",
        "COMPUTE_VOLUME_MULTI_ATTACH",
        "OWNER_NOVA",
    }
)

# The scheduler's NoValidHost when Placement offers no candidate (its reason is "").
NO_CANDIDATES = "No valid host was found. "

# nova/api/openstack/compute/schemas/flavors_extraspecs.py: numbers are taken (and kept
# as strings), keys are metadata keys.
_KEY = "^[a-zA-Z0-9-_:. ]{1,255}$"
_SPECS: Schema = {
    "type": "object",
    "patternProperties": {_KEY: {"type": ["string", "number"], "maxLength": 255}},
    "additionalProperties": False,
}
_CREATE: Schema = {
    "type": "object",
    "properties": {"extra_specs": _SPECS},
    "required": ["extra_specs"],
    "additionalProperties": False,
}
_UPDATE: Schema = {**_SPECS, "minProperties": 1, "maxProperties": 1}


def of(conn: sqlite3.Connection, flavor_id: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT key, value FROM flavor_extra_specs WHERE flavor_id = ? ORDER BY key",
        (flavor_id,),
    ).fetchall()
    return {r["key"]: r["value"] for r in rows}


def every(conn: sqlite3.Connection) -> dict[str, dict[str, str]]:
    """flavor id -> its extra specs, for a list of flavors read at once."""
    found: dict[str, dict[str, str]] = {}
    for r in conn.execute("SELECT * FROM flavor_extra_specs ORDER BY flavor_id, key"):
        found.setdefault(r["flavor_id"], {})[r["key"]] = r["value"]
    return found


def placeable(specs: dict[str, str]) -> bool:
    """Whether Placement would offer any host: every required trait is one the hosts
    have and no forbidden one is (other values of a `trait:` key are ignored, as Nova
    ignores them with a warning)."""
    for key, value in specs.items():
        if not key.startswith("trait:"):
            continue
        trait = key.removeprefix("trait:")
        if value == "required" and trait not in HOST_TRAITS:
            return False
        if value == "forbidden" and trait in HOST_TRAITS:
            return False
    return True


def _flavor(req: Request) -> seed.Flavor:
    flavor = seed.FLAVORS_BY_ID.get(req.params["flavor_id"])
    if flavor is None:
        raise ApiError(404, f"Flavor {req.params['flavor_id']} could not be found.")
    return flavor


def _admin(req: Request, rule: str) -> None:
    if not identity.is_admin(req.token):
        policy = f"os_compute_api:os-flavor-extra-specs:{rule}"
        raise ApiError(403, f"Policy doesn't allow {policy} to be performed.")


def _no_key(flavor: seed.Flavor, key: str) -> ApiError:
    return ApiError(404, f"Flavor {flavor.id} has no extra specs with key {key}.")


def _store(conn: sqlite3.Connection, flavor_id: str, specs: dict[str, Any]) -> None:
    # Nova keeps every value as a string (a number given is echoed as given, read back
    # as its text)
    conn.executemany(
        "INSERT OR REPLACE INTO flavor_extra_specs VALUES (?, ?, ?)",
        [(flavor_id, k, str(v)) for k, v in specs.items()],
    )


def index(ctx: Context, req: Request) -> Response:
    flavor = _flavor(req)
    return Response(200, {"extra_specs": of(ctx.db.read(), flavor.id)})


def show(ctx: Context, req: Request) -> Response:
    flavor = _flavor(req)
    key = req.params["key"]
    specs = of(ctx.db.read(), flavor.id)
    if key not in specs:
        raise _no_key(flavor, key)
    return Response(200, {key: specs[key]})


def create(ctx: Context, req: Request) -> Response:
    """POST merges the given specs into the flavor's; the answer is the body given."""
    body = req.json()
    validate(_CREATE, body)  # the schema runs before the policy
    _admin(req, "create")
    flavor = _flavor(req)
    with ctx.db.write() as conn:
        _store(conn, flavor.id, body["extra_specs"])
    return Response(200, body)


def update(ctx: Context, req: Request) -> Response:
    body = req.json()
    validate(_UPDATE, body)
    _admin(req, "update")
    if req.params["key"] not in body:
        raise ApiError(400, "Request body and URI mismatch")
    flavor = _flavor(req)
    with ctx.db.write() as conn:
        _store(conn, flavor.id, body)
    return Response(200, body)


def delete(ctx: Context, req: Request) -> Response:
    _admin(req, "delete")
    flavor = _flavor(req)
    key = req.params["key"]
    with ctx.db.write() as conn:
        gone = conn.execute(
            "DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND key = ?", (flavor.id, key)
        ).rowcount
    if not gone:
        raise _no_key(flavor, key)
    return Response(200)  # Nova's 200 with an empty body (not 204)
