"""What a client may cost, counted in this process: requests per minute per key (a token, or an
address), seconds of CPU per minute per key, and the memory of the problems kept.

Each gunicorn worker counts on its own, so with N workers a client can get up to N times the limit
through; the limit is there to stop a runaway script, not to meter anyone exactly. Attempts at an
assignment are limited in the database, which every worker shares.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Generic, TypeVar

WINDOW_SECONDS = 60.0
MAX_KEYS = 100_000
K = TypeVar("K")
V = TypeVar("V")


class RateLimiter:
    """A sliding one-minute window of request times per key."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, int]:
        """Whether one more request of ``key`` is allowed now, and else the seconds to wait."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= MAX_KEYS:
                    self._forget(now)
                hits = self._hits[key] = deque()
            while hits and now - hits[0] >= WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return False, max(1, int(WINDOW_SECONDS - (now - hits[0])) + 1)
            hits.append(now)
            return True, 0

    def _forget(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or now - h[-1] >= WINDOW_SECONDS]:
            del self._hits[key]
        if len(self._hits) >= MAX_KEYS:
            self._hits.clear()


class CostBudget:
    """Seconds of CPU per key and minute, as a token bucket: each key earns ``per_minute``
    seconds a minute and may hold at most ``burst`` of them (a fifth of a minute's unless
    given), so even a fresh key holds a worker for a couple of seconds at most.

    A request is let in while its key's balance is positive and charged afterwards with what it
    measured, so one request may overdraw the balance; the next ones wait until it is paid back.
    Counting requests alone let a client that sent the costliest ones (a maximum-size spec no
    draw satisfies) take a worker's whole CPU within the request limit.
    """

    def __init__(
        self,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        burst: float | None = None,
    ) -> None:
        self.capacity = float(per_minute / 5 if burst is None else burst)
        self.rate = per_minute / WINDOW_SECONDS  # seconds earned back per second
        self._clock = clock
        self._balance: dict[str, tuple[float, float]] = {}  # key: (balance, when)
        self._lock = threading.Lock()

    def _now(self, key: str, now: float) -> float:
        balance, when = self._balance.get(key, (self.capacity, now))
        return min(self.capacity, balance + (now - when) * self.rate)

    def allow(self, key: str) -> tuple[bool, int]:
        """Whether ``key`` may start one more costly request now, and else the seconds to wait."""
        now = self._clock()
        with self._lock:
            balance = self._now(key, now)
        if balance > 0:
            return True, 0
        return False, max(1, math.ceil(-balance / self.rate) + 1)

    def charge(self, key: str, seconds: float) -> None:
        """Take ``seconds`` (measured) from ``key``'s balance."""
        now = self._clock()
        with self._lock:
            if key not in self._balance and len(self._balance) >= MAX_KEYS:
                self._forget(now)
            self._balance[key] = (self._now(key, now) - max(0.0, seconds), now)

    def balance(self, key: str) -> float:
        with self._lock:
            return self._now(key, self._clock())

    def _forget(self, now: float) -> None:
        full = [k for k in self._balance if self._now(k, now) >= self.capacity]
        for key in full:
            del self._balance[key]
        if len(self._balance) >= MAX_KEYS:
            self._balance.clear()


class BoundedCache(Generic[K, V]):
    """Least recently used values, bounded by their total size (as the caller weighs them), not
    by their number. A value heavier than the whole bound is not kept."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.size = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V, size: int) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= old[1]
            if size > self.max_size:
                return
            self._items[key] = (value, size)
            self.size += size
            self._shrink()

    def resize(self, max_size: int) -> None:
        with self._lock:
            self.max_size = max_size
            self._shrink()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0

    def _shrink(self) -> None:
        while self.size > self.max_size:
            _, (_, size) = self._items.popitem(last=False)
            self.size -= size
