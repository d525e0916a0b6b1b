"""What the conformance run against real Neutron found (tests/real/test_real_network*.py),
kept against the simulator: a port's address moved under its floating IP, a port naming
only its network waiting for the network's subnet, and the state a kill leaves between
creates and their markers (floating IPs never tagged, groups tagged but not recorded)
adopted on the next apply.

A kill is reproduced as the state it leaves: the intents recorded before the creates,
and in the cloud what the creates made (with or without their markers).
"""

from __future__ import annotations

import json
from typing import Any

from stackplan.addr import Address
from stackplan.state.file import dump_state
from stackplan.state.model import RecordStatus, ResourceRecord, State
from tests.integration.cli.conftest import Stack

NET = """\
stack: race
networks:
  app: {{}}
subnets:
  app: {{network: app, cidr: 10.30.0.0/24}}
routers:
  edge: {{external_network: public, interfaces: [app]}}
ports:
  vip:
    count: {count}
    network: app
{fixed}floating_ips:
  vip:
    count: {count}
    network: public
    port: "vip[${{count.index}}]"
"""


def net_spec(count: int, fixed: str = "") -> str:
    return NET.format(count=count, fixed=fixed)


def no_change(stack: Stack) -> None:
    assert "No changes" in stack.cli("plan", "--detailed-exitcode").stdout


def records(stack: Stack) -> list[dict[str, Any]]:
    return json.loads(stack.state.read_text(encoding="utf-8"))["resources"]


def test_a_port_moves_to_another_address_under_its_floating_ip(stack: Stack) -> None:
    # Neutron refuses to take away a fixed IP a floating IP is on (400): the floating IP
    # is taken off, the address changed, and the floating IP put back on the new one.
    at = "    fixed_ips: [{{subnet: app, ip_address: 10.30.0.{}}}]\n"
    stack.write_spec(net_spec(1, at.format(100)))
    stack.cli("apply", "--auto-approve")
    (port,) = stack.cloud.neutron("ports", name="vip-0")
    (fip,) = stack.cloud.neutron("floatingips", port_id=port["id"])
    stack.write_spec(net_spec(1, at.format(101)))
    assert "port.vip[0]" in stack.cli("plan").stdout
    stack.cli("apply", "--auto-approve")
    moved = stack.cloud.neutron_one("ports", port["id"])
    assert [f["ip_address"] for f in moved["fixed_ips"]] == ["10.30.0.101"]
    after = stack.cloud.neutron_one("floatingips", fip["id"])
    assert (after["port_id"], after["fixed_ip_address"]) == (port["id"], "10.30.0.101")
    assert after["floating_ip_address"] == fip["floating_ip_address"]
    no_change(stack)
    stack.cli("destroy", "--auto-approve")


def test_a_port_naming_only_its_network_comes_after_the_networks_subnet(stack: Stack) -> None:
    stack.write_spec(net_spec(1))
    plan = json.loads(stack.cli("plan", "--format", "json").stdout)
    (port,) = [c for c in plan["resource_changes"] if c["address"] == "port.vip[0]"]
    assert "subnet.app" in port["depends_on"], port
    stack.cli("apply", "--auto-approve")
    (made,) = stack.cloud.neutron("ports", name="vip-0")
    assert made["fixed_ips"], made
    assert stack.cloud.neutron("floatingips", port_id=made["id"])
    stack.cli("destroy", "--auto-approve")


def test_floating_ips_made_and_never_tagged_are_adopted_by_their_port(stack: Stack) -> None:
    # Floating IPs take no tags at create: a kill after two creates and before their tags
    # leaves two untagged floating IPs on one network, told apart by their ports.
    stack.write_spec(net_spec(2))
    stack.cli("apply", "--auto-approve")
    fips = {r["address"]: r for r in records(stack) if r["address"].startswith("floating_ip.")}
    assert len(fips) == 2
    state = json.loads(stack.state.read_text(encoding="utf-8"))
    for record in state["resources"]:
        if record["address"] in fips:
            found = stack.cloud.neutron_one("floatingips", record["id"])
            tags = {"tags": []}
            resp = stack.cloud.http.put(
                f"{stack.cloud.url}/networking/v2.0/floatingips/{record['id']}/tags", json=tags
            )
            assert resp.status_code == 200, resp.text
            record.update(
                id=None,
                status="pending_create",
                attributes={
                    "create_token": f"t-{record['address']}",
                    "floating_network_id": found["floating_network_id"],
                    "port_id": found["port_id"],
                    "namesakes": [],
                },
            )
    stack.state.write_text(json.dumps(state), encoding="utf-8")

    result = stack.cli("apply", "--auto-approve")
    assert result.stdout.count("adopted") >= 2 or "2 changed" in result.stdout, result.stdout
    now = stack.cloud.neutron("floatingips")
    assert sorted(f["id"] for f in now) == sorted(r["id"] for r in fips.values())
    # Marked now: a state lost later finds them by their tags.
    assert sorted(t for f in now for t in f["tags"] if t.startswith("stackplan:address=")) == [
        f"stackplan:address={a}" for a in sorted(fips)
    ]
    assert {r["address"]: r["id"] for r in records(stack) if r["address"] in fips} == {
        a: r["id"] for a, r in fips.items()
    }
    no_change(stack)
    stack.cli("destroy", "--auto-approve")
    assert stack.cloud.neutron("floatingips") == []


