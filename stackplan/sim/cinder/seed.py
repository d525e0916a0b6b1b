"""What a fresh simulated Cinder holds: the volume types `__DEFAULT__` (what Cinder's
database migration creates), `ssd` and `hdd`, all public, on one storage backend laid
out like devstack's LVM one (`sim-storage@lvmdriver-1#lvmdriver-1`, zone `nova`).

One backend means a retype never needs a migration, as on devstack: `ssd` and `hdd`
name that backend in `volume_backend_name` (the extra spec the scheduler matches), and
`__DEFAULT__`, like Cinder's, has no extra specs. The ids are fixed (uuid5).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass, field

from stackplan.sim.options import Context

_NAMESPACE = uuid.UUID("6c0f9e52-0b5e-4b7d-9a8e-2f4c1d7b3a91")
ZONE = "nova"  # Cinder's storage_availability_zone default
BACKEND = "lvmdriver-1"
HOST = f"sim-storage@{BACKEND}#{BACKEND}"  # host@backend#pool, shown to the admin
SERVICE_UUID = str(uuid.uuid5(_NAMESPACE, f"service/{HOST}"))
DEFAULT_TYPE = "__DEFAULT__"
# Seeded types are this much older than the cloud's start, oldest first: Cinder lists
# types newest first, so the list reads hdd, ssd, __DEFAULT__.
_EPOCH = 1_704_067_200.0  # 2024-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class VolumeType:
    name: str
    description: str | None
    extra_specs: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"type/{self.name}"))


TYPES: tuple[VolumeType, ...] = (
    VolumeType(DEFAULT_TYPE, "Default Volume Type"),
    VolumeType("ssd", None, {"volume_backend_name": BACKEND}),
    VolumeType("hdd", None, {"volume_backend_name": BACKEND}),
)
DEFAULT_TYPE_ID = TYPES[0].id


def populate(ctx: Context, conn: sqlite3.Connection) -> None:
    for offset, vtype in enumerate(TYPES):
        conn.execute(
            "INSERT INTO cinder_types (id, name, description, is_public, extra_specs, created)"
            " VALUES (?, ?, ?, 1, ?, ?)",
            (
                vtype.id,
                vtype.name,
                vtype.description,
                json.dumps(vtype.extra_specs),
                _EPOCH + offset * 60,
            ),
        )
