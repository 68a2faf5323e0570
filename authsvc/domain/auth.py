"""Auth API decisions: preauth, and auth with a passcode.

One passcode attempt: resolve the user together with the account settings, load the user's
record and tokens, let every passcode factor compute what the code would consume, then one
script call decides and commits (lockout gate, at most one consumption, failure count). The
decision is then written to the authentication log.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from authsvc.clock import Clock
from authsvc.crypto import SecretBox
from authsvc.domain.account_settings import AccountSettings
from authsvc.domain.authlog import AttemptFacts, AuthLog
from authsvc.domain.models import Integration, UserStatus, Verdict
from authsvc.domain.verdicts import (
    BYPASS_USER,
    DISABLED,
    LOCKED,
    verdict_for_outcome,
)
from authsvc.errors import InvalidParameter
from authsvc.factors.base import PasscodeContext, PasscodeFactor
from authsvc.store import Store
from authsvc.store.attempts import LoadedUser, TokenCandidate
from authsvc.store.records import user_from_hash

MAX_PASSCODE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class AuthRequest:
    """Who is authenticating, from which application and access device."""

    integration: Integration
    username: str | None = None
    user_id: str | None = None
    ipaddr: str | None = None
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class PreauthResult:
    """The preauth answer: result, message, devices and (for enroll) the portal link."""

    result: str
    status_msg: str
    devices: list[dict[str, Any]] = field(default_factory=list)
    enroll_portal_url: str | None = None


@dataclass(frozen=True, slots=True)
class _Subject:
    user_id: str
    loaded: LoadedUser
    settings: AccountSettings
    name_used: str


class Authenticator:
    """Preauth and passcode authentication."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock, authlog: AuthLog,
                 factors: Sequence[PasscodeFactor], public_base_url: str) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._authlog = authlog
        self._factors = factors
        self._base_url = public_base_url

    async def _subject(self, request: AuthRequest) -> _Subject | None:
        attempts = self._store.attempts
        if request.user_id is not None:
            user_id: str | None = request.user_id
            settings = await attempts.settings()
            name_used = ""
        else:
            name_used = (request.username or "").strip().lower()
            user_id, settings = await attempts.resolve_with_settings(name_used)
        loaded = await attempts.load(user_id) if user_id else None
        if user_id is None or loaded is None:
            return None
        return _Subject(user_id, loaded, settings, name_used)

    def _facts(self, request: AuthRequest, subject: _Subject, now: float) -> AttemptFacts:
        fields = subject.loaded.fields
        username = fields.get("username", "")
        return AttemptFacts(
            txid=str(uuid.uuid4()), now=now, integration=request.integration,
            user_id=subject.user_id, username=username,
            alias=subject.name_used if subject.name_used not in ("", username) else "",
            email=fields.get("email", ""), ipaddr=request.ipaddr, hostname=request.hostname)

    async def preauth(self, request: AuthRequest) -> PreauthResult:
        """Decide whether the user may authenticate, and with which devices."""
        subject = await self._subject(request)
        if subject is None:
            return self._enroll(request)
        user = user_from_hash(subject.loaded.fields)
        now = self._clock.now()
        gate = _status_verdict(user.status, subject.loaded.fields, subject.settings, now)
        if gate is not None:
            await self._authlog.record(self._facts(request, subject, now), gate)
            return PreauthResult(gate.result.value, gate.status_msg)
        devices = [{"device": token.token_id, "type": "token", "name": token.serial}
                   for token in sorted(subject.loaded.tokens, key=lambda t: t.created)]
        if not devices and not await self._store.bypass.of_user(user.user_id, int(now * 1000)):
            return self._enroll(request)
        return PreauthResult("auth", "Account is active", devices)

    def _enroll(self, request: AuthRequest) -> PreauthResult:
        who = request.username or request.user_id or ""
        return PreauthResult(
            "enroll", "Enroll an authentication device to proceed",
            enroll_portal_url=f"{self._base_url}/frame/enroll?user={quote(who, safe='')}")

    async def passcode(self, request: AuthRequest, passcode: str) -> Verdict | None:
        """Verify one passcode; None when the user is unknown."""
        if not passcode or len(passcode) > MAX_PASSCODE_LENGTH or not passcode.isprintable():
            raise InvalidParameter("passcode")
        subject = await self._subject(request)
        if subject is None:
            return None
        now = self._clock.now()
        context = PasscodeContext(subject.user_id, subject.loaded.tokens, subject.settings, now,
                                  self._box)
        bypass_hash, candidates = "", list[TokenCandidate]()
        for factor in self._factors:
            contribution = factor.contribute(context, passcode)
            bypass_hash = bypass_hash or contribution.bypass_hash
            candidates.extend(contribution.tokens)
        outcome = await self._store.attempts.passcode(
            subject.user_id, now_ms=int(now * 1000), settings=subject.settings,
            bypass_hash=bypass_hash, candidates=candidates)
        verdict = verdict_for_outcome(outcome)
        await self._authlog.record(self._facts(request, subject, now), verdict)
        return verdict


def _status_verdict(status: UserStatus, fields: dict[str, str], settings: AccountSettings,
                    now: float) -> Verdict | None:
    """The verdict a user's status forces before any factor, or None (go on)."""
    if status is UserStatus.DISABLED:
        return DISABLED
    if status is UserStatus.BYPASS:
        return BYPASS_USER
    if status is UserStatus.LOCKED_OUT:
        locked_at = int(fields.get("locked_at") or 0)
        expire_ms = settings.lockout_expire_ms
        if not expire_ms or locked_at + expire_ms > now * 1000:
            return LOCKED
    return None