GROUPS = """\
stack: groups
security_groups:
  web:
    rules:
      - {protocol: tcp, port: 443}
      - {protocol: tcp, port: 8000-8100, remote_group: web}
  db:
    rules:
      - {protocol: tcp, port: 5432, remote_group: web}
"""


def test_groups_tagged_and_not_recorded_are_adopted_with_their_rules(stack: Stack) -> None:
    # Killed after both groups were made and tagged, before the state had their IDs:
    # their rules (one naming its own group, one the other group) are set on adoption.
    stack.write_spec(GROUPS)
    state = State.new("groups")
    made = {}
    for name in ("web", "db"):
        address = Address("security_group", name)
        token = f"t-{name}"
        intent = {"create_token": token, "name": name, "namesakes": []}
        state = state.with_record(
            ResourceRecord(address, None, intent, status=RecordStatus.PENDING_CREATE)
        )
        body = {"security_group": {"name": name, "description": ""}}
        resp = stack.cloud.http.post(
            f"{stack.cloud.url}/networking/v2.0/security-groups", json=body
        )
        assert resp.status_code == 201, resp.text
        group = resp.json()["security_group"]
        marker = [
            f"stackplan:lineage={state.lineage}",
            f"stackplan:address={address}",
            f"stackplan:token={token}",
            "stackplan:stack=groups",
        ]
        resp = stack.cloud.http.put(
            f"{stack.cloud.url}/networking/v2.0/security-groups/{group['id']}/tags",
            json={"tags": marker},
        )
        assert resp.status_code == 200, resp.text
        made[name] = group["id"]
    stack.state.write_text(dump_state(state), encoding="utf-8")

    result = stack.cli("apply", "--auto-approve")
    assert "adopted" in result.stdout.lower(), result.stdout
    web = stack.cloud.neutron_one("security-groups", made["web"])
    db = stack.cloud.neutron_one("security-groups", made["db"])
    remotes = {
        (r["port_range_min"], r["remote_group_id"])
        for r in web["security_group_rules"]
        if r["direction"] == "ingress"
    }
    assert remotes == {(443, None), (8000, made["web"])}
    assert [
        r["remote_group_id"] for r in db["security_group_rules"] if r["direction"] == "ingress"
    ] == [made["web"]]
    assert {r["address"]: r["id"] for r in records(stack)} == {
        "security_group.web": made["web"],
        "security_group.db": made["db"],
    }
    no_change(stack)
    stack.cli("destroy", "--auto-approve")


def test_a_create_that_lands_after_the_next_runs_refresh_is_kept_not_made_twice(
    stack: Stack,
) -> None:
    # Seen on real Neutron under kill -9: the killed run's create landed only after the
    # next run's refresh had looked, so that run planned the create again. Its create
    # first looks for what the earlier intent describes (named so, not there before it,
    # untagged) and keeps that: one network, recorded and tagged. The plan is saved
    # before the network appears, as that refresh saw the cloud.
    stack.write_spec("stack: late\nnetworks:\n  app: {name: late-app}\n")
    state = State.new("late")
    intent = {"create_token": "t-1", "name": "late-app", "namesakes": []}
    address = Address("network", "app")
    state = state.with_record(
        ResourceRecord(address, None, intent, status=RecordStatus.PENDING_CREATE)
    )
    stack.state.write_text(dump_state(state), encoding="utf-8")
    stack.cli("plan", "--out", "p.plan")
    body = {"network": {"name": "late-app"}}
    resp = stack.cloud.http.post(f"{stack.cloud.url}/networking/v2.0/networks", json=body)
    assert resp.status_code == 201, resp.text
    made = resp.json()["network"]

    result = stack.cli("apply", "p.plan")
    assert f"an earlier, interrupted create made {made['id']}" in result.output, result.output
    assert [n["id"] for n in stack.cloud.neutron("networks", name="late-app")] == [made["id"]]
    tags = stack.cloud.neutron_one("networks", made["id"])["tags"]
    assert f"stackplan:address={address}" in tags, tags
    assert {r["address"]: r["id"] for r in records(stack)} == {str(address): made["id"]}
    no_change(stack)
    stack.cli("destroy", "--auto-approve")
    assert stack.cloud.neutron("networks", name="late-app") == []
