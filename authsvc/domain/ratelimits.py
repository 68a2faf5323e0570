"""Which rate limits a request meets, and what counts against them (the limiters are
`model.ratelimits.Limiter`, the counters `store/ratelimits.py`, the defaults `settings/table.py`).

Three moments, each one round trip to Redis with one script call per subject (an address, an
integration, a user: `store/ratelimits.py`):

- a signed Auth/Admin API request (`admit_caller`): the client IP's and the integration's
  request rates are counted, and the IP's failed-signature budget must not be spent; a request
  whose signature fails (`signature_failed`) counts against its IP and against the ikey it
  claims, and once either budget is spent it is answered 429 instead of 401. A correctly signed
  request is never refused for its ikey's failed signatures, so nobody can lock an integration
  out by forging requests in its name; an address that keeps failing is refused altogether.
- an authentication (`admit_attempt`, before anything is read): the user it names is counted
  across integrations, and the failure budgets of its integration and of its client IP must not
  be spent; `settle` then counts a failed guess (a wrong code, a refused key, an unknown user).
  "Check, then count" alone leaks under concurrency: each refill would let in as many guesses as
  the attacker has requests in flight. So once less than half a budget is left, a guess reserves
  its failure before the attempt (`RateMode.RESERVE`) and `settle` gives it back if the guess was
  right: exact when it matters, and free for honest load, whose budgets stay full (no write, no
  give-back). The most the half-open phase lets through is the burst plus the requests in
  flight once. A spray of wrong codes over many users, each under the lockout threshold, is
  refused once its integration or its address has spent the budget.
- a preauth for a username nobody has (`unknown_user`): one global budget, so enumerating names
  or filling the enrollment prompt is bounded whatever the number of integrations and addresses.

Subjects: IP addresses and ikeys as they are; usernames by their SHA-256 (a mistyped password in
a username field must not end up in a Redis key name).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence

from authsvc.clock import Clock
from authsvc.crypto import secret_hash
from authsvc.domain.auth_requests import AuthRequest
from authsvc.errors import RateLimited, StoreUnavailable
from authsvc.model.ratelimits import Limiter, RateLimit
from authsvc.model.values import value
from authsvc.model.verdicts import Verdict
from authsvc.store import ADMITTED, RateCheck, RateDecision, RateMode, RateStep, Store

log = logging.getLogger(__name__)
# The verdict reasons that are failed guesses (a wrong code, a key that did not verify).
FAILED_REASONS = frozenset({"invalid_passcode", "invalid_device", "possible_clone"})
ALL = "all"
MAX_TIGHT = 100_000  # subjects remembered as tight (forgotten all at once beyond)


def counts_as_failure(verdict: Verdict) -> bool:
    """True for a verdict that is a failed guess at a code or key."""
    return verdict.reason in FAILED_REASONS


@value
class Reservation:
    """What an admitted attempt holds: the failure counters it took in advance (only once a
    budget runs low), settled when its answer is known (`RateLimits.settle`)."""

    request: AuthRequest
    held: frozenset[Limiter] = frozenset()


Plan = tuple[tuple[str, tuple[RateCheck, ...]], ...]  # per kind of subject, its checks
CALLER = ((Limiter.IP, RateMode.TAKE), (Limiter.BAD_SIGNATURES_IP, RateMode.ASK),
          (Limiter.INTEGRATION, RateMode.TAKE))
FAILURES = (Limiter.FAILED_AUTH_INTEGRATION, Limiter.FAILED_AUTH_IP)


class RateLimits:
    """The limiters of one process, as configured (a limiter set to None is off)."""

    def __init__(self, store: Store, clock: Clock,
                 limits: Mapping[Limiter, RateLimit | None]) -> None:
        self._store = store
        self._clock = clock
        self._limits = limits
        # Built once, so a request only fills in its subjects.
        self._caller = self._plan(CALLER)
        self._bad_signature = self._plan([(Limiter.IP, RateMode.TAKE),
                                          (Limiter.BAD_SIGNATURES_IP, RateMode.TAKE),
                                          (Limiter.BAD_SIGNATURES_IKEY, RateMode.TAKE)])
        self._attempt = {guess: self._plan([*CALLER, (Limiter.USERNAME, RateMode.TAKE), *(
            (limiter, RateMode.RESERVE if guess else RateMode.ASK) for limiter in FAILURES)])
            for guess in (True, False)}
        self._unknown = self._plan([(Limiter.UNKNOWN_USERS, RateMode.TAKE)])
        # (kind, subject) -> until when (ms) its admission is awaited before any decision.
        self._tight: dict[tuple[str, str], float] = {}
        self._known_steps: dict[tuple[bool, str | None, str, str | None], list[RateStep]] = {}

    def _plan(self, wanted: Iterable[tuple[Limiter, RateMode]]) -> Plan:
        by_kind: dict[str, list[RateCheck]] = {}
        for limiter, mode in wanted:
            limit = self._limits.get(limiter)
            if limit is not None:
                by_kind.setdefault(limiter.kind, []).append(
                    RateCheck(limiter.counter, limit, mode))
        return tuple((kind, tuple(checks)) for kind, checks in by_kind.items())

    async def admit_caller(self, ip: str | None, ikey: str) -> None:
        """A correctly signed request; raises RateLimited if its address or integration is over
        its request rate, or its address has spent its failed-signature budget. (An
        authentication makes these checks in `admit_attempt`, in the same round trip.)"""
        await self._decide(self._caller, {"ip": ip, "ikey": ikey})

    async def signature_failed(self, ip: str | None, claimed_ikey: str | None) -> None:
        """Count a request that failed the signature check; raises RateLimited (to answer 429
        rather than 401) once its address or the ikey it claims has spent its budget."""
        await self._decide(self._bad_signature, {"ip": ip, "ikey": claimed_ikey})

    async def admit_attempt(self, request: AuthRequest, *, guess: bool) -> Reservation:
        """Before an authentication (`guess`: a code or a key) or a preauth: raises RateLimited
        if the caller fails `admit_caller`, the named user is over its request rate, or the
        integration or the client IP has spent its failure budget; otherwise returns what the
        attempt holds, for `settle`. One round trip, one script call per subject."""
        steps = self.attempt_steps(request, guess=guess)
        decisions = await self._store.rate_limits.apply(steps, self._clock.now_ms()) \
            if steps else []
        return await self.conclude(request, steps, decisions)

    def attempt_steps(self, request: AuthRequest, *, guess: bool) -> list[RateStep]:
        """The steps `admit_attempt` runs, for a caller that sends them along with the decision
        (`store.attempts.decide_admitted`) and then calls `conclude`."""
        who = request.username.lower() if request.username is not None else request.user_id
        key = (guess, request.client_ip, request.integration.ikey, who)
        steps = self._known_steps.get(key)
        if steps is None:  # built once per caller and user (the user's subject is a SHA-256)
            steps = self._steps(self._attempt[guess], {
                "ip": request.client_ip, "ikey": request.integration.ikey,
                "user": secret_hash(who) if who else None})
            if len(self._known_steps) >= MAX_TIGHT:
                self._known_steps.clear()
            self._known_steps[key] = steps
        return steps

    def comfortable(self, steps: Sequence[RateStep]) -> bool:
        """True when this process last saw every budget of these subjects more than half full:
        then the admission may be sent in one write with the decision, which runs whatever the
        admission says (its answer is a 429 all the same if the admission refused).

        What that gives away, bounded: a subject is marked tight here as soon as a reply shows
        a reserve taken (less than half its budget left) or a refusal, and from then on its
        admission is awaited before any decision, as always. So the decisions that run although
        their admission refused are those sent by a process that had not yet heard that the
        subject's budget went below half (others spent it), at most the requests it has in
        flight for that subject at that moment; their failures are counted (reserved) like any
        other, the user's lockout count included, and their answer is the 429."""
        tight = self._tight
        if not tight:
            return True
        now_ms = self._clock.now_ms()
        for step in steps:
            until = tight.get((step.kind, step.subject))
            if until is not None:
                if until > now_ms:
                    return False
                del tight[(step.kind, step.subject)]
        return True

    async def conclude(self, request: AuthRequest, steps: Sequence[RateStep],
                       decisions: Sequence[RateDecision]) -> Reservation:
        """The admission's verdict from its decisions: raises RateLimited (after giving back
        what the other subjects reserved) or returns what the attempt holds, for `settle`."""
        if all(decision is ADMITTED for decision in decisions):  # honest load: nothing held
            return Reservation(request)
        held = frozenset(Limiter.of(step.kind, counter)
                         for step, decision in zip(steps, decisions, strict=True)
                         for counter in decision.taken)
        self._remember_tight(steps, decisions)
        refusal = _refusal(steps, decisions)
        if refusal is not None:
            await self._failures(request, held, RateMode.GIVE)
            raise refusal
        return Reservation(request, held)

    def _remember_tight(self, steps: Sequence[RateStep],
                        decisions: Sequence[RateDecision]) -> None:
        for step, decision in zip(steps, decisions, strict=True):
            if decision.taken or not decision.allowed:
                if len(self._tight) >= MAX_TIGHT:
                    self._tight.clear()
                window_ms = max(check.limit.seconds for check in step.checks) * 1000
                self._tight[(step.kind, step.subject)] = self._clock.now_ms() + window_ms

    async def settle(self, reservation: Reservation, *, failed: bool) -> None:
        """After the attempt: count a failed guess (unless it was reserved), or give a right
        guess's reservation back. Never raises: the answer is decided; a lost count is logged."""
        request, held = reservation.request, reservation.held
        try:
            if failed:
                await self._failures(request, frozenset(FAILURES) - held, RateMode.TAKE)
            elif held:
                await self._failures(request, held, RateMode.GIVE)
        except StoreUnavailable as exc:
            log.warning("rate limits: an attempt's outcome was not counted: %s", exc)

    async def unknown_user(self) -> None:
        """A preauth named nobody; raises RateLimited once the global budget is spent."""
        await self._decide(self._unknown, {"all": ALL})

    async def _failures(self, request: AuthRequest, which: frozenset[Limiter],
                        mode: RateMode) -> None:
        if which:
            await self._run(self._plan((limiter, mode) for limiter in which),
                            {"ip": request.client_ip, "ikey": request.integration.ikey})

    @staticmethod
    def _steps(plan: Plan, subjects: Mapping[str, str | None]) -> list[RateStep]:
        return [RateStep(kind, subject, checks) for kind, checks in plan
                if (subject := subjects.get(kind))]

    async def _run(self, plan: Plan, subjects: Mapping[str, str | None]
                   ) -> tuple[list[RateStep], list[RateDecision]]:
        """One script call per subject, in one round trip (none when every limiter is off)."""
        steps = self._steps(plan, subjects)
        if not steps:
            return [], []
        return steps, await self._store.rate_limits.apply(steps, self._clock.now_ms())

    async def _decide(self, plan: Plan, subjects: Mapping[str, str | None]) -> None:
        refusal = _refusal(*await self._run(plan, subjects))
        if refusal is not None:
            raise refusal


def _refusal(steps: Sequence[RateStep], decisions: Sequence[RateDecision]) -> RateLimited | None:
    """The 429 to answer if a step refused, naming the limit that refuses longest."""
    refused = [(decision.retry_after_ms, Limiter.of(step.kind, decision.refused))
               for step, decision in zip(steps, decisions, strict=True) if not decision.allowed]
    if not refused:
        return None
    retry_ms, limiter = max(refused)
    return RateLimited(limiter.detail, retry_after=math.ceil(retry_ms / 1000))
