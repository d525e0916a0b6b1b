"""kill -9 over RegionTwo: `stackplan apply` of networks, subnets, a router with its gateway
and interfaces, security groups with rules, ports with floating IPs and volumes is
SIGKILLed at random moments, then applied again until one run completes; counted in real
Neutron and Cinder over plain HTTP (not stackplan's client), per kind:

- orphans: the project's resources that are neither there before the run nor in the state
  (ports Neutron makes for a router's interfaces aside, and the `default` group Neutron
  makes on first use);
- duplicates: two resources carrying one address in their stackplan marker (Neutron's
  tags, Cinder's metadata);
- the plan after the completed apply is empty, and destroy leaves the project as it was.

Its spec holds what the first runs found broken (fixed since, with reproductions in
test_real_network_races.py): three floating IPs made at once, a port naming only its
network, and a rule naming another group. The database port's fixed address is outside
the allocation pool: Neutron hands out the pool's addresses at random, so a port made
first could take one asked for inside it.

The simulator's version is tests/chaos/network_chaos.py. CONFORMANCE_KILLS (default 4) sets
the number of kills; the figures go to $HARNESS_HOME/logs/chaos-regiontwo.json as well.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from stackplan.errors import StackplanError
from stackplan.state.local import LocalStateStore
from tests.real.harness import DEMO, HARNESS_HOME, REGION_TWO, Api, Stack

KILLS = int(os.environ.get("CONFORMANCE_KILLS", "4"))
KINDS = ("networks", "subnets", "routers", "ports", "security-groups", "floatingips", "volumes")
TAG = "stackplan:address="

SPEC = """\
stack: real-chaos-{rid}
networks:
  app: {{name: chaos-{rid}}}
subnets:
  app:
    name: chaos-{rid}
    network: app
    cidr: 10.{octet}.0.0/24
    allocation_pools: [{{start: 10.{octet}.0.10, end: 10.{octet}.0.200}}]
  more:
    name: chaos-more-{rid}
    network: app
    cidr: 10.{octet}.1.0/24
routers:
  edge:
    name: chaos-{rid}
    external_network: public
    interfaces: [app, more]
security_groups:
  web:
    name: chaos-web-{rid}
    rules:
      - {{protocol: tcp, port: 443}}
      - {{protocol: tcp, port: 22, remote_ip_prefix: 10.0.0.0/8}}
  db:
    name: chaos-db-{rid}
    rules:
      - {{protocol: tcp, port: 5432, remote_ip_prefix: 10.{octet}.0.0/24}}
      - {{protocol: tcp, port: 5433, remote_group: web}}
ports:
  vip:
    count: 3
    name: chaos-vip-{rid}
    network: app
    fixed_ips: [{{subnet: app}}]
    security_groups: [web]
  db:
    name: chaos-db-{rid}
    network: app
    fixed_ips: [{{subnet: app, ip_address: 10.{octet}.0.250}}]
    security_groups: [db]
  plain:
    name: chaos-plain-{rid}
    network: app
floating_ips:
  vip:
    count: 3
    network: public
    port: "vip[${{count.index}}]"
volumes:
  data:
    count: 3
    name: chaos-{rid}
    size: 1
    metadata: {{role: data}}
