"""A bounded map whose entries expire: the jti replay cache and the report store.

Input: keys, values and an expiry time each (seconds on a monotonic clock, injectable for
tests). Output: lookups that never return an expired entry, and a size that never passes
`capacity`. When the map is full of live entries, `add` either evicts the entry closest to
expiry (`evict=True`: losing a report costs a dead link) or refuses (`evict=False`: losing a
jti would let a token be replayed, so the caller must refuse the request instead).

Thread-safe (one lock): the application adds from the event loop and worker threads.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringMap(Generic[K, V]):
    def __init__(
        self, capacity: int, evict: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.evict = evict
        self.clock = clock
        self._items: dict[K, tuple[float, V]] = {}
        # (expiry, insertion number, key); stale heap entries are skipped when popped
        self._heap: list[tuple[float, int, K]] = []
        self._count = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._purge(self.clock())
            return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._items[key]
                return None
            return found[1]

    def add(self, key: K, value: V, expires: float) -> bool:
        """Store `value` under `key` until `expires` unless a live entry holds the key already.
        False when the key is taken, or the map is full and may not evict."""
        with self._lock:
            now = self.clock()
            current = self._items.get(key)
            if current is not None and current[0] > now:
                return False
            if len(self._items) >= self.capacity:
                self._purge(now)
            if len(self._items) >= self.capacity:
                if not self.evict:
                    return False
                self._evict_one()
            self._items[key] = (expires, value)
            self._count += 1
            heapq.heappush(self._heap, (expires, self._count, key))
            if len(self._heap) > 4 * self.capacity:
                self._rebuild()
            return True

    def _purge(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            expires, _, key = heapq.heappop(self._heap)
            found = self._items.get(key)
            if found is not None and found[0] == expires:
                del self._items[key]

    def _evict_one(self) -> None:
        while self._heap:
            expires, _, key = heapq.heappop(self._heap)
            found = self._items.get(key)
            if found is not None and found[0] == expires:
                del self._items[key]
                return

    def _rebuild(self) -> None:
        self._heap = [(exp, i, key) for i, (key, (exp, _)) in enumerate(self._items.items())]
        heapq.heapify(self._heap)
