"""Rate limits: a token bucket per API key and per client address, kept in the worker's memory.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; a request takes one and is
refused (429 with ``Retry-After``) when none is left. Buckets live per worker process, so with N workers a
client may reach N times the limit; a store shared by replicas (Redis) is the scale-out step (issue 17).
Idle buckets are dropped so that a flood of client addresses cannot grow memory without bound.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

MAX_BUCKETS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by name. ``take(name, rate, burst)`` -> 0.0 when allowed, else seconds to wait."""

    def __init__(self, clock=time.monotonic, max_buckets: int = MAX_BUCKETS) -> None:
        self._clock = clock
        self._max = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, name: str, rate: float, burst: float) -> float:
        """Take a token from ``name``'s bucket; 0 when granted, else the seconds until one is there.
        ``rate`` <= 0 means unlimited."""
        if rate <= 0:
            return 0.0
        burst = max(burst, 1.0)
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None:
                bucket = self._buckets[name] = _Bucket(burst, now)
                if len(self._buckets) > self._max:
                    self._buckets.popitem(last=False)  # the least recently used
            else:
                self._buckets.move_to_end(name)
                bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate


def retry_after_header(wait_s: float) -> str:
    """``Retry-After`` is whole seconds, at least 1."""
    return str(max(1, math.ceil(wait_s)))
