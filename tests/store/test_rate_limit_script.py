"""rate_limit.lua against real Redis: a burst of N, then one per interval; dry checks write
nothing; refused events are not counted; keys expire; it survives SCRIPT FLUSH."""

from __future__ import annotations

import asyncio

from authsvc.clock import FakeClock
from authsvc.model.ratelimits import RateLimit
from authsvc.store import RateCheck, RateDecision, RateMode, Store

TEN_PER_SECOND = RateLimit(10, 1)  # a burst of 10, then one every 100 ms


def _check(dry: bool = False, subject: str = "10.0.0.1") -> RateCheck:
    return RateCheck("ip", subject, TEN_PER_SECOND, RateMode.ASK if dry else RateMode.TAKE)


async def _one(store: Store, clock: FakeClock, check: RateCheck) -> RateDecision:
    [decision] = await store.rate_limits.check([check], clock.now_ms())
    return decision


async def test_a_burst_passes_then_one_event_per_interval(store: Store, clock: FakeClock) -> None:
    decisions = [await _one(store, clock, _check()) for _ in range(11)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert decisions[-1].retry_after_ms == 100
    clock.advance(0.1)
    assert (await _one(store, clock, _check())).allowed
    assert not (await _one(store, clock, _check())).allowed
    clock.advance(1)
    assert all([(await _one(store, clock, _check())).allowed for _ in range(10)])


async def test_refused_events_are_not_counted(store: Store, clock: FakeClock) -> None:
    for _ in range(10):
        await _one(store, clock, _check())
    for _ in range(50):
        assert not (await _one(store, clock, _check())).allowed
    clock.advance(0.1)
    assert (await _one(store, clock, _check())).allowed


async def test_a_dry_check_tells_without_counting(store: Store, clock: FakeClock) -> None:
    for _ in range(20):
        assert (await _one(store, clock, _check(dry=True))).allowed
    assert await store.redis.execute("EXISTS", store.keys.rate_limit("ip", "10.0.0.1")) == 0
    for _ in range(10):
        await _one(store, clock, _check())
    refused = await _one(store, clock, _check(dry=True))
    assert (refused.allowed, refused.retry_after_ms) == (False, 100)


async def test_subjects_are_independent_and_one_round_trip_checks_several(
        store: Store, clock: FakeClock) -> None:
    for _ in range(10):
        await _one(store, clock, _check(subject="a"))
    decisions = await store.rate_limits.check([_check(subject="a"), _check(subject="b")],
                                              clock.now_ms())
    assert [d.allowed for d in decisions] == [False, True]


async def test_the_key_expires_when_the_budget_is_whole_again(
        store: Store, clock: FakeClock) -> None:
    for _ in range(4):
        await _one(store, clock, _check())
    ttl = await store.redis.execute("PTTL", store.keys.rate_limit("ip", "10.0.0.1"))
    assert 0 < ttl <= 400


async def test_giving_back_frees_one_event_and_never_goes_below_now(
        store: Store, clock: FakeClock) -> None:
    for _ in range(10):
        await _one(store, clock, _check())
    await store.rate_limits.give_back([_check()], clock.now_ms())
    assert (await _one(store, clock, _check())).allowed
    assert not (await _one(store, clock, _check())).allowed
    for _ in range(30):  # more than was ever taken: the budget is whole, no more
        await store.rate_limits.give_back([_check(subject="fresh")], clock.now_ms())
    await store.redis.execute("PING")  # the give-backs were sent without waiting
    assert [(await _one(store, clock, _check(subject="fresh"))).allowed
            for _ in range(11)] == [True] * 10 + [False]


async def test_concurrent_events_never_exceed_the_burst(store: Store, clock: FakeClock) -> None:
    decisions = await asyncio.gather(*[_one(store, clock, _check()) for _ in range(40)])
    assert sum(d.allowed for d in decisions) == 10


async def test_after_script_flush_the_script_is_reloaded_and_counts_once(
        store: Store, clock: FakeClock) -> None:
    await _one(store, clock, _check())
    await store.redis.execute("SCRIPT", "FLUSH")
    decisions = await store.rate_limits.check([_check(), _check(subject="other")],
                                              clock.now_ms())
    assert all(d.allowed for d in decisions)
    assert [(await _one(store, clock, _check())).allowed for _ in range(9)] == \
        [True] * 8 + [False]
