"""Duo Push: create a push (fatigue limits, Verified Push), wait for its end, report its status.

A push lives in the user's slot and is ended exactly once by push_resolve.lua: by the phone's
answer (device API, possibly in another process) or by its time running out (whoever notices
first: a waiting request, auth_status, the phone's inbox listing, the next push). Whoever ends it
writes the authentication-log record, from the facts stored with the push, so every decision is
logged once. Phone calls live the same way (kind "call", answered through the carrier).
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from dataclasses import dataclass, field

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, random_digits
from authsvc.domain.authlog import AuthLog
from authsvc.domain.events import Waiters
from authsvc.domain.verdicts import BYPASS_USER, DISABLED, LOCKED, UNKNOWN_USER
from authsvc.errors import GroupsChanged, InvalidParameter, ServiceStopping
from authsvc.model.authlog import AttemptFacts
from authsvc.model.factors import LogFactor
from authsvc.model.groups import NO_GROUPS, GateArgs
from authsvc.model.pushes import (
    CreateStatus,
    Push,
    PushKind,
    PushLimits,
    PushOperation,
    PushState,
    ResolveStatus,
)
from authsvc.model.settings import AccountSettings
from authsvc.model.verdicts import Result, Verdict
from authsvc.store import Store

STEP_UP_TRIES = 3
MAX_STATUS_WAIT_S = 60.0
STEP_UP_PURPOSE = "stepup"
PUSH, CALL = LogFactor.DUO_PUSH, LogFactor.PHONE_CALL

PENDING = Verdict(Result.WAITING, "pushed", "Pushed a login request to your device...", "", PUSH)
_ENDED = {
    PushState.APPROVED: Verdict(Result.ALLOW, "allow", "Success. Logging you in...",
                                "user_approved", PUSH),
    PushState.DENIED: Verdict(Result.DENY, "deny", "Login request denied.", "user_cancelled",
                              PUSH),
    PushState.FRAUD: Verdict(Result.DENY, "fraud", "Login request reported as fraudulent.",
                             "user_marked_fraud", PUSH),
    PushState.TIMEOUT: Verdict(Result.DENY, "timeout", "Login timed out.", "no_response", PUSH),
}
TOO_MANY = Verdict(Result.DENY, "deny", "Too many login requests are waiting for an answer.",
                   "frequent_attempts", PUSH)
COOLING_DOWN = Verdict(Result.DENY, "deny",
                       "Too many unanswered login requests; try again later.",
                       "anomalous_push", PUSH)
_REFUSALS = {CreateStatus.LOCKED: LOCKED, CreateStatus.DISABLED: DISABLED,
             CreateStatus.BYPASS_USER: BYPASS_USER, CreateStatus.NO_USER: UNKNOWN_USER,
             CreateStatus.TOO_MANY_OUTSTANDING: TOO_MANY, CreateStatus.COOLING_DOWN: COOLING_DOWN}
CALLING = Verdict(Result.WAITING, "calling", "Calling your phone...", "", CALL)
ANSWERED = Verdict(Result.WAITING, "answered", "Answered. Press a key on your phone to log in.",
                   "", CALL)


def verdict_of(push: Push) -> Verdict:
    """The Auth API answer for a push's (or a phone call's) stored state."""
    call = push.kind is PushKind.CALL
    if push.waiting:
        if call:
            return ANSWERED if push.answered else CALLING
        return PENDING
    ended = _ENDED.get(push.state, _ENDED[PushState.DENIED])
    return Verdict(ended.result, ended.status, ended.status_msg, push.reason or ended.reason,
                   CALL if call else PUSH, device=push.phone_id)


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One push to send: to whom, on which phone, with what the phone shows."""

    user_id: str
    phone_id: str
    facts: AttemptFacts
    kind: PushKind = PushKind.AUTH
    type: str = "login"
    display_username: str = ""
    pushinfo: list[tuple[str, str]] = field(default_factory=list)
    verified_txid: str | None = None
    confirmation_code: str = ""
    call_token: str = ""
    gate: GateArgs = NO_GROUPS
    """What the user's groups impose, and the membership version read (push_create.lua)."""


@dataclass(frozen=True, slots=True)
class Started:
    """A push that was sent (txid), or the verdict that refused it."""

    txid: str
    refused: Verdict | None = None


def limits_of(settings: AccountSettings) -> PushLimits:
    """The fatigue limits push_create.lua enforces."""
    return PushLimits(lockout_expire_ms=settings.lockout_expire_ms,
                      max_outstanding=settings.push_max_outstanding,
                      cooldown_after=settings.push_cooldown_after,
                      cooldown_ms=settings.push_cooldown_ms)


