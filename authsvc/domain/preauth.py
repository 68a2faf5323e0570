"""Preauth: whether a user may authenticate, and with which devices (or must enroll first).

Order of the checks: the application's permitted groups (a user in none of them is denied,
bypass or not), then the effective status (a deciding group's, else the user's own), then the
devices, filtered by the account's factor policy and the user's groups' switches. A user the
service does not know gets what the application's `enroll_policy` says: enroll (the enrollment
prompt), allow (in without a second factor, logged `allow_unenrolled_user`) or deny (logged
`deny_unenrolled_user`). Users who exist but never enrolled still get the enrollment prompt,
as Duo's New User Policy leaves partially enrolled users to enroll.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from authsvc.clock import Clock
from authsvc.domain.auth_requests import AuthRequest, PreauthResult, mask_number
from authsvc.domain.authlog import AuthLog
from authsvc.domain.links import Links
from authsvc.domain.push import PushService
from authsvc.domain.ratelimits import RateLimits
from authsvc.domain.subjects import Subject, Subjects
from authsvc.domain.telephony import SmsPasscodes
from authsvc.domain.unenrolled import UnenrolledLockout
from authsvc.domain.verdicts import (
    BYPASS_USER,
    LOCKED,
    NEW_USER_ALLOWED,
    NEW_USER_DENIED,
    NOT_PERMITTED,
    permitted_verdict,
    restricted,
    status_verdict,
)
from authsvc.model.authlog import AttemptFacts
from authsvc.model.factors import FactorKind, LogFactor
from authsvc.model.integrations import EnrollPolicy
from authsvc.model.phones import Phone
from authsvc.model.verdicts import Verdict
from authsvc.store import Store

_NEW_USER = {EnrollPolicy.ALLOW: NEW_USER_ALLOWED, EnrollPolicy.DENY: NEW_USER_DENIED}


class Preauth:
    """The `preauth` decision."""

    def __init__(self, store: Store, clock: Clock, authlog: AuthLog, subjects: Subjects,
                 links: Links, pushes: PushService, sms: SmsPasscodes,
                 limits: RateLimits) -> None:
        self._store = store
        self._clock = clock
        self._authlog = authlog
        self._subjects = subjects
        self._links = links
        self._pushes = pushes
        self._sms = sms
        self._limits = limits
        self._unenrolled = UnenrolledLockout(store, clock)

    async def preauth(self, request: AuthRequest, *, verified_push: bool = False
                      ) -> PreauthResult:
        """Decide whether the user may authenticate, and with which devices; raises
        RateLimited when a rate limit refuses (`domain/ratelimits.py`)."""
        await self._limits.admit_attempt(request, guess=False)
        subject = await self._subjects.find(request)
        if subject is None:
            await self._limits.unknown_user()
            return await self._unknown(request)
        gate = (permitted_verdict(request.integration, subject.standing)
                or status_verdict(subject.user, subject.settings, self._clock.now(),
                                  subject.standing))
        if gate is not None:
            await self._log(request, subject, gate)
            if gate is BYPASS_USER:  # let through: that is the user's last login
                await self._store.counts.seen(subject.user_id, self._clock.now_ms())
            return PreauthResult(gate.result.value, gate.status_msg, verdict=gate)
        phones = await self._store.phones.get_many(subject.loaded.phone_ids)
        devices = await self._phone_devices(subject, phones)
        devices += [{"device": token.token_id, "type": "token", "name": token.serial}
                    for token in sorted(subject.loaded.tokens, key=lambda t: t.created)]
        if not devices and not await self._has_codes_or_keys(subject.user_id):
            return await self._no_devices(request, subject, enrolled=bool(phones))
        digits = subject.settings.verified_push_code_digits
        extra = None
        if verified_push and digits and subject.loaded.activated_phones \
                and subject.standing.allows(FactorKind.PUSH):
            extra = await self._pushes.prepare_verified(subject.user_id, digits, subject.settings)
        return PreauthResult("auth", "Account is active", devices, verified_push=extra)

    async def _unknown(self, request: AuthRequest) -> PreauthResult:
        """A user the service does not know: the application's `enroll_policy` decides (Duo's
        New User Policy); an application limited to permitted groups admits nobody unknown."""
        integration = request.integration
        if integration.groups_allowed:
            verdict: Verdict | None = NOT_PERMITTED
        else:
            verdict = _NEW_USER.get(integration.enroll_policy)
        if verdict is None:
            return self._enroll(request)
        facts = AttemptFacts(txid=str(uuid.uuid4()), app_key=integration.ikey,
                             app_name=integration.name, username=request.username or "",
                             ipaddr=request.ipaddr, hostname=request.hostname)
        await self._authlog.record(facts, verdict, self._clock.now())
        return PreauthResult(verdict.result.value, verdict.status_msg, verdict=verdict)

    async def _has_codes_or_keys(self, user_id: str) -> bool:
        return bool(await self._store.bypass.of_user(user_id, self._clock.now_ms())
                    or await self._store.security_keys.of_user(user_id))

    async def _log(self, request: AuthRequest, subject: Subject, verdict: Verdict) -> None:
        await self._authlog.record(subject.facts(request), verdict, self._clock.now())

    async def _no_devices(self, request: AuthRequest, subject: Subject,
                          enrolled: bool) -> PreauthResult:
        """A user with nothing usable: restricted devices deny; never-enrolled users enroll
        (until `unenrolled_user_lockout_threshold` days have passed: then "Not enrolled")."""
        if enrolled:
            await self._log(request, subject, restricted(LogFactor.NOT_AVAILABLE))
            return PreauthResult("deny", "No usable authentication method; "
                                         "contact your administrator.")
        if await self._unenrolled.lock_if_due(subject.user_id, subject.settings):
            await self._log(request, subject, LOCKED)
            return PreauthResult("deny", LOCKED.status_msg, verdict=LOCKED)
        return self._enroll(request)

    async def _phone_devices(self, subject: Subject, phones: Sequence[Phone]
                             ) -> list[dict[str, Any]]:
        settings, devices = subject.settings, []
        for phone in phones:
            caps = subject.standing.capabilities(phone.capabilities_under(
                sms=settings.sms_enabled, calls=settings.calls_enabled))
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
