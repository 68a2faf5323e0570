"""Rate-limit counters in Redis: one `rate_limit.lua` call per limiter and subject.

Several checks of one request go out in one pipeline (one round trip); each is a script on a
single key, so the pipeline is legal on Redis Cluster whatever slots the keys fall in. Checks are
independent: a request refused by one limiter may have been counted by another of the same
pipeline; the domain gives back what it must (`RateLimits.admit_attempt`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from authsvc.model.ratelimits import RateLimit
from authsvc.store.core import StoreContext
from authsvc.store.redis_client import Arg, RedisError
from authsvc.store.scripts import ScriptName

log = logging.getLogger(__name__)


class RateMode(StrEnum):
    """What a check does (rate_limit.lua's ARGV[4])."""

    TAKE = "take"  # count one event if the budget allows it
    ASK = "ask"  # only say whether one more would be allowed
    GIVE = "give"  # give one event back


@dataclass(frozen=True, slots=True)
class RateCheck:
    """One limiter step: the limiter's name, its subject, its limit, and its mode."""

    limiter: str
    subject: str
    limit: RateLimit
    mode: RateMode = RateMode.TAKE


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether the event may happen; if not, in how many ms it may."""

    allowed: bool
    retry_after_ms: int = 0


class RateLimitStore:
    """The typed wrapper of rate_limit.lua."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    def _call(self, check: RateCheck, now_ms: int) -> tuple[list[str], list[Arg]]:
        return ([self._ctx.keys.rate_limit(check.limiter, check.subject)],
                [now_ms, f"{check.limit.interval_ms:.3f}", check.limit.count, check.mode.value])

    async def check(self, checks: Sequence[RateCheck], now_ms: int) -> list[RateDecision]:
        """One GCRA step per check, in one round trip; decisions in the same order.

        A script Redis forgot (NOSCRIPT after a restart) is run again on its own for the checks
        that got it, so no check is counted twice.
        """
        name = ScriptName.RATE_LIMIT
        calls = [self._call(check, now_ms) for check in checks]
        replies = await self._ctx.scripts.run_many(name, calls)
        decisions = []
        for (keys, args), reply in zip(calls, replies, strict=True):
            if isinstance(reply, RedisError):
                if not str(reply).startswith("NOSCRIPT"):
                    raise reply
                reply = await self._ctx.scripts.run(name, keys, args)
            decisions.append(RateDecision(bool(reply[0]), int(reply[1])))
        return decisions

    async def give_back(self, checks: Sequence[RateCheck], now_ms: int) -> None:
        """Give one event back to each check's subject without waiting for Redis (the request
        does not depend on it). A lost give-back (Redis gone, script flushed) only leaves the
        budget one event smaller until it refills; it is logged."""
        for check in checks:
            keys, args = self._call(RateCheck(check.limiter, check.subject, check.limit,
                                              RateMode.GIVE), now_ms)
            sent = await self._ctx.scripts.send(ScriptName.RATE_LIMIT, keys, args)
            sent.add_done_callback(_report)


def _report(done: asyncio.Future[Any]) -> None:
    if done.exception() is not None:
        log.warning("a rate-limit give-back was lost: %s", done.exception())
