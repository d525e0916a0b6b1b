"""The spec schema of the registered kinds, as `schemas/stackplan.schema.json` publishes it.

`make schemas` writes the file (`python -m stackplan.workflow.schemas`); a test checks that
the published file is this text, so the file and the kinds cannot drift apart.
"""

from __future__ import annotations

import sys

from stackplan.kinds.registry import KINDS
from stackplan.spec.schema import render, spec_schema


def spec_schema_text() -> str:
    return render(spec_schema(KINDS.values()))


if __name__ == "__main__":
    sys.stdout.write(spec_schema_text())
