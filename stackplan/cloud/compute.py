"""Nova (compute v2.1): flavors, servers, keypairs, server groups, limits — as typed frozen values.

Wire names (`flavorRef`, `OS-EXT-STS:task_state`, ...) stop here. The microversion is
negotiated once from the version document: min(the cloud's maximum, ours).
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from stackplan.cloud.image import Image
from stackplan.cloud.model import (
    Flavor,
    Keypair,
    Limits,
    ServerCreate,
    ServerGroup,
    ServerInfo,
)
from stackplan.cloud.pages import pages
from stackplan.cloud.session import Session
from stackplan.errors import CloudError
from stackplan.frozen import frozen_map

log = logging.getLogger("stackplan.cloud")

MAX_MICROVERSION = (2, 79)  # Train: the newest behaviour this client implements
PROXY_MAX = (2, 35)  # the /images proxy answers 404 from 2.36


def parse_version(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    major, _, minor = text.partition(".")
    try:
        return (int(major), int(minor or 0))
    except ValueError:
        return None


def _vstr(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


class ComputeClient:
    """Nova at the catalog's `compute` endpoint. Thread-safe; one per run."""

    def __init__(
        self,
        session: Session,
        endpoint: str | None = None,
        *,
        max_microversion: str | None = None,
        page_size: int | None = None,
    ):
        self.session = session
        self._endpoint = endpoint
        self._cap = parse_version(max_microversion) or MAX_MICROVERSION
        self.page_size = page_size
        self._microversion: tuple[int, int] | None = None
        self._negotiated = False
        self._lock = threading.Lock()
        self._flavors: tuple[Flavor, ...] | None = None  # the last listing
        self._flavor_ids: dict[str, str] = {}  # its names -> ids
        self._listing_flavors = threading.Lock()  # one listing when threads ask at once

    # -- plumbing ------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return (self._endpoint or self.session.endpoint("compute")).rstrip("/")

    @property
    def microversion(self) -> tuple[int, int] | None:
        """The negotiated microversion, or None when the endpoint has none (legacy v2)."""
        with self._lock:
            if not self._negotiated:
                self._microversion = self._negotiate()
                self._negotiated = True
            return self._microversion

    def _negotiate(self) -> tuple[int, int] | None:
        url = self.endpoint
        token = self.session.token()
        last = url.rsplit("/", 1)[-1]
        if token.project_id and last == token.project_id:
            url = url.rsplit("/", 1)[0]  # a legacy catalog URL ending in the project id
        try:
            data = self.session.http.request("GET", url).json() or {}
        except CloudError as exc:
            log.debug("compute version discovery at %s failed (%s); using 2.1", url, exc)
            return (2, 1)
        doc = data.get("version")
        if not isinstance(doc, dict):
            doc = next((v for v in data.get("versions") or [] if str(v.get("id")) == "v2.1"), None)
        if not isinstance(doc, dict):
            return (2, 1)
        server_max = parse_version(doc.get("version"))
        if server_max is None:
            return None  # no microversions at all
        return min(server_max, self._cap)

    def at_least(self, major: int, minor: int) -> bool:
        version = self.microversion
        return version is not None and version >= (major, minor)

    def _headers(self, version: tuple[int, int] | None = None) -> dict[str, str]:
        version = version or self.microversion
        if version is None:
            return {}
        text = _vstr(version)
        return {"OpenStack-API-Version": f"compute {text}", "X-OpenStack-Nova-API-Version": text}

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Any = None,
        retry_safe: bool | None = None,
        version: tuple[int, int] | None = None,
    ) -> Any:
        url = path if urlsplit(path).scheme else f"{self.endpoint}/{path.lstrip('/')}"
        response = self.session.request(
            method,
            url,
            json_body=body,
            params=params,
            headers=self._headers(version),
            retry_safe=retry_safe,
        )
        return response.json() if response.content else None

    def _pages(
        self,
        path: str,
        key: str,
        params: Mapping[str, Any] | None = None,
        version: tuple[int, int] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list (`cloud.pages`)."""
        query: dict[str, Any] = dict(params or {})
        if self.page_size:
            query["limit"] = self.page_size

        def fetch(url: str, params: Mapping[str, Any] | None) -> Any:
            return self._call("GET", url, params=params, version=version)

        return pages(fetch, path, key, query)

    # -- flavors -------------------------------------------------------------------------

    def list_flavors(self) -> tuple[Flavor, ...]:
        """Every flavor visible to the project (all pages of /flavors/detail)."""
        flavors = tuple(_flavor(item) for item in self._pages("flavors/detail", "flavors"))
        with self._lock:
            self._flavors = flavors
            self._flavor_ids = {f.name: f.id for f in flavors}
        return flavors

    def known_flavors(self) -> tuple[Flavor, ...]:
        """This client's last listing of flavors, or a new one if it has none.

        Reading servers at 2.47+ lists flavors (they name theirs only); a plan that reads
        servers while it resolves flavor names should not list them twice.
        """
        with self._listing_flavors:
            with self._lock:
                flavors = self._flavors
            return flavors if flavors is not None else self.list_flavors()

    def get_flavor(self, flavor_id: str) -> Flavor:
        return _flavor(self._call("GET", f"flavors/{flavor_id}")["flavor"])

    def _flavor_id_by_name(self, name: str | None) -> str | None:
        if name is None:
            return None
        self.known_flavors()  # once per client: servers at 2.47+ name their flavor only
        with self._lock:
            return self._flavor_ids.get(name)

    # -- images (the compute proxy; Glance is preferred, see image.py) --------------------

    def list_images(self) -> tuple[Image, ...]:
        """Images through Nova's proxy, pinned to 2.35 since it is gone from 2.36."""
        version = self.microversion
        pinned = min(version, PROXY_MAX) if version else None
        return tuple(
            _proxy_image(item) for item in self._pages("images/detail", "images", version=pinned)
        )

    # -- servers -------------------------------------------------------------------------

    def list_servers(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        tags: tuple[str, ...] | None = None,
        changes_since: str | None = None,
        only: Collection[str] | None = None,
    ) -> tuple[ServerInfo, ...]:
        """Servers of the project with details, all pages. `name` is Nova's regex filter;
        `only` keeps the servers of these IDs (the others are not parsed: a poll of 1,000
        servers awaits a few of them)."""
        params: dict[str, Any] = {}
        if name is not None:
            params["name"] = name
        if status is not None:
            params["status"] = status
        if tags:
            params["tags"] = ",".join(tags)
        if changes_since is not None:
            params["changes-since"] = changes_since
        items = self._pages("servers/detail", "servers", params)
        if only is not None:
            return tuple(self._server(i) for i in items if str(i.get("id")) in only)
        return tuple(self._server(item) for item in items)

    def get_server(self, server_id: str) -> ServerInfo:
        return self._server(self._call("GET", f"servers/{server_id}")["server"])

    def create_server(self, spec: ServerCreate) -> str:
        """Ask for a new server; returns its ID. Not retried: a repeat could boot two."""
        server: dict[str, Any] = {
            "name": spec.name,
            "imageRef": spec.image_id,
            "flavorRef": spec.flavor_id,
        }
        if spec.boot_volume is not None:
            # Booted from a new volume made of the image: Nova wants no imageRef then.
            boot = spec.boot_volume
            mapping: dict[str, Any] = {
                "boot_index": 0,
                "uuid": spec.image_id,
                "source_type": "image",
                "destination_type": "volume",
                "volume_size": boot.size,
                "delete_on_termination": boot.delete_on_termination,
            }
            if boot.volume_type and self.at_least(2, 67):
                mapping["volume_type"] = boot.volume_type
            server["imageRef"] = ""
            server["block_device_mapping_v2"] = [mapping]
        if spec.config_drive:
            server["config_drive"] = True
        if spec.key_name:
            server["key_name"] = spec.key_name
        if spec.security_groups:
            server["security_groups"] = [{"name": n} for n in spec.security_groups]
        if spec.metadata:
            server["metadata"] = dict(spec.metadata)
        if spec.user_data is not None:
            server["user_data"] = base64.b64encode(spec.user_data.encode()).decode()
        if spec.availability_zone:
            server["availability_zone"] = spec.availability_zone
        nets = spec.networks
        if not isinstance(nets, str):
            server["networks"] = [_nic(n) for n in nets]
        elif self.at_least(2, 37):  # "auto" / "none" are words of 2.37; before, none is auto
            server["networks"] = nets
        late_tags = bool(spec.tags) and not self.at_least(2, 52)
        if spec.tags and not late_tags:
            server["tags"] = list(spec.tags)
        body: dict[str, Any] = {"server": server}
        if spec.server_group_id:
            body["os:scheduler_hints"] = {"group": spec.server_group_id}
        data = self._call("POST", "servers", body=body, retry_safe=False)
        server_id = str(data["server"]["id"])
        if late_tags and self.at_least(2, 26):
            self._call("PUT", f"servers/{server_id}/tags", body={"tags": list(spec.tags)})
        return server_id

    def update_server(self, server_id: str, *, name: str) -> None:
        self._call("PUT", f"servers/{server_id}", body={"server": {"name": name}})

    def delete_server(self, server_id: str, *, missing_ok: bool = True) -> None:
        """Delete; a server already gone is fine unless `missing_ok` is False."""
        try:
            self._call("DELETE", f"servers/{server_id}")
        except CloudError as exc:
            if not (missing_ok and exc.status == 404):
                raise

    def set_metadata(
        self, server_id: str, metadata: Mapping[str, str], *, replace: bool = False
    ) -> dict[str, str]:
        """Merge `metadata` into the server's (or replace it all); returns the result."""
        method = "PUT" if replace else "POST"
        data = self._call(
            method,
            f"servers/{server_id}/metadata",
            body={"metadata": dict(metadata)},
            retry_safe=True,
        )
        return dict(data.get("metadata") or {})

    def delete_metadata_key(self, server_id: str, key: str) -> None:
        self._call("DELETE", f"servers/{server_id}/metadata/{key}")

    # -- actions -------------------------------------------------------------------------

    def _action(self, server_id: str, body: dict[str, Any]) -> Any:
        return self._call("POST", f"servers/{server_id}/action", body=body, retry_safe=False)

    def resize(self, server_id: str, flavor_id: str) -> None:
        self._action(server_id, {"resize": {"flavorRef": flavor_id}})

    def confirm_resize(self, server_id: str) -> None:
        self._action(server_id, {"confirmResize": None})

    def revert_resize(self, server_id: str) -> None:
        self._action(server_id, {"revertResize": None})

    def rebuild(self, server_id: str, image_id: str, *, name: str | None = None) -> None:
        body: dict[str, Any] = {"imageRef": image_id}
        if name is not None:
            body["name"] = name
        self._action(server_id, {"rebuild": body})  # the answer holds adminPass: dropped

    def reboot(self, server_id: str, *, hard: bool = False) -> None:
        self._action(server_id, {"reboot": {"type": "HARD" if hard else "SOFT"}})

    def start(self, server_id: str) -> None:
        self._action(server_id, {"os-start": None})

    def stop(self, server_id: str) -> None:
        self._action(server_id, {"os-stop": None})

    def attach_interface(
        self,
        server_id: str,
        *,
        network_id: str | None = None,
        port_id: str | None = None,
        fixed_ip: str | None = None,
    ) -> str:
        """Plug a port into the running server: the one given, or a new one Nova makes on
        the network (at `fixed_ip` when given). Returns the port's ID."""
        attachment: dict[str, Any] = {}
        if port_id:
            attachment["port_id"] = port_id
        else:
            attachment["net_id"] = network_id
            if fixed_ip:
                attachment["fixed_ips"] = [{"ip_address": fixed_ip}]
        data = self._call(
            "POST",
            f"servers/{server_id}/os-interface",
            body={"interfaceAttachment": attachment},
            retry_safe=False,
        )
        return str(data["interfaceAttachment"]["port_id"])

    def detach_interface(self, server_id: str, port_id: str) -> None:
        """Unplug a port (Nova deletes a port it made, and leaves one it was given)."""
        try:
            self._call("DELETE", f"servers/{server_id}/os-interface/{port_id}")
        except CloudError as exc:
            if exc.status != 404:
                raise

    def set_server_tags(self, server_id: str, tags: Sequence[str]) -> None:
        """Replace the server's tags (2.26)."""
        self._call("PUT", f"servers/{server_id}/tags", body={"tags": list(tags)})

    def attach_volume(self, server_id: str, volume_id: str, device: str | None = None) -> None:
        """Attach a volume to the running server (Nova tells Cinder: it goes in-use)."""
        attachment: dict[str, Any] = {"volumeId": volume_id}
        if device:
            attachment["device"] = device
        try:
            self._call(
                "POST",
                f"servers/{server_id}/os-volume_attachments",
                body={"volumeAttachment": attachment},
                retry_safe=False,
            )
        except CloudError as exc:
            # Asked again after a lost answer: the volume is already on this server.
            if exc.status != 409 or not self._attached(server_id, volume_id):
                raise

    def detach_volume(self, server_id: str, volume_id: str) -> None:
        """Detach; a volume not (or no longer) attached there is fine."""
        try:
            self._call("DELETE", f"servers/{server_id}/os-volume_attachments/{volume_id}")
        except CloudError as exc:
            if exc.status != 404:
                raise

    def _attached(self, server_id: str, volume_id: str) -> bool:
        data = self._call("GET", f"servers/{server_id}/os-volume_attachments")
        found = (data or {}).get("volumeAttachments") or []
        return any(a.get("volumeId") == volume_id for a in found)

    def add_security_group(self, server_id: str, name: str) -> None:
        self._action(server_id, {"addSecurityGroup": {"name": name}})

    def remove_security_group(self, server_id: str, name: str) -> None:
        self._action(server_id, {"removeSecurityGroup": {"name": name}})

    # -- keypairs and limits -------------------------------------------------------------

    def list_keypairs(self) -> tuple[Keypair, ...]:
        return tuple(
            _keypair(item.get("keypair", item)) for item in self._pages("os-keypairs", "keypairs")
        )

    def get_keypair(self, name: str) -> Keypair:
        return _keypair(self._call("GET", f"os-keypairs/{name}")["keypair"])

    def import_keypair(self, name: str, public_key: str) -> Keypair:
        body = {"keypair": {"name": name, "public_key": public_key}}
        return _keypair(self._call("POST", "os-keypairs", body=body, retry_safe=False)["keypair"])

    def delete_keypair(self, name: str, *, missing_ok: bool = True) -> None:
        try:
            self._call("DELETE", f"os-keypairs/{name}")
        except CloudError as exc:
            if not (missing_ok and exc.status == 404):
                raise

    # -- server groups ---------------------------------------------------------------------

    def list_server_groups(self) -> tuple[ServerGroup, ...]:
        """The project's server groups (all pages)."""
        return tuple(_server_group(g) for g in self._pages("os-server-groups", "server_groups"))

    def get_server_group(self, group_id: str) -> ServerGroup:
        return _server_group(self._call("GET", f"os-server-groups/{group_id}")["server_group"])

    def create_server_group(
        self, name: str, policy: str, rules: Mapping[str, Any] | None = None
    ) -> ServerGroup:
        """A new group; `rules` need 2.64, where `policy` became one word (was `policies`)."""
        group: dict[str, Any] = {"name": name}
        if self.at_least(2, 64):
            group["policy"] = policy
            if rules:
                group["rules"] = dict(rules)
        elif rules:
            raise CloudError(
                f"server group rules need compute API microversion 2.64; this cloud offers "
                f"{_vstr(self.microversion or (2, 1))}",
                hint="remove the rules from the server group",
            )
        else:
            group["policies"] = [policy]
        body = {"server_group": group}
        data = self._call("POST", "os-server-groups", body=body, retry_safe=False)
        return _server_group(data["server_group"])

    def delete_server_group(self, group_id: str) -> None:
        self._call("DELETE", f"os-server-groups/{group_id}")

    def get_limits(self) -> Limits:
        absolute = self._call("GET", "limits")["limits"]["absolute"]
        return Limits(
            max_instances=int(absolute.get("maxTotalInstances", -1)),
            instances_used=int(absolute.get("totalInstancesUsed", 0)),
            max_cores=int(absolute.get("maxTotalCores", -1)),
            cores_used=int(absolute.get("totalCoresUsed", 0)),
            max_ram=int(absolute.get("maxTotalRAMSize", -1)),
            ram_used=int(absolute.get("totalRAMUsed", 0)),
            max_server_groups=int(absolute.get("maxServerGroups", -1)),
            server_groups_used=int(absolute.get("totalServerGroupsUsed", 0)),
            max_server_group_members=int(absolute.get("maxServerGroupMembers", -1)),
        )

    # -- mapping wire → values -----------------------------------------------------------

    def _server(self, data: Mapping[str, Any]) -> ServerInfo:
        flavor = data.get("flavor") or {}
        flavor_name = flavor.get("original_name")
        flavor_id = flavor.get("id")
        if flavor_id is None and flavor_name is not None:
            flavor_id = self._flavor_id_by_name(flavor_name)
        image = data.get("image")
        addresses = {
            net: tuple(a.get("addr") for a in entries or [] if a.get("addr"))
            for net, entries in (data.get("addresses") or {}).items()
        }
        groups = sorted({g.get("name") for g in data.get("security_groups") or [] if g.get("name")})
        fault = data.get("fault")
        return ServerInfo(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            status=str(data.get("status", "UNKNOWN")).upper(),
            flavor_id=str(flavor_id) if flavor_id is not None else None,
            flavor_name=flavor_name,
            image_id=image.get("id") if isinstance(image, dict) else None,
            key_name=data.get("key_name"),
            metadata=frozen_map(data.get("metadata")),
            tags=tuple(data.get("tags") or ()),
            security_groups=tuple(groups),
            addresses=frozen_map(addresses),
            access_ip_v4=data.get("accessIPv4") or None,
            availability_zone=data.get("OS-EXT-AZ:availability_zone"),
            task_state=data.get("OS-EXT-STS:task_state"),
            vm_state=data.get("OS-EXT-STS:vm_state"),
            fault=fault.get("message") if isinstance(fault, dict) else None,
            created=data.get("created"),
            updated=data.get("updated"),
            volumes_attached=tuple(
                (str(v["id"]), bool(v.get("delete_on_termination", False)))
                for v in data.get("os-extended-volumes:volumes_attached") or ()
                if v.get("id")
            ),
            config_drive=str(data.get("config_drive") or "").lower() in ("true", "1"),
        )


def _flavor(data: Mapping[str, Any]) -> Flavor:
    swap = data.get("swap")
    return Flavor(
        id=str(data["id"]),
        name=str(data.get("name", "")),
        vcpus=int(data.get("vcpus") or 0),
        ram=int(data.get("ram") or 0),
        disk=int(data.get("disk") or 0),
        ephemeral=int(data.get("OS-FLV-EXT-DATA:ephemeral") or 0),
        swap=int(swap) if swap not in (None, "") else 0,  # "" before 2.75 means 0
        is_public=bool(data.get("os-flavor-access:is_public", True)),
    )


_PROXY_STATUS = {"ACTIVE": "active", "SAVING": "saving", "DELETED": "deleted", "ERROR": "killed"}


def _proxy_image(data: Mapping[str, Any]) -> Image:
    return Image(
        id=str(data["id"]),
        name=data.get("name"),
        status=_PROXY_STATUS.get(str(data.get("status", "")).upper(), "unknown"),
        created_at=data.get("created"),
        min_disk=int(data.get("minDisk") or 0),
        min_ram=int(data.get("minRam") or 0),
        size=data.get("OS-EXT-IMG-SIZE:size"),
    )


def _server_group(data: Mapping[str, Any]) -> ServerGroup:
    policy = data.get("policy") or next(iter(data.get("policies") or []), "")
    return ServerGroup(
        id=str(data["id"]),
        name=str(data.get("name", "")),
        policy=str(policy),
        rules=frozen_map(data.get("rules") or {}),
        members=tuple(str(m) for m in data.get("members") or ()),
    )


def _keypair(data: Mapping[str, Any]) -> Keypair:
    return Keypair(
        name=str(data["name"]),
        fingerprint=str(data.get("fingerprint", "")),
        public_key=str(data.get("public_key", "")).strip(),
        type=str(data.get("type") or "ssh"),
    )


def _nic(entry: Mapping[str, Any]) -> dict[str, str]:
    """Nova's form of one network entry: {"port"} or {"uuid", "fixed_ip"}."""
    if entry.get("port_id"):
        return {"port": str(entry["port_id"])}
    nic = {"uuid": str(entry["network_id"])}
    if entry.get("fixed_ip"):
        nic["fixed_ip"] = str(entry["fixed_ip"])
    return nic
