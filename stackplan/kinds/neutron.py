"""What the Neutron-backed kinds share: the marker in standard-attribute tags, reading a
kind with one tag-filtered list, and finding a create whose answer was lost.

Neutron takes tags at create for ports only; other resources are tagged right after their
create. So the intent recorded before a create also notes the IDs that already carry the
name: after a kill between the create and the tags, a resource of that name that was not
there before, and carries no other stack's marker, is the one this stack made. Once a
create of a kind has answered with its tags, the intents of that kind skip the namesakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.kinds.base import (
    Kind,
    Limit,
    Made,
    Marker,
    Named,
    ObservedResource,
    Reads,
    carried_namesakes,
)
from stackplan.state.model import CREATE_TOKEN, RecordStatus

if TYPE_CHECKING:
    from stackplan.cloud import Cloud
    from stackplan.cloud.network_model import Port
    from stackplan.state.model import ResourceRecord

LINEAGE, ADDRESS, TOKEN = "stackplan:lineage=", "stackplan:address=", "stackplan:token="
STACK = "stackplan:stack="
NAMESAKES = "namesakes"  # intent: IDs of the resources of that name before the create


def marker_tags(marker: Marker) -> list[str]:
    tags = [LINEAGE + marker.lineage, ADDRESS + marker.address, TOKEN + marker.token]
    # Neutron tags are at most 255 characters: a stack name is (the spec's pattern).
    return [*tags, STACK + marker.stack] if marker.stack else tags


def marker_of(tags: Iterable[str]) -> Marker | None:
    found = {t.split("=", 1)[0] + "=": t.split("=", 1)[1] for t in tags if "=" in t}
    if LINEAGE in found and ADDRESS in found:
        return Marker(found[LINEAGE], found[ADDRESS], found.get(TOKEN, ""), found.get(STACK, ""))
    return None


def user_tags(tags: Iterable[str]) -> list[str]:
    """The tags that are not stackplan's marker."""
    return sorted(t for t in tags if not t.startswith(("stackplan:",)))