class PushService:
    """Create pushes, wait for them, answer auth_status."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock, authlog: AuthLog,
                 waiters: Waiters) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._authlog = authlog
        self._waiters = waiters

    def step_up_hash(self, txid: str, code: str) -> str:
        return self._box.code_hash(STEP_UP_PURPOSE, txid, code)

    async def prepare_verified(self, user_id: str, digits: int,
                               settings: AccountSettings) -> tuple[str, str, int]:
        """Preauth's Verified Push: (txid, the code to show, expiration in unix seconds)."""
        txid, code = str(uuid.uuid4()), random_digits(digits)
        expires_ms = self._clock.now_ms() + settings.push_timeout_ms
        await self._store.pushes.prepare(user_id, txid, code_hash=self.step_up_hash(txid, code),
                                         digits=digits, expires_ms=expires_ms)
        return txid, code, expires_ms // 1000

    async def start(self, request: PushRequest, settings: AccountSettings) -> Started:
        """Create the push and put it in the phone's inbox, unless refused."""
        push = self._new_push(request, settings)
        await self._expire_overdue(request.user_id, self._clock.now_ms())
        status, _ = await self._store.pushes.create(
            push, now_ms=self._clock.now_ms(), limits=limits_of(settings),
            prepared=request.verified_txid is not None, gate=request.gate)
        if status is CreateStatus.STALE:
            raise GroupsChanged()
        if status is CreateStatus.NO_PREPARED_TX:
            raise InvalidParameter("txid (unknown or expired Verified Push transaction)")
        if status is not CreateStatus.CREATED:
            refusal = _REFUSALS.get(status, UNKNOWN_USER)
            if push.facts is not None:
                await self._authlog.record(push.facts, refusal, self._clock.now())
            return Started(push.txid, refusal)
        if push.kind is PushKind.CALL:  # a call is answered through the carrier, not the app
            await self._store.pushes.index(push.user_id, push.txid, push.expires_ms)
        else:
            await self._store.pushes.deliver(push.user_id, push.txid, push.phone_id, push.urgid,
                                             push.expires_ms)
        return Started(push.txid)

    def _new_push(self, request: PushRequest, settings: AccountSettings) -> Push:
        txid = request.verified_txid or request.facts.txid
        facts = dataclasses.replace(request.facts, txid=txid)
        call = request.kind is PushKind.CALL
        timeout_ms = settings.call_timeout_ms if call else settings.push_timeout_ms
        return Push(
            txid=txid, user_id=request.user_id, kind=request.kind, phone_id=request.phone_id,
            urgid=secrets.token_hex(10), expires_ms=self._clock.now_ms() + timeout_ms,
            type=request.type, display_username=request.display_username or facts.username,
            pushinfo=request.pushinfo, app=facts.app_name, ipaddr=facts.ipaddr or "",
            confirmation_code=request.confirmation_code, call_token=request.call_token,
            facts=facts)

    async def _expire_overdue(self, user_id: str, now_ms: int) -> None:
        for txid in await self._store.pushes.expired_outstanding(user_id, now_ms):
            await self.expire(user_id, txid)

    async def expire(self, user_id: str, txid: str) -> None:
        """End the push as timed out if its time has run out (and log it, once)."""
        resolution = await self._store.pushes.resolve(
            user_id, txid, now_ms=self._clock.now_ms(), operation=PushOperation.EXPIRE)
        if resolution.status is ResolveStatus.ENDED:
            await self.log_end(user_id, txid)

    async def log_end(self, user_id: str, txid: str) -> None:
        """Write the log record of a push that just ended."""
        push = await self._store.pushes.read(user_id, txid)
        if push.facts is not None:
            await self._authlog.record(push.facts, verdict_of(push), self._clock.now())

    async def wait_final(self, user_id: str, txid: str) -> Verdict:
        """Block until the push has ended (answer or timeout); the final verdict."""
        seen = "1"
        while True:
            if self._waiters.closed:
                raise ServiceStopping()
            push, changed = await self._wait_change(user_id, txid, seen_seq=seen)
            if not push.exists:
                return _ENDED[PushState.TIMEOUT]
            if not push.waiting:
                return verdict_of(push)
            seen = push.seq or seen
            if not changed or self._overdue(push):
                await self.expire(user_id, txid)

    async def status(self, user_id: str, txid: str) -> Verdict:
        """auth_status's long poll: at once if the state changed since the caller's last poll,
        else after the next change or a bounded wait."""
        push = await self._store.pushes.read(user_id, txid)
        if push.seq != push.polled_seq:
            await self._store.pushes.mark_polled(user_id, txid, push.seq)
            return verdict_of(push)
        push, _ = await self._wait_change(user_id, txid, seen_seq=push.seq)
        if push.waiting and self._overdue(push):
            await self.expire(user_id, txid)
            push = await self._store.pushes.read(user_id, txid)
        await self._store.pushes.mark_polled(user_id, txid, push.seq)
        return verdict_of(push)

    def _overdue(self, push: Push) -> bool:
        return self._clock.now_ms() >= push.expires_ms

    async def _wait_change(self, user_id: str, txid: str, seen_seq: str) -> tuple[Push, bool]:
        with self._waiters.watch(f"tx:{txid}") as event:
            push = await self._store.pushes.read(user_id, txid)
            if push.seq != seen_seq or push.state is not PushState.PENDING:
                return push, True
            remaining = (push.expires_ms - self._clock.now_ms()) / 1000
            changed = await self._clock.wait(event, min(max(remaining, 0.0) + 0.05,
                                                        MAX_STATUS_WAIT_S))
        return await self._store.pushes.read(user_id, txid), changed
