"""Python's cyclic garbage collector, held off while a big spec or plan is built.

Each full collection walks every live object. Loading a 10,000-server spec makes about a
million of them (YAML nodes, values, positions) and almost none in cycles, so collections
triggered by the allocations alone cost a third of `validate`'s time. Reference counting
still frees what is dropped; cycles made meanwhile are collected once the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block (nested blocks are fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
