"""Which rate limits a request meets, and what counts against them (the limiters are
`model.ratelimits.Limiter`, the counters `store/ratelimits.py`, the defaults `settings.py`).

Three moments, each one round trip to Redis:

- a signed Auth/Admin API request (`admit_caller`): the client IP's and the integration's
  request rates are counted, and the IP's failed-signature budget must not be spent; a request
  whose signature fails (`signature_failed`) counts against its IP and against the ikey it
  claims, and once either budget is spent it is answered 429 instead of 401. A correctly signed
  request is never refused for its ikey's failed signatures, so nobody can lock an integration
  out by forging requests in its name; an address that keeps failing is refused altogether.
- an authentication (`admit_attempt`, before anything is read): the user it names is counted
  across integrations, and a guess (a passcode, a security-key assertion) reserves one failure
  from the budgets of its integration and of its client IP, refused once either is spent; `settle`
  gives the reservation back when the guess was right, or counts the failure of an attempt that
  reserved nothing (a push for an unknown user). Reserving before the attempt, not counting after
  it, is what holds under concurrency: with "check, then count" every refill would let in as many
  guesses as the attacker has requests in flight. Honest attempts hold a reservation only while in
  flight, so the burst must exceed honest concurrency (the defaults: 200, against the benchmark's
  64 connections). A spray of wrong codes over many users, each under the lockout threshold, is
  refused once its integration or its address has spent the budget.
- a preauth for a username nobody has (`unknown_user`): one global budget, so enumerating names
  or filling the enrollment prompt is bounded whatever the number of integrations and addresses.

Subjects: IP addresses and ikeys as they are; usernames by their SHA-256 (a mistyped password in
a username field must not end up in a Redis key name).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.crypto import secret_hash
from authsvc.domain.auth_requests import AuthRequest
from authsvc.errors import RateLimited, StoreUnavailable
from authsvc.model.ratelimits import Limiter, RateLimit
from authsvc.model.verdicts import Verdict
from authsvc.store import RateCheck, RateDecision, RateMode, Store

log = logging.getLogger(__name__)
# The verdict reasons that are failed guesses (a wrong code, a key that did not verify).
FAILED_REASONS = frozenset({"invalid_passcode", "invalid_device", "possible_clone"})
ALL = "all"


def counts_as_failure(verdict: Verdict) -> bool:
    """True for a verdict that is a failed guess at a code or key."""
    return verdict.reason in FAILED_REASONS


@dataclass(frozen=True, slots=True)
class Reservation:
    """What an admitted attempt holds: the failure budgets it reserved (none for a preauth or
    a push), settled when its answer is known (`RateLimits.settle`)."""

    request: AuthRequest
    held: tuple[RateCheck, ...] = ()


class RateLimits:
    """The limiters of one process, as configured (a limiter set to None is off)."""

    def __init__(self, store: Store, clock: Clock,
                 limits: Mapping[Limiter, RateLimit | None]) -> None:
        self._store = store
        self._clock = clock
        self._limits = limits

    async def admit_caller(self, ip: str | None, ikey: str) -> None:
        """A correctly signed request; raises RateLimited if its address or integration is over
        its request rate, or its address has spent its failed-signature budget."""
        await self._decide(self._checks([(Limiter.IP, ip, RateMode.TAKE),
                                         (Limiter.BAD_SIGNATURES_IP, ip, RateMode.ASK),
                                         (Limiter.INTEGRATION, ikey, RateMode.TAKE)]))

    async def signature_failed(self, ip: str | None, claimed_ikey: str | None) -> None:
        """Count a request that failed the signature check; raises RateLimited (to answer 429
        rather than 401) once its address or the ikey it claims has spent its budget."""
        await self._decide(self._checks([(Limiter.IP, ip, RateMode.TAKE),
                                         (Limiter.BAD_SIGNATURES_IP, ip, RateMode.TAKE),
                                         (Limiter.BAD_SIGNATURES_IKEY, claimed_ikey,
                                          RateMode.TAKE)]))

    async def admit_attempt(self, request: AuthRequest, *, guess: bool) -> Reservation:
        """Before an authentication (`guess`: a code or a key) or a preauth: raises RateLimited
        if the named user is over its request rate, or the integration or the client IP has
        spent its failure budget; otherwise returns what the attempt holds, for `settle`."""
        mode = RateMode.TAKE if guess else RateMode.ASK
        who = request.username.lower() if request.username is not None else request.user_id
        checks = self._checks([(Limiter.USERNAME, secret_hash(who) if who else None, RateMode.TAKE),
                               (Limiter.FAILED_AUTH_INTEGRATION, request.integration.ikey, mode),
                               (Limiter.FAILED_AUTH_IP, request.client_ip, mode)])
        decisions = await self._store.rate_limits.check(checks, self._clock.now_ms()) \
            if checks else []
        held = tuple(check for check, decision in zip(checks, decisions, strict=True)
                     if decision.allowed and check.mode is RateMode.TAKE
                     and check.limiter != Limiter.USERNAME)
        refusal = _refusal(checks, decisions)
        if refusal is not None:
            await self._store.rate_limits.give_back(held, self._clock.now_ms())
            raise refusal
        return Reservation(request, held)

    async def settle(self, reservation: Reservation, *, failed: bool) -> None:
        """After the attempt: give a right guess's reservation back, or count a failure that
        reserved nothing. Never raises: the answer is decided, and a lost count is logged."""
        request, now_ms = reservation.request, self._clock.now_ms()
        try:
            if failed and not reservation.held:
                checks = self._checks([
                    (Limiter.FAILED_AUTH_INTEGRATION, request.integration.ikey, RateMode.TAKE),
                    (Limiter.FAILED_AUTH_IP, request.client_ip, RateMode.TAKE)])
                if checks:
                    await self._store.rate_limits.check(checks, now_ms)
            elif not failed and reservation.held:
                await self._store.rate_limits.give_back(reservation.held, now_ms)
        except StoreUnavailable as exc:
            log.warning("rate limits: an attempt's outcome was not counted: %s", exc)

    async def unknown_user(self) -> None:
        """A preauth named nobody; raises RateLimited once the global budget is spent."""
        await self._decide(self._checks([(Limiter.UNKNOWN_USERS, ALL, RateMode.TAKE)]))

    def _checks(self, wanted: Sequence[tuple[Limiter, str | None, RateMode]]
                ) -> list[RateCheck]:
        checks = []
        for limiter, subject, mode in wanted:
            limit = self._limits.get(limiter)
            if limit is not None and subject:
                checks.append(RateCheck(limiter.value, subject, limit, mode))
        return checks

    async def _decide(self, checks: Sequence[RateCheck]) -> None:
        if not checks:
            return
        refusal = _refusal(checks, await self._store.rate_limits.check(checks, self._clock.now_ms()))
        if refusal is not None:
            raise refusal


def _refusal(checks: Sequence[RateCheck], decisions: Sequence[RateDecision]) -> RateLimited | None:
    """The 429 to answer if any check refused: the one whose budget refills last."""
    refused = [(decision.retry_after_ms, check.limiter)
               for check, decision in zip(checks, decisions, strict=True) if not decision.allowed]
    if not refused:
        return None
    retry_ms, limiter = max(refused)
    return RateLimited(Limiter(limiter).detail, retry_after=math.ceil(retry_ms / 1000))
