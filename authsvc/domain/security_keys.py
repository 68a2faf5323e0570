"""Security keys: WebAuthn credentials (py_webauthn) and legacy U2F registrations (raw U2F
messages, verified with python-fido2), usable for `auth` through documented Auth API extensions.

Registration is done by the user only (portals), never by an admin. Challenges are single-use
(GETDEL in the user's slot, 5-minute TTL). Verification here is pure: it returns the credential
and the assertion's sign count; the attempt script then compares-and-sets the count (a count that
does not increase is refused and flags the credential as possibly cloned).

U2F registrations are also usable through WebAuthn's `appid` extension: their public keys are
stored as COSE keys, and an assertion reporting ``appid: true`` is verified against the AppID.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import webauthn
from cryptography.exceptions import InvalidSignature
from fido2 import cbor
from fido2.attestation.base import InvalidSignature as InvalidU2FSignature
from fido2.ctap1 import RegistrationData, SignatureData
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from authsvc.clock import Clock
from authsvc.crypto import random_id
from authsvc.errors import InvalidParameter, NotFound
from authsvc.store import Store

MAX_NAME = 100
# What parsing or verifying a raw U2F message raises when it is malformed or forged.
U2F_FAILURES = (ValueError, IndexError, TypeError, InvalidSignature, InvalidU2FSignature)


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who we are to security keys: RP id, accepted origins, U2F AppID."""

    rp_id: str
    origins: list[str]
    app_id: str
    name: str = "authsvc"


@dataclass(frozen=True, slots=True)
class Checked:
    """An assertion checked against one of the user's credentials: its id and new sign count
    (-1 when the signature, origin, RP id or challenge did not verify)."""

    credential_id: str
    sign_count: int


def _b64(data: bytes) -> str:
    return bytes_to_base64url(data)


