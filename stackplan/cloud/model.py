"""What Nova answers, as frozen values: flavors, servers, keypairs, server groups, limits.

Plain data with no wire names; `compute.py` maps the API's JSON onto these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stackplan.frozen import frozen_map


@dataclass(frozen=True, slots=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int  # MiB
    disk: int  # GiB; 0 means "the size of the image"
    ephemeral: int = 0
    swap: int = 0  # MiB
    is_public: bool = True


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """A server as the cloud reports it now. `flavor_id` comes from the flavor table when
    the microversion (2.47+) embeds the flavor by name only."""

    id: str
    name: str
    status: str
    flavor_id: str | None
    flavor_name: str | None
    image_id: str | None  # None for a server booted from a volume
    key_name: str | None
    metadata: Mapping[str, str] = field(default_factory=lambda: frozen_map({}))
    tags: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()  # names, sorted, de-duplicated
    addresses: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: frozen_map({}))
    access_ip_v4: str | None = None
    availability_zone: str | None = None
    task_state: str | None = None
    vm_state: str | None = None
    fault: str | None = None  # the fault message when status is ERROR
    created: str | None = None
    updated: str | None = None
    # IDs of the attached volumes, with whether Nova deletes each with the server
    volumes_attached: tuple[tuple[str, bool], ...] = ()
    config_drive: bool = False


@dataclass(frozen=True, slots=True)
class ServerCreate:
    """What a new server is made of. `user_data` is text; it is base64-encoded here."""

    name: str
    image_id: str
    flavor_id: str
    key_name: str | None = None
    security_groups: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=lambda: frozen_map({}))
    user_data: str | None = None
    availability_zone: str | None = None
    tags: tuple[str, ...] = ()
    # "auto", "none", or entries {"network_id", "fixed_ip"} / {"port_id"}, in NIC order
    networks: str | tuple[Mapping[str, Any], ...] = "auto"
    server_group_id: str | None = None  # sent as the scheduler hint `group`
    config_drive: bool = False
    boot_volume: BootVolume | None = None  # built from `image_id` onto a new volume


@dataclass(frozen=True, slots=True)
class BootVolume:
    """A server's root disk as a new Cinder volume made from its image."""

    size: int
    volume_type: str | None = None
    delete_on_termination: bool = True


@dataclass(frozen=True, slots=True)
class Keypair:
    name: str
    fingerprint: str
    public_key: str
    type: str = "ssh"


@dataclass(frozen=True, slots=True)
class Limits:
    """Absolute compute limits of the project; -1 means unlimited."""

    max_instances: int
    instances_used: int
    max_cores: int
    cores_used: int
    max_ram: int  # MiB
    ram_used: int
    max_server_groups: int = -1
    server_groups_used: int = 0
    max_server_group_members: int = -1


@dataclass(frozen=True, slots=True)
class ServerGroup:
    """A Nova server group; `policy` is one word whatever the microversion said."""

    id: str
    name: str
    policy: str
    rules: Mapping[str, Any] = field(default_factory=lambda: frozen_map({}))
    members: tuple[str, ...] = ()  # server IDs
