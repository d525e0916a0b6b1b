"""The server kind: Nova servers, compared on resolved IDs, built, resized, rebuilt.

The pure half (effects, recorded attributes) is what the diff uses; the cloud half is
called by refresh and apply with a connected client.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar

from stackplan.kinds.base import Effect


def user_data_digest(user_data: str | None) -> str | None:
    return hashlib.sha256(user_data.encode()).hexdigest() if user_data is not None else None


class ServerKind:
    name: ClassVar[str] = "server"
    settles: ClassVar[bool] = True
    effects: ClassVar[Mapping[str, Effect]] = {
        "name": Effect.UPDATE,
        "metadata": Effect.UPDATE,
        "security_groups": Effect.UPDATE,
        "flavor_id": Effect.RESIZE,
        "image_id": Effect.REBUILD,
        "key_name": Effect.REPLACE,
        "user_data_sha256": Effect.REPLACE,
        "availability_zone": Effect.REPLACE,
    }

    def recorded(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        # The user data itself can be large and hold credentials: state keeps its digest.
        out = {k: v for k, v in attrs.items() if k != "user_data"}
        out["user_data_sha256"] = user_data_digest(attrs.get("user_data"))
        return out
