"""SMS passcodes: 7 digits, the first giving the code's position in its batch (what preauth's
`sms_nextcode` tells the user); stored and looked up as keyed hashes."""

from __future__ import annotations

from authsvc.factors.base import Contribution, FactorKind, PasscodeContext

DIGITS = 7
HASH_PURPOSE = "sms"


def is_sms_shape(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


class SmsFactor:
    """Codes of the user's current SMS batch (each works once, until `sms_expiration`)."""

    kind = FactorKind.SMS_PASSCODE

    def contribute(self, ctx: PasscodeContext, passcode: str) -> Contribution:
        if not ctx.settings.sms_enabled or not is_sms_shape(passcode):
            return Contribution()
        return Contribution(sms_hash=ctx.box.code_hash(HASH_PURPOSE, ctx.user_id, passcode))
