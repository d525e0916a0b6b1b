"""Neutron quotas: the limits (SimOptions knobs and `stackplan sim serve` flags), usage
details, who may read them, and OverQuota before a create."""

from __future__ import annotations

from tests.integration.sim.neutron.conftest import ADMIN_PROJECT, DEMO_PROJECT, Neutron, error

DEFAULTS = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
    "subnetpool": -1,
    "router_route": 30,  # extraroute-atomic's, per router
}


def test_defaults_and_details(demo):
    assert demo.get(f"/quotas/{DEMO_PROJECT}").json() == {"quota": DEFAULTS}
    assert demo.get(f"/quotas/{DEMO_PROJECT}/default").json() == {"quota": DEFAULTS}
    assert demo.get("/quotas/project").json() == {"project": {"project_id": DEMO_PROJECT}}
    details = demo.get(f"/quotas/{DEMO_PROJECT}/details").json()["quota"]
    assert set(details) == set(DEFAULTS)
    # the seed: private + private-subnet + router1 and its interface + default group
    assert details["network"] == {"limit": 100, "used": 1, "reserved": 0}
    assert details["subnet"]["used"] == 1 and details["router"]["used"] == 1
    assert details["port"]["used"] == 1  # the gateway port has no project
    assert details["security_group"]["used"] == 1
    assert details["security_group_rule"]["used"] == 4
    # Neutron counts no routes as used, whatever routers hold (the limit is per router)
    assert details["router_route"] == {"limit": 30, "used": 0, "reserved": 0}


def test_who_may_read_which_quota(demo, admin):
    assert error(demo.get(f"/quotas/{ADMIN_PROJECT}"), 403) == (
        "PolicyNotAuthorized",
        "rule:get_quota is disallowed by policy",
    )
    assert error(demo.get(f"/quotas/{ADMIN_PROJECT}/details"), 403) == (
        "AdminRequired",
        "User does not have admin privileges: Only admin is authorized to access quotas for "
        "another project.",
    )
    assert admin.get(f"/quotas/{DEMO_PROJECT}/details").status_code == 200
    assert admin.get("/quotas").json() == {"quotas": []}
    assert error(demo.get("/quotas"), 403)[0] == "PolicyNotAuthorized"
    admin_usage = admin.get(f"/quotas/{ADMIN_PROJECT}/details").json()["quota"]
    assert admin_usage["rbac_policy"]["used"] == 2  # public (external) and shared


def test_over_quota(make_sim):
    client = Neutron(make_sim(quota_networks=2, quota_security_groups=2, quota_ports=2).url)
    client.create("network")  # the seeded `private` is the first
    assert error(client.post("/networks", {"network": {}}), 409) == (
        "OverQuota",
        "Quota exceeded for resources: ['network'].",
    )
    client.create("security_group", name="one")  # `default` is the first
    assert error(client.post("/security-groups", {"security_group": {"name": "two"}}), 409)[1] == (
        "Quota exceeded for resources: ['security_group']."
    )
    (private,) = client.listing("networks", name="private")
    client.create("port", network_id=private["id"])  # router1's interface is the first
    assert error(client.post("/ports", {"port": {"network_id": private["id"]}}), 409)[1] == (
        "Quota exceeded for resources: ['port']."
    )


def test_rule_quota_counts_a_new_groups_starting_rules(make_sim):
    client = Neutron(make_sim(quota_security_group_rules=5).url)
    assert error(client.post("/security-groups", {"security_group": {"name": "g"}}), 409)[1] == (
        "Quota exceeded for resources: ['security_group_rule']."
    )


def test_unlimited_and_the_command_line_flags(make_sim, sim_process):
    unlimited = Neutron(make_sim(quota_networks=-1).url)
    assert unlimited.get(f"/quotas/{DEMO_PROJECT}").json()["quota"]["network"] == -1
    proc = sim_process(quota_networks=1, quota_floatingips=7)
    flags = Neutron(proc.url).get(f"/quotas/{DEMO_PROJECT}").json()["quota"]
    assert (flags["network"], flags["floatingip"], flags["port"]) == (1, 7, 500)
    assert error(Neutron(proc.url).post("/networks", {"network": {}}), 409)[0] == "OverQuota"
    no_quota = sim_process()  # the fixture passes --no-quota
    limits = Neutron(no_quota.url).get(f"/quotas/{DEMO_PROJECT}").json()["quota"]
    fixed = ("rbac_policy", "router_route")  # no knob: --no-quota leaves them
    assert {k: v for k, v in limits.items() if k not in fixed} == {
        k: -1 for k in DEFAULTS if k not in fixed
    }
    assert (limits["rbac_policy"], limits["router_route"]) == (10, 30)
