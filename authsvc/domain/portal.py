"""The enrollment and self-service portals' decisions.

Enrollment portal: a valid mailed link lets its user add Duo Mobile or a phone for SMS, once.
Self-service portal: a user who authenticates (passcode, bypass code or push) gets a 15-minute
session in which to add Duo Mobile or delete a lost device, as the Help Desk guide describes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from authsvc.domain.auth import Authenticator
from authsvc.domain.auth_requests import AuthRequest, PushOptions
from authsvc.domain.invitations import Invitations, token_hash
from authsvc.domain.models import Integration, IntegrationType, Result, Role
from authsvc.domain.phones import PhoneChanges, PhoneDirectory
from authsvc.domain.push import PushService
from authsvc.errors import InvalidParameter, NotFound
from authsvc.store import Store

SESSION_SECONDS = 900
PORTAL = Integration(ikey="DIPORTAL000000000000", name="Self-service portal",
                     type=IntegrationType.AUTH, role=Role.OWNER, sealed_skey="", created=0)
PLATFORMS = {"android": "google android", "ios": "apple ios", "other": "generic smartphone"}


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in portal user."""

    user_id: str
    csrf: str


class Portals:
    """Enrollment links and self-service sessions."""

    def __init__(self, store: Store, auth: Authenticator, pushes: PushService,
                 phones: PhoneDirectory, invitations: Invitations) -> None:
        self._store = store
        self._auth = auth
        self._pushes = pushes
        self._phones = phones
        self._invitations = invitations

    async def check_link(self, token: str) -> dict[str, str]:
        return await self._invitations.opened(token)

    async def enroll_mobile(self, token: str, platform: str) -> dict[str, Any]:
        """Use the link up: a new Duo Mobile phone for its user, and the activation to scan."""
        platform_name = _platform(platform)
        record = await self._invitations.consume(token)
        return await self.add_mobile(record["user_id"], platform_name)

    async def enroll_sms(self, token: str, number: str) -> str:
        """Use the link up: a phone that receives SMS passcodes (and calls)."""
        phone = await self._phones.add(PhoneChanges(number=number, type="mobile",
                                                    platform="generic smartphone", name="SMS"))
        try:
            record = await self._invitations.consume(token)
        except NotFound:
            await self._phones.delete(phone.phone_id)
            raise
        await self._phones.attach(record["user_id"], phone.phone_id)
        return phone.number

    async def add_mobile(self, user_id: str, platform: str) -> dict[str, Any]:
        phone = await self._phones.add(PhoneChanges(type="mobile", platform=platform,
                                                    name="Duo Mobile"))
        await self._phones.attach(user_id, phone.phone_id)
        return await self._phones.new_activation(phone.phone_id, None)

    async def login(self, username: str, passcode: str | None) -> tuple[str, Session] | None:
        """Authenticate with a passcode (or a push when None); a new session, or None."""
        request = AuthRequest(integration=PORTAL, username=username)
        if passcode is not None:
            verdict = await self._auth.passcode(request, passcode)
            allowed = verdict is not None and verdict.result is Result.ALLOW
        else:
            pushed = await self._auth.out_of_band(request, "push", PushOptions())
            allowed = False
            if pushed is not None and pushed[0].refused is None:
                final = await self._pushes.wait_final(pushed[1], pushed[0].txid)
                allowed = final.result is Result.ALLOW
        if not allowed:
            return None
        user_id = await self._store.attempts.resolve(username.strip().lower())
        if user_id is None:
            return None
        token, session = secrets.token_urlsafe(24), Session(user_id, secrets.token_urlsafe(16))
        await self._store.enrollments.put_session(
            token_hash(token), {"user_id": user_id, "csrf": session.csrf}, SESSION_SECONDS)
        return token, session

    async def session(self, token: str) -> Session | None:
        data = await self._store.enrollments.session(token_hash(token)) if token else None
        return Session(data["user_id"], data["csrf"]) if data else None

    async def logout(self, token: str) -> None:
        await self._store.enrollments.drop_session(token_hash(token))

    async def delete_device(self, user_id: str, phone_id: str) -> None:
        await self._phones.detach(user_id, phone_id)


def _platform(name: str) -> str:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise InvalidParameter(f"platform ({', '.join(PLATFORMS)})") from None
