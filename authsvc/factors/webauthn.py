"""WebAuthn assertions (`factor=webauthn`), verified with py_webauthn.

Pure: the domain takes the challenge (once) and finds the credential the assertion names; this
module checks signature, RP id, origin and challenge and returns the `Match` whose sign count the
decision script compares and sets. U2F registrations answer through WebAuthn's `appid`
extension: their assertions are checked against the AppID instead of the RP id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import webauthn
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import InvalidAuthenticationResponse

from authsvc.model.attempts import Match
from authsvc.model.factors import CommitRule, FactorKind, Home, LogFactor, Method
from authsvc.model.security_keys import KeyKind, SecurityKey


def uses_appid(assertion: dict[str, Any]) -> bool:
    """True when the browser answered through the U2F `appid` extension."""
    extensions = assertion.get("clientExtensionResults")
    return isinstance(extensions, dict) and bool(extensions.get("appid"))


class WebauthnFactor:
    """A WebAuthn assertion by one of the user's security keys."""

    kind: ClassVar[FactorKind] = FactorKind.WEBAUTHN
    log_name: ClassVar[LogFactor] = LogFactor.WEBAUTHN
    method: ClassVar[Method] = Method.SECURITY_KEY
    api_name: ClassVar[str] = "webauthn"

    def verify(self, *, assertion: dict[str, Any], expected_challenge: str,
               expected_rp_id: str, expected_app_id: str, expected_origins: Sequence[str],
               credential: SecurityKey) -> Match | None:
        """The match to commit, or None when the assertion does not verify."""
        via_appid = uses_appid(assertion) and credential.kind is KeyKind.U2F
        try:
            verified = webauthn.verify_authentication_response(
                credential=assertion, expected_challenge=base64url_to_bytes(expected_challenge),
                expected_rp_id=expected_app_id if via_appid else expected_rp_id,
                expected_origin=list(expected_origins),
                credential_public_key=base64url_to_bytes(credential.public_key),
                credential_current_sign_count=0)
        except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
            return None
        log_name = LogFactor.U2F if credential.kind is KeyKind.U2F else self.log_name
        return Match(log_name, CommitRule.SIGN_COUNT, Home.SECURITY_KEYS,
                     credential.credential_id, counter=verified.new_sign_count)
