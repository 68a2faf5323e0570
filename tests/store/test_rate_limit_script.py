"""rate_limit.lua against real Redis: a burst of N, then one per interval; the counters of one
subject decided all or nothing; ask and reserve write nothing while the budget is full;
give-backs never go below now; keys expire; it survives SCRIPT FLUSH."""

from __future__ import annotations

import asyncio

from authsvc.clock import FakeClock
from authsvc.model.ratelimits import RateLimit
from authsvc.store import RateCheck, RateDecision, RateMode, RateStep, Store

TEN_PER_SECOND = RateLimit(10, 1)  # a burst of 10, then one every 100 ms
KEY = ("ip", "10.0.0.1", "requests")


def _step(*modes: RateMode, subject: str = "10.0.0.1") -> RateStep:
    counters = ("requests", "bad_signatures", "failed_auth")
    return RateStep("ip", subject, tuple(RateCheck(counter, TEN_PER_SECOND, mode)
                                         for counter, mode in zip(counters, modes, strict=False)))


async def _one(store: Store, clock: FakeClock, step: RateStep) -> RateDecision:
    [decision] = await store.rate_limits.apply([step], clock.now_ms())
    return decision


async def _take(store: Store, clock: FakeClock, times: int, subject: str = "10.0.0.1"
                ) -> list[bool]:
    return [(await _one(store, clock, _step(RateMode.TAKE, subject=subject))).allowed
            for _ in range(times)]


async def test_a_burst_passes_then_one_event_per_interval(store: Store, clock: FakeClock) -> None:
    assert await _take(store, clock, 11) == [True] * 10 + [False]
    refused = await _one(store, clock, _step(RateMode.TAKE))
    assert (refused.retry_after_ms, refused.refused) == (100, "requests")
    clock.advance(0.1)
    assert await _take(store, clock, 2) == [True, False]
    clock.advance(1)
    assert await _take(store, clock, 10) == [True] * 10


async def test_refused_events_are_not_counted(store: Store, clock: FakeClock) -> None:
    await _take(store, clock, 60)
    clock.advance(0.1)
    assert await _take(store, clock, 1) == [True]


async def test_one_subject_is_all_or_nothing(store: Store, clock: FakeClock) -> None:
    for _ in range(10):
        await _one(store, clock, _step(RateMode.ASK, RateMode.TAKE))  # bad_signatures spent
    both = await _one(store, clock, _step(RateMode.TAKE, RateMode.ASK))
    assert (both.allowed, both.refused) == (False, "bad_signatures")
    assert await store.redis.execute("EXISTS", store.keys.rate_limit(*KEY)) == 0


async def test_ask_writes_nothing_and_reserve_takes_only_below_half(
        store: Store, clock: FakeClock) -> None:
    for _ in range(20):
        assert (await _one(store, clock, _step(RateMode.ASK))).allowed
    assert await store.redis.execute("EXISTS", store.keys.rate_limit(*KEY)) == 0
    reserves = [await _one(store, clock, _step(RateMode.RESERVE)) for _ in range(3)]
    assert all(r.allowed and not r.taken for r in reserves)  # a full budget: nothing held
    await _take(store, clock, 6)  # 4 left: less than half
    reserved = [await _one(store, clock, _step(RateMode.RESERVE)) for _ in range(5)]
    assert [r.taken for r in reserved] == [frozenset({"requests"})] * 4 + [frozenset()]
    assert not reserved[-1].allowed


async def test_giving_back_frees_one_event_and_never_goes_below_now(
        store: Store, clock: FakeClock) -> None:
    await _take(store, clock, 10)
    await _one(store, clock, _step(RateMode.GIVE))
    assert await _take(store, clock, 2) == [True, False]
    for _ in range(30):  # more than was ever taken: the budget is whole, no more
        await _one(store, clock, _step(RateMode.GIVE, subject="fresh"))
    assert await _take(store, clock, 11, subject="fresh") == [True] * 10 + [False]


async def test_subjects_are_independent_and_one_round_trip_checks_several(
        store: Store, clock: FakeClock) -> None:
    await _take(store, clock, 10, subject="a")
    decisions = await store.rate_limits.apply(
        [_step(RateMode.TAKE, subject="a"), _step(RateMode.TAKE, subject="b")], clock.now_ms())
    assert [d.allowed for d in decisions] == [False, True]


async def test_the_key_expires_when_the_budget_is_whole_again(
        store: Store, clock: FakeClock) -> None:
    await _take(store, clock, 4)
    ttl = await store.redis.execute("PTTL", store.keys.rate_limit(*KEY))
    assert 0 < ttl <= 400


async def test_concurrent_events_never_exceed_the_burst(store: Store, clock: FakeClock) -> None:
    decisions = await asyncio.gather(*[_one(store, clock, _step(RateMode.TAKE))
                                       for _ in range(40)])
    assert sum(d.allowed for d in decisions) == 10


async def test_after_script_flush_the_script_is_reloaded_and_counts_once(
        store: Store, clock: FakeClock) -> None:
    await _take(store, clock, 1)
    await store.redis.execute("SCRIPT", "FLUSH")
    decisions = await store.rate_limits.apply(
        [_step(RateMode.TAKE), _step(RateMode.TAKE, subject="other")], clock.now_ms())
    assert all(d.allowed for d in decisions)
    assert await _take(store, clock, 9) == [True] * 8 + [False]


async def test_a_burst_is_exact_at_epoch_milliseconds(store: Store) -> None:
    """120 per 10 s (an interval of 83.33 ms) at today's epoch milliseconds, where a double's
    step is 0.00024 ms and the TAT is stored to 0.001 ms: the whole burst passes and not one
    more, at every start tried."""
    step = RateStep("user", "someone", (RateCheck("requests", RateLimit(120, 10),
                                                  RateMode.TAKE),))
    for n in range(40):
        await store.redis.execute("DEL", store.keys.rate_limit("user", "someone", "requests"))
        now_ms = 1_796_621_390_327 + n * 7
        taken = [(await store.rate_limits.apply([step], now_ms))[0].allowed for _ in range(121)]
        assert taken == [True] * 120 + [False], n
