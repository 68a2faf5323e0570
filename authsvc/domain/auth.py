"""The Auth API's decision flow: `Authenticator.auth(request) -> AuthAnswer` for every factor,
synchronous or `async=1`, and `status(txid)` for the long poll. The Auth API, the portals and the
web prompt call these and nothing else.

A passcode: load the user (one round trip), let every passcode factor compute what the code
would consume, then one script call decides and commits (lockout gate, at most one consumption,
failure count). A security key: verify the assertion (challenge taken once), then the same
script compares and sets its sign count. An out-of-band factor: a push or call is created by
push_create.lua and ended by push_resolve.lua (`domain/push.py`); a synchronous request waits
for its end. Every decision is written to the authentication log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence

from authsvc.clock import Clock
from authsvc.crypto import SecretBox
from authsvc.domain.auth_requests import (
    AuthAnswer,
    AuthRequest,
    OutOfBand,
    Passcode,
    Proof,
    U2fResponse,
    WebauthnAssertion,
)
from authsvc.domain.authlog import AuthLog
from authsvc.domain.out_of_band import OutOfBandSender
from authsvc.domain.push import PENDING, PushService
from authsvc.domain.ratelimits import RateLimits, Reservation, counts_as_failure
from authsvc.domain.security_keys import SecurityKeys
from authsvc.domain.subjects import Subject, Subjects, UnknownUser, known
from authsvc.domain.transactions import Transactions
from authsvc.domain.verdicts import (
    BYPASS_USER,
    UNKNOWN_USER,
    key_verdict,
    passcode_verdict,
    permitted_verdict,
    restricted,
    status_verdict,
)
from authsvc.errors import GroupsChanged, MissingParameter
from authsvc.factors import PasscodeFactor, passcode_factors
from authsvc.factors.base import PasscodeContext
from authsvc.model.attempts import AttemptStatus, Match
from authsvc.model.factors import FactorKind, LogFactor
from authsvc.model.verdicts import Verdict
from authsvc.store import RedisError, Store

log = logging.getLogger(__name__)
STALE_RETRIES = 3
# Replies after which nothing was decided: decide again from a fresh load.
_NOT_DECIDED = frozenset({AttemptStatus.STALE, AttemptStatus.STALE_VIEW, AttemptStatus.NO_USER})


class Authenticator:
    """`auth` with every factor, and `auth_status`."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock, authlog: AuthLog,
                 subjects: Subjects, pushes: PushService, out_of_band: OutOfBandSender,
                 security_keys: SecurityKeys, transactions: Transactions, limits: RateLimits,
                 factors: Sequence[PasscodeFactor] | None = None) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._authlog = authlog
        self._subjects = subjects
        self._pushes = pushes
        self._out_of_band = out_of_band
        self._keys = security_keys
        self._transactions = transactions
        self._limits = limits
        self._factors = passcode_factors() if factors is None else tuple(factors)
        self._finding: set[asyncio.Task[Subject | None]] = set()  # loads under way (_admitted)

    async def auth(self, request: AuthRequest) -> AuthAnswer:
        """Decide (or, for a push with `run_async`, start) one authentication; raises
        UnknownUser when the request names nobody, RateLimited when a rate limit refuses.

        A decision computed from the user's groups is committed only if they did not change
        meanwhile (the scripts compare the user's membership version); when they did, nothing
        was done and the attempt is decided again from a fresh load, up to `STALE_RETRIES`
        times (then GroupsChanged, a 503).

        A passcode for a user this process has seen, while the caller's budgets are
        comfortable, is one round trip (`_passcode_warm`); otherwise the admission and the
        load are awaited together (`_admitted`), then the decision."""
        proof = request.proof
        if proof is None:
            raise MissingParameter("factor")
        reservation: Reservation | None = None
        answer: AuthAnswer | None = None
        if isinstance(proof, Passcode):
            proof.check()
            reservation, answer = await self._passcode_warm(request, proof.code)
        found: asyncio.Task[Subject | None] | None = None
        if reservation is None:
            reservation, found = await self._admitted(request, proof)
        failed = False  # other errors (bad input, Redis gone) are not failed guesses
        try:
            if answer is None:
                answer = await self._decide_fresh(request, proof, found)
            failed = counts_as_failure(answer.verdict)
            return answer
        except UnknownUser:
            failed = True
            raise
        finally:
            await self._limits.settle(reservation, failed=failed)

    async def _passcode_warm(self, request: AuthRequest, code: str
                             ) -> tuple[Reservation | None, AuthAnswer | None]:
        """One round trip: the admission, the settings' version and the decision computed from
        this process's copy of the user, pipelined. (None, None) when the copy or the budgets
        do not allow it; (reservation, None) when the copy was stale (nothing was decided: the
        caller decides from a fresh load, already admitted)."""
        subject = self._subjects.warm(request)
        if subject is None or permitted_verdict(request.integration, subject.standing):
            return None, None
        steps = self._limits.attempt_steps(request, guess=True)
        if not self._limits.comfortable(steps):
            return None, None
        now = self._clock.now()
        matches = self._matches(subject, code, now)
        decisions, outcome, version = await self._store.attempts.decide_admitted(
            subject.user_id, steps, now_ms=int(now * 1000), settings=subject.settings,
            matches=matches, gate=subject.standing.gate, view=subject.loaded.view)
        await self._settings_at(version)
        if outcome.status in _NOT_DECIDED:
            if outcome.current is None:
                self._subjects.forget(subject.user_id)
                return await self._limits.conclude(request, steps, decisions), None
            subject = self._subjects.caught_up(subject, outcome.current)
            reservation = await self._limits.conclude(request, steps, decisions)
            return reservation, await self._again_caught_up(request, subject, code)
        self._subjects.decided(subject, matches, outcome)
        verdict = passcode_verdict(outcome)
        await self._authlog.record(subject.facts(request), verdict, now)
        reservation = await self._limits.conclude(request, steps, decisions)
        return reservation, await self._final(request, subject, verdict)

    async def _admitted(self, request: AuthRequest, proof: Proof
                        ) -> tuple[Reservation, asyncio.Task[Subject | None]]:
        """The admission (raises RateLimited), with the subject's load started beside it: the
        lean client sends what one event-loop turn queued in one write, so a cold attempt waits
        for one round trip less. The load only reads: a request the admission refuses costs a
        read more, nothing else."""
        finding = asyncio.get_running_loop().create_task(self._subjects.find(request))
        self._finding.add(finding)
        finding.add_done_callback(self._found)
        reservation = await self._limits.admit_attempt(
            request, guess=not isinstance(proof, OutOfBand))
        return reservation, finding

    def _found(self, finding: asyncio.Task[Subject | None]) -> None:
        self._finding.discard(finding)
        if not finding.cancelled():
            finding.exception()  # seen: nobody awaits it when the admission refused first

    async def _again_caught_up(self, request: AuthRequest, subject: Subject,
                               code: str) -> AuthAnswer | None:
        """Decide again from the counters a refusal of stale counters answered with (one round
        trip, where a load would be two); None if the state moved again (the caller loads)."""
        try:
            verdict = await self._passcode(request, subject, code)
        except GroupsChanged:
            return None
        return await self._final(request, subject, verdict)

    async def _decide_fresh(self, request: AuthRequest, proof: Proof,
                            found: Awaitable[Subject | None] | None = None) -> AuthAnswer:
        """Decide from a fresh load (`found`: one already under way), again from another when
        the groups moved meanwhile."""
        verified: dict[str, Match | None] = {}  # a security key's assertion is checked once
        for _ in range(STALE_RETRIES):
            loading, found = found or self._subjects.find(request), None
            subject = known(request, await loading)
            with contextlib.suppress(GroupsChanged):
                return await self._decide(request, subject, proof, verified)
        raise GroupsChanged()

    async def _decide(self, request: AuthRequest, subject: Subject, proof: Proof,
                      verified: dict[str, Match | None]) -> AuthAnswer:
        refusal = permitted_verdict(request.integration, subject.standing)
        if refusal is not None:
            await self._authlog.record(subject.facts(request), refusal, self._clock.now())
            return await self._final(request, subject, refusal)
        if isinstance(proof, OutOfBand):
            return await self._out_of_band_answer(request, subject, proof)
        if isinstance(proof, Passcode):
            verdict = await self._passcode(request, subject, proof.code)
        else:
            verdict = await self._security_key(request, subject, proof, verified)
        if verdict is UNKNOWN_USER:  # deleted between the load and the decision
            raise UnknownUser("user_id" if request.user_id is not None else "username")
        return await self._final(request, subject, verdict)

    async def status(self, txid: str) -> AuthAnswer:
        """`auth_status`: a finished answer at once, a push's after a bounded long poll."""
        return await self._transactions.status(txid)

    async def _final(self, request: AuthRequest, subject: Subject, verdict: Verdict,
                     txid: str | None = None) -> AuthAnswer:
        if verdict is BYPASS_USER:  # let through: that is the user's last login
            await self._store.counts.seen(subject.user_id, self._clock.now_ms())
        if request.run_async:
            txid = await self._transactions.finished(verdict, txid)
        return AuthAnswer(verdict, txid or "", subject.user_id)

    async def _gate(self, request: AuthRequest, subject: Subject) -> Verdict | None:
        """The logged verdict the user's effective status forces before any factor, or None."""
        now = self._clock.now()
        gate = status_verdict(subject.user, subject.settings, now, subject.standing)
        if gate is not None:
            await self._authlog.record(subject.facts(request), gate, now)
        return gate

    async def _settings_at(self, version: str | None | RedisError) -> None:
        """Follow the settings' version read with a decision (re-read only when it moved); a
        failed read leaves the settings as they are (the decision already stands)."""
        if isinstance(version, RedisError):
            log.warning("settings version not read: %s", version)
        elif not self._store.account.is_current(version):
            await self._store.account.for_version(version)

    def _matches(self, subject: Subject, code: str, now: float) -> list[Match]:
        """What `code` would consume. A user whose status already decides the attempt costs no
        HMAC work: the script still takes the decision (atomically, on the current status) with
        nothing to consume. A factor the user's groups turn off matches nothing."""
        matches: list[Match] = []
        standing = subject.standing
        if status_verdict(subject.user, subject.settings, now, standing) is None:
            context = PasscodeContext(subject.user_id, subject.loaded.tokens,
                                      subject.loaded.mobile_otp, subject.settings, now, self._box)
            for factor in self._factors:
                if standing.allows(factor.kind):
                    matches += factor.matches(context, code)
        return matches

    async def _passcode(self, request: AuthRequest, subject: Subject, code: str) -> Verdict:
        now = self._clock.now()
        matches = self._matches(subject, code, now)
        outcome = await self._store.attempts.decide(
            subject.user_id, now_ms=int(now * 1000), settings=subject.settings, matches=matches,
            gate=subject.standing.gate, view=subject.loaded.view)
        if outcome.status in _NOT_DECIDED:  # changed since the load: load again
            self._subjects.forget(subject.user_id)
            raise GroupsChanged()
        self._subjects.decided(subject, matches, outcome)
        verdict = passcode_verdict(outcome)
        await self._authlog.record(subject.facts(request), verdict, now)
        return verdict

    async def _security_key(self, request: AuthRequest, subject: Subject,
                            proof: WebauthnAssertion | U2fResponse,
                            verified: dict[str, Match | None]) -> Verdict:
        gate = await self._gate(request, subject)
        if gate is not None:
            return gate
        webauthn = isinstance(proof, WebauthnAssertion)
        kind, log_name = ((FactorKind.WEBAUTHN, LogFactor.WEBAUTHN) if webauthn
                          else (FactorKind.U2F, LogFactor.U2F))
        if not subject.standing.allows(kind):
            refusal = restricted(log_name)
            await self._authlog.record(subject.facts(request), refusal, self._clock.now())
            return refusal
        if "match" not in verified:  # the challenge is taken by the first check
            verified["match"] = await (
                self._keys.webauthn_match(subject.user_id, proof)
                if isinstance(proof, WebauthnAssertion)
                else self._keys.u2f_match(subject.user_id, proof))
        match = verified["match"]
        now = self._clock.now()
        outcome = await self._store.attempts.decide(
            subject.user_id, now_ms=int(now * 1000), settings=subject.settings,
            matches=[match] if match else [], gate=subject.standing.gate)
        if outcome.status is AttemptStatus.STALE:
            raise GroupsChanged()
        verdict = key_verdict(outcome, log_name)
        await self._authlog.record(subject.facts(request), verdict, now)
        return verdict

    async def _out_of_band_answer(self, request: AuthRequest, subject: Subject,
                                  proof: OutOfBand) -> AuthAnswer:
        gate = await self._gate(request, subject)
        if gate is not None:
            return await self._final(request, subject, gate)
        started = await self._out_of_band.send(request, subject, proof)
        if started.refused is not None:
            return await self._final(request, subject, started.refused, started.txid)
        if request.run_async:
            return AuthAnswer(PENDING, started.txid, subject.user_id)
        verdict = await self._pushes.wait_final(subject.user_id, started.txid, started.waiter,
                                                started.expires_ms)
        return AuthAnswer(verdict, started.txid, subject.user_id)
