"""Duo Push: create a push (fatigue limits, Verified Push), wait for its end, report its status.

A push lives in the user's slot and is ended exactly once by push_resolve.lua: by the phone's
answer (device API, possibly in another process) or by its time running out (whoever notices
first: a waiting request, auth_status, the phone's inbox listing, the next push). Whoever ends it
writes the authentication-log record, from the facts stored with the push, so every decision is
logged once.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, random_digits
from authsvc.domain.account_settings import AccountSettings
from authsvc.domain.authlog import AttemptFacts, AuthLog
from authsvc.domain.events import Waiters, wait_for
from authsvc.domain.models import Result, Verdict
from authsvc.domain.verdicts import BYPASS_USER, DISABLED, LOCKED, UNKNOWN_USER
from authsvc.errors import InvalidParameter, ServiceStopping
from authsvc.store import Store
from authsvc.store.pushes import CreateStatus, PushLimits, ResolveStatus

STEP_UP_TRIES = 3
MAX_STATUS_WAIT_S = 60.0
STEP_UP_PURPOSE = "stepup"

PENDING = Verdict(Result.WAITING, "pushed", "Pushed a login request to your device...", "", "duo_push")
_ENDED = {
    "approved": Verdict(Result.ALLOW, "allow", "Success. Logging you in...", "user_approved",
                        "duo_push"),
    "denied": Verdict(Result.DENY, "deny", "Login request denied.", "user_cancelled", "duo_push"),
    "fraud": Verdict(Result.DENY, "fraud", "Login request reported as fraudulent.",
                     "user_marked_fraud", "duo_push"),
    "timeout": Verdict(Result.DENY, "timeout", "Login timed out.", "no_response", "duo_push"),
}
TOO_MANY = Verdict(Result.DENY, "deny", "Too many login requests are waiting for an answer.",
                   "frequent_attempts", "duo_push")
COOLING_DOWN = Verdict(Result.DENY, "deny",
                       "Too many unanswered login requests; try again later.",
                       "anomalous_push", "duo_push")
_REFUSALS = {CreateStatus.LOCKED: LOCKED, CreateStatus.DISABLED: DISABLED,
             CreateStatus.BYPASS_USER: BYPASS_USER, CreateStatus.NO_USER: UNKNOWN_USER,
             CreateStatus.TOO_MANY_OUTSTANDING: TOO_MANY, CreateStatus.COOLING_DOWN: COOLING_DOWN}


CALLING = Verdict(Result.WAITING, "calling", "Calling your phone...", "", "phone_call")
ANSWERED = Verdict(Result.WAITING, "answered", "Answered. Press a key on your phone to log in.",
                   "", "phone_call")


def verdict_of(push: Mapping[str, str]) -> Verdict:
    """The Auth API answer for a push's (or a phone call's) stored state."""
    state = push.get("state", "")
    call = push.get("kind") == "call"
    if state in ("pending", "prepared"):
        if call:
            return ANSWERED if push.get("answered") else CALLING
        return PENDING
    ended = _ENDED.get(state, _ENDED["denied"])
    reason = push.get("reason") or ended.reason
    return Verdict(ended.result, ended.status, ended.status_msg, reason,
                   "phone_call" if call else "duo_push", device=push.get("phone_id", ""))


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One push to send: to whom, on which phone, with what the phone shows."""

    user_id: str
    phone_id: str
    facts: AttemptFacts
    kind: str = "auth"
    type: str = "login"
    display_username: str = ""
    pushinfo: list[tuple[str, str]] = field(default_factory=list)
    verified_txid: str | None = None
    confirmation_code: str = ""
    call_token: str = ""


