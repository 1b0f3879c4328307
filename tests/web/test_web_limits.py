"""The per-minute limiters (per process, and in a real Redis shared by processes), the CPU budget
and the bounded cache."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from handcalc.web import limits
from handcalc.web.config import ConfigError
from handcalc.web.config import redis_url as redis_url_of
from handcalc.web.limits import (
    BoundedCache,
    CostBudget,
    RateLimiter,
    SharedCostBudget,
    SharedCounts,
    SharedRateLimiter,
    request_limiters,
)
from queue_support import free_port, redis_server
from web_support import SPEC, redis_missing


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


# --- limits counted in Redis (HANDCALC_REDIS_URL) ----------------------------------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    why = redis_missing()
    if why:
        pytest.skip(why)
    with redis_server() as url:
        yield url


def test_processes_sharing_a_redis_enforce_one_limit(redis_url: str) -> None:
    # two processes (or instances): each its own connection pool, one count
    first, second = (SharedRateLimiter("check", 5, SharedCounts(redis_url)) for _ in range(2))
    allowed = [limiter.allow("token-a")[0] for _ in range(4) for limiter in (first, second)]
    assert allowed.count(True) == 5 and allowed[:5] == [True] * 5
    refused, wait = second.allow("token-a")
    assert not refused and 55 <= wait <= 60
    assert first.allow("token-b") == (True, 0)  # per key
    assert SharedRateLimiter("practice", 5, first.shared).allow("token-a") == (True, 0)  # per kind
    assert first.fallback.allow("token-a") == (True, 0)  # the fallback was never used


def test_keys_are_stored_hashed(redis_url: str) -> None:
    import redis

    limiter = SharedRateLimiter("check", 5, SharedCounts(redis_url))
    token = "student-link-token-that-is-a-credential"
    assert limiter.allow(token) == (True, 0)
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("handcalc:*")]
    assert keys and not any(token in k for k in keys)


def test_a_redis_that_does_not_answer_falls_back_to_counting_per_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fail open to what one machine always did: per-process limits, one warning, Redis asked
    again after RETRY_SECONDS; never an error for the request."""
    if redis_missing():
        pytest.skip(str(redis_missing()))
    clock = Clock()
    port = free_port()
    shared = SharedCounts(f"redis://127.0.0.1:{port}/0", clock)
    limiter = SharedRateLimiter("check", 2, shared)
    with caplog.at_level(logging.WARNING, logger="handcalc.web.limits"):
        assert [limiter.allow("a")[0] for _ in range(3)] == [True, True, False]
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1, warnings
        assert f"Redis at redis://127.0.0.1:{port} does not answer" in warnings[0]
        assert "per process" in warnings[0]
        with redis_server(port):
            limiter.allow("a")  # not asked again yet: still counting per process
            assert len(caplog.records) == 1
            clock.now += limits.RETRY_SECONDS
            assert limiter.allow("a") == (True, 0)  # Redis counts afresh
            assert "answers again" in caplog.records[-1].getMessage()


def test_the_app_counts_in_redis_across_instances(make_app: Any, redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # the same token on the other database's run
    one, two = (make_app(REDIS_URL=redis_url, CHECKS_PER_MINUTE=3) for _ in range(2))
    token = one.test_client().post("/api/v1/practice", json={"spec": SPEC}).json["token"]
    path = f"/api/v1/practice/{token}/check"
    codes = [app.test_client().post(path, json={"cells": {}}).status_code for app in (one, two)]
    codes += [app.test_client().post(path, json={"cells": {}}).status_code for app in (one, two)]
    assert codes == [200, 200, 200, 429]
    refused = two.test_client().post(path, json={"cells": {}})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60


def test_processes_sharing_a_redis_share_one_cpu_budget(redis_url: str) -> None:
    """A client spreading its practice over workers or instances gets one budget, not one each:
    what it spent anywhere this minute counts everywhere (each process still bounds a burst)."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    first, second = (SharedCostBudget(6.0, SharedCounts(redis_url)) for _ in range(2))
    assert first.allow("10.0.0.1") == (True, 0) and second.allow("10.0.0.1") == (True, 0)
    first.charge("10.0.0.1", 1.0)  # within the first process's burst (1.2 s)
    for budget in (first, second):
        for _ in range(3):
            budget.local = CostBudget(6.0, burst=100.0)  # bursts aside: the minute's total
            budget.charge("10.0.0.1", 1.0)
    allowed, wait = second.allow("10.0.0.1")  # 7 s spent in all: the minute is over budget
    assert not allowed and 1 <= wait <= 60
    assert first.allow("10.0.0.1")[0] is False
    assert second.allow("10.0.0.2") == (True, 0)  # per key
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("handcalc:cpu/*")]
    assert keys and not any("10.0.0.1" in k for k in keys)  # addresses stored hashed


def test_the_app_meters_practice_in_redis_across_instances(make_app: Any, redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    one, two = (make_app(REDIS_URL=redis_url, PRACTICE_CPU_SECONDS=2) for _ in range(2))
    assert one.test_client().post("/api/v1/practice", json={"spec": SPEC}).status_code == 201
    budget = one.extensions["handcalc.cpu"]
    assert isinstance(budget, SharedCostBudget)
    budget.charge("127.0.0.1", 3.0)  # this address spent the minute's 2 s on instance one
    refused = two.test_client().post("/api/v1/practice", json={"spec": SPEC})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "share of the server's time" in refused.json["error"]["message"]


def test_the_app_with_redis_down_grades_and_says_why(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(REDIS_URL=f"redis://:hunter2@127.0.0.1:{free_port()}/0", CHECKS_PER_MINUTE=2)
    client = app.test_client()
    token = client.post("/api/v1/practice", json={"spec": SPEC}).json["token"]
    with caplog.at_level(logging.WARNING, logger="handcalc.web.limits"):
        codes = [
            client.post(f"/api/v1/practice/{token}/check", json={"cells": {}}).status_code
            for _ in range(3)
        ]
    assert codes == [200, 200, 429]  # limited still, in this process
    assert "does not answer" in caplog.text and "counting requests per process" in caplog.text
    assert "hunter2" not in caplog.text  # the URL's password is never logged


@pytest.mark.parametrize(
    "url, said",
    [
        ("http://user:hunter2@redis-host:6379", "must start with redis://"),
        ("redis-host:6379", "must start with redis://"),
    ],
)
def test_a_redis_url_that_is_not_one_is_refused(url: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said) as refused:
        redis_url_of({"HANDCALC_REDIS_URL": url})
    assert "hunter2" not in str(refused.value)


def test_no_redis_url_counts_per_process() -> None:
    assert redis_url_of({}) is None and redis_url_of({"HANDCALC_REDIS_URL": " "}) is None
    made = request_limiters({"check": 3, "login": 1}, None)
    assert set(made) == {"check", "login"}
    assert all(isinstance(limiter, RateLimiter) for limiter in made.values())
