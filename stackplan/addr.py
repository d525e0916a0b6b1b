"""Resource addresses: `KIND.NAME` or `KIND.NAME[INDEX]`, parsed and printed.

A leaf module: imports nothing from stackplan but errors. It checks the syntax only; which
kinds exist is the registry's to say (`kinds.registry.parse_address`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stackplan.errors import StackplanError

_ADDRESS = re.compile(r"^(?P<kind>[a-z_]+)\.(?P<name>[A-Za-z0-9_-]+)(?:\[(?P<index>\d+)\])?$")


@dataclass(frozen=True, slots=True, order=True)
class Address:
    """Where a resource lives in a spec and a state: kind, name and, with `count`, index."""

    kind: str
    name: str
    index: int | None = None

    def __str__(self) -> str:
        base = f"{self.kind}.{self.name}"
        return base if self.index is None else f"{base}[{self.index}]"

    @property
    def base(self) -> Address:
        """The address without its index: what `count` expands from."""
        return Address(self.kind, self.name)

    @classmethod
    def parse(cls, text: str, example: str = "KIND.NAME or KIND.NAME[INDEX]") -> Address:
        match = _ADDRESS.match(text.strip())
        if not match:
            raise StackplanError(
                f"{text!r} is not a resource address", hint=f"addresses look like {example}"
            )
        index = match["index"]
        return cls(match["kind"], match["name"], int(index) if index is not None else None)

    def sort_key(self) -> tuple[str, str, int]:
        return (self.kind, self.name, -1 if self.index is None else self.index)
