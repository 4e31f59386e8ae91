"""A per-worker cache of finished recommendation answers (the JSON body), so that a feed shown again is not
computed again.

The key holds everything an answer depends on: the model version, the shopper, the request parameters,
the generation of the deleted-items set and the shopper's recent actions as read from the store for this
very request. A new event (through any worker), a model swap or a deletion therefore changes the key, and
the next request computes a fresh answer; nothing has to be invalidated by hand (except on a shopper's
erasure, which drops their entries with :meth:`AnswerCache.discard`, see ``privacy/erasure.py``). Entries
also expire after ``max_age`` seconds and the least recently used go first beyond ``size``. Degraded answers
(deadline or error: the static list) are never stored.

Written here rather than taken from ``cachetools``: it is twenty lines, and the service would otherwise
gain a dependency for one ordered dict with a lock.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedAnswer:
    """A serialised response and what the metrics need to count it again when it is served."""

    body: bytes
    sources: tuple[str, ...]
    items: tuple[str, ...] = ()  # the ids shown, in order (logged with a decision)


class AnswerCache:
    """Thread-safe LRU with a maximum age; ``size == 0`` turns it off (every ``get`` misses)."""

    def __init__(self, size: int, max_age: float, *, clock=time.monotonic) -> None:
        self.size = size
        self.max_age = max_age
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, CachedAnswer]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, *, count_miss: bool = True) -> CachedAnswer | None:
        """The answer under ``key``, or None; ``count_miss=False`` for a look that others will repeat."""
        if not self.size:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._clock() - entry[0] > self.max_age:
                if entry is not None:
                    del self._entries[key]
                self.misses += count_miss
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, answer: CachedAnswer) -> None:
        if not self.size:
            return
        with self._lock:
            self._entries[key] = (self._clock(), answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __contains__(self, key: Hashable) -> bool:
        """Whether ``key`` is stored (without counting a hit or a miss, or refreshing its place)."""
        with self._lock:
            return key in self._entries

    def recent_keys(self, limit: int) -> list[Hashable]:
        """Up to ``limit`` keys, the most recently used first."""
        with self._lock:
            return list(itertools.islice(reversed(self._entries), max(limit, 0)))

    def discard(self, matches: Callable[[Hashable], bool]) -> int:
        """Drop every entry whose key ``matches`` (a shopper's answers, when they are erased); how many."""
        with self._lock:
            gone = [key for key in self._entries if matches(key)]
            for key in gone:
                del self._entries[key]
        return len(gone)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
