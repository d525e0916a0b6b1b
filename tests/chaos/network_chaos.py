"""Whole stacks under SIGKILL: `stackplan apply` of examples/three-tier (20 servers by
default, with its network, subnet, router, groups and their rules, port and floating IP),
or with `--stack storage` of servers booted from volumes with a data volume attached to
each (10 by default), is killed at random moments, then applied again until one run
completes. Counted in the cloud's own APIs (plain HTTP, not stackplan's client), of every
kind:

- orphans: resources in the cloud that are neither the seed's nor in the state (ports
  Nova and routers make for themselves aside, and a boot volume while its server lives);
- attachments: a data volume on a server the spec does not put it on, or on two;
- duplicates: two resources carrying one address in their stackplan tag or metadata;
- a plan after the completed apply must be empty (every rule, interface and association
  as the spec says), and destroy must leave the project as it was seeded.

    python tests/chaos/network_chaos.py --kills 20 [--servers 20] [--seed N]
    python tests/chaos/network_chaos.py --stack storage --kills 20 [--servers 10]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from chaos import ChaosOptions, ChaosReport, _Run, _Sim

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "three-tier"
NEUTRON = ("networks", "subnets", "routers", "ports", "security-groups", "floatingips")
TAG = "stackplan:address="
STORAGE = """\
stack: storage
keypairs:
  ops: {public_key_file: keys/deploy.pub}
volumes:
  data:
    count: ${var.count}
    size: 2
servers:
  app:
    count: ${var.count}
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.tiny
    key_pair: ops
    boot_volume: {size: 1, delete_on_termination: true}
    volumes:
      - volume: "data[${count.index}]"
variables:
  count: 10
"""


class _CloudCount:
    """Every resource of the project, by kind, over plain HTTP with a token of its own."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "demo",
                            "domain": {"name": "Default"},
                            "password": "secret",
                        }
                    },
                },
                "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
            }
        }
        resp = self.http.post(f"{url}/identity/v3/auth/tokens", json=body, timeout=30)
        resp.raise_for_status()
        self.http.headers["X-Auth-Token"] = resp.headers["X-Subject-Token"]
        self.project = resp.json()["token"]["project"]["id"]

    def _get(self, path: str, key: str) -> list[dict[str, Any]]:
        resp = self.http.get(f"{self.url}{path}", timeout=60)
        resp.raise_for_status()
        return resp.json()[key]

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        found = {
            kind: self._get(f"/networking/v2.0/{kind}", kind.replace("-", "_")) for kind in NEUTRON
        }
        found["security_group_rules"] = [
            rule for group in found["security-groups"] for rule in group["security_group_rules"]
        ]
        found["servers"] = self._get("/compute/v2.1/servers/detail", "servers")
        found["volumes"] = self._get(f"/volume/v3/{self.project}/volumes/detail", "volumes")
        found["keypairs"] = [
            k["keypair"] for k in self._get("/compute/v2.1/os-keypairs", "keypairs")
        ]
        return found


def _own_ports(port: dict[str, Any]) -> bool:
    """Ports a stack makes itself (not those Nova and routers make for it)."""
    return not port["device_owner"]


def _address_of(kind: str, item: dict[str, Any]) -> str | None:
    if kind in ("servers", "volumes"):
        return item.get("metadata", {}).get("stackplan:address")
    tags = [t for t in item.get("tags", ()) if t.startswith(TAG)]
    return tags[0][len(TAG) :] if tags else None


class _StackRun(_Run):
    def __init__(
        self,
        work: Path,
        sim: _Sim,
        options: ChaosOptions,
        report: ChaosReport,
        stack: str = "three-tier",
    ):
        super().__init__(work, sim, options, report)
        if stack == "storage":
            (work / "keys").mkdir(exist_ok=True)
            shutil.copy(ROOT / "examples" / "web" / "keys" / "deploy.pub", work / "keys")
            self.spec.write_text(STORAGE, encoding="utf-8")
            self.vars = ["--var", f"count={options.servers}"]
        else:
            shutil.copytree(EXAMPLE / "keys", work / "keys", dirs_exist_ok=True)
            self.spec.write_text((EXAMPLE / "stackplan.yaml").read_text(encoding="utf-8"))
            # bastion + db + web + app = the servers asked for
            web = (options.servers - 2) // 2
            app = options.servers - 2 - web
            self.vars = ["--var", f"web_count={web}", "--var", f"app_count={app}"]
        self.counter = _CloudCount(sim.url)
        self.seed = self.counter.snapshot()

    def command(self, verb: str) -> list[str]:
        if verb == "plan":
            files = ["-f", str(self.spec), "--state", str(self.state), "--detailed-exitcode"]
            return [sys.executable, "-m", "stackplan", "plan", *files, *self.vars]
        return [*super().command(verb), *self.vars]

    def check_cloud(self, when: str) -> None:
        recorded = set(self.state_readable(when).values())
        now = self.counter.snapshot()
        seed_ids = {i["id"] for items in self.seed.values() for i in items if "id" in i}
        live = {s["id"] for s in now["servers"]}
        for kind, items in now.items():
            if kind in ("security_group_rules", "keypairs"):
                continue
            mine = [i for i in items if kind != "ports" or _own_ports(i)]
            if kind == "volumes":  # a boot volume is its server's, while the server lives
                mine = [i for i in mine if not _boot_of(i, live)]
            orphans = [i["id"] for i in mine if i["id"] not in seed_ids | recorded]
            if kind == "security-groups":
                orphans = [o for o in orphans if _name(items, o) != "default"]
            per_address = Counter(a for i in mine if (a := _address_of(kind, i)))
            doubled = [a for a, n in per_address.items() if n > 1]
            self.report.orphans += len(orphans)
            self.report.duplicates += sum(per_address[a] - 1 for a in doubled)
            if orphans or doubled:
                self.report.problems.append(f"{when}: {kind}: orphans {orphans}, doubled {doubled}")
        servers = [s for s in now["servers"] if s["id"] in recorded]
        self.report.missing += max(0, self.options.servers - len(servers))
        self._check_attachments(when, now)

    def _check_attachments(self, when: str, now: dict[str, list[dict[str, Any]]]) -> None:
        """Each data volume on its own server only: `volume.data[i]` on `server.app[i]`."""
        server_at = {s["id"]: _address_of("servers", s) for s in now["servers"]}
        for volume in now["volumes"]:
            address = _address_of("volumes", volume)
            if address is None:
                continue
            on = [server_at.get(a["server_id"]) for a in volume["attachments"]]
            wanted = address.replace("volume.data", "server.app")
            if on not in ([], [wanted]):
                self.report.duplicates += 1
                self.report.problems.append(f"{when}: {address} attached to {on}")

    def check_empty(self, when: str) -> None:
        now = self.counter.snapshot()
        for kind, items in now.items():
            before = sorted(i.get("id") or i.get("name") for i in self.seed[kind])
            after = sorted(i.get("id") or i.get("name") for i in items)
            if kind == "security-groups":  # Neutron makes the default group on first use
                after = [a for a in after if a in before or _name(items, a) != "default"]
            if kind == "security_group_rules":
                continue
            if after != before:
                left = sorted(set(after) - set(before))
                self.report.orphans += len(left)
                self.report.problems.append(f"{when}: destroy left {kind}: {left}")


