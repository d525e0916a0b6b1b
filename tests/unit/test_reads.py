"""`Reads`: each listing of a run fetched once, by however many kinds and threads ask,
and `soon` starting one in the background for a later `get`."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from stackplan.errors import CloudError
from stackplan.kinds.base import Reads


class _Listing:
    """A slow fetch that counts its calls."""

    def __init__(self, seconds: float = 0.05, fails: bool = False):
        self.calls = 0
        self.seconds = seconds
        self.fails = fails
        self._lock = threading.Lock()

    def __call__(self) -> tuple[str, ...]:
        with self._lock:
            self.calls += 1
        time.sleep(self.seconds)
        if self.fails:
            raise CloudError("the cloud said no")
        return ("a", "b")


def test_threads_asking_for_one_listing_at_once_share_one_fetch() -> None:
    reads, listing = Reads(None), _Listing()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: reads.get("servers", listing), range(8)))
    assert answers == [("a", "b")] * 8
    assert listing.calls == 1


def test_different_listings_are_fetched_side_by_side() -> None:
    reads = Reads(None)
    together = threading.Barrier(4, timeout=10)  # passes only if all four are in at once

    def fetch(i: int) -> int:
        together.wait()
        return i

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda i: reads.get(f"kind{i}", lambda: fetch(i)), range(4)))
    assert got == [0, 1, 2, 3]


def test_soon_starts_a_fetch_that_a_later_get_takes() -> None:
    reads, listing = Reads(None), _Listing(0.2)
    reads.soon("ports", listing)
    reads.soon("ports", listing)  # already coming
    time.sleep(0.1)
    assert reads.get("ports", listing) == ("a", "b")
    assert reads.get("ports", listing) == ("a", "b")
    assert listing.calls == 1


def test_a_background_fetch_that_failed_fails_the_get_that_takes_it() -> None:
    reads, listing = Reads(None), _Listing(fails=True)
    reads.soon("ports", listing)
    with pytest.raises(CloudError, match="said no"):
        reads.get("ports", listing)


def test_known_listings_are_never_fetched() -> None:
    reads, listing = Reads(None, {"servers": ("x",)}), _Listing()
    reads.soon("servers", listing)
    assert reads.get("servers", listing) == ("x",)
    assert listing.calls == 0