@dataclass(frozen=True, slots=True)
class Started:
    """A push that was sent (txid), or the verdict that refused it."""

    txid: str
    refused: Verdict | None = None


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

    async def prepare_verified(self, user_id: str, digits: int) -> tuple[str, str, int]:
        """Preauth's Verified Push: (txid, the code to show, expiration in unix seconds)."""
        txid, code = str(uuid.uuid4()), random_digits(digits)
        settings = await self._store.account.get()
        expires_ms = self._clock.now_ms() + settings.push_timeout_ms
        await self._store.pushes.prepare(user_id, txid, {
            "code_hash": self.step_up_hash(txid, code), "digits": str(digits)}, expires_ms)
        return txid, code, expires_ms // 1000

    async def start(self, request: PushRequest, settings: AccountSettings) -> Started:
        """Create the push and put it in the phone's inbox, unless refused."""
        txid = request.verified_txid or request.facts.txid
        request = dataclasses.replace(request, facts=dataclasses.replace(request.facts, txid=txid))
        urgid = secrets.token_hex(10)
        now_ms = self._clock.now_ms()
        timeout_ms = settings.call_timeout_ms if request.kind == "call" else settings.push_timeout_ms
        expires_ms = now_ms + timeout_ms
        await self._expire_overdue(request.user_id, now_ms)
        status, _ = await self._store.pushes.create(
            request.user_id, txid, now_ms=now_ms, expires_ms=expires_ms,
            limits=_limits(settings), prepared=request.verified_txid is not None,
            fields=_push_fields(request, urgid))
        if status is CreateStatus.NO_PREPARED_TX:
            raise InvalidParameter("txid (unknown or expired Verified Push transaction)")
        if status is not CreateStatus.CREATED:
            refusal = _REFUSALS.get(status, UNKNOWN_USER)
            await self._authlog.record(request.facts, refusal, self._clock.now())
            return Started(txid, refusal)
        if request.kind == "call":  # a call is answered through the carrier, not the app
            await self._store.pushes.index(request.user_id, txid, expires_ms)
        else:
            await self._store.pushes.deliver(request.user_id, txid, request.phone_id, urgid,
                                             expires_ms)
        return Started(txid)

    async def _expire_overdue(self, user_id: str, now_ms: int) -> None:
        for txid in await self._store.pushes.expired_outstanding(user_id, now_ms):
            await self.expire(user_id, txid)

    async def expire(self, user_id: str, txid: str) -> None:
        """End the push as timed out if its time has run out (and log it, once)."""
        resolution = await self._store.pushes.resolve(
            user_id, txid, now_ms=self._clock.now_ms(), operation="expire")
        if resolution.status is ResolveStatus.ENDED:
            await self.log_end(user_id, txid)

    async def log_end(self, user_id: str, txid: str) -> None:
        """Write the log record of a push that just ended."""
        push = await self._store.pushes.read(user_id, txid)
        facts = AttemptFacts(**json.loads(push.get("facts") or "{}"))
        await self._authlog.record(facts, verdict_of(push), self._clock.now())

    async def wait_final(self, user_id: str, txid: str) -> Verdict:
        """Block until the push has ended (answer or timeout); the final verdict."""
        seen = "1"
        while True:
            if self._waiters.closed:
                raise ServiceStopping()
            push, changed = await self._wait_change(user_id, txid, seen_seq=seen)
            verdict = verdict_of(push)
            if verdict.result is not Result.WAITING or not push:
                return verdict if push else _ENDED["timeout"]
            seen = push.get("seq", seen)
            if not changed or self._overdue(push):
                await self.expire(user_id, txid)

    async def status(self, user_id: str, txid: str) -> Verdict:
        """auth_status's long poll: at once if the state changed since the caller's last poll,
        else after the next change or a bounded wait."""
        push = await self._store.pushes.read(user_id, txid)
        if push.get("seq") != push.get("polled_seq"):
            await self._store.pushes.mark_polled(user_id, txid, push.get("seq", ""))
            return verdict_of(push)
        push, _ = await self._wait_change(user_id, txid, seen_seq=push.get("seq", ""))
        if verdict_of(push).result is Result.WAITING and self._overdue(push):
            await self.expire(user_id, txid)
            push = await self._store.pushes.read(user_id, txid)
        await self._store.pushes.mark_polled(user_id, txid, push.get("seq", ""))
        return verdict_of(push)

    def _overdue(self, push: Mapping[str, str]) -> bool:
        return self._clock.now_ms() >= int(push.get("expires_ms") or 0)

    async def _wait_change(self, user_id: str, txid: str,
                           seen_seq: str) -> tuple[dict[str, str], bool]:
        with self._waiters.watch(f"tx:{txid}") as event:
            push = await self._store.pushes.read(user_id, txid)
            if not push or push.get("seq") != seen_seq or push.get("state") != "pending":
                return push, True
            remaining = (int(push["expires_ms"]) - self._clock.now_ms()) / 1000
            changed = await wait_for(event, min(max(remaining, 0.0) + 0.05, MAX_STATUS_WAIT_S))
        return await self._store.pushes.read(user_id, txid), changed


def _limits(settings: AccountSettings) -> PushLimits:
    values = settings.values
    return PushLimits(lockout_expire_ms=settings.lockout_expire_ms,
                      max_outstanding=int(values["push_max_outstanding"]),
                      cooldown_after=int(values["push_cooldown_after"]),
                      cooldown_ms=int(values["push_cooldown_minutes"]) * 60_000)


def _push_fields(request: PushRequest, urgid: str) -> dict[str, str]:
    facts = request.facts
    return {
        "kind": request.kind, "phone_id": request.phone_id, "urgid": urgid,
        "type": request.type, "display_username": request.display_username or facts.username,
        "pushinfo": json.dumps(request.pushinfo), "app": facts.app_name,
        "ipaddr": facts.ipaddr or "", "confirmation_code": request.confirmation_code,
        "call_token": request.call_token,
        "facts": json.dumps(dataclasses.asdict(facts)),
    }

