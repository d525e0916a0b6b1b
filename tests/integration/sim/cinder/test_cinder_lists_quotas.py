"""Lists (filters, paging, with_count), volume types, zones, quotas and the quota knobs."""

from __future__ import annotations

import requests

from tests.integration.sim.cinder.conftest import DEMO_PROJECT, Cinder, fault


def test_detail_filters_on_name_status_and_metadata(cinder):
    web = cinder.made(1, name="web", metadata={"role": "web"})
    db = cinder.made(2, name="db", metadata={"role": "db"})
    creating = cinder.create(1, name="new")

    def names(**params):
        return sorted(v["name"] for v in cinder.get("/volumes/detail", **params).json()["volumes"])

    assert names() == ["db", "new", "web"]
    assert names(name="web") == ["web"]
    assert names(status="creating") == ["new"]
    assert names(metadata='{"role": "db"}') == ["db"]
    assert names(name="nobody") == []
    strict = cinder.at("3.31")
    bad = strict.get("/volumes/detail", colour="red")
    assert fault(bad, 400) == "Invalid filters colour are found in query options."
    assert cinder.get("/volumes/detail", colour="red").status_code == 200  # dropped before 3.31
    assert {web["id"], db["id"], creating["id"]} == {
        v["id"] for v in cinder.get("/volumes").json()["volumes"]
    }


def test_paging_with_limit_marker_and_sort(cinder):
    ids = [cinder.made(1, name=f"p{n}")["id"] for n in range(3)]
    first = cinder.get("/volumes", limit=2, sort="name:asc").json()
    assert [v["name"] for v in first["volumes"]] == ["p0", "p1"]
    (link,) = first["volumes_links"]
    assert link["rel"] == "next" and f"marker={ids[1]}" in link["href"]
    assert link["href"].startswith(f"{cinder.url}/volume/v3/{DEMO_PROJECT}/volumes?")
    rest = cinder.get("/volumes", limit=2, sort="name:asc", marker=ids[1]).json()
    assert [v["name"] for v in rest["volumes"]] == ["p2"] and "volumes_links" not in rest
    newest_first = cinder.get("/volumes").json()["volumes"]
    assert [v["id"] for v in newest_first] == ids[::-1]
    missing = cinder.get("/volumes", marker="nope")
    assert fault(missing, 404) == "Volume nope could not be found."
    assert fault(cinder.get("/volumes", limit="x"), 400) == "limit param must be an integer"
    assert fault(cinder.get("/volumes", sort="colour"), 400) == (
        "Invalid input received: Invalid sort key"
    )


def test_with_count_from_3_45(cinder):
    for _ in range(3):
        cinder.made(1)
    counted = cinder.at("3.45").get("/volumes", with_count="true", limit=1).json()
    assert counted["count"] == 3 and len(counted["volumes"]) == 1
    assert "count" not in cinder.at("3.44").get("/volumes", with_count="true").json()


def test_volume_types_are_seeded(cloud, cinder):
    types = cinder.get("/types").json()["volume_types"]
    assert [t["name"] for t in types] == ["hdd", "ssd", "__DEFAULT__"]
    default = next(t for t in types if t["name"] == "__DEFAULT__")
    assert default["description"] == "Default Volume Type" and default["is_public"] is True
    assert all(t["extra_specs"] == {} for t in types)  # a member sees no backend names
    admin = Cinder(cloud.url, "admin")
    specs = admin.http.get(f"{cloud.url}/volume/v3/{admin.project_id}/types").json()
    ssd = next(t for t in specs["volume_types"] if t["name"] == "ssd")
    assert ssd["extra_specs"] == {"volume_backend_name": "lvmdriver-1"}
    shown = cinder.get(f"/types/{default['id']}").json()["volume_type"]
    assert shown["name"] == "__DEFAULT__"
    assert cinder.get("/types/default").json()["volume_type"]["id"] == default["id"]
    missing = cinder.get("/types/00000000-0000-0000-0000-000000000000")
    assert fault(missing, 404).startswith("Volume type 00000000")


def test_availability_zones(cinder):
    assert cinder.get("/os-availability-zone").json() == {
        "availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}}]
    }


def test_quota_sets_show_usage_and_defaults(cinder):
    cinder.made(2)
    shown = cinder.get(f"/os-quota-sets/{DEMO_PROJECT}").json()["quota_set"]
    assert (shown["volumes"], shown["gigabytes"], shown["id"]) == (10, 1000, DEMO_PROJECT)
    assert shown["volumes___DEFAULT__"] == -1 and shown["snapshots"] == 10
    usage = cinder.get(f"/os-quota-sets/{DEMO_PROJECT}", usage="true").json()["quota_set"]
    assert usage["volumes"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert usage["gigabytes"] == {"limit": 1000, "in_use": 2, "reserved": 0}
    defaults = cinder.get(f"/os-quota-sets/{DEMO_PROJECT}/defaults").json()["quota_set"]
    assert defaults["volumes"] == 10
    other = cinder.get("/os-quota-sets/a0000000000000000000000000000001")
    assert fault(other, 403) == "Policy doesn't allow volume_extension:quotas:show to be performed."
    limits = cinder.get("/limits").json()["limits"]["absolute"]
    assert (limits["maxTotalVolumes"], limits["totalVolumesUsed"]) == (10, 1)
    assert (limits["maxTotalVolumeGigabytes"], limits["totalGigabytesUsed"]) == (1000, 2)


def test_quotas_answer_413_as_cinder(make_sim):
    cinder = Cinder(make_sim(build_seconds=0, quota_volumes=2, quota_gigabytes=5).url)
    cinder.made(1)
    too_big = cinder.post("/volumes", {"volume": {"size": 5}})
    assert fault(too_big, 413, "overLimit") == (
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
        "gigabytes quota. Requested 5G, quota is 5G and 1G has been consumed."
    )
    assert too_big.json()["overLimit"]["retryAfter"] == "0"
    cinder.made(1)
    third = cinder.post("/volumes", {"volume": {"size": 1}})
    assert fault(third, 413, "overLimit") == (
        "VolumeLimitExceeded: Maximum number of volumes allowed (2) exceeded for quota 'volumes'."
    )


def test_quota_flags_of_sim_serve(sim_process):
    limited = sim_process(build_seconds=0, quota_volumes=1, quota_gigabytes=10)
    cinder = Cinder(limited.url)
    cinder.made(1)
    assert fault(cinder.post("/volumes", {"volume": {"size": 1}}), 413).startswith(
        "VolumeLimitExceeded:"
    )
    quota = cinder.get(f"/os-quota-sets/{DEMO_PROJECT}").json()["quota_set"]
    assert (quota["volumes"], quota["gigabytes"]) == (1, 10)
    unlimited = Cinder(sim_process(build_seconds=0).url)  # --no-quota
    quota = unlimited.get(f"/os-quota-sets/{DEMO_PROJECT}").json()["quota_set"]
    assert (quota["volumes"], quota["gigabytes"]) == (-1, -1)
    for _ in range(3):
        unlimited.create(400)


def test_stats_count_cinder_routes(cloud, cinder):
    requests.delete(f"{cloud.url}/_sim/stats")
    cinder.get("/volumes")
    routes = requests.get(f"{cloud.url}/_sim/stats").json()["routes"]
    assert routes == {"GET /volume/v3/{project_id}/volumes": 1}
