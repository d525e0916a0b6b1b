"""Where the JSON Schemas live (`schemas/` at the top of the repository) and loading them.

A leaf module. The schemas are public files (CI tools validate plans against them), so
they stay at the top level rather than inside the package.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema `schemas/<name>.schema.json`, parsed once per process."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
