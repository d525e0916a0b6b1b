"""The server kind: Nova servers, compared on resolved IDs, built, resized, rebuilt.

Desired attributes, as `expand` makes them (image and flavor before `resolve`):
    name                 the server's name in the cloud
    image                {"id"} | {"name", "most_recent"}  -> image_id, image_name
    flavor               {"id"} | {"name"}                 -> flavor_id, flavor_name, sizes
    key_name             a keypair's name (`${keypair.K.name}` for the spec's own)
    server_group_id      a server group's ID (`${server_group.G.id}` for the spec's own)
    networks             see server_networks.py: None, "auto", "none" or NIC entries
    security_groups      group IDs; None when the spec says nothing (the cloud chooses)
    metadata             strings; may hold ${...} references, filled at apply
    user_data            the text (state and plans keep its digest, user_data_sha256)
    availability_zone    None: the cloud chooses
    image_update         "replace" | "rebuild": what an image change does
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.kinds import server_networks as nets
from stackplan.kinds import server_volumes as vols
from stackplan.kinds.base import (
    GONE,
    Await,
    Effect,
    Kind,
    Limit,
    Made,
    Marker,
    Measure,
    ObservedResource,
    Reads,
    ResolveContext,
)
from stackplan.kinds.neutron import all_ports, has_neutron, ports_soon, project_of
from stackplan.kinds.server_images import both_soon, check_fit, find_flavor, find_image
from stackplan.kinds.volume import all_volumes

if TYPE_CHECKING:
    from stackplan.addr import Address
    from stackplan.cloud import Cloud, ServerInfo
    from stackplan.cloud.network_model import Port
    from stackplan.cloud.volume import Volume
    from stackplan.spec.expand import Entry
    from stackplan.spec.model import DesiredResource
    from stackplan.state.model import ResourceRecord

# Server metadata stackplan writes so that a create whose answer was lost is found again.
MARK_LINEAGE, MARK_ADDRESS, MARK_TOKEN = "stackplan:lineage", "stackplan:address", "stackplan:token"
MARK_STACK = "stackplan:stack"
_MARKS = (MARK_LINEAGE, MARK_ADDRESS, MARK_TOKEN, MARK_STACK)
NOVA_USER_DATA_LIMIT = 65535  # bytes, once base64-encoded (Nova's API limit)
_READY = frozenset({"ACTIVE"})
# Statuses of a server whose earlier action still runs, and those it settles in.
_UNDER_WAY = frozenset({"RESIZE", "REVERT_RESIZE", "REBUILD", "MIGRATING", "REBOOT"})
_SETTLED = frozenset({"ACTIVE", "VERIFY_RESIZE", "SHUTOFF"})

_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["image", "flavor"],
    "properties": {
        "name": {"$ref": "#/$defs/cloudName"},
        "image": {"$ref": "#/$defs/image"},
        "flavor": {"$ref": "#/$defs/flavor"},
        "key_pair": {"$ref": "#/$defs/ref"},
        "server_group": {"$ref": "#/$defs/ref"},
        "networks": nets.SCHEMA,
        "security_groups": {"type": "array", "items": {"$ref": "#/$defs/ref"}},
        "metadata": {"$ref": "#/$defs/metadata"},
        "user_data": {"type": "string"},
        "user_data_file": {"type": "string", "minLength": 1},
        "availability_zone": {"type": "string", "minLength": 1},
        "image_update": {"enum": ["replace", "rebuild"]},
        "volumes": vols.SCHEMA,
        "boot_volume": vols.BOOT_SCHEMA,
        "config_drive": {"type": "boolean"},
        "tags": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"},
            "maxItems": 50,
            "x-messages": {"pattern": "a server tag may not hold a comma or a slash"},
        },
    },
    "not": {"required": ["user_data", "user_data_file"]},
    "x-messages": {"not": "give user_data or user_data_file, not both"},
}
_DEFS: Mapping[str, Any] = {
    "image": {
        "type": ["string", "object"],
        "minLength": 1,
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "name": {"type": "string", "minLength": 1},
            "most_recent": {"type": "boolean"},
        },
        "x-messages": {
            "type": "must be an image name, {id: ...} or {name: ..., most_recent: true}"
        },
        "if": {"type": "object"},
        "then": {
            "oneOf": [{"required": ["id"]}, {"required": ["name"]}],
            "dependentRequired": {"most_recent": ["name"]},
            "x-messages": {
                "oneOf": "give exactly one of id or name",
                "dependentRequired": "most_recent goes with name, not id",
            },
        },
    },
    "flavor": {
        "type": ["string", "object"],
        "minLength": 1,
        "additionalProperties": False,
        "properties": {"id": {"type": "string", "minLength": 1}},
        "x-messages": {"type": "must be a flavor name or {id: ...}"},
        "if": {"type": "object"},
        "then": {"required": ["id"]},
    },
}


def user_data_digest(user_data: str | None) -> str | None:
    return hashlib.sha256(user_data.encode()).hexdigest() if user_data is not None else None


def user_data_problem(text: str) -> str | None:
    """Why Nova would refuse `text` as user data, or None."""
    size = len(base64.b64encode(text.encode("utf-8")))
    if size > NOVA_USER_DATA_LIMIT:
        return (
            f"user data is {size} bytes once base64-encoded; Nova accepts at most "
            f"{NOVA_USER_DATA_LIMIT}"
        )
    return None


class ServerKind(Kind):
    name: ClassVar[str] = "server"
    section: ClassVar[str] = "servers"
    schema: ClassVar[Mapping[str, Any]] = _SCHEMA
    schema_defs: ClassVar[Mapping[str, Any]] = _DEFS
    example: ClassVar[Mapping[str, Any]] = {"image": "cirros", "flavor": "m1.tiny"}
    references: ClassVar[Mapping[str, str]] = {
        "key_pair": "keypair",
        "server_group": "server_group",
        "security_groups": "security_group",
    }
    reference_attrs: ClassVar[tuple[str, ...]] = (
        "id",
        "name",
        "access_ip_v4",
        "access_ip_v6",
        "status",
        "image_id",
        "flavor_id",
        "key_name",
        "availability_zone",
    )
    ignorable: ClassVar[Mapping[str, str]] = {
        "name": "name",
        "image": "image_id",
        "flavor": "flavor_id",
        "key_pair": "key_name",
        "server_group": "server_group_id",
        "networks": "networks",
        "security_groups": "security_groups",
        "metadata": "metadata",
        "user_data": "user_data_sha256",
        "availability_zone": "availability_zone",
        "volumes": "volumes",
        "boot_volume": "boot_volume",
        "config_drive": "config_drive",
        "tags": "tags",
    }
    effects: ClassVar[Mapping[str, Effect]] = {
        "name": Effect.UPDATE,
        "metadata": Effect.UPDATE,
        "networks": Effect.UPDATE,
        "security_groups": Effect.UPDATE,
        "flavor_id": Effect.RESIZE,
        "image_id": Effect.REPLACE,  # or REBUILD, when the spec opts in (see `effect`)
        "key_name": Effect.REPLACE,
        "server_group_id": Effect.REPLACE,
        "user_data_sha256": Effect.REPLACE,
        "availability_zone": Effect.REPLACE,
        "volumes": Effect.UPDATE,
        "tags": Effect.UPDATE,
        "boot_volume": Effect.REPLACE,
        "config_drive": Effect.REPLACE,
    }
    companions: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "image_id": ("image_name",),
        "flavor_id": ("flavor_name", "flavor_vcpus", "flavor_ram", "flavor_disk"),
    }
    display: ClassVar[Mapping[str, tuple[str, str]]] = {
        "image_id": ("image", "image_name"),
        "flavor_id": ("flavor", "flavor_name"),
    }
    folded: ClassVar[frozenset[str]] = frozenset(
        {"image_name", "flavor_name", "flavor_vcpus", "flavor_ram", "flavor_disk", "image_update"}
    )
    cloud_chosen: ClassVar[frozenset[str]] = frozenset(
        {"availability_zone", "security_groups", "networks", "volumes", "config_drive", "tags"}
    )
    # Data volumes are attached once the server is ACTIVE and they exist: a volume is made
    # beside its server, not before it.
    late: ClassVar[frozenset[str]] = frozenset({"volumes"})
    holds: ClassVar[frozenset[str]] = frozenset({"volumes"})
    reported: ClassVar[tuple[str, ...]] = ("access_ip_v4",)
    settles: ClassVar[bool] = True
    ready: ClassVar[frozenset[str]] = _READY
    measures: ClassVar[tuple[Measure, ...]] = (
        Measure("instances", quota_label="instances"),
        Measure("vcpus", quota_label="cores", delta_label="vCPUs", delta_singular="vCPU"),
        Measure("ram_mb", quota_label="RAM", unit=" MB", delta_label="MB RAM"),
        Measure("disk_gb", delta_label="GB disk"),
    )

    # -- the spec half --------------------------------------------------------------------

    def expand(self, entry: Entry) -> dict[str, Any]:
        return {
            "name": entry.cloud_name(),
            "image": _image(entry.value("image")),
            "flavor": _flavor(entry.value("flavor")),
            "key_name": entry.reference("key_pair"),
            "server_group_id": entry.reference("server_group"),
            # Left out, the cloud chooses (Nova's default group, or none at all on a server
            # without ports): never a change, so a plan of an unchanged spec stays empty.
            "networks": nets.expand(entry),
            "security_groups": nets.groups(entry),
            "metadata": entry.metadata(),
            "user_data": _user_data(entry),
            "availability_zone": entry.value("availability_zone"),
            "image_update": entry.raw.get("image_update", "replace"),
            "volumes": vols.expand(entry),
            "boot_volume": vols.expand_boot(entry),
            "config_drive": entry.raw.get("config_drive"),
            "tags": sorted(set(entry.value("tags"))) if entry.has("tags") else None,
        }

    def implied(
        self, resource: DesiredResource, spec: Mapping[str, Sequence[DesiredResource]]
    ) -> list[Address]:
        return nets.implied(resource, spec)

    def same(self, field: str, wanted: Any, actual: Any) -> bool | None:
        if field == "networks":
            return nets.networks_match(wanted, actual)
        if field == "security_groups":
            return nets.groups_match(wanted, actual)
        if field == "volumes":
            return vols.volumes_match(wanted, actual)
        if field == "boot_volume":
            return vols.boot_match(wanted, actual)
        if field == "tags" and wanted is not None:
            return sorted(set(wanted)) == sorted(set(actual or ()))
        return None

    def resolve(self, attrs: Mapping[str, Any], ctx: ResolveContext) -> Mapping[str, Any]:
        if "image" not in attrs and "flavor" not in attrs:
            return attrs  # resolved before (a saved plan, an import)
        if attrs.get("networks") in (None, "auto"):
            _check_one_network(ctx)
        vols.check_free(ctx, attrs.get("volumes"), ctx.address)
        vols.check_boot(ctx, attrs.get("boot_volume"))
        image = find_image(ctx, attrs.get("image") or {})
        flavor = find_flavor(ctx, attrs.get("flavor") or {})
        if image is None or flavor is None:
            return attrs
        check_fit(ctx, image, flavor)
        out = {k: v for k, v in attrs.items() if k not in ("image", "flavor")}
        out.update(
            image_id=image.id,
            image_name=image.name,
            flavor_id=flavor.id,
            flavor_name=flavor.name,
            flavor_vcpus=flavor.vcpus,
            flavor_ram=flavor.ram,
            flavor_disk=flavor.disk,
        )
        return out

    def prefetch(self, reads: Reads) -> None:
        both_soon(reads)

    def recorded(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        # The user data itself can be large and hold credentials: state keeps its digest.
        out = {k: v for k, v in attrs.items() if k != "user_data"}
        out["user_data_sha256"] = user_data_digest(attrs.get("user_data"))
        return out

    def effect(self, field: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Effect:
        if field == "image_id" and after.get("image_update") == "rebuild":
            return Effect.REBUILD
        return self.effects[field]

    def facts(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "flavor": attrs.get("flavor_name"),
            "image": attrs.get("image_name"),
            "metadata": attrs.get("metadata") or {},
        }

    def usage(self, attrs: Mapping[str, Any]) -> dict[str, int]:
        sizes = {"vcpus": "flavor_vcpus", "ram_mb": "flavor_ram", "disk_gb": "flavor_disk"}
        if not any(key in attrs for key in sizes.values()):
            return {}  # not resolved: nothing is known of its size
        used = {name: _int(attrs.get(key)) for name, key in sizes.items()}
        boot = attrs.get("boot_volume")
        if isinstance(boot, Mapping):
            # The root disk is a Cinder volume: it counts there, not on the hypervisor.
            used.update(disk_gb=0, volumes=1, volume_gb=_int(boot.get("size")))
        return {"instances": 1, **used}

    def limits(self, reads: Reads) -> dict[str, Limit]:
        limits = _compute_limits(reads)
        return {
            "instances": Limit(limits.max_instances, limits.instances_used),
            "vcpus": Limit(limits.max_cores, limits.cores_used),
            "ram_mb": Limit(limits.max_ram, limits.ram_used),
        }

    # -- reading ------------------------------------------------------------------------

    def read_many(
        self, reads: Reads, records: Sequence[ResourceRecord], lineage: str
    ) -> list[ObservedResource]:
        # One paginated listing of the project: cheaper than a GET per server, and it also
        # finds servers whose create answer never reached the state (by their marker).
        wanted = {r.id for r in records if r.id}
        # Interfaces and groups come from Neutron's ports: one more list, read only when a
        # recorded server has some the spec chose.
        chose = any(_chose_interfaces(r.attributes) for r in records)
        if chose:
            ports_soon(reads)  # while the servers' pages come
        servers = reads.get("compute.servers", lambda: reads.cloud.compute.list_servers())
        ports = nets.by_device(all_ports(reads)) if chose else None
        # Cinder tells which volume a server boots from (and so its image): one more list,
        # read only when a server has volumes at all.
        volumes = None
        if any(s.volumes_attached for s in servers):
            volumes = {v.id: v for v in all_volumes(reads)}
        found = []
        for server in servers:
            observed = _observed(server, ports, volumes)
            mine = observed.marker is not None and observed.marker.lineage == lineage
            if server.id in wanted or mine:
                found.append(observed)
        return found

    def of_stack(self, reads: Reads, stack: str) -> list[ObservedResource]:
        servers = reads.get("compute.servers", lambda: reads.cloud.compute.list_servers())
        return [
            _observed(s)
            for s in servers
            if s.metadata.get(MARK_STACK) == stack and s.status != "DELETED"
        ]

    def poll(self, cloud: Cloud, ids: Collection[str], since: str) -> dict[str, ObservedResource]:
        wanted = set(ids)
        return {
            s.id: _observed(s, volumes={})
            for s in cloud.compute.list_servers(changes_since=since, only=wanted)
        }

    def find_created(
        self, cloud: Cloud, marker: Marker, intent: Mapping[str, Any], attrs: Mapping[str, Any]
    ) -> ObservedResource | None:
        for server in cloud.compute.list_servers():
            if server.metadata.get(MARK_TOKEN) == marker.token and server.status != "DELETED":
                return _observed(server)
        return None

    # -- changing -----------------------------------------------------------------------

    def create(self, cloud: Cloud, attrs: Mapping[str, Any], marker: Marker) -> Made:
        from stackplan.cloud import ServerCreate

        metadata = dict(attrs.get("metadata") or {})
        metadata.update(
            {MARK_LINEAGE: marker.lineage, MARK_ADDRESS: marker.address, MARK_TOKEN: marker.token}
        )
        if marker.stack:
            metadata[MARK_STACK] = marker.stack
        server_id = cloud.compute.create_server(
            ServerCreate(
                name=attrs["name"],
                image_id=attrs["image_id"],
                flavor_id=attrs["flavor_id"],
                key_name=attrs.get("key_name"),
                security_groups=tuple(attrs.get("security_groups") or ()),
                networks=nets.create_form(attrs.get("networks")),
                metadata=metadata,
                user_data=attrs.get("user_data"),
                availability_zone=attrs.get("availability_zone"),
                server_group_id=attrs.get("server_group_id"),
                tags=tuple(attrs.get("tags") or ()),
                config_drive=bool(attrs.get("config_drive")),
                boot_volume=_boot(attrs.get("boot_volume")),
            )
        )
        return Made(server_id)

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        compute = cloud.compute
        if after.get("name") != before.get("name"):
            compute.update_server(resource_id, name=after["name"])
        old_meta, new_meta = dict(before.get("metadata") or {}), dict(after.get("metadata") or {})
        if new_meta != old_meta:
            # Merge and delete key by key: a PUT of the whole map would drop our marker.
            changed = {k: v for k, v in new_meta.items() if old_meta.get(k) != v}
            if changed:
                compute.set_metadata(resource_id, changed)
            for key in sorted(set(old_meta) - set(new_meta)):
                compute.delete_metadata_key(resource_id, key)
        moved = not nets.networks_match(after.get("networks"), before.get("networks"))
        if moved:
            nets.set_interfaces(cloud, resource_id, after.get("networks"))
        groups = after.get("security_groups")  # None: the cloud's choice stands
        if groups is not None and (
            moved or not nets.groups_match(groups, before.get("security_groups"))
        ):
            nets.set_groups(cloud, resource_id, groups)
        if not vols.volumes_match(after.get("volumes"), before.get("volumes")):
            vols.set_volumes(cloud, resource_id, before.get("volumes"), after.get("volumes"))
        tags = after.get("tags")
        if tags is not None and sorted(set(tags)) != sorted(set(before.get("tags") or ())):
            compute.set_server_tags(resource_id, tags)
        if after.get("flavor_id") and after.get("flavor_id") != before.get("flavor_id"):
            compute.resize(resource_id, after["flavor_id"])

            def confirm() -> Await:
                compute.confirm_resize(resource_id)
                return Await(resource_id, _READY, verb="still resizing")

            gave_up = _resize_given_up(before, after)
            return Await(
                resource_id, frozenset({"VERIFY_RESIZE"}), confirm, "still resizing", gave_up
            )
        return None

    def resume(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        """Finish what a killed apply left midway, from what Nova shows now: a resize that
        waits for its confirmation is confirmed when the spec still wants that flavor and
        reverted when it went back; one still under way is waited for. Then whatever else
        differs is changed from the server as it now is."""
        server = cloud.compute.get_server(resource_id)
        status = server.status

        def go_on() -> Await | None:
            now = _observed(cloud.compute.get_server(resource_id)).attrs
            return self.update(cloud, resource_id, {**before, **now}, after)

        if status == "VERIFY_RESIZE":
            if server.flavor_id == after.get("flavor_id"):
                cloud.compute.confirm_resize(resource_id)
            else:
                cloud.compute.revert_resize(resource_id)
            return Await(resource_id, _READY, go_on, "still finishing a resize")
        if status in _UNDER_WAY:

            def again() -> Await | None:
                return self.resume(cloud, resource_id, before, after)

            return Await(resource_id, _SETTLED, again, "still finishing an earlier update")
        return go_on()

    def rebuild(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        """Rebuild onto the new image, then change in place whatever else differs."""
        cloud.compute.rebuild(resource_id, after["image_id"])
        rebuilt = dict(before, image_id=after.get("image_id"))

        def then() -> Await | None:
            return self.update(cloud, resource_id, rebuilt, {**before, **after})

        return Await(resource_id, _READY, then, "still rebuilding")

    def delete(self, cloud: Cloud, resource_id: str) -> Await | None:
        cloud.compute.delete_server(resource_id)
        return Await(resource_id, frozenset({GONE}), verb="still destroying")


def _compute_limits(reads: Reads) -> Any:
    return reads.get("compute.limits", lambda: reads.cloud.compute.get_limits())


def _image(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"name": value, "most_recent": False}
    if "id" in value:
        return {"id": value["id"]}
    return {"name": value["name"], "most_recent": bool(value.get("most_recent", False))}


def _flavor(value: Any) -> dict[str, str]:
    return {"name": value} if isinstance(value, str) else {"id": value["id"]}


def _user_data(entry: Entry) -> str | None:
    if entry.has("user_data"):
        field, text = "user_data", entry.with_refs("user_data")
    elif entry.has("user_data_file"):
        # The file's text is taken as it is: cloud-init scripts use ${...} themselves.
        field, text = "user_data_file", entry.read_file("user_data_file")
    else:
        return None
    if isinstance(text, str) and (problem := user_data_problem(text)):
        entry.problem(field, problem)
    return text


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _chose_interfaces(attrs: Mapping[str, Any]) -> bool:
    return isinstance(attrs.get("networks"), list) or attrs.get("security_groups") is not None


def _check_one_network(ctx: ResolveContext) -> None:
    """A server that names no network gets Nova's only candidate; with several, Nova
    refuses it at apply, so the plan fails now."""
    reads = ctx.reads
    if not has_neutron(reads):
        return
    listed = reads.get("network.network.all", lambda: reads.cloud.network.list_networks())
    candidates = nets.ambiguity(listed, project_of(reads))
    if len(candidates) > 1:
        names = ", ".join(f"{n.name} ({n.id})" for n in candidates)
        ctx.problem(
            "networks",
            f"this project sees several networks ({names}): Nova refuses a server that "
            "names none ('Multiple possible networks found')",
            hint=f"say which: networks: [{{network: {candidates[0].name}}}], or networks: none",
        )


def _observed(
    server: ServerInfo,
    ports: Mapping[str, Sequence[Port]] | None = None,
    volumes: Mapping[str, Volume] | None = None,
) -> ObservedResource:
    """The server as the spec describes one; `ports` by server ID and `volumes` by ID are
    read only when given."""
    marker = None
    meta = dict(server.metadata)
    if MARK_LINEAGE in meta and MARK_ADDRESS in meta:
        marker = Marker(
            meta[MARK_LINEAGE],
            meta[MARK_ADDRESS],
            meta.get(MARK_TOKEN, ""),
            meta.get(MARK_STACK, ""),
        )
    for key in _MARKS:
        meta.pop(key, None)
    attrs: dict[str, Any] = {
        "name": server.name,
        "image_id": server.image_id,
        "flavor_id": server.flavor_id,
        "key_name": server.key_name,
        "metadata": meta,
        "access_ip_v4": server.access_ip_v4 or _first_address(server),
    }
    if ports is not None:
        attrs["networks"], attrs["security_groups"] = nets.observed(
            ports.get(server.id, ()), server.id
        )
    attrs["tags"] = sorted(server.tags)
    if volumes is not None:
        attrs.update(vols.observed(server, volumes))
    if server.flavor_name:
        attrs["flavor_name"] = server.flavor_name
    if server.availability_zone is not None:
        attrs["availability_zone"] = server.availability_zone
    # A status with a task still running (ACTIVE + rebuilding) is not yet the status.
    status = GONE if server.status == "DELETED" else server.status
    if server.task_state and status == "ACTIVE":
        status = f"ACTIVE/{server.task_state}"
    return ObservedResource(
        "server", server.id, attrs, status, server.fault, marker, failed=status == "ERROR"
    )


def _resize_given_up(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> Callable[[ObservedResource], str | None]:
    """Nova takes a resize (202, the server shows RESIZE at once) and, when no host can
    take the new flavor, puts the server back as it was on its old one, with no fault:
    the instance action `resize` says only "Error"."""
    old, new = before.get("flavor_id"), after.get("flavor_id")
    name = after.get("flavor_name") or new

    def check(found: ObservedResource) -> str | None:
        if found.status not in ("ACTIVE", "SHUTOFF") or found.attrs.get("flavor_id") != old:
            return None
        return (
            f"Nova did not resize it to {name}: the server is back to {found.status} on its old "
            "flavor (most often no host can take the new one; "
            f"`openstack server event list {found.id}` shows Nova's record)"
        )

    return check


def _boot(value: Any) -> Any:
    from stackplan.cloud.model import BootVolume

    if not isinstance(value, Mapping):
        return None
    return BootVolume(
        size=int(value["size"]),
        volume_type=value.get("volume_type"),
        delete_on_termination=bool(value.get("delete_on_termination", True)),
    )


def _first_address(server: ServerInfo) -> str | None:
    for addresses in server.addresses.values():
        for address in addresses:
            if "." in address:
                return address
    return None
