"""Devices from the Duo Prompt: inline enrollment and the self-service portal ("Manage devices").

Who may change devices, decided again on every call:
- inline enrollment: the application enrolls new users and preauth says the user has nothing
  to authenticate with ("enroll"); an unknown user is created when the first device is added;
- self-service: the application offers it, the user asked for it, and this session's second
  factor succeeded (a user in bypass status proved nothing and is not let in).

A Duo Mobile phone is created unattached and attached to the user only once its app is
activated, so a half-done enrollment never leaves the user with a phone that cannot be used
(which would turn preauth's "enroll" into "deny"). Starting Duo Mobile again in the same
session (another platform, a lost QR code) replaces the phone the session began and never saw
activated, so retries leave nothing behind. The QR code works only while the session lasts,
and a phone the session began and did not attach is deleted once the session is over (the Trash
sweep, `sweep_unfinished`): an abandoned enrollment leaves nothing either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from authsvc.domain.auth_requests import AuthRequest
from authsvc.domain.phones import PhoneChanges, PhoneDirectory, delete_phone
from authsvc.domain.portal import PLATFORMS, Portals
from authsvc.domain.preauth import Preauth
from authsvc.domain.prompt import SESSION_SECONDS, Opened, PromptSessions
from authsvc.domain.security_keys import SecurityKeys
from authsvc.domain.users import UserChanges, UserDirectory
from authsvc.errors import Conflict, Forbidden, InvalidParameter, NotFound
from authsvc.model.integrations import EnrollPolicy
from authsvc.model.phones import Phone
from authsvc.model.security_keys import KeyKind, SecurityKey
from authsvc.model.verdicts import Result
from authsvc.store import Store

GRACE_S = 60  # after the session: a request of its last second may still be attaching


@dataclass(frozen=True, slots=True)
class UserDevices:
    """What the self-service page lists."""

    phones: list[Phone]
    keys: list[SecurityKey]


class PromptDevices:
    """Add and remove devices from the prompt."""

    def __init__(self, sessions: PromptSessions, preauth: Preauth, users: UserDirectory,
                 phones: PhoneDirectory, portals: Portals, security_keys: SecurityKeys) -> None:
        self._sessions = sessions
        self._preauth = preauth
        self._users = users
        self._phones = phones
        self._portals = portals
        self._keys = security_keys

    def managing(self, opened: Opened) -> bool:
        """The session may use the self-service portal now."""
        session = opened.session
        return bool(opened.app.self_service and session.manage and session.user_id
                    and session.verdict is not None and session.verdict.result is Result.ALLOW
                    and session.verdict.status != "bypass")

    async def ask_to_manage(self, opened: Opened) -> Opened:
        """The user wants "Manage devices": shown after the second factor succeeds."""
        if not opened.app.self_service:
            raise Forbidden("This application does not offer device management.")
        session = replace(opened.session, manage=True)
        await self._sessions.save(session, "manage")
        return replace(opened, session=session)

    async def done_managing(self, opened: Opened) -> Opened:
        """Leave the self-service portal (the sign-in then goes on)."""
        session = replace(opened.session, manage=False)
        await self._sessions.save(session, "manage")
        return replace(opened, session=session)

    async def enrolling(self, opened: Opened) -> bool:
        """Inline enrollment applies: the application enrolls new users and this one has
        nothing to authenticate with."""
        if opened.app.enroll_policy is not EnrollPolicy.ENROLL:
            return False
        result = await self._preauth.preauth(AuthRequest(integration=opened.app,
                                                         username=opened.session.username))
        return result.result == "enroll"

    async def _user_id(self, opened: Opened) -> str:
        """The user whose devices change (created if enrolling an unknown user); raises
        Forbidden when neither enrollment nor self-service applies."""
        if self.managing(opened):
            return opened.session.user_id
        if not await self.enrolling(opened):
            raise Forbidden("Adding a device needs a successful second factor first.")
        user = await self._users.by_name(opened.session.username)
        if user is None:
            try:
                user = await self._users.add(UserChanges(username=opened.session.username))
            except Conflict:  # created meanwhile by another tab
                user = await self._users.by_name(opened.session.username)
                if user is None:
                    raise
        return user.user_id

    async def add_mobile(self, opened: Opened, platform: str) -> tuple[Opened, dict[str, Any]]:
        """A new Duo Mobile phone (unattached until activated) and its activation (QR)."""
        if platform not in PLATFORMS:
            raise InvalidParameter(f"platform ({', '.join(PLATFORMS)})")
        user_id = await self._user_id(opened)
        await self._drop_unfinished(opened.session.device)
        phone = await self._phones.add(PhoneChanges(type="mobile", platform=PLATFORMS[platform],
                                                    name="Duo Mobile"))
        # The code and the phone need not outlive the session that shows the code.
        activation = await self._phones.new_activation(phone.phone_id, SESSION_SECONDS)
        await self._phones.begun_for_enrollment(phone.phone_id, SESSION_SECONDS + GRACE_S)
        session = replace(opened.session, device=phone.phone_id, user_id=user_id)
        await self._sessions.save(session, "device", "user_id")
        return replace(opened, session=session), activation

    async def _drop_unfinished(self, phone_id: str) -> None:
        """Delete the phone this session began for Duo Mobile if its app never activated and
        nobody holds it (an admin may have given it to someone meanwhile)."""
        if not phone_id:
            return
        try:
            held = await self._phones.view(phone_id)
        except NotFound:
            return
        if not held.phone.activated and not held.users:
            await self._phones.delete(phone_id)

    async def activated(self, opened: Opened) -> bool:
        """True once the phone being activated has its app: it is then the user's."""
        phone_id, user_id = opened.session.device, opened.session.user_id
        if not phone_id or not user_id:
            return False
        try:
            phone = await self._phones.get(phone_id)
        except NotFound:
            return False
        if not phone.activated:
            return False
        if phone_id not in [p.phone_id for p in await self._phones.of_user(user_id)]:
            await self._phones.attach(user_id, phone_id)
        await self._phones.enrollment_finished(phone_id)
        await self._sessions.save(replace(opened.session, device=""), "device")
        return True

    async def add_phone(self, opened: Opened, number: str) -> Phone:
        """A phone for SMS passcodes and calls."""
        user_id = await self._user_id(opened)
        phone = await self._phones.add(PhoneChanges(number=number, type="mobile",
                                                    platform="generic smartphone", name="Phone"))
        await self._phones.attach(user_id, phone.phone_id)
        return phone

    async def key_options(self, opened: Opened) -> dict[str, Any]:
        """Registration options for a new security key."""
        return await self._portals.key_options(await self._user_id(opened), KeyKind.WEBAUTHN)

    async def register_key(self, opened: Opened, body: dict[str, Any]) -> dict[str, str]:
        """Store the browser's new security key."""
        return await self._portals.register_key(await self._user_id(opened), KeyKind.WEBAUTHN,
                                                body)

    async def devices(self, opened: Opened) -> UserDevices:
        """The user's phones and security keys (self-service only)."""
        if not self.managing(opened):
            raise Forbidden("Managing devices needs a successful second factor first.")
        user_id = opened.session.user_id
        return UserDevices(await self._phones.of_user(user_id), await self._keys.of_user(user_id))

    async def delete(self, opened: Opened, device: str) -> None:
        """Remove one of the user's phones or security keys (self-service only)."""
        if not self.managing(opened):
            raise Forbidden("Managing devices needs a successful second factor first.")
        user_id = opened.session.user_id
        if device in [phone.phone_id for phone in await self._phones.of_user(user_id)]:
            await self._portals.delete_device(user_id, device)
            return
        for key in await self._keys.of_user(user_id):
            if key.key == device:
                await self._keys.delete(key.key, key.kind)
                return
        raise NotFound("device (not one of yours)")


async def sweep_unfinished(store: Store, now_ms: int, limit: int = 100) -> int:
    """Delete the Duo Mobile phones prompt sessions began whose sessions are over and that
    nobody holds (abandoned enrollments: never activated, or activated with no one to attach
    them to); a phone someone holds (an administrator gave it away) is only forgotten.
    Returns how many were deleted."""
    deleted = 0
    for phone_id in await store.phones.unfinished_due(now_ms, limit):
        if await store.phones.users_of(phone_id):
            await store.phones.unmark_unfinished(phone_id)
        else:
            await delete_phone(store, phone_id)
            deleted += 1
    return deleted