def _boot_of(volume: dict[str, Any], live: set[str]) -> bool:
    """A volume Nova made to boot a server that still exists."""
    return volume.get("bootable") == "true" and any(
        a.get("server_id") in live and a.get("device") == "/dev/vda"
        for a in volume.get("attachments") or ()
    )


def _name(items: list[dict[str, Any]], item_id: str) -> str:
    return next((i.get("name", "") for i in items if i.get("id") == item_id), "")


def run_network_chaos(
    options: ChaosOptions,
    work: Path | None = None,
    say=lambda text: None,
    stack: str = "three-tier",
) -> ChaosReport:
    report = ChaosReport()
    rng = random.Random(options.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stackplan-network-chaos-") as tmp:
        base = Path(work or tmp)
        base.mkdir(parents=True, exist_ok=True)
        sim = _Sim(base / "sim.sqlite", options)
        try:
            run = _StackRun(base, sim, options, report, stack)
            began = time.monotonic()
            code, text = run.finish("apply")
            if code != 0:
                raise RuntimeError(f"the calibration apply failed:\n{text}")
            duration = time.monotonic() - began
            run.check_cloud("calibration")
            run.finish("destroy")
            run.check_empty("calibration")
            say(f"a full apply of the {stack} stack takes {duration:.1f}s here")
            while report.kills < options.kills:
                if time.monotonic() - started > options.max_seconds:
                    report.problems.append(f"stopped after {options.max_seconds:.0f}s")
                    break
                _round(run, rng, duration, options, report)
                say(f"round {report.rounds}: {report.figures()}")
        finally:
            sim.stop()
    report.seconds = time.monotonic() - started
    return report


def _round(
    run: _StackRun,
    rng: random.Random,
    duration: float,
    options: ChaosOptions,
    report: ChaosReport,
) -> None:
    report.rounds += 1
    tag = f"round {report.rounds}"
    window = duration
    while report.kills < options.kills:
        killed = run.kill_at("apply", rng.uniform(0.05, window), after_creating=rng.random() < 0.3)
        if not killed:
            report.missed += 1
            break
        report.kills += 1
        run.state_readable(f"{tag}, after kill {report.kills}")
        if rng.random() >= options.rekill_chance:
            break
        window = max(0.5, duration / 2)
    code, text = run.finish("apply")
    if code != 0:
        report.failed_runs += 1
        report.problems.append(f"{tag}: apply after the kill exited {code}:\n{text[-3000:]}")
    report.adoptions += text.count("adopted")
    run.check_cloud(tag)
    code, text = run.finish("plan")
    if code != 0:
        report.failed_runs += 1
        report.problems.append(f"{tag}: the plan after the apply is not empty:\n{text[-3000:]}")
    code, text = run.finish("destroy")
    if code != 0:
        report.failed_runs += 1
        report.problems.append(f"{tag}: destroy exited {code}:\n{text[-3000:]}")
    run.check_empty(tag)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--stack", choices=["three-tier", "storage"], default="three-tier")
    parser.add_argument("--servers", type=int, default=None)
    parser.add_argument("--build-seconds", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    options = ChaosOptions(
        kills=args.kills,
        servers=args.servers or (10 if args.stack == "storage" else 20),
        build_seconds=args.build_seconds,
        seed=seed,
        max_seconds=args.max_seconds,
    )
    print(f"network chaos: {options}", flush=True)
    report = run_network_chaos(options, say=lambda text: print(text, flush=True), stack=args.stack)
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    print(("OK " if report.ok else "FAILED ") + report.figures())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
