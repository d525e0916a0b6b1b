"""Rebuilds `_common/` (a real state and plan file) and the cases derived from them.

    python tests/data/bad_inputs/regenerate.py

Only needed when the state or plan file format changes. It applies `_common/stackplan.yaml`
to a private embedded cloud, deletes one server behind its back and saves the plan that
re-creates it; the cases that need a state or plan file are variations of these two.
Hand-written cases (a `cmd`, an `expect.txt`, files) are left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from stackplan.cloud import connect, load_config  # noqa: E402
from stackplan.sim.app import SimOptions, start  # noqa: E402
from stackplan.state.file import dump_state, parse_state  # noqa: E402
from tests.conftest import env_for  # noqa: E402

COMMON = HERE / "_common"
FOREIGN_LINEAGE = "00000000-0000-4000-8000-000000000bad"


def _stackplan(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "stackplan", *args],
        cwd=cwd,
        check=True,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
    )


def make_common() -> None:
    sim = start(
        SimOptions(
            port=0,
            build_seconds=0,
            quota_instances=-1,
            quota_cores=-1,
            quota_ram=-1,
            shared_network=False,
        )
    )
    try:
        env = env_for(sim.url)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for name in ("stackplan.yaml",):
                shutil.copy(COMMON / name, work / name)
            _stackplan(["apply", "--auto-approve", "--state", "state.json"], work, env)
            cloud = connect(load_config(env=env))
            state = parse_state((work / "state.json").read_text(), "state.json")
            cloud.compute.delete_server(state.records[0].id)
            cloud.close()
            _stackplan(["plan", "--state", "state.json", "--out", "plan.bin"], work, env)
            shutil.copy(work / "state.json", COMMON / "state.json")
            shutil.copy(work / "plan.bin", COMMON / "plan.bin")
    finally:
        sim.stop()


def write_case(name: str, files: dict[str, str | None]) -> None:
    case = HERE / name
    case.mkdir(exist_ok=True)
    for file, text in files.items():
        if text is not None:
            (case / file).write_text(text, encoding="utf-8")


def derived_cases() -> None:
    state_text = (COMMON / "state.json").read_text(encoding="utf-8")
    state = parse_state(state_text, "state.json")
    plan_text = (COMMON / "plan.bin").read_text(encoding="utf-8")
    plan_doc = json.loads(plan_text)

    write_case("state_truncated", {"state.json": state_text[: len(state_text) // 2]})
    doc = json.loads(state_text)
    doc["format_version"] = 99
    write_case("state_format_version_newer", {"state.json": json.dumps(doc, indent=2)})
    doc["format_version"] = "1"
    write_case("state_format_version_string", {"state.json": json.dumps(doc, indent=2)})
    doc = json.loads(state_text)
    doc["resources"] = doc["resources"] + doc["resources"][:1]
    write_case("state_address_twice", {"state.json": json.dumps(doc, indent=2)})
    doc = json.loads(state_text)
    doc["resources"][0]["address"] = "server.web[0"
    write_case("state_bad_address", {"state.json": json.dumps(doc, indent=2)})
    doc = json.loads(state_text)
    del doc["lineage"]
    write_case("state_no_lineage", {"state.json": json.dumps(doc, indent=2)})

    foreign = dump_state(replace(state, lineage=FOREIGN_LINEAGE))
    write_case("state_push_foreign_lineage", {"other.json": foreign})
    # What the state was one write ago: the last record not yet there.
    older = replace(state, serial=state.serial - 1).without(state.records[-1].address)
    write_case("state_push_older_serial", {"old.json": dump_state(older)})
    write_case("plan_foreign_lineage_state", {"state.json": foreign})
    write_case("plan_stale_serial", {"state.json": dump_state(state.next_serial())})

    tampered = json.loads(plan_text)
    tampered["plan"]["changes"][0]["after"]["flavor_id"] = "5"
    write_case("plan_tampered", {"plan.bin": json.dumps(tampered, indent=2)})
    write_case("plan_truncated", {"plan.bin": plan_text[: len(plan_text) // 3]})
    newer = dict(plan_doc, format_version=99)
    write_case("plan_format_version_newer", {"plan.bin": json.dumps(newer, indent=2)})


if __name__ == "__main__":
    make_common()
    derived_cases()
