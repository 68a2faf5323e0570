"""Rate-limit counters in Redis: one `rate_limit.lua` call per subject (an address, an
integration, a user), checking all the counters of that subject at once.

The counters of one subject share a hash tag, so each call is one slot; the calls of one request
go out in one pipeline (one round trip), legal on Redis Cluster whatever slots they fall in. A
call is all or nothing for its subject; two subjects of one request are independent (the domain
gives back what one took when the other refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from authsvc.model.ratelimits import RateLimit
from authsvc.store.core import StoreContext
from authsvc.store.redis_client import Arg, RedisError
from authsvc.store.scripts import ScriptName


class RateMode(StrEnum):
    """What a check does to its counter (see rate_limit.lua)."""

    TAKE = "take"  # count one event
    ASK = "ask"  # only check that one more would be allowed
    RESERVE = "reserve"  # ask while more than half the budget is left, else take
    GIVE = "give"  # give one event back


@dataclass(frozen=True, slots=True)
class RateCheck:
    """One counter of a subject, its limit, and what to do with it (build it once and reuse
    it: `wire` holds the script arguments, formatted once)."""

    counter: str
    limit: RateLimit
    mode: RateMode = RateMode.TAKE
    wire: tuple[str, str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "wire", (f"{self.limit.interval_ms:.3f}",
                                          str(self.limit.count), self.mode.value))


@dataclass(frozen=True, slots=True)
class RateStep:
    """The checks of one subject, decided together by one script call."""

    kind: str
    subject: str
    checks: tuple[RateCheck, ...]


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether the step passed; if not, in how many ms it may and which counter refused; if
    so, which counters its reserves took."""

    allowed: bool
    retry_after_ms: int = 0
    refused: str = ""
    taken: frozenset[str] = frozenset()


class RateLimitStore:
    """The typed wrapper of rate_limit.lua."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    def _call(self, step: RateStep, now_ms: int) -> tuple[list[str], list[Arg]]:
        rate_limit = self._ctx.keys.rate_limit
        keys = [rate_limit(step.kind, step.subject, check.counter) for check in step.checks]
        args: list[Arg] = [now_ms]
        for check in step.checks:
            args += check.wire
        return keys, args

    async def apply(self, steps: Sequence[RateStep], now_ms: int) -> list[RateDecision]:
        """Run each step (one script call per subject, all in one round trip); decisions in
        the same order. A script Redis forgot (NOSCRIPT after a restart) is run again on its own
        for the steps that got it, so nothing is counted twice."""
        name = ScriptName.RATE_LIMIT
        calls = [self._call(step, now_ms) for step in steps]
        replies = await self._ctx.scripts.run_many(name, calls)
        decisions = []
        for step, (keys, args), reply in zip(steps, calls, replies, strict=True):
            if isinstance(reply, RedisError):
                if not str(reply).startswith("NOSCRIPT"):
                    raise reply
                reply = await self._ctx.scripts.run(name, keys, args)
            decisions.append(_decision(step, reply))
        return decisions


def _decision(step: RateStep, reply: list[int]) -> RateDecision:
    if not reply[0]:
        return RateDecision(False, int(reply[1]), step.checks[int(reply[2]) - 1].counter)
    mask = int(reply[1])
    return RateDecision(True, taken=frozenset(
        check.counter for bit, check in enumerate(step.checks) if mask >> bit & 1))
