"""Resizes under SIGKILL: `stackplan apply` resizing N servers is killed at random moments
(before the resize is sent, while Nova resizes, while it waits for the confirmation, after
the confirmation), then applied again, sometimes with the spec gone back to the old flavor.
Afterwards every server must be ACTIVE on the spec's flavor, none left in VERIFY_RESIZE.

    python tests/chaos/resize_chaos.py --kills 20 [--servers 10] [--seed N]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from chaos import ChaosOptions, ChaosReport, _Run, _Sim

FLAVORS = {"m1.tiny": "1", "m1.small": "2"}


class _ResizeRun(_Run):
    """A stack of servers whose flavor is the variable `flavor`."""

    def __init__(self, work: Path, sim: _Sim, options: ChaosOptions, report: ChaosReport):
        super().__init__(work, sim, options, report)
        self.spec.write_text(
            "stack: resizes\nvariables:\n  flavor: m1.tiny\nservers:\n  node:\n"
            f"    count: {options.servers}\n"
            "    image: cirros-0.6.2-x86_64-disk\n    flavor: ${var.flavor}\n",
            encoding="utf-8",
        )
        self.flavor = "m1.tiny"

    def command(self, verb: str) -> list[str]:
        if verb == "plan":
            files = ["-f", str(self.spec), "--state", str(self.state)]
            return [sys.executable, "-m", "stackplan", "plan", *files, *self.var]
        return [*super().command(verb), *self.var]

    @property
    def var(self) -> list[str]:
        return ["--var", f"flavor={self.flavor}"]

    def check_flavors(self, when: str) -> None:
        """Every server of the stack ACTIVE, on the spec's flavor; the stuck ones noted."""
        servers = [s for s in self.cloud.compute.list_servers() if s.status != "DELETED"]
        wrong = [
            f"{s.name}: {s.status} on flavor {s.flavor_id}"
            for s in servers
            if s.status != "ACTIVE" or s.flavor_id != FLAVORS[self.flavor]
        ]
        self.report.missing += self.options.servers - len(servers)
        if wrong:
            self.report.stuck += len(wrong)
            self.report.problems.append(f"{when}: want {self.flavor}; {wrong}")


def run_resize_chaos(
    options: ChaosOptions, work: Path | None = None, say=lambda text: None
) -> ChaosReport:
    report = ChaosReport()
    rng = random.Random(options.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stackplan-resize-chaos-") as tmp:
        base = Path(work or tmp)
        base.mkdir(parents=True, exist_ok=True)
        sim = _Sim(base / "sim.sqlite", options)
        try:
            run = _ResizeRun(base, sim, options, report)
            code, text = run.finish("apply")
            if code != 0:
                raise RuntimeError(f"the first apply failed:\n{text}")
            # A resize goes through two transitions (resize, confirm) of build_seconds each.
            window = 2.5 * options.build_seconds + 1.0
            while report.kills < options.kills:
                if time.monotonic() - started > options.max_seconds:
                    report.problems.append(f"stopped after {options.max_seconds:.0f}s")
                    break
                _round(run, rng, window, report)
                say(f"round {report.rounds}: {report.figures()}")
        finally:
            sim.stop()
    report.seconds = time.monotonic() - started
    return report


def _round(run: _ResizeRun, rng: random.Random, window: float, report: ChaosReport) -> None:
    report.rounds += 1
    tag = f"round {report.rounds}"
    old = run.flavor
    run.flavor = "m1.small" if old == "m1.tiny" else "m1.tiny"
    if not run.kill_at("apply", rng.uniform(0.3, window), after_creating=False):
        report.missed += 1
    else:
        report.kills += 1
        run.state_readable(f"{tag}, after kill {report.kills}")
        if rng.random() < 0.3:
            run.flavor = old  # the spec went back: what was started is undone
    code, text = run.finish("apply")
    if code != 0:
        report.failed_runs += 1
        report.problems.append(f"{tag}: apply after the kill exited {code}:\n{text[-2000:]}")
    run.check_flavors(tag)
    code, text = run.finish("plan")
    if "No changes" not in text:
        report.failed_runs += 1
        report.problems.append(f"{tag}: the plan after the apply is not empty:\n{text[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--build-seconds", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    options = ChaosOptions(
        kills=args.kills, servers=args.servers, build_seconds=args.build_seconds, seed=seed
    )
    print(f"resize chaos: {options}", flush=True)
    report = run_resize_chaos(options, say=lambda text: print(text, flush=True))
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    ok = report.kills > 0 and not (report.stuck or report.missing or report.failed_runs)
    print(("OK " if ok else "FAILED ") + report.figures())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
