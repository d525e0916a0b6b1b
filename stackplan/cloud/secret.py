"""`Secret`: a password or token that prints as `***` wherever it ends up.

Holds no logic beyond hiding: code that needs the value calls `reveal()` on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MASK = "***"


@dataclass(frozen=True, slots=True)
class Secret:
    """A sensitive string; `str`, `repr` and f-strings show `***`, never the value."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """The real value, for the one place that must send it (a header, an auth body)."""
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # pickling would write the value to disk: refuse
        raise TypeError("a Secret cannot be pickled")
