"""SMS passcodes: 7 digits, the first giving the code's position in its batch (what preauth's
`sms_nextcode` tells the user); stored and looked up as keyed hashes. The batch itself is sent
by the out-of-band SMS factor (`factors/sms.py`)."""

from __future__ import annotations

from typing import ClassVar

from authsvc.factors.base import PasscodeContext
from authsvc.model.attempts import Match
from authsvc.model.factors import CommitRule, FactorKind, Home, LogFactor, Method

DIGITS = 7
HASH_PURPOSE = "sms"


def is_sms_shape(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


class SmsPasscodeFactor:
    """Codes of the user's current SMS batch (each works once, until `sms_expiration`)."""

    kind: ClassVar[FactorKind] = FactorKind.SMS_PASSCODE
    log_name: ClassVar[LogFactor] = LogFactor.SMS_PASSCODE
    method: ClassVar[Method] = Method.PASSCODE

    def matches(self, ctx: PasscodeContext, passcode: str) -> list[Match]:
        if not ctx.settings.sms_enabled or not is_sms_shape(passcode):
            return []
        code_hash = ctx.box.code_hash(HASH_PURPOSE, ctx.user_id, passcode)
        return [Match(self.log_name, CommitRule.SMS_USE, Home.SMS, code_hash)]