"""


@dataclass
class Figures:
    kills: int = 0
    missed: int = 0  # the apply ended before the chosen moment: no kill, not counted
    rounds: int = 0
    orphans: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    duplicates: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    unreadable: int = 0
    failed_runs: int = 0
    adoptions: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        bad = any(self.orphans.values()) or any(self.duplicates.values())
        return self.kills > 0 and not (bad or self.unreadable or self.failed_runs)

    def counts(self) -> dict[str, Any]:
        """The figures, orphans and duplicates as counts of distinct resources per kind."""
        out = {k: v for k, v in asdict(self).items() if k != "problems"}
        out["orphans"] = {k: len(v) for k, v in self.orphans.items()}
        out["duplicates"] = {k: len(v) for k, v in self.duplicates.items()}
        return {**out, "ok": self.ok}


def _cloud(real: Api) -> dict[str, list[dict[str, Any]]]:
    found = {kind: real.neutron_list(kind, project_id=real.project_id) for kind in KINDS[:-1]}
    found["volumes"] = real.volumes()
    return found


def _address(kind: str, item: dict[str, Any]) -> str | None:
    if kind == "volumes":
        return (item.get("metadata") or {}).get("stackplan:address")
    tags = [t for t in item.get("tags") or () if t.startswith(TAG)]
    return tags[0][len(TAG) :] if tags else None


class _Chaos:
    def __init__(self, real: Api, stack: Stack, figures: Figures):
        self.real, self.stack, self.figures = real, stack, figures
        self.seed = {kind: {i["id"] for i in items} for kind, items in _cloud(real).items()}

    def recorded(self, when: str) -> set[str]:
        if not self.stack.state.exists():
            return set()
        try:
            state = LocalStateStore(self.stack.state).read()
        except StackplanError as exc:
            self.figures.unreadable += 1
            self.figures.problems.append(f"{when}: unreadable state: {exc.render()}")
            return set()
        return {r.id for r in state.records if r.id} if state else set()

    def check(self, when: str) -> None:
        recorded = self.recorded(when)
        for kind, items in _cloud(self.real).items():
            mine = [i for i in items if kind != "ports" or not i["device_owner"]]
            if kind == "security-groups":
                mine = [i for i in mine if i["name"] != "default"]
            orphans = [i["id"] for i in mine if i["id"] not in self.seed[kind] | recorded]
            per_address = Counter(a for i in mine if (a := _address(kind, i)))
            doubled = {a: n for a, n in per_address.items() if n > 1}
            self.figures.orphans[kind].update(orphans)
            self.figures.duplicates[kind].update(
                i["id"] for i in mine if _address(kind, i) in doubled
            )
            if orphans or doubled:
                self.figures.problems.append(f"{when}: {kind}: orphans {orphans}, {doubled}")

    def check_empty(self, when: str) -> None:
        for kind, items in _cloud(self.real).items():
            left = [
                i["id"]
                for i in items
                if i["id"] not in self.seed[kind]
                and not (kind == "security-groups" and i["name"] == "default")
            ]
            if left:
                self.figures.orphans[kind].update(left)
                self.figures.problems.append(f"{when}: destroy left {kind}: {left}")

    def finish(self, verb: str, when: str, rc: int = 0) -> str:
        args = (verb, "--auto-approve") if verb != "plan" else ("plan", "--detailed-exitcode")
        result = self.stack.cli(*args, rc=None, timeout=240)
        if result.returncode != rc:
            self.figures.failed_runs += 1
            self.figures.problems.append(
                f"{when}: {verb} exited {result.returncode}:\n{result.output[-2000:]}"
            )
        return result.output

    def kill_at(self, moment: float, after_creating: bool) -> bool:
        """Start apply; SIGKILL it `moment` s after its start (or after its first create
        began); False when it ended before."""
        proc = self.stack.popen("apply", "--auto-approve")
        creating = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if "Creating..." in line:
                    creating.set()

        threading.Thread(target=read, daemon=True).start()
        if after_creating:
            deadline = time.monotonic() + 60
            while not creating.wait(0.01):
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
        try:
            proc.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        return False


@pytest.mark.timeout(900)
def test_kill_9_over_networks_and_volumes(own_project, make_stack, run_id):
    """In a project of its own: orphans are counted over all the project holds."""
    real = Api(DEMO[0], DEMO[1], own_project)
    figures = Figures()
    started = time.monotonic()
    rng = random.Random(int(run_id, 16))
    stack = make_stack(REGION_TWO, project=own_project)
    stack.write(SPEC.format(rid=run_id, octet=100 + (int(run_id, 16) + 71) % 100))
    chaos = _Chaos(real, stack, figures)
    began = time.monotonic()
    chaos.finish("apply", "calibration")
    duration = time.monotonic() - began
    chaos.check("calibration")
    chaos.finish("destroy", "calibration")
    chaos.check_empty("calibration")
    while figures.kills < KILLS and time.monotonic() - started < 600:
        figures.rounds += 1
        tag = f"round {figures.rounds}"
        window = duration
        while figures.kills < KILLS:
            after_creating = rng.random() < 0.4  # then the moment counts from there
            moment = (
                rng.uniform(0.05, 0.4 * window)
                if after_creating
                else rng.uniform(0.3, 0.8 * window)
            )
            if not chaos.kill_at(moment, after_creating=after_creating):
                figures.missed += 1
                break
            figures.kills += 1
            chaos.recorded(f"{tag}, after kill {figures.kills}")
            if rng.random() >= 0.3:
                break
            window = max(0.5, duration / 2)
        out = chaos.finish("apply", tag)
        figures.adoptions += out.count("adopted")
        chaos.check(tag)
        chaos.finish("plan", f"{tag}, plan after apply", rc=0)
        chaos.finish("destroy", tag)
        chaos.check_empty(tag)
    figures.seconds = round(time.monotonic() - started, 1)
    report = {**figures.counts(), "calibration_apply_seconds": round(duration, 1)}
    text = json.dumps({**report, "problems": figures.problems}, indent=2)
    (HARNESS_HOME / "logs" / "chaos-regiontwo.json").write_text(text)
    print(f"\nRegionTwo chaos: {json.dumps(report)}")
    assert figures.ok, "\n".join(figures.problems) or str(report)
