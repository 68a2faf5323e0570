"""The enrollment and self-service portals' decisions.

Enrollment portal: a valid mailed link lets its user add Duo Mobile, a phone for SMS or a
security key, once. Self-service portal: a user who authenticates with a real second factor
(passcode, bypass code or push; a user in bypass status is not let in, since nothing was proved)
gets a 15-minute session in which to add Duo Mobile or a security key, or delete a lost device,
as the Help Desk guide describes.
"""

from __future__ import annotations

import secrets
from typing import Any

from authsvc.domain.auth import Authenticator
from authsvc.domain.auth_requests import AuthRequest, OutOfBand, Passcode
from authsvc.domain.invitations import Invitations, token_hash
from authsvc.domain.phones import PhoneChanges, PhoneDirectory
from authsvc.domain.security_keys import SecurityKeys
from authsvc.domain.subjects import UnknownUser
from authsvc.domain.users import UserDirectory
from authsvc.errors import InvalidParameter, NotFound
from authsvc.model.enrollments import PendingEnrollment, PortalSession
from authsvc.model.integrations import Integration, IntegrationType, Role
from authsvc.model.security_keys import KeyKind
from authsvc.model.verdicts import Result
from authsvc.store import Store

SESSION_SECONDS = 900
PORTAL = Integration(ikey="DIPORTAL000000000000", name="Self-service portal",
                     type=IntegrationType.AUTH, role=Role.OWNER, sealed_skey="", created=0)
PLATFORMS = {"android": "google android", "ios": "apple ios", "other": "generic smartphone"}


class Portals:
    """Enrollment links and self-service sessions."""

    def __init__(self, store: Store, auth: Authenticator, users: UserDirectory,
                 phones: PhoneDirectory, invitations: Invitations,
                 security_keys: SecurityKeys) -> None:
        self._store = store
        self._auth = auth
        self._users = users
        self._phones = phones
        self._invitations = invitations
        self._keys = security_keys

    async def check_link(self, token: str) -> PendingEnrollment:
        """The enrollment a link opens; raises NotFound."""
        return await self._invitations.opened(token)

    async def enroll_mobile(self, token: str, platform: str) -> dict[str, Any]:
        """Use the link up: a new Duo Mobile phone for its user, and the activation to scan."""
        platform_name = _platform(platform)
        record = await self._invitations.consume(token)
        return await self.add_mobile(record.user_id, platform_name)

    async def enroll_sms(self, token: str, number: str) -> str:
        """Use the link up: a phone that receives SMS passcodes (and calls)."""
        phone = await self._phones.add(PhoneChanges(number=number, type="mobile",
                                                    platform="generic smartphone", name="SMS"))
        try:
            record = await self._invitations.consume(token)
        except NotFound:
            await self._phones.delete(phone.phone_id)
            raise
        await self._phones.attach(record.user_id, phone.phone_id)
        return phone.number

    async def enroll_key(self, token: str, kind: KeyKind, body: dict[str, Any]) -> dict[str, str]:
        """Register a security key for the link's user and use the link up; a link used
        meanwhile (a double submit) keeps only the first key."""
        record = await self.check_link(token)
        result = await self.register_key(record.user_id, kind, body)
        try:
            await self._invitations.consume(token)
        except NotFound:
            await self._keys.delete(result["webauthnkey" if kind is KeyKind.WEBAUTHN
                                           else "registration_id"], kind)
            raise
        return result

    async def add_mobile(self, user_id: str, platform: str) -> dict[str, Any]:
        phone = await self._phones.add(PhoneChanges(type="mobile", platform=platform,
                                                    name="Duo Mobile"))
        await self._phones.attach(user_id, phone.phone_id)
        return await self._phones.new_activation(phone.phone_id, None)

    async def key_options(self, user_id: str, kind: KeyKind) -> dict[str, Any]:
        """What the browser needs to register a new key of this kind for the user."""
        if kind is KeyKind.WEBAUTHN:
            user = await self._users.get(user_id)
            return {"options": await self._keys.registration_options(user_id, user.username)}
        return await self._keys.u2f_register_request(user_id)

    async def register_key(self, user_id: str, kind: KeyKind,
                           body: dict[str, Any]) -> dict[str, str]:
        """Verify and store the browser's registration of a new key."""
        name = str(body.get("name") or "")
        if kind is KeyKind.WEBAUTHN:
            credential = body.get("credential")
            if not isinstance(credential, dict):
                raise InvalidParameter("credential")
            key = await self._keys.register(user_id, credential, name)
            return {"webauthnkey": key.key, "credential_name": key.name}
        key = await self._keys.u2f_register(user_id, str(body.get("registrationData", "")),
                                            str(body.get("clientData", "")), name)
        return {"registration_id": key.key}

    async def login(self, username: str, passcode: str | None, *,
                    client_ip: str | None = None) -> tuple[str, PortalSession] | None:
        """Authenticate with a passcode (or a push when None) from `client_ip` (the rate limits
        count it); a new session, or None. Raises RateLimited when a limit refuses."""
        proof = OutOfBand("push") if passcode is None else Passcode(passcode)
        try:
            answer = await self._auth.auth(AuthRequest(integration=PORTAL, username=username,
                                                       proof=proof, client_ip=client_ip))
        except UnknownUser:
            return None
        if answer.verdict.result is not Result.ALLOW or answer.verdict.status == "bypass":
            return None
        token = secrets.token_urlsafe(24)
        session = PortalSession(answer.user_id, secrets.token_urlsafe(16))
        await self._store.enrollments.put_session(token_hash(token), session, SESSION_SECONDS)
        return token, session

    async def session(self, token: str) -> PortalSession | None:
        return await self._store.enrollments.session(token_hash(token)) if token else None

    async def logout(self, token: str) -> None:
        await self._store.enrollments.drop_session(token_hash(token))

    async def delete_device(self, user_id: str, phone_id: str) -> None:
        await self._phones.detach(user_id, phone_id)


def _platform(name: str) -> str:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise InvalidParameter(f"platform ({', '.join(PLATFORMS)})") from None
