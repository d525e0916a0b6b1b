"""The one did-you-mean: near names for a word nobody knows, as every message phrases them.

A leaf module (difflib only). Abbreviations count as near (`desc` for `description`), and
a name that differs only in case is found even when difflib scores it low.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def near(word: str, candidates: Iterable[str], n: int = 1) -> list[str]:
    """Up to `n` candidates close to `word`, closest first."""
    pool = list(dict.fromkeys(candidates))
    close = difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[c] for c in difflib.get_close_matches(word.lower(), list(lowered), n=n)]
    if not close and len(word) >= 3:
        close = [c for c in pool if c.startswith(word)][:n]
    return close


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, or nothing: to append to a message."""
    close = near(word, candidates)
    return f" (did you mean '{close[0]}'?)" if close else ""


def names_hint(word: str, names: Iterable[str], what: str = "the cloud") -> str:
    """A hint line: `did you mean 'a' or 'b'?`, else what there is (`the cloud has: ...`)."""
    pool = sorted(dict.fromkeys(names))
    close = near(word, pool, n=3)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(repr(n) for n in pool[:10])
    return f"{what} has: {shown}" if pool else f"{what} lists none"
