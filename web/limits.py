"""What a client may cost: requests per minute per key (a token, or an address), seconds of CPU
per minute per key, and the memory of the problems kept.

Requests per minute are counted in Redis when ``HANDCALC_REDIS_URL`` is set (``SharedRateLimiter``:
the ``limits`` library's moving window on its Redis storage), so every gunicorn worker of every web
instance enforces one limit; without it, each process counts on its own (``RateLimiter``), so with
N workers a client can get up to N times the limit through: the limit is there to stop a runaway
script, not to meter anyone exactly. CPU seconds and the problem cache are always per process.
Attempts at an assignment are limited in the database, which every worker shares.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from limits.storage import RedisStorage

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


class Limiter(Protocol):
    """What ``access.limit`` asks of a limiter: may ``key`` make one more request now, and else how
    many seconds until it may."""

    def allow(self, key: str) -> tuple[bool, int]: ...


#: how long a request waits for Redis to answer (it answers in well under a millisecond)
REDIS_TIMEOUT_SECONDS = 0.5
#: after Redis failed to answer, requests are counted per process this long before it is asked again
RETRY_SECONDS = 5.0
#: the schemes of a Redis URL the ``limits`` library's Redis storage takes
REDIS_SCHEMES = ("redis", "rediss", "redis+unix")
log = logging.getLogger(__name__)


def redis_address(url: str) -> str:
    """Where a Redis URL points, for messages: scheme, host and port (never its password)."""
    parts = urlsplit(url)
    if parts.scheme == "redis+unix":
        return f"redis+unix://{parts.path}"
    return f"{parts.scheme}://{parts.hostname or 'localhost'}:{parts.port or 6379}"


class SharedCounts:
    """The Redis every web process counts requests in (one connection pool per app), and whether it
    answered lately.

    When Redis does not answer, limits are counted per process (as without Redis) for
    ``RETRY_SECONDS``, then Redis is asked again: a Redis outage lets at most N workers times the
    limit through, as one machine always did, and never turns grading away. One warning is logged
    when it stops answering and one line when it answers again."""

    def __init__(self, url: str, clock: Callable[[], float] = time.monotonic) -> None:
        from limits.storage import RedisStorage

        self.address = redis_address(url)
        self.storage: RedisStorage = RedisStorage(
            url,
            wrap_exceptions=True,  # every Redis error as limits' StorageError
            key_prefix="handcalc",
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._clock = clock
        self._down_until: float | None = None  # None: answering

    def usable(self) -> bool:
        """Whether to ask Redis now: it answered last time, or it is time to try it again (then
        this request tries, and the others go on counting per process until it has its answer:
        a Redis that does not answer at all costs one request the timeout, not every one)."""
        if self._down_until is None:
            return True
        now = self._clock()
        if now < self._down_until:
            return False
        self._down_until = now + RETRY_SECONDS
        return True

    def failed(self, error: Exception) -> None:
        first = self._down_until is None
        self._down_until = self._clock() + RETRY_SECONDS
        if first:
            cause = error.__cause__ or error
            log.warning(
                "rate limits: Redis at %s does not answer (%s: %s); counting requests per process "
                "until it does (asked again every %g s)",
                self.address,
                type(cause).__name__,
                cause,
                RETRY_SECONDS,
            )

    def answered(self) -> None:
        if self._down_until is not None:
            self._down_until = None
            log.warning("rate limits: Redis at %s answers again; counting there", self.address)


class SharedRateLimiter:
    """``per_minute`` requests per key in a moving one-minute window, counted in Redis by the
    ``limits`` library (``MovingWindowRateLimiter``: each request's time is kept, as in
    ``RateLimiter``), so every process sharing the Redis enforces one limit together.

    Keys (tokens, addresses) are stored hashed: a student's link token is a credential, and Redis
    needs only to tell keys apart. While Redis does not answer, ``fallback`` counts instead."""

    def __init__(
        self,
        name: str,
        per_minute: int,
        shared: SharedCounts,
        fallback: RateLimiter | None = None,
    ) -> None:
        from limits import RateLimitItemPerMinute
        from limits.strategies import MovingWindowRateLimiter

        self.name = name
        self.per_minute = per_minute
        self.shared = shared
        self.fallback = fallback or RateLimiter(per_minute)
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(shared.storage)

    def allow(self, key: str) -> tuple[bool, int]:
        """Whether one more request of ``key`` is allowed now, and else the seconds to wait."""
        if not self.shared.usable():
            return self.fallback.allow(key)
        from limits.errors import StorageError

        hashed = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        try:
            if self._limiter.hit(self._item, self.name, hashed):
                allowed, wait = True, 0
            else:
                reset = self._limiter.get_window_stats(self._item, self.name, hashed).reset_time
                allowed, wait = False, max(1, math.ceil(reset - time.time()))
        except StorageError as e:
            self.shared.failed(e)
            return self.fallback.allow(key)
        self.shared.answered()
        return allowed, wait


def request_limiters(per_minute: Mapping[str, int], redis_url: str | None) -> dict[str, Limiter]:
    """One limiter per kind of request (``{"check": 120, ...}``): counted in the Redis of
    ``redis_url`` when there is one, else in this process."""
    if not redis_url:
        return {name: RateLimiter(n) for name, n in per_minute.items()}
    shared = SharedCounts(redis_url)
    return {name: SharedRateLimiter(name, n, shared) for name, n in per_minute.items()}


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


class Budget(Protocol):
    """What ``access.cpu_budget`` asks of a budget of CPU seconds."""

    def allow(self, key: str) -> tuple[bool, int]: ...

    def charge(self, key: str, seconds: float) -> None: ...


class SharedCostBudget:
    """``CostBudget`` across every process sharing the Redis: each process keeps its token bucket
    (the bound on a burst), and what a key spent in every process this minute is added up in Redis
    (milliseconds, in the ``limits`` library's storage, keys hashed); a key that has spent
    ``per_minute`` seconds in all waits for the next minute. Without it, a client spreading its
    requests over N workers or instances got N budgets. While Redis does not answer, the
    process's bucket alone counts (as without Redis)."""

    def __init__(self, per_minute: float, shared: SharedCounts, local: CostBudget | None = None):
        self.per_minute_ms = int(per_minute * 1000)
        self.shared = shared
        self.local = local or CostBudget(per_minute)

    def _key(self, key: str) -> tuple[str, int]:
        """The Redis key of ``key``'s spending this minute, and the seconds left in the minute."""
        now = time.time()
        minute = int(now // WINDOW_SECONDS)
        hashed = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        return f"cpu/{hashed}/{minute}", max(1, math.ceil((minute + 1) * WINDOW_SECONDS - now))

    def allow(self, key: str) -> tuple[bool, int]:
        allowed, wait = self.local.allow(key)
        if not allowed or not self.shared.usable():
            return allowed, wait
        from limits.errors import StorageError

        name, left = self._key(key)
        try:
            spent = self.shared.storage.get(name)
        except StorageError as e:
            self.shared.failed(e)
            return allowed, wait
        self.shared.answered()
        return (True, 0) if spent < self.per_minute_ms else (False, left)

    def charge(self, key: str, seconds: float) -> None:
        self.local.charge(key, seconds)
        if not self.shared.usable():
            return
        from limits.errors import StorageError

        name, _ = self._key(key)
        try:
            self.shared.storage.incr(name, int(WINDOW_SECONDS) + 1, max(1, round(seconds * 1000)))
        except StorageError as e:
            self.shared.failed(e)


def cpu_budget(per_minute: float, redis_url: str | None) -> Budget:
    """A budget of CPU seconds per key and minute: shared in the Redis of ``redis_url`` when
    there is one, else this process's."""
    if not redis_url:
        return CostBudget(per_minute)
    return SharedCostBudget(per_minute, SharedCounts(redis_url))


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
