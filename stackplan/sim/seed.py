"""What a fresh simulated cloud holds: the classic flavors, a few images, users, projects.

These are constants with fixed IDs, so a restart on the same database (and every test
run) sees the same IDs. Servers and keypairs live in SQLite (`db.py`), not here.
"""

from __future__ import annotations

from dataclasses import dataclass

REGION = "RegionOne"
DOMAIN_ID = "default"
DOMAIN_NAME = "Default"
PASSWORD = "secret"


@dataclass(frozen=True, slots=True)
class Flavor:
    id: str
    name: str
    ram: int  # MiB
    vcpus: int
    disk: int  # GiB; 0 means "the image's size"


@dataclass(frozen=True, slots=True)
class Image:
    id: str
    name: str
    status: str
    created_at: str
    min_disk: int = 0
    min_ram: int = 0
    size: int | None = 13_631_488
    os_distro: str = ""
    visibility: str = "public"
    auto_disk_config: str = ""  # Nova's image property ("True"/"False"); "" = not set


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    project: Project  # default project, where the user holds its role
    role: str


# The classic table (API guide, `openstack flavor list`), ids included: 42 and 84 are
# not typos.
FLAVORS: tuple[Flavor, ...] = (
    Flavor("1", "m1.tiny", ram=512, vcpus=1, disk=0),
    Flavor("2", "m1.small", ram=2048, vcpus=1, disk=20),
    Flavor("3", "m1.medium", ram=4096, vcpus=2, disk=40),
    Flavor("4", "m1.large", ram=8192, vcpus=4, disk=80),
    Flavor("42", "m1.nano", ram=64, vcpus=1, disk=0),
    Flavor("5", "m1.xlarge", ram=16384, vcpus=8, disk=160),
    Flavor("84", "m1.micro", ram=128, vcpus=1, disk=0),
)

# Two images share the name "Ubuntu 22.04" on purpose (Glance allows it and clients must
# cope); "Fedora 38" is deactivated, so tests can check that Nova refuses to boot it.
IMAGES: tuple[Image, ...] = (
    Image(
        "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01",
        "cirros-0.6.2-x86_64-disk",
        "active",
        "2024-01-10T09:00:00Z",
        os_distro="cirros",
    ),
    Image(
        "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e02",
        "Ubuntu 22.04",
        "active",
        "2024-02-01T08:00:00Z",
        min_disk=10,
        min_ram=512,
        size=662_700_032,
        os_distro="ubuntu",
    ),
    Image(
        "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e03",
        "Ubuntu 22.04",
        "active",
        "2024-05-02T08:00:00Z",
        min_disk=10,
        min_ram=512,
        size=671_088_640,
        os_distro="ubuntu",
    ),
    Image(
        "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e04",
        "Fedora 39",
        "active",
        "2024-03-15T12:00:00Z",
        min_disk=5,
        min_ram=1024,
        size=553_648_128,
        os_distro="fedora",
        # one image that forbids a disk resized by Nova, so the proxy's OS-DCF:diskConfig
        # (from this property) shows; MANUAL, as every server here is
        auto_disk_config="False",
    ),
    Image(
        "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e05",
        "Fedora 38",
        "deactivated",
        "2023-06-01T12:00:00Z",
        min_disk=5,
        size=524_288_000,
        os_distro="fedora",
    ),
)

ADMIN_PROJECT = Project("a0000000000000000000000000000001", "admin")
DEMO_PROJECT = Project("d0000000000000000000000000000001", "demo")
PROJECTS: tuple[Project, ...] = (ADMIN_PROJECT, DEMO_PROJECT)
USERS: tuple[User, ...] = (
    User("a0000000000000000000000000000a01", "admin", ADMIN_PROJECT, "admin"),
    User("d0000000000000000000000000000d01", "demo", DEMO_PROJECT, "member"),
)
ROLE_IDS = {
    "admin": "f0000000000000000000000000000ad1",
    "member": "f0000000000000000000000000000e01",
}

FLAVORS_BY_ID = {f.id: f for f in FLAVORS}
IMAGES_BY_ID = {i.id: i for i in IMAGES}


_USERS_BY_ID = {u.id: u for u in USERS}


def find_user(name: str | None = None, user_id: str | None = None) -> User | None:
    if name is None and user_id is not None:
        return _USERS_BY_ID.get(user_id)  # every server a listing renders asks
    return next((u for u in USERS if u.name == name or u.id == user_id), None)


def find_project(name: str | None = None, project_id: str | None = None) -> Project | None:
    return next((p for p in PROJECTS if p.name == name or p.id == project_id), None)
