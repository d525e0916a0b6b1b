"""`plan --policy`: the corpus in tests/data/policies planned through the CLI against the
embedded cloud. Each rule type passes one plan and fails another (exit 1, its message and
offenders listed first in every format, the JSON section valid against its schema); a bad
policy file is refused at its file:line before the cloud is asked anything."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.integration.cli.conftest import ROOT, Stack

CORPUS = ROOT / "tests" / "data" / "policies"
PLAN_SCHEMA = json.loads((ROOT / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))

# What each violating plan is told: the rule's message (or the default one) and offenders.
VIOLATIONS = {
    "allow_flavors": (
        "CI builds only small servers: server.web[0] (flavor m1.medium), "
        "server.web[1] (flavor m1.medium)"
    ),
    "allow_images": "only images cirros-* are allowed: server.db (image Fedora 39)",
    "max_delta": (
        "a pull request grows the stack by two small servers at most: plan (vcpus +3, at most +2)"
    ),
    "require_metadata": "metadata owner, cost_center is required: server.web (no cost_center)",
    "deny_ingress_from": (
        "only the web ports are open to the world: security_group.web (tcp port 22 from 0.0.0.0/0)"
    ),
}


def _plan(stack: Stack, case: str, spec: str, *args: str, rc: int) -> str:
    policy = CORPUS / case / "policy.yaml"
    result = stack.cli(
        "plan", "-f", str(CORPUS / case / spec), "--policy", str(policy), *args, rc=rc
    )
    return result.stdout if rc == 0 or "--format" in args else result.output


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_each_rule_passes_one_plan_and_fails_another(stack: Stack, case: str) -> None:
    passed = _plan(stack, case, "pass.yaml", rc=0)
    assert passed.startswith(f"Policy {CORPUS / case / 'policy.yaml'}: passed.")

    failed = stack.cli(
        "plan",
        "-f",
        str(CORPUS / case / "fail.yaml"),
        "--policy",
        str(CORPUS / case / "policy.yaml"),
        rc=1,
    )
    first = failed.stdout.splitlines()
    assert first[0].endswith("1 violation (the plan fails; apply refuses it):"), failed
    assert first[1] == f"  - {VIOLATIONS[case]}"
    assert "the plan breaks 1 rule of the policy" in failed.stderr
    assert VIOLATIONS[case] in failed.stderr
    assert "Traceback" not in failed.output

    doc = json.loads(_plan(stack, case, "fail.yaml", "--format", "json", rc=1))
    jsonschema.validate(doc, PLAN_SCHEMA)
    report = doc["policy"]
    assert report["passed"] is False and report["digest"].startswith("sha256:")
    (violation,) = report["violations"]
    assert violation["rule"] == case
    assert violation["where"].startswith(f"{CORPUS / case / 'policy.yaml'}:2:")
    message, _, offenders = VIOLATIONS[case].partition(": ")
    assert violation["message"] == message
    assert ", ".join(f"{o['address']} ({o['detail']})" for o in violation["offenders"]) == offenders

    markdown = _plan(stack, case, "fail.yaml", "--format", "markdown", rc=1)
    title, _, _, _, note = markdown.splitlines()[:5]
    assert title.endswith(", policy: 1 violation")
    assert note.startswith("> **Policy ") and VIOLATIONS[case] in note

    passing = json.loads(_plan(stack, case, "pass.yaml", "--format", "json", rc=0))
    jsonschema.validate(passing, PLAN_SCHEMA)
    assert passing["policy"]["passed"] is True and passing["policy"]["violations"] == []


def test_deny_guards_what_is_already_there_and_a_saved_plan_is_checked_again(
    stack: Stack,
) -> None:
    policy = str(CORPUS / "deny" / "policy.yaml")
    stack.cli(
        "apply", "-f", str(CORPUS / "deny" / "base.yaml"), "--auto-approve", "--policy", policy
    )
    ids = {s["name"]: s["id"] for s in stack.cloud.servers()}

    resize = stack.cli("plan", "-f", str(CORPUS / "deny" / "pass.yaml"), "--policy", policy)
    assert resize.stdout.startswith(f"Policy {policy}: passed.")

    # Without the policy the plan is made and saved; applying it with the policy refuses it.
    spec = str(CORPUS / "deny" / "fail.yaml")
    stack.cli("plan", "-f", spec, "--out", "unchecked.plan")
    refused = stack.cli("apply", "unchecked.plan", "-f", spec, "--policy", policy, rc=1)
    assert "the database is never destroyed from CI: server.db (delete)" in refused.stderr
    assert "create of kind floating_ip is denied: floating_ip.web (create)" in refused.stderr
    assert {s["name"]: s["id"] for s in stack.cloud.servers()} == ids
    assert stack.cloud.neutron("floatingips") == []

    # A plan that breaks the policy is not saved: apply could only refuse it.
    stack.cli("plan", "-f", spec, "--policy", policy, "--out", "bad.plan", rc=1)
    assert not (stack.dir / "bad.plan").exists()


BAD = {
    "unknown_rule.yaml": (
        "unknown_rule.yaml:2:5: rules[0]: no rule type: write one of deny, allow_flavors, "
        "allow_images, max_delta, require_metadata, deny_ingress_from "
        "(did you mean 'allow_flavors'?)"
    ),
    "bad_glob.yaml": "bad_glob.yaml:3:14: rules[0].address: 'server.db[0': a '[' is not closed",
    "bad_action.yaml": "bad_action.yaml:3:12: rules[1].deny[0]: no action 'destroy'",
    "bad_measure.yaml": (
        "bad_measure.yaml:2:17: rules[0].max_delta.cpus: no measure 'cpus' (did you mean 'vcpus'?)"
    ),
    "not_rules.yaml": "not_rules.yaml:1:1: a policy is a mapping with `rules:`",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_policy_is_refused_at_its_line_before_the_cloud_is_asked(
    stack: Stack, name: str
) -> None:
    stack.cloud.reset_stats()
    spec = str(CORPUS / "max_delta" / "pass.yaml")
    result = stack.cli("plan", "-f", spec, "--policy", str(CORPUS / "bad" / name), rc=1)
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {CORPUS / 'bad'}/{BAD[name]}"), result
    assert result.stderr.rstrip().endswith("1 problem in the policy")
    assert "Traceback" not in result.output
    assert stack.cloud.stats()["total"] == 0


def test_a_missing_policy_file_is_one_clear_error(stack: Stack, tmp_path: Path) -> None:
    spec = str(CORPUS / "max_delta" / "pass.yaml")
    result = stack.cli("plan", "-f", spec, "--policy", str(tmp_path / "nope.yaml"), rc=1)
    assert "nope.yaml" in result.stderr and "Traceback" not in result.output
