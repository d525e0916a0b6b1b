"""Helpers for spec tests: write a spec (and its files) to a temporary folder and load it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from stackplan.spec.model import Desired
from stackplan.workflow import SpecInput
from stackplan.workflow import load as load_desired

VALID = Path(__file__).resolve().parents[2] / "data" / "specs" / "valid"
PUBLIC_KEY = (VALID / "keys" / "deploy.pub").read_text(encoding="utf-8").strip()

LoadSpec = Callable[..., Desired]


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write `text` (dedented) to `tmp_path / name`, creating folders; return the path."""

    def write_file(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write_file


@pytest.fixture
def load(
    write: Callable[[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LoadSpec:
    """Load `text` as `spec.yaml` (from its folder, as a user would) with the given --var
    texts, var-files and environment."""
    monkeypatch.chdir(tmp_path)

    def load_spec(
        text: str,
        *,
        vars: tuple[str, ...] = (),
        var_files: tuple[Path, ...] = (),
        env: Mapping[str, str] | None = None,
    ) -> Desired:
        write("spec.yaml", text)
        return load_desired(SpecInput(Path("spec.yaml"), vars, var_files, env or {}))

    return load_spec
