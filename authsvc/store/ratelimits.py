"""Rate-limit counters in Redis: one `rate_limit.lua` call per subject (an address, an
integration, a user), checking all the counters of that subject at once.

The counters of one subject share a hash tag, so each call is one slot; the calls of one request
go out in one pipeline (one round trip), legal on Redis Cluster whatever slots they fall in. A
call is all or nothing for its subject; two subjects of one request are independent (the domain
gives back what one took when the other refused).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from authsvc.model.ratelimits import RateLimit
from authsvc.store.core import StoreContext
from authsvc.store.redis_client import Arg, RedisError, RedisUnavailable
from authsvc.store.scripts import ScriptCall, ScriptName

KEY_CACHE_SIZE = 100_000
log = logging.getLogger(__name__)


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
        self._key_cache: dict[tuple[str, str], dict[str, str]] = {}
        self._prepared: dict[int, tuple[RateStep, list[str], tuple[Arg, ...]]] = {}

    def calls(self, steps: Sequence[RateStep], now_ms: int) -> list[ScriptCall]:
        """The script calls of `steps`, to send along with other commands
        (`ScriptRunner.run_pipeline`); `decisions` reads their replies."""
        calls = []
        for step in steps:
            # Built once per step object (the domain reuses them); holding the step keeps its
            # id from being reused while cached.
            prepared = self._prepared.get(id(step))
            if prepared is None or prepared[0] is not step:
                if len(self._prepared) >= KEY_CACHE_SIZE:
                    self._prepared.clear()
                prepared = self._prepared[id(step)] = (step, self._keys_of(step), tuple(
                    wire for check in step.checks for wire in check.wire))
            calls.append(ScriptCall(ScriptName.RATE_LIMIT, prepared[1], (now_ms, *prepared[2])))
        return calls

    def _keys_of(self, step: RateStep) -> list[str]:
        """The counters' keys of a step (each built once per subject)."""
        known = self._key_cache.get((step.kind, step.subject))
        if known is None:
            if len(self._key_cache) >= KEY_CACHE_SIZE:
                self._key_cache.clear()
            known = self._key_cache[(step.kind, step.subject)] = {}
        keys = []
        for check in step.checks:
            key = known.get(check.counter)
            if key is None:
                key = known[check.counter] = self._ctx.keys.rate_limit(
                    step.kind, step.subject, check.counter)
            keys.append(key)
        return keys

    @staticmethod
    def decisions(steps: Sequence[RateStep], replies: Sequence[Any], *,
                  lenient: bool = False) -> list[RateDecision]:
        """The decisions of `steps` from the replies of their `calls`; an error reply raises,
        or with `lenient` (the decision they were sent with is already made) is logged and
        read as admitted, nothing taken."""
        decisions = []
        for step, reply in zip(steps, replies, strict=True):
            if isinstance(reply, RedisError | RedisUnavailable):
                if not lenient:
                    raise reply
                log.warning("rate limits: a step was not counted: %s", reply)
                reply = ADMITTED_REPLY
            decisions.append(_decision(step, reply))
        return decisions

    async def apply(self, steps: Sequence[RateStep], now_ms: int) -> list[RateDecision]:
        """Run each step (one script call per subject, all in one round trip); decisions in
        the same order. A script Redis forgot (NOSCRIPT after a restart) is run again for the
        steps that got it, so nothing is counted twice."""
        replies = await self._ctx.scripts.run_pipeline(self.calls(steps, now_ms))
        return self.decisions(steps, replies)


ADMITTED_REPLY = [1, 0]
ADMITTED = RateDecision(True)


def _decision(step: RateStep, reply: list[int]) -> RateDecision:
    if not reply[0]:
        return RateDecision(False, int(reply[1]), step.checks[int(reply[2]) - 1].counter)
    mask = int(reply[1])
    if not mask:
        return ADMITTED
    return RateDecision(True, taken=frozenset(
        check.counter for bit, check in enumerate(step.checks) if mask >> bit & 1))
