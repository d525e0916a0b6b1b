"""The cloud package's public names exist, and `requests` stays inside cloud/http.py."""

from __future__ import annotations

from pathlib import Path

import stackplan
import stackplan.cloud


def test_every_exported_name_exists():
    for name in stackplan.cloud.__all__:
        assert hasattr(stackplan.cloud, name), name


def test_only_the_http_module_imports_requests():
    root = Path(stackplan.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "http.py"
        and "sim" not in path.parts
        and any(
            line.strip().startswith(("import requests", "from requests"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []
