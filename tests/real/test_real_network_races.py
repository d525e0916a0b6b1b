"""Two races of RegionTwo that the chaos run found, made certain with a loopback proxy in
front of the real Neutron (OS_NETWORK_ENDPOINT_OVERRIDE): one request held or slowed, the
rest answered by Neutron itself.

- Floating IPs made, never tagged: two floating IPs of one stack are created at once and
  the apply dies before either gets its marker (Neutron takes no tags at create for
  them). The next apply must adopt both, as it does one.
- A port before its subnet: a port that names only its network, created while the
  network's subnet is still being made, gets no address (Neutron allocates at create
  only), and no floating IP can go on it.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time

from tests.real.harness import REGION_TWO, Api
from tests.real.proxy import HOLD, Proxy

SG_TAGS_PUT = re.compile(r"^/v2\.0/security-groups/[0-9a-f-]+/tags$")
TAGS_PUT = re.compile(r"^/v2\.0/floatingips/[0-9a-f-]+/tags$")

SPEC = """\
stack: real-race-{rid}
networks:
  app: {{name: race-{rid}}}
subnets:
  app: {{name: race-{rid}, network: app, cidr: 10.{octet}.0.0/24}}
routers:
  edge: {{name: race-{rid}, external_network: public, interfaces: [app]}}
ports:
  vip:
    count: {count}
    name: race-{rid}
    network: app
{fixed}floating_ips:
  vip:
    count: {count}
    network: public
    port: "vip[${{count.index}}]"
"""


def spec(rid: str, octet: int, count: int, *, subnet_named: bool) -> str:
    fixed = "    fixed_ips: [{subnet: app}]\n" if subnet_named else ""
    return SPEC.format(rid=rid, octet=octet, count=count, fixed=fixed)


def _our_fips(real: Api, rid: str) -> list[dict]:
    ports = {p["id"] for p in real.neutron_list("ports") if p["name"].startswith(f"race-{rid}-")}
    return [f for f in real.neutron_list("floatingips") if f["port_id"] in ports]


def _cleanup(real: Api, stack, rid: str) -> None:
    """Destroy, then delete what the stack lost track of (the bug's orphans)."""
    stack.cli("destroy", "--auto-approve", rc=None)
    for fip in _our_fips(real, rid):
        real.request("DELETE", f"{real.neutron}/floatingips/{fip['id']}")
    stack.cli("destroy", "--auto-approve", rc=None)


def test_floating_ips_made_and_never_tagged_are_adopted(real: Api, make_stack, run_id):
    rid = f"{run_id}f"
    octet = 100 + (int(run_id, 16) + 11) % 100
    proxy = Proxy(
        real.neutron.removesuffix("/v2.0"),
        hook=lambda method, path, _: HOLD if method == "PUT" and TAGS_PUT.match(path) else None,
    )
    stack = make_stack(REGION_TWO)
    stack.write(spec(rid, octet, 2, subnet_named=True))
    try:
        via_proxy = {"OS_NETWORK_ENDPOINT_OVERRIDE": proxy.url}
        proc = stack.popen("apply", "--auto-approve", env=via_proxy)
        deadline = time.monotonic() + 120
        while proxy.held < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proxy.held == 2, f"held {proxy.held}, apply exit {proc.poll()}"
        os.kill(proc.pid, signal.SIGKILL)  # both floating IPs made, neither tagged
        proc.wait()
        proxy.stop()
        made = _our_fips(real, rid)
        assert len(made) == 2 and not any(f["tags"] for f in made), made

        result = stack.cli("apply", "--auto-approve", rc=None)
        after = _our_fips(real, rid)
        assert result.returncode == 0, str(result)
        assert sorted(f["id"] for f in after) == sorted(f["id"] for f in made)
        assert all(any(t.startswith("stackplan:address=") for t in f["tags"]) for f in after)
    finally:
        proxy.stop()
        _cleanup(real, stack, rid)
    assert not _our_fips(real, rid)


def test_a_port_naming_only_its_network_waits_for_the_subnet(real: Api, make_stack, run_id):
    rid = f"{run_id}s"
    octet = 100 + (int(run_id, 16) + 23) % 100
    proxy = Proxy(
        real.neutron.removesuffix("/v2.0"),
        hook=lambda method, path, _: 4.0 if method == "POST" and path == "/v2.0/subnets" else None,
    )
    stack = make_stack(REGION_TWO)
    stack.write(spec(rid, octet, 1, subnet_named=False))
    try:
        result = stack.cli(
            "apply", "--auto-approve", rc=None, env={"OS_NETWORK_ENDPOINT_OVERRIDE": proxy.url}
        )
        (port,) = real.neutron_list("ports", name=f"race-{rid}-0")
        assert port["fixed_ips"], f"the port has no address: {port}\n{result}"
        assert result.returncode == 0, str(result)
        assert len(_our_fips(real, rid)) == 1
    finally:
        proxy.stop()
        _cleanup(real, stack, rid)


GROUPS = """\
stack: real-race-{rid}
security_groups:
  web:
    name: race-web-{rid}
    rules:
      - {{protocol: tcp, port: 443}}
      - {{protocol: tcp, port: 8000-8100, remote_group: web}}
  db:
    name: race-db-{rid}
    rules:
      - {{protocol: tcp, port: 5432, remote_group: web}}
"""


def test_groups_adopted_after_a_kill_get_their_rules(real: Api, make_stack, run_id):
    """The groups' tag PUTs reach Neutron, but their answers are held until the apply is
    killed: the groups exist with their markers, the state only has the intents."""
    rid = f"{run_id}g"
    held: list[str] = []
    gate = threading.Event()

    def hold_answer(method: str, path: str, _resp) -> None:
        if method == "PUT" and SG_TAGS_PUT.match(path):
            held.append(path)
            gate.wait(120)

    proxy = Proxy(real.neutron.removesuffix("/v2.0"), after=hold_answer)
    stack = make_stack(REGION_TWO)
    stack.write(GROUPS.format(rid=rid))
    try:
        via_proxy = {"OS_NETWORK_ENDPOINT_OVERRIDE": proxy.url}
        proc = stack.popen("apply", "--auto-approve", env=via_proxy)
        deadline = time.monotonic() + 120
        while len(held) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(held) == 2, f"held {held}, apply exit {proc.poll()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        gate.set()
        proxy.stop()
        result = stack.cli("apply", "--auto-approve", rc=None)
        assert "adopted" in result.stdout, str(result)
        assert result.returncode == 0, str(result)
        plan = stack.cli("plan", "--detailed-exitcode", rc=None)
        assert plan.returncode == 0, str(plan)
    finally:
        gate.set()
        proxy.stop()
        stack.cli("destroy", "--auto-approve", rc=None)
    left = [g for g in real.neutron_list("security-groups") if rid in g["name"]]
    assert not left, left
