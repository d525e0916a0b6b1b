"""The server group kind: Nova server groups (affinity and anti-affinity) that servers join.

A group cannot change in place: any change replaces it (and so the servers in it, whose
scheduler hint named it). It has no metadata for a marker, so stackplan records the intent
before each create along with the groups of that name that already exist; a group is ours
only when the state holds it, or when it appeared under that name after our intent. A group
of the same name made by hand or by another stack is never adopted and never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.errors import CloudError
from stackplan.kinds.base import (
    Await,
    Effect,
    Kind,
    Limit,
    Made,
    Marker,
    Measure,
    Named,
    ObservedResource,
    Reads,
    carried_namesakes,
)
from stackplan.state.model import CREATE_TOKEN, RecordStatus

if TYPE_CHECKING:
    from stackplan.cloud import Cloud, ServerGroup
    from stackplan.spec.expand import Entry
    from stackplan.state.model import ResourceRecord

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")
_NAMESAKES = "namesakes"  # intent: IDs of the groups of this name before the create


class ServerGroupKind(Kind):
    name: ClassVar[str] = "server_group"
    section: ClassVar[str] = "server_groups"
    noun: ClassVar[str] = "server group"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["policy"],
        "properties": {
            "name": {"$ref": "#/$defs/cloudName"},
            "policy": {"enum": list(POLICIES)},
            "rules": {
                "description": "Nova's rules (microversion 2.64): max_server_per_host, with "
                "the anti-affinity policy only.",
                "type": "object",
                "additionalProperties": False,
                "properties": {"max_server_per_host": {"type": "integer", "minimum": 1}},
            },
        },
    }
    example: ClassVar[Mapping[str, Any]] = {"policy": "anti-affinity"}
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "name", "policy")
    ignorable: ClassVar[Mapping[str, str]] = {"name": "name", "policy": "policy", "rules": "rules"}
    effects: ClassVar[Mapping[str, Effect]] = {
        "name": Effect.REPLACE,  # Nova has no update for a server group
        "policy": Effect.REPLACE,
        "rules": Effect.REPLACE,
    }
    marked: ClassVar[bool] = False
    measures: ClassVar[tuple[Measure, ...]] = (
        Measure("server_groups", quota_label="server groups"),
    )

    # -- the spec half --------------------------------------------------------------------

    def expand(self, entry: Entry) -> dict[str, Any]:
        rules = entry.value("rules", want_str=False) or {}
        if rules and entry.raw.get("policy") != "anti-affinity":
            entry.problem("rules", "Nova takes rules only with the anti-affinity policy")
        return {"name": entry.cloud_name(), "policy": entry.value("policy"), "rules": rules}

    def lookup(self, reads: Reads) -> list[Named]:
        return [Named(g.id, g.name, g.id, g.policy) for g in _groups(reads)]

    def usage(self, attrs: Mapping[str, Any]) -> dict[str, int]:
        return {"server_groups": 1}

    def limits(self, reads: Reads) -> dict[str, Limit]:
        limits = reads.get("compute.limits", lambda: reads.cloud.compute.get_limits())
        return {"server_groups": Limit(limits.max_server_groups, limits.server_groups_used)}

    # -- the cloud half -------------------------------------------------------------------

    def read_many(
        self, reads: Reads, records: Sequence[ResourceRecord], lineage: str
    ) -> list[ObservedResource]:
        """Every group of the project (they are few): those the state does not hold are
        namesakes the plan names, and a pending create is matched by its intent."""
        groups = _groups(reads)
        known = {r.id for r in records if r.id}
        claimed: dict[str, Marker] = {}
        for record in records:
            if record.status is not RecordStatus.PENDING_CREATE:
                continue
            found = _created(groups, record.attributes, known | set(claimed))
            if found is not None:
                token = str(record.attributes.get(CREATE_TOKEN, ""))
                claimed[found.id] = Marker(lineage, str(record.address), token)
        return [_observed(g, claimed.get(g.id)) for g in groups]

    def intent(self, cloud: Cloud, attrs: Mapping[str, Any]) -> dict[str, Any]:
        namesakes = [g.id for g in cloud.compute.list_server_groups() if g.name == attrs["name"]]
        return {"name": attrs["name"], _NAMESAKES: sorted(namesakes)}

    def carried_intent(
        self, earlier: Mapping[str, Any], now: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        return carried_namesakes(earlier, now, _NAMESAKES)

    def create(self, cloud: Cloud, attrs: Mapping[str, Any], marker: Marker) -> Made:
        group = cloud.compute.create_server_group(
            attrs["name"], attrs["policy"], dict(attrs.get("rules") or {})
        )
        return Made(group.id)

    def find_created(
        self, cloud: Cloud, marker: Marker, intent: Mapping[str, Any], attrs: Mapping[str, Any]
    ) -> ObservedResource | None:
        found = _created(cloud.compute.list_server_groups(), intent, set())
        return _observed(found, marker) if found is not None else None

    def delete(self, cloud: Cloud, resource_id: str) -> Await | None:
        try:
            cloud.compute.delete_server_group(resource_id)
        except CloudError as exc:
            if exc.status != 404:
                raise
        return None


def _groups(reads: Reads) -> tuple[ServerGroup, ...]:
    return reads.get("compute.server_groups", lambda: reads.cloud.compute.list_server_groups())


def _created(
    groups: Sequence[ServerGroup], intent: Mapping[str, Any], taken: set[str]
) -> ServerGroup | None:
    """The group a create recorded in `intent` made: of its name, and not there before."""
    if "name" not in intent:
        return None
    before = set(intent.get(_NAMESAKES) or ()) | taken
    new = [g for g in groups if g.name == intent["name"] and g.id not in before]
    return new[0] if len(new) == 1 else None


def _observed(group: ServerGroup, marker: Marker | None = None) -> ObservedResource:
    attrs = {"name": group.name, "policy": group.policy, "rules": dict(group.rules)}
    return ObservedResource("server_group", group.id, attrs, marker=marker)
