"""The published JSON Schemas (state file, JSON plan, spec) and loading them.

A leaf module. `schemas/` at the top of the repository is where they are written and
read by CI tools; a built package carries a copy inside itself (`setup.py` puts it
there), so an installed stackplan finds them without the source tree.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

PACKAGED = Path(__file__).resolve().parent / "schemas"  # in a wheel or an install
SOURCE = Path(__file__).resolve().parent.parent / "schemas"  # in a checkout


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema `<name>.schema.json`, parsed once per process."""
    for folder in (PACKAGED, SOURCE):
        path = folder / f"{name}.schema.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"no schema {name!r} in {PACKAGED} or {SOURCE}")
