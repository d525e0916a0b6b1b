"""Resolution against given listings (no cloud): shapes, errors, all problems at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackplan.addr import Address
from stackplan.cloud.image import Image
from stackplan.cloud.model import Flavor
from stackplan.cloud.network_model import Network
from stackplan.errors import ResolveError
from stackplan.frozen import frozen_map
from stackplan.kinds.base import Reads
from stackplan.kinds.registry import KINDS
from stackplan.resolve import resolve as resolve_with
from stackplan.spec.model import Desired, DesiredResource

FLAVORS = (
    Flavor("1", "m1.tiny", vcpus=1, ram=512, disk=0),
    Flavor("2", "m1.small", vcpus=1, ram=2048, disk=20),
    Flavor("3", "m1.medium", vcpus=2, ram=4096, disk=40),
    Flavor("6", "m1.disk5", vcpus=1, ram=4096, disk=5),
)
IMAGES = (
    Image("i-cirros", "cirros", "active", "2024-01-10T09:00:00Z"),
    Image("i-u1", "Ubuntu 22.04", "active", "2024-02-01T08:00:00Z", min_disk=10, min_ram=512),
    Image("i-u2", "Ubuntu 22.04", "active", "2024-05-02T08:00:00Z", min_disk=10, min_ram=512),
    Image("i-f38", "Fedora 38", "deactivated", "2023-06-01T12:00:00Z"),
    Image("i-big", "bigram", "active", "2024-01-01T00:00:00Z", min_ram=4096),
)

# A project on one network (Nova then needs no `networks:` to place a server).
NETWORKS = (Network("n-private", "private", project_id="p"),)
OFFLINE = {"project_id": "p", "network.available": True, "network.network.all": NETWORKS}


def resolve(d: Desired) -> Desired:
    """Resolution against the listings above: a pure run, no cloud."""
    return resolve_with(
        d, Reads(None, {**OFFLINE, "compute.flavors": FLAVORS, "images": IMAGES}), KINDS
    )


def server(name: str, image, flavor, index: int | None = None) -> DesiredResource:
    image_ref = {"name": image, "most_recent": False} if isinstance(image, str) else image
    flavor_ref = {"name": flavor} if isinstance(flavor, str) else flavor
    attrs = {
        "name": name,
        "image": image_ref,
        "flavor": flavor_ref,
        "key_name": None,
        "security_groups": ["default"],
        "metadata": {},
    }
    return DesiredResource(
        Address("server", name, index), frozen_map(attrs), where=f"web.yaml:{3 + (index or 0)}:3"
    )


def desired(*resources: DesiredResource) -> Desired:
    keypair = DesiredResource(
        Address("keypair", "deploy"),
        frozen_map({"name": "deploy", "public_key": "ssh-ed25519 AAA"}),
    )
    return Desired("web", Path("web.yaml"), "digest", (keypair, *resources))


def test_names_become_ids_and_sizes():
    out = resolve(desired(server("web", "cirros", "m1.small")))
    attrs = out.by_address()[Address("server", "web")].attrs
    assert "image" not in attrs and "flavor" not in attrs
    assert attrs["image_id"] == "i-cirros" and attrs["image_name"] == "cirros"
    assert (attrs["flavor_id"], attrs["flavor_name"]) == ("2", "m1.small")
    assert (attrs["flavor_vcpus"], attrs["flavor_ram"], attrs["flavor_disk"]) == (1, 2048, 20)
    assert attrs["security_groups"] == ["default"]


def test_keypairs_pass_unchanged():
    d = desired(server("web", "cirros", "m1.tiny"))
    out = resolve(d)
    assert out.resources[0] is d.resources[0]


def test_ids_and_id_in_name_slot():
    out = resolve(desired(server("a", {"id": "i-u1"}, {"id": "3"}), server("b", "i-cirros", "1")))
    by = out.by_address()
    assert by[Address("server", "a")].attrs["image_id"] == "i-u1"
    assert by[Address("server", "b")].attrs["image_id"] == "i-cirros"
    assert by[Address("server", "b")].attrs["flavor_name"] == "m1.tiny"


def test_most_recent_picks_the_newest():
    ref = {"name": "Ubuntu 22.04", "most_recent": True}
    out = resolve(desired(server("db", ref, "m1.small")))
    assert out.by_address()[Address("server", "db")].attrs["image_id"] == "i-u2"


def test_ambiguous_image_lists_candidates_and_suggests():
    with pytest.raises(ResolveError) as err:
        resolve(desired(server("db", "Ubuntu 22.04", "m1.small")))
    text = err.value.render()
    assert "2 images are named 'Ubuntu 22.04'" in text
    assert "i-u1 (created 2024-02-01T08:00:00Z" in text and "i-u2 (created 2024-05-02" in text
    assert "most_recent: true" in text and "{id: " in text
    assert "web.yaml:3:3: servers.db.image: server.db: 2 images" in text


def test_every_problem_is_reported_at_once_and_sorted():
    with pytest.raises(ResolveError) as err:
        resolve(
            desired(
                server("a", "cirros-0.6", "m1.smal"),
                server("b", "Fedora 38", "m1.tiny"),
                server("c", "Ubuntu 22.04", {"id": "99"}),
            )
        )
    text = err.value.render()
    lines = [line for line in text.splitlines() if line.startswith("web.yaml")]
    assert len(lines) == 5
    assert lines == sorted(lines)
    assert "did you mean 'm1.small'" in text
    assert "did you mean 'cirros'" in text
    assert "is deactivated, not active" in text
    assert "flavor ID '99' does not exist" in text
    assert "5 problems resolving names in the cloud" in text
    assert len(err.value.problems) == 5


def test_flavor_too_small_for_the_image():
    with pytest.raises(ResolveError) as err:
        resolve(desired(server("a", {"id": "i-u1"}, "m1.disk5"), server("b", "bigram", "m1.small")))
    text = err.value.render()
    assert "has a 5 GiB disk but image 'Ubuntu 22.04' needs at least 10 GiB" in text
    assert "has 2048 MiB of RAM but image 'bigram' needs at least 4096 MiB" in text
    assert "flavors big enough: m1.disk5, m1.medium" in text


def test_disk_zero_flavor_fits_any_image_disk():
    out = resolve(desired(server("a", {"id": "i-u1"}, "m1.tiny")))
    assert out.by_address()[Address("server", "a")].attrs["flavor_disk"] == 0


def test_counted_servers_with_one_problem_share_a_line():
    servers = [server("web", "nope", "m1.tiny", index=i) for i in range(5)]
    for s in servers:
        object.__setattr__(s, "where", "web.yaml:3:3")
    with pytest.raises(ResolveError) as err:
        resolve(desired(*servers))
    text = err.value.render()
    assert "server.web[0], server.web[1], server.web[2] and 2 more: no image named 'nope'" in text
    assert "1 problem resolving names in the cloud" in text
