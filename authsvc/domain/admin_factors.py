"""Administrators' second factors, decided by the same code as users' (model/admin_factors.py):
each administrator's phone (Duo Mobile, push and passcodes) and security keys belong to an
internal subject, and every check is an `Authenticator.auth` by the panel's own integration, so
the push transactions, Verified Push, passcode counters, sign-count checks, lockout and
push-fatigue limits are the users' own, unchanged.

Pushes to administrators always use Verified Push (the code shown at sign-in is typed into Duo
Mobile), whatever the account's setting for users.
"""

from __future__ import annotations

from typing import Any

from authsvc.clock import Clock
from authsvc.crypto import random_id
from authsvc.domain.auth import Authenticator
from authsvc.domain.auth_requests import (
    AuthRequest,
    OutOfBand,
    Passcode,
    Proof,
    PushOptions,
    WebauthnAssertion,
)
from authsvc.domain.links import Links
from authsvc.domain.phones import PhoneDirectory
from authsvc.domain.push import PushService
from authsvc.domain.security_keys import SecurityKeys
from authsvc.errors import InvalidParameter, NotFound
from authsvc.model.admin_factors import PANEL_INTEGRATION, SUBJECT_PREFIX, AdminFactor
from authsvc.model.admins import Admin
from authsvc.model.phones import Phone, PhoneType
from authsvc.model.users import User
from authsvc.model.verdicts import Verdict
from authsvc.store import Store

ACTIVATION_SECS = 3600
MIN_VERIFIED_DIGITS = 3


