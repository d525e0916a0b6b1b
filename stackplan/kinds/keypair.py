"""The keypair kind: Nova keypairs imported from a public key; a new key replaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from stackplan.kinds.base import Effect


class KeypairKind:
    name: ClassVar[str] = "keypair"
    settles: ClassVar[bool] = False
    effects: ClassVar[Mapping[str, Effect]] = {
        "name": Effect.REPLACE,
        "public_key": Effect.REPLACE,
    }

    def recorded(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        return dict(attrs)
