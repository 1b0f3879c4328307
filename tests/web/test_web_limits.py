"""The per-minute limiter."""

from __future__ import annotations

import pytest
from handcalc.web import limits
from handcalc.web.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window() -> None:
    clock = Clock()
    limiter = RateLimiter(3, clock)
    assert [limiter.allow("a")[0] for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b") == (True, 0)  # per key
    clock.now += 30
    allowed, wait = limiter.allow("a")
    assert not allowed and 29 <= wait <= 31
    clock.now += 30.5
    assert limiter.allow("a") == (True, 0)


def test_forgets_idle_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_KEYS", 10)
    clock = Clock()
    limiter = RateLimiter(1, clock)
    for k in range(10):
        limiter.allow(str(k))
    clock.now += 61
    assert limiter.allow("new") == (True, 0)
    assert len(limiter._hits) == 1
