"""Security keys: WebAuthn credentials (py_webauthn) and legacy U2F registrations (raw U2F
messages, verified with python-fido2), usable for `auth` through documented Auth API extensions.

Registration is done by the user only (portals), never by an admin. Challenges are single-use
(GETDEL in the user's slot, 5-minute TTL). Assertions are verified by the factor modules
(`factors/webauthn.py`, `factors/u2f.py`), which return the match whose sign count the attempt
script compares and sets (a count that does not increase is refused and flags the credential).

U2F registrations are also usable through WebAuthn's `appid` extension: their public keys are
stored as COSE keys, and an assertion reporting ``appid: true`` is verified against the AppID.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import webauthn
from fido2 import cbor
from fido2.ctap1 import RegistrationData
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from authsvc.clock import Clock
from authsvc.crypto import random_id
from authsvc.domain.auth_requests import U2fResponse, WebauthnAssertion
from authsvc.errors import InvalidParameter, NotFound
from authsvc.factors import u2f_factor, webauthn_factor
from authsvc.factors.u2f import (
    REGISTER_TYPE,
    SIGN_TYPE,
    U2F_FAILURES,
    app_param,
    client_data,
    u2f_client_data,
    websafe_decode,
)
from authsvc.model.attempts import Match
from authsvc.model.security_keys import ChallengePurpose, KeyKind, SecurityKey
from authsvc.model.users import User
from authsvc.store import Store

MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who we are to security keys: RP id, accepted origins, U2F AppID."""

    rp_id: str
    origins: list[str]
    app_id: str
    name: str = "authsvc"


def _b64(data: bytes) -> str:
    return bytes_to_base64url(data)


def _challenge_of(response: dict[str, Any]) -> str:
    inner = response.get("response")
    raw = inner.get("clientDataJSON", "") if isinstance(inner, dict) else ""
    return str(client_data(str(raw)).get("challenge", ""))


