"""Compute and image clients against the simulator: paging, servers, keypairs, limits."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from stackplan.cloud import ServerCreate
from stackplan.cloud.compute import ComputeClient
from stackplan.errors import CloudError
from tests.conftest import env_for

CIRROS = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01"
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbqxM2gk0nHv2xkE3e8RZ0s1Yq1m6Yb2eI1Q0e2bqH3 ci@example"
)


def wait_status(compute: ComputeClient, server_id: str, *wanted: str, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while True:
        server = compute.get_server(server_id)
        if server.status in wanted:
            return server
        if server.status == "ERROR" or time.monotonic() > deadline:
            raise AssertionError(f"{server_id} is {server.status}, wanted {wanted}")
        time.sleep(0.05)


def test_microversion_is_negotiated_from_the_version_document(sim, sim_env, cloud_for):
    compute = cloud_for(sim_env).compute
    assert compute.microversion == (2, 64)  # min(the sim's 2.64, our 2.79)
    capped = cloud_for({**sim_env, "OS_COMPUTE_API_VERSION": "2.30"}).compute
    assert capped.microversion == (2, 30)


def test_flavors_images_and_keypairs_follow_every_page(make_sim, cloud_for, stats_of):
    handle = make_sim()
    stats = stats_of(handle.url)
    cloud = cloud_for(env_for(handle.url), page_size=2)
    cloud.compute.microversion  # noqa: B018
    stats.reset()
    flavors = cloud.compute.list_flavors()
    assert len(flavors) == 7 and len({f.id for f in flavors}) == 7
    assert stats.route("GET /compute/v2.1/flavors/detail") == 4  # 2 + 2 + 2 + 1
    images = cloud.image.list_images()
    assert len(images) == 5 and len({i.id for i in images}) == 5
    assert stats.route("GET /image/v2/images") == 3  # 2 + 2 + 1
    proxy = cloud.compute.list_images()  # Nova's proxy, pinned below 2.36
    assert {i.id for i in proxy} == {i.id for i in images}
    for i in range(3):
        cloud.compute.import_keypair(f"kp-{i}", PUBLIC_KEY)
    assert [k.name for k in cloud.compute.list_keypairs()] == ["kp-0", "kp-1", "kp-2"]


def test_threads_that_ask_for_flavors_at_once_share_one_listing(make_sim, cloud_for, stats_of):
    # A plan reads servers (2.47+ name their flavor, so the client maps names to IDs)
    # while the resolver looks up flavor names: one listing must serve both.
    handle = make_sim(latency_ms=100)
    stats = stats_of(handle.url)
    compute = cloud_for(env_for(handle.url)).compute
    compute.microversion  # noqa: B018
    stats.reset()
    with ThreadPoolExecutor(4) as pool:
        listings = list(pool.map(lambda _: compute.known_flavors(), range(4)))
    assert len({tuple(f.id for f in listing) for listing in listings}) == 1
    assert len(listings[0]) == 7
    assert stats.route("GET /compute/v2.1/flavors/detail") == 1
    assert len(compute.list_flavors()) == 7  # an explicit listing still asks the cloud
    assert stats.route("GET /compute/v2.1/flavors/detail") == 2


def test_servers_detail_with_filters_over_pages(make_sim, cloud_for, stats_of):
    handle = make_sim(build_seconds=0)
    cloud = cloud_for(env_for(handle.url), page_size=2)
    prefix = f"pg-{uuid.uuid4().hex[:6]}"
    ids = {
        cloud.compute.create_server(ServerCreate(f"{prefix}-{i}", CIRROS, "1", tags=("stackplan",)))
        for i in range(5)
    }
    cloud.compute.create_server(ServerCreate("other", CIRROS, "1"))
    stats = stats_of(handle.url)
    stats.reset()
    listed = cloud.compute.list_servers(name=f"^{prefix}-")
    assert {s.id for s in listed} == ids
    assert stats.route("GET /compute/v2.1/servers/detail") == 3
    tagged = cloud.compute.list_servers(tags=("stackplan",))
    assert {s.id for s in tagged} == ids
    assert all(s.flavor_id == "1" and s.flavor_name == "m1.tiny" for s in listed)
    assert cloud.compute.list_servers(status="ACTIVE", name="^other$")


def test_server_lifecycle(sim, sim_env, cloud_for):
    compute = cloud_for(sim_env).compute
    name = f"life-{uuid.uuid4().hex[:6]}"
    server_id = compute.create_server(
        ServerCreate(
            name,
            CIRROS,
            "1",
            security_groups=("default",),
            metadata={"role": "web"},
            user_data="#cloud-config\n",
            tags=("stackplan",),
        )
    )
    server = wait_status(compute, server_id, "ACTIVE")
    assert server.name == name and server.image_id == CIRROS and server.flavor_id == "1"
    assert dict(server.metadata) == {"role": "web"} and server.tags == ("stackplan",)
    assert server.security_groups == ("default",)
    assert compute.set_metadata(server_id, {"tier": "1"}) == {"role": "web", "tier": "1"}
    compute.delete_metadata_key(server_id, "role")
    assert compute.set_metadata(server_id, {"only": "x"}, replace=True) == {"only": "x"}
    compute.update_server(server_id, name=f"{name}-renamed")
    assert compute.get_server(server_id).name == f"{name}-renamed"
    compute.resize(server_id, "2")
    wait_status(compute, server_id, "VERIFY_RESIZE")
    compute.confirm_resize(server_id)
    assert wait_status(compute, server_id, "ACTIVE").flavor_id == "2"
    compute.stop(server_id)
    wait_status(compute, server_id, "SHUTOFF")
    compute.start(server_id)
    wait_status(compute, server_id, "ACTIVE")
    compute.reboot(server_id)
    wait_status(compute, server_id, "ACTIVE")
    compute.rebuild(server_id, CIRROS)
    wait_status(compute, server_id, "ACTIVE")
    compute.delete_server(server_id)
    compute.delete_server(server_id)  # gone already: fine by default
    with pytest.raises(CloudError) as err:
        compute.delete_server(server_id, missing_ok=False)
    assert err.value.status == 404


def test_keypairs_and_limits(make_sim, cloud_for):
    handle = make_sim(quota_instances=10, quota_cores=20, quota_ram=51200, build_seconds=0)
    compute = cloud_for(env_for(handle.url)).compute
    created = compute.import_keypair("deploy", PUBLIC_KEY)
    assert created.fingerprint.count(":") == 15
    assert compute.get_keypair("deploy") == created
    compute.create_server(ServerCreate("q", CIRROS, "2"))
    limits = compute.get_limits()
    assert (limits.max_instances, limits.max_cores, limits.max_ram) == (10, 20, 51200)
    assert (limits.instances_used, limits.cores_used, limits.ram_used) == (1, 1, 2048)
    compute.delete_keypair("deploy")
    with pytest.raises(CloudError) as err:
        compute.get_keypair("deploy")
    assert err.value.status == 404
