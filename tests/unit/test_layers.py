"""Imports point down the pipeline (STYLE.md), checked on the source with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "stackplan"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(folder: str) -> list[Path]:
    root = PACKAGE / folder
    return sorted(root.rglob("*.py")) if root.is_dir() else [PACKAGE / f"{folder}.py"]


# room -> stackplan modules it must never import (directly or by any submodule)
FORBIDDEN = {
    "errors": ("stackplan.",),
    "addr": ("stackplan.spec", "stackplan.cloud", "stackplan.plan", "stackplan.state"),
    "spec": (
        "stackplan.cloud",
        "stackplan.plan",
        "stackplan.state",
        "stackplan.apply",
        "stackplan.runs",
        "stackplan.workflow",
        "stackplan.cli",
        "stackplan.sim",
    ),
    "state": (
        "stackplan.cloud",
        "stackplan.plan",
        "stackplan.apply",
        "stackplan.spec",
        "stackplan.runs",
        "stackplan.workflow",
        "stackplan.cli",
        "stackplan.sim",
    ),
    "cloud": (
        "stackplan.plan",
        "stackplan.state",
        "stackplan.apply",
        "stackplan.runs",
        "stackplan.workflow",
        "stackplan.cli",
        "stackplan.sim",
    ),
    "plan": (
        "stackplan.cloud",
        "stackplan.apply",
        "stackplan.runs",
        "stackplan.workflow",
        "stackplan.cli",
        "stackplan.sim",
    ),
    "apply": ("stackplan.workflow", "stackplan.cli", "stackplan.sim"),
    # Pure, beside the renderers: a policy reads the plan value and the kinds' facts only.
    "policy": (
        "stackplan.cloud",
        "stackplan.state",
        "stackplan.apply",
        "stackplan.plan.render",
        "stackplan.runs",
        "stackplan.workflow",
        "stackplan.cli",
        "stackplan.sim",
    ),
    "kinds": (
        "stackplan.apply",
        "stackplan.runs",
        "stackplan.workflow",
        "stackplan.cli",
        "stackplan.sim",
    ),
}


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_imports_point_down(room: str) -> None:
    for path in _modules(room):
        for name in _imports(path):
            for banned in FORBIDDEN[room]:
                if room == "errors" and name == "stackplan.errors":
                    continue
                assert not name.startswith(banned), f"{path.relative_to(PACKAGE)} imports {name}"


def test_the_simulator_imports_nothing_from_stackplan() -> None:
    # It is the other side of the wire: shared code would let one bug pass on both sides.
    for path in _modules("sim"):
        for name in _imports(path):
            assert (
                name == "stackplan.sim"
                or not name.startswith("stackplan")
                or name.startswith("stackplan.sim.")
            ), f"{path.relative_to(PACKAGE)} imports {name}"


def test_only_the_http_module_imports_requests() -> None:
    users = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(n == "requests" or n.startswith("requests.") for n in _imports(path))
    }
    assert users == {"cloud/http.py"}


def test_the_cli_imports_no_heavy_module_until_a_command_needs_it() -> None:
    # `stackplan --help` must start fast (issue 6: under 0.5 s): no HTTP, schema or graph
    # library is loaded just to build the command line.
    import subprocess
    import sys

    code = (
        "import sys, stackplan.cli.main; "
        "print(sorted(m for m in ('requests', 'jsonschema', 'networkx', 'yaml') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


GENERIC_ROOMS = (
    "spec",
    "resolve",
    "refresh",
    "outputs",
    "plan",
    "apply",
    "state",
    "workflow",
    "cli",
)


@pytest.mark.parametrize("room", GENERIC_ROOMS)
def test_generic_rooms_reach_kinds_only_through_the_interface_and_the_registry(room: str) -> None:
    # A kind's own module is its business: the generic rooms ask the registry.
    for path in _modules(room):
        for name in _imports(path):
            if name.startswith("stackplan.kinds."):
                assert name in ("stackplan.kinds.base", "stackplan.kinds.registry"), (
                    f"{path.relative_to(PACKAGE)} imports {name}"
                )