class SecurityKeys:
    """Register and check WebAuthn credentials and U2F registrations."""

    def __init__(self, store: Store, clock: Clock, rp: RelyingParty) -> None:
        self._store = store
        self._clock = clock
        self.rp = rp

    async def _new_challenge(self, user_id: str, purpose: ChallengePurpose,
                             challenge: bytes | None = None) -> str:
        text = _b64(challenge or secrets.token_bytes(32))
        await self._store.security_keys.put_challenge(user_id, text, purpose)
        return text

    # --- WebAuthn -------------------------------------------------------------------------------

    async def registration_options(self, user_id: str, username: str) -> dict[str, Any]:
        """Creation options (WebAuthn JSON) for the user; the challenge is kept for `register`."""
        existing = await self._store.security_keys.of_user(user_id)
        options = webauthn.generate_registration_options(
            rp_id=self.rp.rp_id, rp_name=self.rp.name, user_name=username,
            user_id=user_id.encode(),
            exclude_credentials=[PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(key.credential_id)) for key in existing],
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.DISCOURAGED,
                user_verification=UserVerificationRequirement.DISCOURAGED))
        await self._new_challenge(user_id, ChallengePurpose.REGISTER, options.challenge)
        parsed: dict[str, Any] = json.loads(webauthn.options_to_json(options))
        return parsed

    async def register(self, user_id: str, credential: dict[str, Any], name: str, *,
                       listed: bool = True) -> SecurityKey:
        """Verify a registration response and store the credential (`listed` False: an
        administrator's internal subject, kept out of the index and listings)."""
        challenge = _challenge_of(credential)
        purpose = await self._store.security_keys.take_challenge(user_id, challenge)
        if purpose is not ChallengePurpose.REGISTER:
            raise InvalidParameter("credential (unknown, expired or used challenge)")
        try:
            verified = webauthn.verify_registration_response(
                credential=credential, expected_challenge=base64url_to_bytes(challenge),
                expected_rp_id=self.rp.rp_id, expected_origin=self.rp.origins)
        except InvalidRegistrationResponse as exc:
            raise InvalidParameter(f"credential ({exc})") from None
        inner = credential.get("response")
        key = SecurityKey(
            credential_id=_b64(verified.credential_id), key=random_id("DW"),
            kind=KeyKind.WEBAUTHN, name=_name(name),
            public_key=_b64(verified.credential_public_key), count=verified.sign_count,
            created=int(self._clock.now()), aaguid=verified.aaguid,
            user_verified=verified.user_verified, backed_up=verified.credential_backed_up,
            transports=list(inner.get("transports", [])) if isinstance(inner, dict) else [],
            device_type=verified.credential_device_type.value)
        if listed:
            await self._store.security_keys.add(user_id, key)
        else:
            await self._store.admin_subjects.add_key(user_id, key)
        return key

    async def authentication_options(self, user_id: str) -> dict[str, Any]:
        """Request options (WebAuthn JSON) for the user's keys, with the `appid` extension when
        the user holds U2F registrations; raises InvalidParameter if the user has no key."""
        credentials = await self._store.security_keys.of_user(user_id)
        if not credentials:
            raise InvalidParameter("username (the user has no security key)")
        options = webauthn.generate_authentication_options(
            rp_id=self.rp.rp_id,
            allow_credentials=[PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(key.credential_id)) for key in credentials],
            user_verification=UserVerificationRequirement.DISCOURAGED)
        await self._new_challenge(user_id, ChallengePurpose.AUTHENTICATE, options.challenge)
        parsed: dict[str, Any] = json.loads(webauthn.options_to_json(options))
        if any(key.kind is KeyKind.U2F for key in credentials):
            parsed["extensions"] = {"appid": self.rp.app_id}
        return parsed

    async def webauthn_match(self, user_id: str, proof: WebauthnAssertion) -> Match | None:
        """The match of an assertion by one of the user's keys (challenge taken once), or None
        when it does not verify; raises InvalidParameter if it names no key of the user."""
        assertion = proof.assertion
        credential_id = str(assertion.get("rawId") or assertion.get("id") or "")
        stored = await self._store.security_keys.credential(user_id, credential_id)
        if stored is None:
            raise InvalidParameter("assertion (not a security key of this user)")
        challenge = _challenge_of(assertion)
        purpose = await self._store.security_keys.take_challenge(user_id, challenge)
        if purpose is not ChallengePurpose.AUTHENTICATE:
            return None
        return webauthn_factor().verify(
            assertion=assertion, expected_challenge=challenge, expected_rp_id=self.rp.rp_id,
            expected_app_id=self.rp.app_id, expected_origins=self.rp.origins, credential=stored)

    # --- U2F (legacy) --------------------------------------------------------------------------

    async def u2f_register_request(self, user_id: str) -> dict[str, Any]:
        challenge = await self._new_challenge(user_id, ChallengePurpose.U2F)
        return {"appId": self.rp.app_id, "challenge": challenge, "version": "U2F_V2"}

    async def u2f_register(self, user_id: str, registration_data: str, client_data_b64: str,
                           name: str) -> SecurityKey:
        """Verify a raw U2F registration and store it (as a COSE key, for the appid path)."""
        data = u2f_client_data(client_data_b64, expected_type=REGISTER_TYPE,
                               expected_origins=self.rp.origins)
        purpose = await self._store.security_keys.take_challenge(user_id, str(data["challenge"]))
        if purpose is not ChallengePurpose.U2F:
            raise InvalidParameter("clientData (unknown, expired or used challenge)")
        try:
            registration = RegistrationData(websafe_decode(registration_data))
            registration.verify(app_param(self.rp.app_id),
                                hashlib.sha256(websafe_decode(client_data_b64)).digest())
        except U2F_FAILURES:
            raise InvalidParameter("registrationData") from None
        key = SecurityKey(
            credential_id=_b64(registration.key_handle), key=random_id("DU2F")[:20],
            kind=KeyKind.U2F, name=_name(name),
            public_key=_b64(cose_es256(registration.public_key)),
            u2f_public_key=_b64(registration.public_key), created=int(self._clock.now()),
            app_id=self.rp.app_id)
        await self._store.security_keys.add(user_id, key)
        return key

    async def u2f_sign_request(self, user_id: str) -> dict[str, Any]:
        credentials = await self._store.security_keys.of_user(user_id)
        handles = [key.credential_id for key in credentials if key.kind is KeyKind.U2F]
        if not handles:
            raise InvalidParameter("username (the user has no U2F token)")
        challenge = await self._new_challenge(user_id, ChallengePurpose.U2F)
        return {"appId": self.rp.app_id, "challenge": challenge,
                "registeredKeys": [{"version": "U2F_V2", "keyHandle": h} for h in handles]}

    async def u2f_match(self, user_id: str, proof: U2fResponse) -> Match | None:
        """The match of a raw U2F authentication (user presence required), or None when it does
        not verify; raises InvalidParameter if the key handle is not one of the user's."""
        stored = await self._store.security_keys.credential(user_id, proof.key_handle)
        if stored is None or stored.kind is not KeyKind.U2F:
            raise InvalidParameter("keyHandle (not a U2F token of this user)")
        data = u2f_client_data(proof.client_data, expected_type=SIGN_TYPE,
                               expected_origins=self.rp.origins)
        purpose = await self._store.security_keys.take_challenge(user_id, str(data["challenge"]))
        if purpose is not ChallengePurpose.U2F:
            return None
        return u2f_factor().verify(signature_data=proof.signature_data,
                                   client_data_b64=proof.client_data,
                                   expected_app_id=self.rp.app_id, credential=stored)

    # --- administration ------------------------------------------------------------------------

    async def of_user(self, user_id: str) -> list[SecurityKey]:
        """The user's credentials."""
        return await self._store.security_keys.of_user(user_id)

    async def get(self, key: str) -> tuple[str, SecurityKey]:
        """(owner id, credential) of an admin-facing id; raises NotFound."""
        located = await self._store.security_keys.locate(key)
        stored = await self._store.security_keys.credential(*located) if located else None
        if located is None or stored is None:
            raise NotFound("webauthnkey")
        return located[0], stored

    async def page(self, kind: KeyKind, offset: int, limit: int
                   ) -> tuple[list[tuple[SecurityKey, User | None]], int]:
        """One page of every user's keys of one kind, with their owners (four round trips
        whatever the page size), and the total."""
        store = self._store.security_keys
        ids, total = await store.page(kind, offset, limit)
        located = [ref for ref in await store.locate_many(ids) if ref is not None]
        keys = await store.credentials(located)
        owners = {user.user_id: user for user in await self._store.users.get_many(
            {user_id for user_id, _ in located})}
        return [(key, owners.get(user_id)) for (user_id, _), key in zip(located, keys, strict=True)
                if key is not None], total

    async def delete(self, key: str, kind: KeyKind) -> None:
        await self._store.security_keys.delete(key, kind)


def _name(name: str) -> str:
    cleaned = name.strip() or "Security key"
    if len(cleaned) > MAX_NAME or not cleaned.isprintable():
        raise InvalidParameter("name")
    return cleaned


def cose_es256(point: bytes) -> bytes:
    """The COSE_Key of a raw U2F public key (``04 || X || Y``), as WebAuthn stores keys."""
    if len(point) != 65 or point[0] != 4:
        raise ValueError("not an uncompressed P-256 point")
    return cbor.encode({1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:]})
