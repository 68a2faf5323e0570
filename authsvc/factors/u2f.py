"""Legacy U2F (`factor=u2f`): raw U2F sign responses, verified with python-fido2.

Pure, like `factors/webauthn.py`: the domain takes the challenge and finds the registration;
this module checks the client data (type, origin, challenge), the signature over the AppID and
user presence, and returns the `Match` whose counter the decision script compares and sets.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from fido2.attestation.base import InvalidSignature as InvalidU2FSignature
from fido2.ctap1 import SignatureData
from webauthn.helpers import base64url_to_bytes

from authsvc.errors import InvalidParameter
from authsvc.model.attempts import Match
from authsvc.model.factors import CommitRule, FactorKind, Home, LogFactor, Method
from authsvc.model.security_keys import SecurityKey

# What parsing or verifying a raw U2F message raises when it is malformed or forged.
U2F_FAILURES = (ValueError, IndexError, TypeError, InvalidSignature, InvalidU2FSignature)
SIGN_TYPE = "navigator.id.getAssertion"
REGISTER_TYPE = "navigator.id.finishEnrollment"


def websafe_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def client_data(raw_b64: str) -> dict[str, Any]:
    """The decoded client data (WebAuthn's clientDataJSON or U2F's clientData)."""
    try:
        data = json.loads(websafe_decode(raw_b64))
    except (ValueError, TypeError):
        raise InvalidParameter("clientData") from None
    if not isinstance(data, dict):
        raise InvalidParameter("clientData")
    return data


def u2f_client_data(raw: str, *, expected_type: str, expected_origins: Sequence[str]
                    ) -> dict[str, Any]:
    """U2F client data of the expected type from an accepted origin; raises InvalidParameter."""
    data = client_data(raw)
    if data.get("typ") != expected_type or data.get("origin") not in expected_origins:
        raise InvalidParameter("clientData (type or origin)")
    return data


def app_param(app_id: str) -> bytes:
    return hashlib.sha256(app_id.encode()).digest()


class U2fFactor:
    """A raw U2F authentication by one of the user's U2F registrations."""

    kind: ClassVar[FactorKind] = FactorKind.U2F
    log_name: ClassVar[LogFactor] = LogFactor.U2F
    method: ClassVar[Method] = Method.SECURITY_KEY
    api_name: ClassVar[str] = "u2f"

    def verify(self, *, signature_data: str, client_data_b64: str, expected_app_id: str,
               credential: SecurityKey) -> Match | None:
        """The match to commit, or None when the signature or user presence does not verify.
        (The caller has checked the client data's type, origin and challenge.)"""
        try:
            signature = SignatureData(websafe_decode(signature_data))
            signature.verify(app_param(expected_app_id),
                             hashlib.sha256(websafe_decode(client_data_b64)).digest(),
                             base64url_to_bytes(credential.u2f_public_key))
        except U2F_FAILURES:
            return None
        if not signature.user_presence & 1:
            return None
        return Match(self.log_name, CommitRule.SIGN_COUNT, Home.SECURITY_KEYS,
                     credential.credential_id, counter=signature.counter)