def _websafe_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _client_data(raw_b64: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(_websafe_decode(raw_b64))
    except (ValueError, TypeError):
        raise InvalidParameter("clientData") from None
    return data


class SecurityKeys:
    """Register and check WebAuthn credentials and U2F registrations."""

    def __init__(self, store: Store, clock: Clock, rp: RelyingParty) -> None:
        self._store = store
        self._clock = clock
        self.rp = rp

    # --- WebAuthn registration -----------------------------------------------------------------

    async def registration_options(self, user_id: str, username: str) -> dict[str, Any]:
        """Creation options (WebAuthn JSON) for the user; the challenge is kept for `register`."""
        existing = await self._store.security_keys.of_user(user_id)
        options = webauthn.generate_registration_options(
            rp_id=self.rp.rp_id, rp_name=self.rp.name, user_name=username,
            user_id=user_id.encode(),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(cred))
                                 for cred in existing],
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.DISCOURAGED,
                user_verification=UserVerificationRequirement.DISCOURAGED))
        await self._store.security_keys.put_challenge(user_id, _b64(options.challenge),
                                                      {"purpose": "register"})
        parsed: dict[str, Any] = json.loads(webauthn.options_to_json(options))
        return parsed

    async def register(self, user_id: str, credential: dict[str, Any], name: str) -> dict[str, Any]:
        """Verify a registration response and store the credential; its admin-facing record."""
        challenge = _client_data(credential.get("response", {}).get("clientDataJSON", "")
                                 ).get("challenge", "")
        purpose = await self._store.security_keys.take_challenge(user_id, str(challenge))
        if purpose is None or purpose.get("purpose") != "register":
            raise InvalidParameter("credential (unknown, expired or used challenge)")
        try:
            verified = webauthn.verify_registration_response(
                credential=credential, expected_challenge=base64url_to_bytes(str(challenge)),
                expected_rp_id=self.rp.rp_id, expected_origin=self.rp.origins)
        except InvalidRegistrationResponse as exc:
            raise InvalidParameter(f"credential ({exc})") from None
        record = {
            "key": random_id("DW"), "kind": "webauthn", "name": _name(name),
            "public_key": _b64(verified.credential_public_key), "count": verified.sign_count,
            "aaguid": verified.aaguid, "uv": verified.user_verified,
            "transports": credential.get("response", {}).get("transports", []),
            "backed_up": verified.credential_backed_up,
            "device_type": verified.credential_device_type.value,
            "created": int(self._clock.now()), "last_used": None, "clone": 0}
        await self._store.security_keys.add(user_id, _b64(verified.credential_id), record)
        return record

    # --- WebAuthn authentication ---------------------------------------------------------------

    async def authentication_options(self, user_id: str) -> dict[str, Any]:
        """Request options (WebAuthn JSON) for the user's keys, with the `appid` extension when
        the user holds U2F registrations; raises InvalidParameter if the user has no key."""
        credentials = await self._store.security_keys.of_user(user_id)
        if not credentials:
            raise InvalidParameter("username (the user has no security key)")
        options = webauthn.generate_authentication_options(
            rp_id=self.rp.rp_id,
            allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(cred))
                               for cred in credentials],
            user_verification=UserVerificationRequirement.DISCOURAGED)
        await self._store.security_keys.put_challenge(user_id, _b64(options.challenge),
                                                      {"purpose": "authenticate"})
        parsed: dict[str, Any] = json.loads(webauthn.options_to_json(options))
        if any(c["kind"] == "u2f" for c in credentials.values()):
            parsed["extensions"] = {"appid": self.rp.app_id}
        return parsed

    async def check_assertion(self, user_id: str, assertion: dict[str, Any]) -> Checked:
        """Verify an assertion against the user's credential it names (challenge taken once)."""
        credential_id = str(assertion.get("rawId") or assertion.get("id") or "")
        stored = (await self._store.security_keys.of_user(user_id)).get(credential_id)
        if stored is None:
            raise InvalidParameter("assertion (not a security key of this user)")
        client_data = _client_data(assertion.get("response", {}).get("clientDataJSON", ""))
        challenge = str(client_data.get("challenge", ""))
        purpose = await self._store.security_keys.take_challenge(user_id, challenge)
        if purpose is None or purpose.get("purpose") != "authenticate":
            return Checked(credential_id, -1)
        uses_appid = bool(assertion.get("clientExtensionResults", {}).get("appid"))
        rp_id = self.rp.app_id if uses_appid and stored["kind"] == "u2f" else self.rp.rp_id
        try:
            verified = webauthn.verify_authentication_response(
                credential=assertion, expected_challenge=base64url_to_bytes(challenge),
                expected_rp_id=rp_id, expected_origin=self.rp.origins,
                credential_public_key=base64url_to_bytes(stored["public_key"]),
                credential_current_sign_count=0)
        except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
            return Checked(credential_id, -1)
        return Checked(credential_id, verified.new_sign_count)

    # --- U2F (legacy) --------------------------------------------------------------------------

    async def u2f_register_request(self, user_id: str) -> dict[str, Any]:
        challenge = _b64(secrets.token_bytes(32))
        await self._store.security_keys.put_challenge(user_id, challenge, {"purpose": "u2f"})
        return {"appId": self.rp.app_id, "challenge": challenge, "version": "U2F_V2"}

    async def u2f_register(self, user_id: str, registration_data: str, client_data: str,
                           name: str) -> dict[str, Any]:
        """Verify a raw U2F registration and store it (as a COSE key, for the appid path)."""
        data = self._u2f_client_data(client_data, "navigator.id.finishEnrollment")
        purpose = await self._store.security_keys.take_challenge(user_id, str(data["challenge"]))
        if purpose is None or purpose.get("purpose") != "u2f":
            raise InvalidParameter("clientData (unknown, expired or used challenge)")
        try:
            registration = RegistrationData(_websafe_decode(registration_data))
            registration.verify(self._app_param(), hashlib.sha256(_websafe_decode(client_data)
                                                                  ).digest())
        except U2F_FAILURES:
            raise InvalidParameter("registrationData") from None
        record = {"key": random_id("DU2F")[:20], "kind": "u2f", "name": _name(name),
                  "public_key": _b64(cose_es256(registration.public_key)), "u2f_public_key": _b64(
                      registration.public_key), "count": 0, "created": int(self._clock.now()),
                  "last_used": None, "clone": 0, "app_id": self.rp.app_id}
        await self._store.security_keys.add(user_id, _b64(registration.key_handle), record)
        return record

    async def u2f_sign_request(self, user_id: str) -> dict[str, Any]:
        credentials = await self._store.security_keys.of_user(user_id)
        handles = [cred for cred, rec in credentials.items() if rec["kind"] == "u2f"]
        if not handles:
            raise InvalidParameter("username (the user has no U2F token)")
        challenge = _b64(secrets.token_bytes(32))
        await self._store.security_keys.put_challenge(user_id, challenge, {"purpose": "u2f"})
        return {"appId": self.rp.app_id, "challenge": challenge,
                "registeredKeys": [{"version": "U2F_V2", "keyHandle": h} for h in handles]}

    async def check_u2f(self, user_id: str, key_handle: str, signature_data: str,
                        client_data: str) -> Checked:
        """Verify a raw U2F authentication (user presence required)."""
        stored = (await self._store.security_keys.of_user(user_id)).get(key_handle)
        if stored is None or stored["kind"] != "u2f":
            raise InvalidParameter("keyHandle (not a U2F token of this user)")
        data = self._u2f_client_data(client_data, "navigator.id.getAssertion")
        purpose = await self._store.security_keys.take_challenge(user_id, str(data["challenge"]))
        if purpose is None or purpose.get("purpose") != "u2f":
            return Checked(key_handle, -1)
        try:
            signature = SignatureData(_websafe_decode(signature_data))
            signature.verify(self._app_param(), hashlib.sha256(_websafe_decode(client_data)).digest(),
                             base64url_to_bytes(stored["u2f_public_key"]))
        except U2F_FAILURES:
            return Checked(key_handle, -1)
        if not signature.user_presence & 1:
            return Checked(key_handle, -1)
        return Checked(key_handle, signature.counter)

    def _app_param(self) -> bytes:
        return hashlib.sha256(self.rp.app_id.encode()).digest()

    def _u2f_client_data(self, raw: str, expected_type: str) -> dict[str, Any]:
        data = _client_data(raw)
        if data.get("typ") != expected_type or data.get("origin") not in self.rp.origins:
            raise InvalidParameter("clientData (type or origin)")
        return data

    # --- administration ------------------------------------------------------------------------

    async def of_user(self, user_id: str) -> list[dict[str, Any]]:
        """The user's credentials (records with their credential ids)."""
        return [{"credential_id": cred, **record}
                for cred, record in (await self._store.security_keys.of_user(user_id)).items()]

    async def get(self, key: str) -> tuple[str, dict[str, Any]]:
        located = await self._store.security_keys.locate(key)
        if located is None:
            raise NotFound("webauthnkey")
        record = (await self._store.security_keys.of_user(located[0])).get(located[1])
        if record is None:
            raise NotFound("webauthnkey")
        return located[0], {"credential_id": located[1], **record}

    async def delete(self, key: str, kind: str) -> None:
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
