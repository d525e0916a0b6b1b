"""Chaos: SIGKILL `stackplan apply` at random moments and prove nothing is lost or doubled.

    python tests/chaos/chaos.py --kills 50            # the issue's run (a few minutes)
    python tests/chaos/chaos.py --kills 5 --servers 10 --build-seconds 1
    python tests/chaos/chaos.py --kills 10 --servers 20 --postgres   # state on PostgreSQL

Against a private embedded cloud (`stackplan sim serve`, loopback, port 0, no quotas) it
repeats rounds of: apply N servers from an empty stack and SIGKILL it at a random moment
(sometimes the re-run too), re-run apply until one completes, check the cloud against the
state, then destroy. After each kill it counts unreadable states; after each completed
apply, orphaned servers (in the cloud, not in the state), duplicated servers (two cloud
servers for one address) and missing ones. Bounded: `--kills` kills, `--max-seconds`
overall. Prints the figures; exits 1 if any of them is not 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # tests.helpers, when run as a script

from stackplan.cli.sim import env_lines  # noqa: E402
from stackplan.cloud import connect, load_config  # noqa: E402
from stackplan.errors import StackplanError  # noqa: E402
from stackplan.state.local import LocalStateStore  # noqa: E402
from stackplan.state.pg_url import parse_backend_url  # noqa: E402
from stackplan.state.postgres import PostgresStateStore  # noqa: E402
from stackplan.state.store import StateStore  # noqa: E402
from tests.helpers import PostgresServer  # noqa: E402

ADDRESS_KEY = "stackplan:address"


@dataclass(frozen=True, slots=True)
class ChaosOptions:
    kills: int = 50
    servers: int = 30
    build_seconds: float = 3.0
    latency_ms: float = 20.0  # widens the window in which creates are in flight
    parallelism: int = 10
    seed: int | None = None
    max_seconds: float = 1800.0  # the whole run stops after this, whatever the kill count
    rekill_chance: float = 0.3  # how often the re-run after a kill is killed as well
    postgres: bool = False  # the state in a PostgreSQL server of its own, not a file
    sim_args: tuple[str, ...] = ()  # more `sim serve` flags (a cloud of another make)


@dataclass
class ChaosReport:
    kills: int = 0
    missed: int = 0  # apply finished before the chosen moment: no kill, not counted
    rounds: int = 0
    orphans: int = 0
    duplicates: int = 0
    missing: int = 0
    unreadable: int = 0
    failed_runs: int = 0  # a re-run apply or a destroy that did not exit 0
    adoptions: int = 0  # servers adopted by a re-run: found by their marker
    stuck: int = 0  # servers left off the spec's flavor or out of ACTIVE (resize chaos)
    takeovers: int = 0  # re-runs that took over the lock left by the killed run
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not (
                self.orphans
                or self.duplicates
                or self.missing
                or self.unreadable
                or self.failed_runs
            )
            and self.kills > 0
        )

    def figures(self) -> str:
        return (
            f"kills={self.kills} rounds={self.rounds} missed={self.missed} "
            f"orphans={self.orphans} duplicates={self.duplicates} missing={self.missing} "
            f"unreadable={self.unreadable} failed_runs={self.failed_runs} "
            f"adoptions={self.adoptions} lock_takeovers={self.takeovers} stuck={self.stuck} "
            f"wall={self.seconds:.1f}s"
        )


class _Sim:
    """`stackplan sim serve` in a subprocess on a free loopback port."""

    def __init__(self, db: Path, options: ChaosOptions):
        args = [
            sys.executable,
            "-m",
            "stackplan",
            "sim",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-quota",
            "--no-shared-network",  # servers of no named network: one network to choose
            "--private-cidr",  # every server holds a port on `private` until it is gone:
            "10.0.0.0/22",  # room for rounds of --servers beyond devstack's /26 (~60)
            "--db",
            str(db),
            "--build-seconds",
            str(options.build_seconds),
            "--latency-ms",
            str(options.latency_ms),
            *options.sim_args,
        ]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"the embedded cloud did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[-1].strip()

    def env(self) -> dict[str, str]:
        out = {}
        for line in env_lines(self.url):
            name, _, value = line.removeprefix("export ").partition("=")
            out[name] = shlex.split(value)[0]
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class _Run:
    def __init__(
        self,
        work: Path,
        sim: _Sim,
        options: ChaosOptions,
        report: ChaosReport,
        postgres: PostgresServer | None = None,
    ):
        self.work = work
        self.options = options
        self.report = report
        self.spec = work / "spec.yaml"
        self.state = work / "state.json"
        self.postgres = postgres
        self.spec.write_text(
            "stack: chaos\nservers:\n  node:\n"
            f"    count: {options.servers}\n"
            "    image: cirros-0.6.2-x86_64-disk\n    flavor: m1.tiny\n",
            encoding="utf-8",
        )
        self.env = {**os.environ, **sim.env(), "PYTHONUNBUFFERED": "1"}
        if postgres is not None:
            self.env.update(postgres.env, STACKPLAN_BACKEND=postgres.url)
        self.cloud = connect(load_config(env=sim.env()))
        self.log = work / "runs.log"

    def command(self, verb: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "stackplan",
            verb,
            "--auto-approve",
            "-f",
            str(self.spec),
            *([] if self.postgres else ["--state", str(self.state)]),
            "--parallelism",
            str(self.options.parallelism),
        ]

    def store(self) -> StateStore:
        if self.postgres is None:
            return LocalStateStore(self.state)
        os.environ.update(self.postgres.env)
        return PostgresStateStore(parse_backend_url(self.postgres.url), "chaos")

    def start(self, verb: str) -> tuple[subprocess.Popen[str], threading.Event]:
        """Start `verb`; the event is set once it prints its first "Creating..." line."""
        proc = subprocess.Popen(
            self.command(verb),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        creating = threading.Event()

        def copy() -> None:
            assert proc.stdout is not None
            with self.log.open("a", encoding="utf-8") as out:
                out.write(f"\n===== {verb}, to be killed\n")
                for line in proc.stdout:
                    out.write(line)
                    if "Creating..." in line:
                        creating.set()

        threading.Thread(target=copy, daemon=True).start()
        return proc, creating

    def finish(self, verb: str, timeout: float = 180.0) -> tuple[int, str]:
        proc = subprocess.run(
            self.command(verb), env=self.env, capture_output=True, text=True, timeout=timeout
        )
        with self.log.open("a", encoding="utf-8") as out:
            out.write(
                f"\n===== {verb} (to the end) rc={proc.returncode}\n{proc.stdout}{proc.stderr}"
            )
        return proc.returncode, proc.stdout + proc.stderr

    def kill_at(self, verb: str, moment: float, after_creating: bool) -> bool:
        """Start `verb`, SIGKILL it `moment` seconds after its start (or after its first
        create began, when `after_creating`); False if it ended before."""
        proc, creating = self.start(verb)
        if after_creating:
            deadline = time.monotonic() + 60.0
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

    def state_readable(self, when: str) -> dict[str, str]:
        """The state's IDs by address; counts (and notes) an unreadable state (or, on
        PostgreSQL, any kept version that cannot be read)."""
        if self.postgres is None and not self.state.exists():
            return {}
        store = self.store()
        try:
            state = store.read()
            for version in store.versions():
                store.read_version(version.serial)
        except StackplanError as exc:
            self.report.unreadable += 1
            self.report.problems.append(f"{when}: unreadable state: {exc.render()}")
            return {}
        finally:
            if isinstance(store, PostgresStateStore):
                store.close()
        if state is None:
            return {}
        return {str(r.address): r.id for r in state.records if r.id}

    def check_cloud(self, when: str) -> None:
        recorded = self.state_readable(when)
        servers = [s for s in self.cloud.compute.list_servers() if s.status != "DELETED"]
        ids = set(recorded.values())
        orphans = [s.id for s in servers if s.id not in ids]
        per_address = Counter(s.metadata.get(ADDRESS_KEY) or s.name for s in servers)
        duplicates = sum(n - 1 for n in per_address.values() if n > 1)
        missing = self.options.servers - len({s.id for s in servers} & ids)
        self.report.orphans += len(orphans)
        self.report.duplicates += duplicates
        self.report.missing += max(0, missing)
        if orphans or duplicates or missing:
            self.report.problems.append(
                f"{when}: {len(servers)} servers in the cloud, {len(recorded)} in the state; "
                f"orphans {orphans}, duplicated addresses "
                f"{[a for a, n in per_address.items() if n > 1]}, missing {missing}"
            )

    def check_empty(self, when: str) -> None:
        left = [s.id for s in self.cloud.compute.list_servers() if s.status != "DELETED"]
        if left:
            self.report.orphans += len(left)
            self.report.problems.append(f"{when}: destroy left {left}")


def calibrate(run: _Run) -> float:
    """Seconds one full apply of the stack takes here (then destroys it again)."""
    started = time.monotonic()
    code, text = run.finish("apply")
    took = time.monotonic() - started
    if code != 0:
        raise RuntimeError(f"the calibration apply failed:\n{text}")
    run.check_cloud("calibration")
    code, text = run.finish("destroy")
    if code != 0:
        raise RuntimeError(f"the calibration destroy failed:\n{text}")
    return took


def run_chaos(
    options: ChaosOptions, work: Path | None = None, say=lambda text: None
) -> ChaosReport:
    """The chaos run; `work` keeps the sim db, state and logs (a temp dir if None)."""
    report = ChaosReport()
    rng = random.Random(options.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stackplan-chaos-") as tmp:
        base = Path(work or tmp)
        base.mkdir(parents=True, exist_ok=True)
        sim = _Sim(base / "sim.sqlite", options)
        postgres = PostgresServer().start() if options.postgres else None
        try:
            run = _Run(base, sim, options, report, postgres)
            duration = calibrate(run)
            say(f"a full apply of {options.servers} servers takes {duration:.1f}s here")
            while report.kills < options.kills:
                if time.monotonic() - started > options.max_seconds:
                    report.problems.append(f"stopped after {options.max_seconds:.0f}s")
                    break
                _round(run, rng, duration, options, report)
                report.seconds = time.monotonic() - started
                say(f"round {report.rounds}: {report.figures()}")
        finally:
            sim.stop()
            if postgres is not None:
                postgres.stop()
    report.seconds = time.monotonic() - started
    return report


def _round(
    run: _Run, rng: random.Random, duration: float, options: ChaosOptions, report: ChaosReport
) -> None:
    report.rounds += 1
    tag = f"round {report.rounds}"
    # The first kill lands anywhere in a full apply; a re-run has less to do.
    window = duration
    while report.kills < options.kills:
        # Half the kills land anywhere; half while creates are being sent and answered,
        # where an answer lost with its process is most likely.
        if rng.random() < 0.5:
            killed = run.kill_at("apply", rng.uniform(0.0, 0.4), after_creating=True)
        else:
            killed = run.kill_at("apply", rng.uniform(0.05, window), after_creating=False)
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
        report.problems.append(f"{tag}: apply after the kill exited {code}:\n{text[-2000:]}")
    report.adoptions += text.count("adopted: found by its stackplan tag")
    report.takeovers += text.count("took over a stale lock")
    run.check_cloud(tag)
    code, text = run.finish("destroy")
    if code != 0:
        report.failed_runs += 1
        report.problems.append(f"{tag}: destroy exited {code}:\n{text[-2000:]}")
    run.check_empty(tag)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    defaults = ChaosOptions()
    parser.add_argument("--kills", type=int, default=defaults.kills)
    parser.add_argument("--servers", type=int, default=defaults.servers)
    parser.add_argument("--build-seconds", type=float, default=defaults.build_seconds)
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument("--parallelism", type=int, default=defaults.parallelism)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-seconds", type=float, default=defaults.max_seconds)
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the sim db, state and run logs in this directory",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--postgres", action="store_true", help="keep the state in a PostgreSQL server"
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    options = ChaosOptions(
        kills=args.kills,
        servers=args.servers,
        build_seconds=args.build_seconds,
        latency_ms=args.latency_ms,
        parallelism=args.parallelism,
        seed=seed,
        max_seconds=args.max_seconds,
        postgres=args.postgres,
    )
    print(f"chaos: {options}", flush=True)
    report = run_chaos(options, args.keep, say=lambda text: print(text, flush=True))
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    if args.json:
        figures = {k: v for k, v in vars(report).items() if k != "problems"}
        print(json.dumps(figures, indent=2))
    print(("OK " if report.ok else "FAILED ") + report.figures())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
