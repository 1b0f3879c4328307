"""The per-minute limiter, the CPU budget and the bounded cache."""

from __future__ import annotations

import pytest
from handcalc.web import limits
from handcalc.web.limits import BoundedCache, CostBudget, RateLimiter


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


def test_cost_budget_is_charged_what_was_spent() -> None:
    clock = Clock()
    budget = CostBudget(6.0, clock, burst=6.0)  # 6 s a minute: 0.1 s earned back a second
    assert budget.allow("a") == (True, 0)
    budget.charge("a", 4.0)
    assert budget.allow("a") == (True, 0)
    budget.charge("a", 5.0)  # one request may overdraw: it was let in while some was left
    allowed, wait = budget.allow("a")
    assert not allowed and 30 <= wait <= 32  # 3 s owed, at 0.1 s a second
    assert budget.allow("b") == (True, 0)  # per key
    clock.now += 31
    assert budget.allow("a") == (True, 0)
    clock.now += 10**6
    assert budget.balance("a") == 6.0  # never more than a minute's worth


def test_cost_budget_forgets_full_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_KEYS", 10)
    clock = Clock()
    budget = CostBudget(1.0, clock)
    for k in range(10):
        budget.charge(str(k), 0.5)
    clock.now += 61
    budget.charge("new", 0.5)
    assert len(budget._balance) == 1


def test_bounded_cache_evicts_by_size() -> None:
    cache: BoundedCache[str, str] = BoundedCache(100)
    cache.put("a", "A", 40)
    cache.put("b", "B", 40)
    assert cache.get("a") == "A"  # now the most recently used
    cache.put("c", "C", 40)
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    assert cache.size == 80 <= cache.max_size
    cache.put("huge", "H", 101)  # heavier than the bound: not kept, nothing evicted for it
    assert cache.get("huge") is None and len(cache) == 2
    cache.put("a", "A2", 10)  # replaced, with its new size
    assert cache.size == 50 and cache.get("a") == "A2"
    cache.resize(20)
    assert cache.size <= 20 and len(cache) == 1
    cache.clear()
    assert cache.size == 0 and len(cache) == 0


def test_cost_budget_holds_a_fifth_of_a_minute_at_most() -> None:
    clock = Clock()
    budget = CostBudget(10.0, clock)
    assert budget.balance("a") == 2.0
    budget.charge("a", 2.5)
    assert not budget.allow("a")[0]
    clock.now += 10**6
    assert budget.balance("a") == 2.0
