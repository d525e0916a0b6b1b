"""The keypair kind: Nova keypairs imported from a public key; a new key replaces.

Keypairs are named, not numbered: the name is the ID. They have no metadata to carry a
marker, so a create whose answer was lost shows up as a 409 on the next try, and a key
of that name with the same public key is taken as ours.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.errors import CloudError
from stackplan.kinds.base import Await, Effect, Marker, ObservedResource

if TYPE_CHECKING:
    from stackplan.cloud import Cloud, Keypair


class KeypairKind:
    name: ClassVar[str] = "keypair"
    settles: ClassVar[bool] = False
    reported: ClassVar[tuple[str, ...]] = ()
    cloud_chosen: ClassVar[frozenset[str]] = frozenset()
    effects: ClassVar[Mapping[str, Effect]] = {
        "name": Effect.REPLACE,
        "public_key": Effect.REPLACE,
    }

    def recorded(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        return dict(attrs)

    def read_many(self, cloud: Cloud, ids: Collection[str], lineage: str) -> list[ObservedResource]:
        wanted = set(ids)
        return [_observed(k) for k in cloud.compute.list_keypairs() if k.name in wanted]

    def poll(self, cloud: Cloud, ids: Collection[str], since: str) -> dict[str, ObservedResource]:
        return {}  # keypairs are usable as soon as the create answers

    def find_by_marker(self, cloud: Cloud, marker: Marker) -> ObservedResource | None:
        return None

    def create(self, cloud: Cloud, attrs: Mapping[str, Any], marker: Marker) -> str:
        name, public_key = attrs["name"], attrs["public_key"]
        try:
            return cloud.compute.import_keypair(name, public_key).name
        except CloudError as exc:
            if exc.status != 409:
                raise
            existing = cloud.compute.get_keypair(name)
            if existing.public_key.strip() != str(public_key).strip():
                raise CloudError(
                    f"a keypair named {name!r} already exists in the cloud with another key",
                    status=409,
                    hint="rename the keypair in the spec, or import it: "
                    f"stackplan import keypair.NAME {name}",
                ) from exc
            return existing.name  # ours, from a run whose answer was lost

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        return None  # nothing updates in place: every change replaces

    def rebuild(self, cloud: Cloud, resource_id: str, after: Mapping[str, Any]) -> Await | None:
        return None

    def delete(self, cloud: Cloud, resource_id: str) -> Await | None:
        cloud.compute.delete_keypair(resource_id)
        return None


def _observed(keypair: Keypair) -> ObservedResource:
    attrs = {"name": keypair.name, "public_key": keypair.public_key.strip()}
    return ObservedResource("keypair", keypair.name, attrs)