class NeutronKind(Kind):
    """A kind whose resources Neutron holds. Subclasses say how to list, create and show
    them (`_list`, `_create_body`, `_observe`); this class owns markers and lost creates."""

    client_kind: ClassVar[str]  # Neutron's name of it in `NetworkClient` (`network`...)

    # -- what a subclass gives -----------------------------------------------------------

    def _list(self, cloud: Cloud, **filters: Any) -> Sequence[Any]:
        raise NotImplementedError

    def _observe(self, item: Any, reads: Reads | None) -> ObservedResource:
        raise NotImplementedError

    def _create(self, cloud: Cloud, attrs: Mapping[str, Any], tags: list[str]) -> Any:
        raise NotImplementedError

    def _delete(self, cloud: Cloud, resource_id: str) -> None:
        raise NotImplementedError

    def _alike_filters(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        """What a create with `attrs` could be mistaken for, as list filters: its name."""
        return {"name": attrs.get("name")}

    def _alike(self, cloud: Cloud, attrs: Mapping[str, Any]) -> Sequence[Any]:
        return self._list(cloud, **self._alike_filters(attrs))

    def all_visible(self, reads: Reads) -> Sequence[Any]:
        """Every resource of this kind the project sees, listed once per run."""
        return reads.get(f"network.{self.client_kind}.all", lambda: self._list(reads.cloud))

    def lookup(self, reads: Reads) -> list[Named]:
        # An admin lists every project's (each has a group named `default`): a name means
        # the project's own, or one it is offered (a shared or external network).
        project = project_of(reads)
        return [
            Named(i.id, i.name, i.id)
            for i in self.all_visible(reads)
            if i.project_id in ("", project) or self.offered(i)
        ]

    def offered(self, item: Any) -> bool:
        """Whether another project's resource is one this project may use by name."""
        return False

    # -- reading -------------------------------------------------------------------------

    def read_many(
        self, reads: Reads, records: Sequence[ResourceRecord], lineage: str
    ) -> list[ObservedResource]:
        """This lineage's tagged resources, the records' others (imported, or a create that
        died before its tags) and what a pending create may have made: all from the one
        list of the kind the run makes (names are looked up in it too)."""
        listed = list(self.all_visible(reads))
        wanted = {r.id for r in records if r.id}
        tagged = [i for i in listed if LINEAGE + lineage in i.tags or i.id in wanted]
        have = {item.id for item in tagged}
        claimed: dict[str, Marker] = {}
        others: list[Any] = []
        for record in (r for r in records if r.status is RecordStatus.PENDING_CREATE):
            filters = self._alike_filters(record.attributes)
            alike = [
                i
                for i in listed
                if i.id not in have and all(getattr(i, k, None) == v for k, v in filters.items())
            ]
            found = _created(alike, record.attributes, set(claimed), filters)
            if found is not None:
                token = str(record.attributes.get(CREATE_TOKEN, ""))
                claimed[found.id] = Marker(lineage, str(record.address), token)
                others.append(found)
        seen: dict[str, ObservedResource] = {}
        for item in [*tagged, *others]:
            observed = self._observe(item, reads)
            if item.id in claimed:
                observed = _with_marker(observed, claimed[item.id])
            seen[item.id] = observed
        return list(seen.values())

    def of_stack(self, reads: Reads, stack: str) -> list[ObservedResource]:
        return [self._observe(i, reads) for i in self.all_visible(reads) if STACK + stack in i.tags]

    def intent(self, cloud: Cloud, attrs: Mapping[str, Any]) -> dict[str, Any]:
        if self.client_kind in cloud.network.tags_at_create:
            # The marker goes on with the create: a lost one is found by its token, and
            # the namesakes (one more list per create) would tell nothing.
            return self._alike_filters(attrs)
        namesakes = [i.id for i in self._alike(cloud, attrs)]
        return {**self._alike_filters(attrs), NAMESAKES: sorted(namesakes)}

    def carried_intent(
        self, earlier: Mapping[str, Any], now: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        return carried_namesakes(earlier, now, NAMESAKES)

    def find_created(
        self, cloud: Cloud, marker: Marker, intent: Mapping[str, Any], attrs: Mapping[str, Any]
    ) -> ObservedResource | None:
        items = list(self._alike(cloud, attrs))
        by_token = [i for i in items if TOKEN + marker.token in i.tags]
        keys = self._alike_filters(intent)
        found = by_token[0] if by_token else _created(items, intent, set(), keys)
        if found is None:
            return None
        if not by_token:  # made, never tagged: tag it now so the next plan knows it
            cloud.network.set_tags(self.client_kind, found.id, [*found.tags, *marker_tags(marker)])
        return _with_marker(self._observe(found, None), marker)

    def mark(self, cloud: Cloud, resource_id: str, marker: Marker) -> None:
        current = next(iter(self._list(cloud, id=[resource_id])), None)
        if current is not None and marker_of(current.tags) is None:
            cloud.network.set_tags(
                self.client_kind, resource_id, [*current.tags, *marker_tags(marker)]
            )

    # -- changing -----------------------------------------------------------------------

    def create(self, cloud: Cloud, attrs: Mapping[str, Any], marker: Marker) -> Made:
        tags = [*attrs.get("tags", ()), *marker_tags(marker)]
        made = self._create(cloud, attrs, tags)
        if set(tags) <= set(made.tags):
            cloud.network.tags_at_create.add(self.client_kind)
        else:
            cloud.network.set_tags(self.client_kind, made.id, tags)
        seen = self._observe(made, None).attrs
        return Made(made.id, {k: seen[k] for k in self.reported if k in seen})

    def delete(self, cloud: Cloud, resource_id: str) -> None:
        self._delete(cloud, resource_id)
        return None

    def set_user_tags(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> None:
        """The spec's own tags changed: put them back beside the marker."""
        if sorted(before.get("tags") or ()) == sorted(after.get("tags") or ()):
            return
        current = next(iter(self._list(cloud, id=[resource_id])), None)
        marker = [t for t in (current.tags if current else ()) if t.startswith("stackplan:")]
        cloud.network.set_tags(self.client_kind, resource_id, [*after.get("tags", ()), *marker])


def changed(before: Mapping[str, Any], after: Mapping[str, Any], keys: Iterable[str]) -> dict:
    """The keys among `keys` whose value `after` gives differently."""
    return {k: after.get(k) for k in keys if k in after and after.get(k) != before.get(k)}


def _created(
    items: Sequence[Any], intent: Mapping[str, Any], taken: set[str], keys: Iterable[str]
) -> Any:
    """The resource a recorded create made: alike (`keys` of the intent: its name), not
    there before, not tagged as another's. One only: two such are too many to choose from."""
    if NAMESAKES not in intent:
        return None
    before = set(intent.get(NAMESAKES) or ()) | taken
    new = [
        i
        for i in items
        # A key the intent lacks (written by an older release) does not tell them apart.
        if all(getattr(i, k, None) == intent[k] for k in keys if k in intent)
        and i.id not in before
        and marker_of(i.tags) is None
    ]
    return new[0] if len(new) == 1 else None


def _with_marker(observed: ObservedResource, marker: Marker) -> ObservedResource:
    from dataclasses import replace

    return replace(observed, marker=marker)


def project_of(reads: Reads) -> str:
    """The project this run works in (the token's)."""
    return reads.get("project_id", lambda: reads.cloud.session.token().project_id or "")


def has_neutron(reads: Reads) -> bool:
    return reads.get("network.available", lambda: reads.cloud.network.available())


def all_ports(reads: Reads) -> Sequence[Port]:
    """Every port of the project, listed once per run (routers, servers and floating IPs
    read their interfaces from it)."""
    return reads.get(_PORTS, lambda: reads.cloud.network.list_ports())


def ports_soon(reads: Reads) -> None:
    """Start listing the project's ports (`all_ports` takes the answer)."""
    reads.soon(_PORTS, lambda: reads.cloud.network.list_ports())


_PORTS = "network.port.all"


def neutron_limits(reads: Reads, names: Mapping[str, str]) -> dict[str, Limit]:
    """The project's Neutron quota for `names` (measure -> Neutron's resource name)."""
    cloud = reads.cloud

    def fetch() -> Mapping[str, Any]:
        return cloud.network.get_quota(project_of(reads))

    quota = reads.get("network.quota", fetch)
    return {m: Limit(quota[n].limit, quota[n].used) for m, n in names.items() if n in quota}
