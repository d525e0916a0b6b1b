"""Resolution against the simulator's seed flavors and images, and its request count."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackplan.addr import Address
from stackplan.errors import ResolveError
from stackplan.frozen import frozen_map
from stackplan.kinds.base import Reads
from stackplan.kinds.registry import KINDS
from stackplan.resolve import resolve as resolve_with
from stackplan.sim import seed
from stackplan.spec.model import Desired, DesiredResource
from tests.conftest import env_for


def server(name: str, image, flavor, index: int | None = None) -> DesiredResource:
    image_ref = {"name": image, "most_recent": False} if isinstance(image, str) else image
    flavor_ref = {"name": flavor} if isinstance(flavor, str) else flavor
    attrs = {"name": name, "image": image_ref, "flavor": flavor_ref}
    return DesiredResource(
        Address("server", name, index), frozen_map(attrs), where="stackplan.yaml:4:3"
    )


def desired(*servers: DesiredResource) -> Desired:
    return Desired("test", Path("stackplan.yaml"), "d", tuple(servers))


def resolve(d: Desired, cloud) -> Desired:
    return resolve_with(d, Reads(cloud), KINDS)


def test_every_seed_flavor_and_active_image_resolves(sim, sim_env, cloud_for):
    cloud = cloud_for(sim_env)
    unique = [
        i
        for i in seed.IMAGES
        if i.status == "active" and sum(j.name == i.name for j in seed.IMAGES) == 1
    ]
    big = max(seed.FLAVORS, key=lambda f: f.ram)
    servers = [server(f"f{n}", unique[0].name, f.name) for n, f in enumerate(seed.FLAVORS)]
    servers += [server(f"i{n}", i.name, big.name) for n, i in enumerate(unique)]
    servers.append(server("newest", {"name": "Ubuntu 22.04", "most_recent": True}, big.name))
    servers.append(server("byid", {"id": seed.IMAGES[2].id}, {"id": big.id}))
    out = resolve(desired(*servers), cloud).by_address()
    for n, f in enumerate(seed.FLAVORS):
        attrs = out[Address("server", f"f{n}")].attrs
        assert (attrs["flavor_id"], attrs["flavor_name"]) == (f.id, f.name)
        assert (attrs["flavor_vcpus"], attrs["flavor_ram"], attrs["flavor_disk"]) == (
            f.vcpus,
            f.ram,
            f.disk,
        )
    for n, i in enumerate(unique):
        assert out[Address("server", f"i{n}")].attrs["image_id"] == i.id
    ubuntu = max((i for i in seed.IMAGES if i.name == "Ubuntu 22.04"), key=lambda i: i.created_at)
    assert out[Address("server", "newest")].attrs["image_id"] == ubuntu.id
    assert out[Address("server", "byid")].attrs["image_name"] == seed.IMAGES[2].name


def test_ambiguous_inactive_unknown_and_too_small_all_at_once(sim, sim_env, cloud_for):
    cloud = cloud_for(sim_env)
    with pytest.raises(ResolveError) as err:
        resolve(
            desired(
                server("a", "Ubuntu 22.04", "m1.large"),
                server("b", "Fedora 38", "m1.large"),
                server("c", "cirros-0.6.2", "m1.tiny"),
                server("d", "Fedora 39", "m1.smal"),
                server("e", "Fedora 39", "m1.nano"),
            ),
            cloud,
        )
    text = err.value.render()
    ids = [i.id for i in seed.IMAGES if i.name == "Ubuntu 22.04"]
    assert "2 images are named 'Ubuntu 22.04'" in text and all(i in text for i in ids)
    assert "created 2024-02-01T08:00:00Z" in text and "most_recent: true" in text
    assert "'Fedora 38'" in text and "is deactivated, not active" in text
    assert "no image named 'cirros-0.6.2'" in text
    assert "did you mean 'cirros-0.6.2-x86_64-disk'" in text
    assert "no flavor named 'm1.smal'" in text and "did you mean 'm1.small'" in text
    assert "'m1.nano' has 64 MiB of RAM but image 'Fedora 39' needs at least 1024 MiB" in text
    assert "5 problems" in text


@pytest.mark.parametrize("count", [1, 100])
def test_request_count_does_not_depend_on_the_number_of_servers(
    make_sim, cloud_for, stats_of, count
):
    handle = make_sim()
    stats = stats_of(handle.url)
    cloud = cloud_for(env_for(handle.url))
    cloud.compute.microversion  # noqa: B018
    stats.reset()
    images = [
        "cirros-0.6.2-x86_64-disk",
        "Fedora 39",
        {"name": "Ubuntu 22.04", "most_recent": True},
    ]
    flavors = ["m1.small", "m1.medium", {"id": "4"}]
    servers = [server("web", images[i % 3], flavors[i % 3], index=i) for i in range(count)]
    resolved = resolve(desired(*servers), cloud)
    assert len(resolved.resources) == count
    # One flavor listing, one image listing and one network listing (a server naming no
    # network needs exactly one the project sees), for 1 server as for 100.
    assert stats.read()["total"] == 3
    assert stats.route("GET /compute/v2.1/flavors/detail") == 1
    assert stats.route("GET /image/v2/images") == 1
    assert stats.route("GET /networking/v2.0/networks") == 1


def test_one_run_lists_each_table_once_whatever_asks(make_sim, cloud_for, stats_of):
    handle = make_sim()
    stats = stats_of(handle.url)
    cloud = cloud_for(env_for(handle.url))
    cloud.compute.microversion  # noqa: B018
    stats.reset()
    reads = Reads(cloud)
    for name in ("a", "b"):
        resolve_with(desired(server(name, "Fedora 39", "m1.small")), reads, KINDS)
    assert stats.route("GET /compute/v2.1/flavors/detail") == 1
    assert stats.route("GET /image/v2/images") == 1
