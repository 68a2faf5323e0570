"""Preauth: whether a user may authenticate, and with which devices (or must enroll first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authsvc.clock import Clock
from authsvc.domain.auth_requests import AuthRequest, PreauthResult, mask_number
from authsvc.domain.authlog import AuthLog
from authsvc.domain.links import Links
from authsvc.domain.push import PushService
from authsvc.domain.subjects import Subject, Subjects
from authsvc.domain.telephony import SmsPasscodes
from authsvc.domain.unenrolled import UnenrolledLockout
from authsvc.domain.verdicts import BYPASS_USER, LOCKED, restricted, status_verdict
from authsvc.model.factors import LogFactor
from authsvc.model.phones import Phone
from authsvc.model.verdicts import Verdict
from authsvc.store import Store


class Preauth:
    """The `preauth` decision."""

    def __init__(self, store: Store, clock: Clock, authlog: AuthLog, subjects: Subjects,
                 links: Links, pushes: PushService, sms: SmsPasscodes) -> None:
        self._store = store
        self._clock = clock
        self._authlog = authlog
        self._subjects = subjects
        self._links = links
        self._pushes = pushes
        self._sms = sms
        self._unenrolled = UnenrolledLockout(store, clock)

    async def preauth(self, request: AuthRequest, *, verified_push: bool = False
                      ) -> PreauthResult:
        """Decide whether the user may authenticate, and with which devices."""
        subject = await self._subjects.find(request)
        if subject is None:
            return self._enroll(request)
        gate = status_verdict(subject.user, subject.settings, self._clock.now())
        if gate is not None:
            await self._log(request, subject, gate)
            if gate is BYPASS_USER:  # let through: that is the user's last login
                await self._store.counts.seen(subject.user_id, self._clock.now_ms())
            return PreauthResult(gate.result.value, gate.status_msg)
        phones = await self._store.phones.get_many(subject.loaded.phone_ids)
        devices = await self._phone_devices(subject, phones)
        devices += [{"device": token.token_id, "type": "token", "name": token.serial}
                    for token in sorted(subject.loaded.tokens, key=lambda t: t.created)]
        if not devices and not await self._has_codes_or_keys(subject.user_id):
            return await self._no_devices(request, subject, enrolled=bool(phones))
        digits = subject.settings.verified_push_code_digits
        extra = None
        if verified_push and digits and subject.loaded.activated_phones:
            extra = await self._pushes.prepare_verified(subject.user_id, digits, subject.settings)
        return PreauthResult("auth", "Account is active", devices, verified_push=extra)

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
            return PreauthResult("deny", LOCKED.status_msg)
        return self._enroll(request)

    async def _phone_devices(self, subject: Subject, phones: Sequence[Phone]
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
