"""Auth API decisions: preauth, auth with a passcode, and auth with a push.

One passcode attempt: resolve the user together with the account settings, load the user's
record, tokens and Duo Mobile passcode state, let every passcode factor compute what the code
would consume, then one script call decides and commits (lockout gate, at most one consumption,
failure count). The decision is then written to the authentication log.

A push is created by push_create.lua (status gate and fatigue limits) and ended by
push_resolve.lua; see `domain/push.py`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from authsvc.clock import Clock
from authsvc.crypto import SecretBox
from authsvc.domain.account_settings import AccountSettings
from authsvc.domain.auth_requests import AuthRequest, PreauthResult, PushOptions, mask_number
from authsvc.domain.authlog import AttemptFacts, AuthLog
from authsvc.domain.links import Links
from authsvc.domain.models import Phone, Verdict
from authsvc.domain.push import PushRequest, PushService, Started
from authsvc.domain.security_keys import Checked
from authsvc.domain.telephony import (
    SENT,
    SMS_COOLDOWN,
    SMS_DAILY_LIMIT,
    PhoneCalls,
    SmsPasscodes,
    restricted,
)
from authsvc.domain.unenrolled import UnenrolledLockout
from authsvc.domain.verdicts import LOCKED, key_verdict, status_verdict, verdict_for_outcome
from authsvc.errors import InvalidParameter
from authsvc.factors.base import PasscodeContext, PasscodeFactor
from authsvc.store import Store
from authsvc.store.attempts import LoadedUser, TokenCandidate
from authsvc.store.records import user_from_hash
from authsvc.store.sms import IssueStatus

MAX_PASSCODE_LENGTH = 64
NAME_CACHE_SIZE = 200_000


def _answers_to(fields: dict[str, str], name: str) -> bool:
    """True if the user record has `name` as its username or one of its aliases."""
    return fields.get("username") == name or name in json.loads(fields.get("aliases") or "{}").values()


@dataclass(frozen=True, slots=True)
class _Subject:
    user_id: str
    loaded: LoadedUser
    settings: AccountSettings
    name_used: str


class Authenticator:
    """Preauth, passcode and push authentication."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock, authlog: AuthLog,
                 factors: Sequence[PasscodeFactor], links: Links, pushes: PushService,
                 sms: SmsPasscodes, calls: PhoneCalls) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._authlog = authlog
        self._factors = factors
        self._links = links
        self._pushes = pushes
        self._sms = sms
        self._calls = calls
        self._unenrolled = UnenrolledLockout(store, clock)
        self._names: dict[str, str] = {}

    async def _subject(self, request: AuthRequest) -> _Subject | None:
        if request.user_id is not None:
            loaded = await self._store.attempts.load(request.user_id)
            name_used, user_id = "", request.user_id
        else:
            name_used = (request.username or "").strip().lower()
            user_id, loaded = await self._load_by_name(name_used)
        if loaded is None:
            return None
        settings = await self._store.account.for_version(loaded.settings_version)
        return _Subject(user_id, loaded, settings, name_used)

    async def _load_by_name(self, name: str) -> tuple[str, LoadedUser | None]:
        """Load the user answering to `name`, through the per-process name cache.

        A cached id is only trusted if the record read still answers to the name (renames and
        deletions invalidate it), so the cache costs nothing in correctness.
        """
        user_id = self._names.get(name)
        if user_id is not None:
            loaded = await self._store.attempts.load(user_id)
            if loaded is not None and _answers_to(loaded.fields, name):
                return user_id, loaded
            self._names.pop(name, None)
        user_id = await self._store.attempts.resolve(name)
        if user_id is None:
            return "", None
        loaded = await self._store.attempts.load(user_id)
        if loaded is not None:
            if len(self._names) >= NAME_CACHE_SIZE:
                self._names.clear()
            self._names[name] = user_id
        return user_id, loaded

    def _facts(self, request: AuthRequest, subject: _Subject) -> AttemptFacts:
        fields = subject.loaded.fields
        username = fields.get("username", "")
        return AttemptFacts(
            txid=str(uuid.uuid4()), app_key=request.integration.ikey,
            app_name=request.integration.name, user_id=subject.user_id, username=username,
            alias=subject.name_used if subject.name_used not in ("", username) else "",
            email=fields.get("email", ""), ipaddr=request.ipaddr, hostname=request.hostname)

    async def _gate(self, request: AuthRequest, subject: _Subject) -> Verdict | None:
        """The logged verdict the user's status forces before any factor, or None."""
        user = user_from_hash(subject.loaded.fields)
        now = self._clock.now()
        gate = status_verdict(user.status, subject.loaded.fields, subject.settings, now)
        if gate is not None:
            await self._authlog.record(self._facts(request, subject), gate, now)
        return gate

    async def preauth(self, request: AuthRequest, *, verified_push: bool = False) -> PreauthResult:
        """Decide whether the user may authenticate, and with which devices."""
        subject = await self._subject(request)
        if subject is None:
            return self._enroll(request)
        gate = await self._gate(request, subject)
        if gate is not None:
            return PreauthResult(gate.result.value, gate.status_msg)
        phones = await self._store.phones.get_many(subject.loaded.phone_ids)
        devices = await self._phone_devices(subject, phones)
        devices += [{"device": token.token_id, "type": "token", "name": token.serial}
                    for token in sorted(subject.loaded.tokens, key=lambda t: t.created)]
        bypass = await self._store.bypass.of_user(subject.user_id, self._clock.now_ms())
        keys = await self._store.security_keys.of_user(subject.user_id)
        if not devices and not bypass and not keys:
            return await self._no_devices(request, subject, enrolled=bool(phones))
        digits = subject.settings.verified_push_digits
        extra = None
        if verified_push and digits and subject.loaded.activated_phones:
            extra = await self._pushes.prepare_verified(subject.user_id, digits)
        return PreauthResult("auth", "Account is active", devices, verified_push=extra)

    async def _no_devices(self, request: AuthRequest, subject: _Subject,
                          enrolled: bool) -> PreauthResult:
        """A user with nothing usable: restricted devices deny; never-enrolled users enroll
        (until `unenrolled_user_lockout_threshold` days have passed: then "Not enrolled")."""
        if enrolled:
            verdict = restricted("not_available")
            await self._authlog.record(self._facts(request, subject), verdict, self._clock.now())
            return PreauthResult("deny", "No usable authentication method; "
                                         "contact your administrator.")
        if await self._unenrolled.lock_if_due(subject.user_id, subject.settings):
            await self._authlog.record(self._facts(request, subject), LOCKED, self._clock.now())
            return PreauthResult("deny", LOCKED.status_msg)
        return self._enroll(request)

    async def _phone_devices(self, subject: _Subject, phones: Sequence[Phone]
                             ) -> list[dict[str, Any]]:
        settings, devices = subject.settings, []
        for phone in phones:
            caps = phone.capabilities_under(sms=settings.sms_enabled, calls=settings.calls_enabled)
            if not caps:
                continue
            name = phone.name or ("Duo Mobile" if phone.activated else "Phone")
            number = mask_number(phone.number)
            device: dict[str, Any] = {
                "device": phone.phone_id, "type": "phone", "name": name, "number": number,
                "capabilities": caps, "display_name": f"{name} ({number})" if number else name}
            if "sms" in caps and (next_code := await self._sms.next_code(subject.user_id)):
                device["sms_nextcode"] = next_code
            devices.append(device)
        return devices

    def _enroll(self, request: AuthRequest) -> PreauthResult:
        who = request.username or request.user_id or ""
        return PreauthResult("enroll", "Enroll an authentication device to proceed",
                             enroll_portal_url=self._links.enroll_portal(who))

    async def passcode(self, request: AuthRequest, passcode: str) -> Verdict | None:
        """Verify one passcode; None when the user is unknown."""
        if not passcode or len(passcode) > MAX_PASSCODE_LENGTH or not passcode.isprintable():
            raise InvalidParameter("passcode")
        subject = await self._subject(request)
        if subject is None:
            return None
        now = self._clock.now()
        bypass_hash, sms_hash, candidates = "", "", list[TokenCandidate]()
        # A user whose status already decides the attempt costs no HMAC work: the script still
        # takes the decision (atomically, on the current status) with nothing to consume.
        user = user_from_hash(subject.loaded.fields)
        if status_verdict(user.status, subject.loaded.fields, subject.settings, now) is None:
            context = PasscodeContext(subject.user_id, subject.loaded.tokens,
                                      subject.loaded.mobile_otp, subject.settings, now, self._box)
            for factor in self._factors:
                contribution = factor.contribute(context, passcode)
                bypass_hash = bypass_hash or contribution.bypass_hash
                sms_hash = sms_hash or contribution.sms_hash
                candidates.extend(contribution.tokens)
        outcome = await self._store.attempts.passcode(
            subject.user_id, now_ms=int(now * 1000), settings=subject.settings,
            bypass_hash=bypass_hash, candidates=candidates, sms_hash=sms_hash)
        verdict = verdict_for_outcome(outcome)
        await self._authlog.record(self._facts(request, subject), verdict, now)
        return verdict

    async def security_key(self, request: AuthRequest, factor: str,
                           check: Callable[[str], Awaitable[Checked]]) -> Verdict | None:
        """A WebAuthn or U2F assertion, checked by `check` (given the user id) and committed
        with the sign-count compare-and-set; None when the user is unknown."""
        subject = await self._subject(request)
        if subject is None:
            return None
        gate = await self._gate(request, subject)
        if gate is not None:
            return gate
        checked = await check(subject.user_id)
        now = self._clock.now()
        outcome = await self._store.attempts.passcode(
            subject.user_id, now_ms=int(now * 1000), settings=subject.settings, bypass_hash="",
            candidates=[TokenCandidate(checked.credential_id, "key", match=checked.sign_count)])
        verdict = key_verdict(outcome, factor)
        await self._authlog.record(self._facts(request, subject), verdict, now)
        return verdict

    async def out_of_band(self, request: AuthRequest, factor: str,
                          options: PushOptions) -> tuple[Started, str] | None:
        """`auth` with factor push, phone, sms or auto: (started or refused, user id), or None
        when the user is unknown. SMS always ends refused: "sent" (or why not)."""
        subject = await self._subject(request)
        if subject is None:
            return None
        facts = self._facts(request, subject)
        gate = await self._gate(request, subject)
        if gate is not None:
            return Started(facts.txid, gate), subject.user_id
        phones = await self._store.phones.get_many(subject.loaded.phone_ids)
        factor, phone = self._choose(factor, options.device, phones, subject)
        settings = subject.settings
        if factor in ("sms", "phone") and not (settings.sms_enabled if factor == "sms"
                                               else settings.calls_enabled):
            refusal = restricted("sms_passcode" if factor == "sms" else "phone_call")
            return await self._refuse(facts, refusal), subject.user_id
        if phone is None:
            refusal = Verdict(LOCKED.result, "deny", "No device can receive this request.",
                              "no_activated_duo_mobile_account" if factor == "push"
                              else "invalid_device", _LOG_FACTOR[factor])
            return await self._refuse(facts, refusal), subject.user_id
        if factor == "sms":
            return await self._send_sms(facts, subject, phone), subject.user_id
        if factor == "phone":
            started = await self._calls.call(subject.user_id, phone.phone_id, phone.number, facts,
                                             settings)
            return started, subject.user_id
        started = await self._pushes.start(PushRequest(
            user_id=subject.user_id, phone_id=phone.phone_id, facts=facts, type=options.type,
            display_username=options.display_username, pushinfo=options.pushinfo,
            verified_txid=options.txid), settings)
        return started, subject.user_id

    async def _refuse(self, facts: AttemptFacts, refusal: Verdict) -> Started:
        await self._authlog.record(facts, refusal, self._clock.now())
        return Started(facts.txid, refusal)

    async def _send_sms(self, facts: AttemptFacts, subject: _Subject, phone: Phone) -> Started:
        status = await self._sms.send([subject.user_id], phone.number, subject.settings,
                                      context="authentication", txid=facts.txid)
        if status is IssueStatus.SENT:
            return Started(facts.txid, SENT)
        refusal = SMS_COOLDOWN if status is IssueStatus.COOLING_DOWN else SMS_DAILY_LIMIT
        return await self._refuse(facts, refusal)

    @staticmethod
    def _choose(factor: str, device: str, phones: Sequence[Phone],
                subject: _Subject) -> tuple[str, Phone | None]:
        """The factor to use (auto: push if the phone can, else a call) and the phone."""
        settings = subject.settings
        usable = [(phone, phone.capabilities_under(sms=settings.sms_enabled,
                                                   calls=settings.calls_enabled))
                  for phone in phones]
        if device != "auto":
            if device not in [phone.phone_id for phone in phones]:
                raise InvalidParameter("device (not a phone of this user)")
            usable = [(phone, caps) for phone, caps in usable if phone.phone_id == device]
        if factor == "auto":
            factor = "push" if any("push" in caps for _, caps in usable) else "phone"
        wanted = "phone" if factor == "phone" else factor
        return factor, next((phone for phone, caps in usable if wanted in caps), None)


_LOG_FACTOR = {"push": "duo_push", "phone": "phone_call", "sms": "sms_passcode"}