class AdminFactors:
    """Enroll, list, check and remove administrators' second factors."""

    def __init__(self, store: Store, clock: Clock, auth: Authenticator, pushes: PushService,
                 phones: PhoneDirectory, keys: SecurityKeys, links: Links) -> None:
        self.links = links
        self._store = store
        self._clock = clock
        self._auth = auth
        self._pushes = pushes
        self._phones = phones
        self._keys = keys

    async def _subject(self, admin: Admin) -> str:
        """The administrator's subject, created (and remembered in its record) if needed."""
        if admin.subject:
            return admin.subject
        subject = random_id(SUBJECT_PREFIX)
        await self._store.admin_subjects.create(User(
            user_id=subject, username=admin.email, created=int(self._clock.now()),
            email=admin.email, realname=admin.name))
        held = await self._store.admin_subjects.claim(admin.admin_id, subject)
        if held != subject:  # another request of the same setup won: use its subject
            await self._store.admin_subjects.forget(subject, [])
        return held

    async def factors(self, admin: Admin) -> list[AdminFactor]:
        """The administrator's phones and security keys (empty when none is enrolled)."""
        if not admin.subject:
            return []
        phones = await self._store.phones.get_many(
            await self._store.phones.of_user(admin.subject))
        keys = await self._keys.of_user(admin.subject)
        return ([AdminFactor("phone", p.phone_id, p.name or "Duo Mobile", p.activated, p.created)
                 for p in phones]
                + [AdminFactor("security_key", k.credential_id, k.name, True, k.created)
                   for k in keys])

    async def usable(self, admin: Admin) -> bool:
        """True when the administrator holds an activated phone or a security key."""
        return any(factor.active for factor in await self.factors(admin))

    # --- enrollment (setup link) ---------------------------------------------------------------

    async def add_phone(self, admin: Admin) -> tuple[str, dict[str, Any]]:
        """A new Duo Mobile phone for the administrator and its activation (QR code and link,
        valid an hour): (phone id, activation)."""
        subject = await self._subject(admin)
        phone = Phone(phone_id=random_id("DP"), created=int(self._clock.now()),
                      name="Duo Mobile", type=PhoneType.MOBILE, platform="generic smartphone")
        await self._store.admin_subjects.add_phone(subject, phone)
        return phone.phone_id, await self._phones.new_activation(phone.phone_id, ACTIVATION_SECS)

    async def phone_activated(self, admin: Admin, phone_id: str) -> bool:
        """True once Duo Mobile was activated on this phone of the administrator."""
        factor = await self._factor(admin, phone_id)
        return factor.kind == "phone" and factor.active

    async def key_registration(self, admin: Admin) -> dict[str, Any]:
        """WebAuthn creation options for a new security key of the administrator."""
        return await self._keys.registration_options(await self._subject(admin), admin.email)

    async def add_key(self, admin: Admin, credential: dict[str, Any], name: str) -> AdminFactor:
        """Verify the browser's registration and keep the key (not in any listing)."""
        key = await self._keys.register(await self._subject(admin), credential, name,
                                        listed=False)
        return AdminFactor("security_key", key.credential_id, key.name, True, key.created)

    # --- sign-in ---------------------------------------------------------------------------------

    def _request(self, admin: Admin, ipaddr: str | None, proof: Proof,
                 run_async: bool = False) -> AuthRequest:
        if not admin.subject:
            raise InvalidParameter("factor (no second factor is enrolled)")
        return AuthRequest(integration=PANEL_INTEGRATION, user_id=admin.subject, ipaddr=ipaddr,
                           proof=proof, run_async=run_async)

    async def push(self, admin: Admin, ipaddr: str | None) -> tuple[Verdict, str, str]:
        """A Verified Push to the administrator's first activated phone: (verdict so far,
        txid, the code to type into Duo Mobile); the verdict is final if the push was refused
        (locked out, too many pushes)."""
        phones = [f for f in await self.factors(admin) if f.kind == "phone" and f.active]
        if not phones:
            raise InvalidParameter("factor (no activated Duo Mobile)")
        settings = await self._store.account.cached()
        txid, code, _ = await self._pushes.prepare_verified(
            admin.subject, max(settings.verified_push_digits, MIN_VERIFIED_DIGITS), settings)
        answer = await self._auth.auth(self._request(
            admin, ipaddr, OutOfBand("push", PushOptions(device=phones[0].factor_id, txid=txid,
                                                         type="Admin Panel login")), True))
        return answer.verdict, answer.txid, code

    async def push_status(self, admin: Admin, txid: str) -> Verdict:
        """The push's state after a bounded long poll (NotFound for another's push)."""
        answer = await self._auth.status(txid)
        if not admin.subject or answer.user_id != admin.subject:
            raise NotFound("txid")
        return answer.verdict

    async def passcode(self, admin: Admin, code: str, ipaddr: str | None) -> Verdict:
        """Check a Duo Mobile passcode."""
        return (await self._auth.auth(self._request(admin, ipaddr, Passcode(code)))).verdict

    async def key_request(self, admin: Admin) -> dict[str, Any]:
        """WebAuthn request options for the administrator's keys."""
        if not admin.subject:
            raise InvalidParameter("factor (no security key)")
        return await self._keys.authentication_options(admin.subject)

    async def key(self, admin: Admin, assertion: dict[str, Any], ipaddr: str | None) -> Verdict:
        """Check the browser's assertion."""
        return (await self._auth.auth(self._request(
            admin, ipaddr, WebauthnAssertion(assertion)))).verdict

    # --- an Owner's actions ------------------------------------------------------------------------

    async def _factor(self, admin: Admin, factor_id: str) -> AdminFactor:
        for factor in await self.factors(admin):
            if factor.factor_id == factor_id:
                return factor
        raise NotFound("factor")

    async def remove(self, admin: Admin, factor_id: str) -> AdminFactor:
        """Remove one of the administrator's factors (a lost phone or key)."""
        factor = await self._factor(admin, factor_id)
        if factor.kind == "phone":
            await self._store.admin_subjects.remove_phone(admin.subject, factor_id)
        else:
            await self._store.admin_subjects.remove_key(admin.subject, factor_id)
        return factor

    async def unlock(self, admin: Admin) -> None:
        """Lift the lockout too many wrong second factors put on the administrator."""
        if admin.subject:
            await self._store.admin_subjects.set_status_active(admin.subject)

    async def forget(self, admin: Admin) -> None:
        """Delete every factor of an administrator who is deleted."""
        if admin.subject:
            await self._store.admin_subjects.forget(
                admin.subject, await self._store.phones.of_user(admin.subject))
