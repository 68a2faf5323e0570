"""sms_issue.lua and the SMS branch of passcode_attempt.lua against real Redis."""

from __future__ import annotations

import asyncio
from collections import Counter

from authsvc.clock import FakeClock
from authsvc.model.attempts import AttemptStatus
from authsvc.model.telephony import IssueStatus
from authsvc.store import Store
from tests.store.conftest import add_user, lockout_settings, sms_match


async def _issue(store: Store, clock: FakeClock, codes: list[tuple[str, int]], *,
                 expires_ms: int = 0, cooldown_ms: int = 0, limit: int = 10,
                 day: str = "20270115") -> IssueStatus:
    return await store.sms.issue("U1", codes, now_ms=clock.now_ms(), expires_ms=expires_ms,
                                 cooldown_ms=cooldown_ms, daily_limit=limit, day=day)


async def _try(store: Store, clock: FakeClock, code_hash: str) -> AttemptStatus:
    outcome = await store.attempts.decide("U1", now_ms=clock.now_ms(),
                                          settings=lockout_settings(threshold=100),
                                          matches=[sms_match(code_hash)])
    return outcome.status


async def test_each_code_works_once_and_a_new_batch_replaces_the_old(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    assert await _issue(store, clock, [("h1", 1), ("h2", 2)]) is IssueStatus.SENT
    assert await store.sms.next_position("U1", clock.now_ms()) == 1
    assert await _try(store, clock, "h1") is AttemptStatus.ALLOW
    assert await _try(store, clock, "h1") is AttemptStatus.INVALID
    assert await store.sms.next_position("U1", clock.now_ms()) == 2
    await _issue(store, clock, [("n1", 1)])
    assert await _try(store, clock, "h2") is AttemptStatus.INVALID
    assert await _try(store, clock, "n1") is AttemptStatus.ALLOW


async def test_expired_codes_do_not_work(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await _issue(store, clock, [("h1", 1), ("h2", 2)], expires_ms=clock.now_ms() + 60_000)
    assert await _try(store, clock, "h1") is AttemptStatus.ALLOW
    clock.advance(60)
    assert await store.sms.next_position("U1", clock.now_ms()) is None
    assert await _try(store, clock, "h2") is AttemptStatus.INVALID


async def test_cooldown_and_daily_limit_refuse_and_change_nothing(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    assert await _issue(store, clock, [("a", 1)], cooldown_ms=60_000, limit=2) is IssueStatus.SENT
    assert await _issue(store, clock, [("b", 1)], cooldown_ms=60_000, limit=2) is \
        IssueStatus.COOLING_DOWN
    clock.advance(61)
    assert await _issue(store, clock, [("c", 1)], cooldown_ms=60_000, limit=2) is IssueStatus.SENT
    clock.advance(61)
    assert await _issue(store, clock, [("d", 1)], cooldown_ms=60_000, limit=2) is \
        IssueStatus.DAILY_LIMIT
    assert await _try(store, clock, "c") is AttemptStatus.ALLOW  # still the batch in force
    assert await _issue(store, clock, [("e", 1)], cooldown_ms=60_000, limit=2,
                        day="20270116") is IssueStatus.SENT


async def test_fifty_racers_with_one_code_admit_exactly_one(store: Store,
                                                            clock: FakeClock) -> None:
    await add_user(store, "U1")
    await _issue(store, clock, [("h1", 1)])
    outcomes = await asyncio.gather(*(_try(store, clock, "h1") for _ in range(50)))
    assert Counter(outcomes) == {AttemptStatus.ALLOW: 1, AttemptStatus.INVALID: 49}
