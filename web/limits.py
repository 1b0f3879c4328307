"""Requests per minute per key (a token, or an address), counted in this process.

Each gunicorn worker counts on its own, so with N workers a client can get up to N times the limit
through; the limit is there to stop a runaway script, not to meter anyone exactly. Attempts at an
assignment are limited in the database, which every worker shares.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_KEYS = 100_000


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
