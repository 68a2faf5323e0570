"""Bypass codes: the submitted code's keyed hash, for the decision script to look up."""

from __future__ import annotations

from typing import ClassVar

from authsvc.factors.base import PasscodeContext
from authsvc.model.attempts import Match
from authsvc.model.factors import CommitRule, FactorKind, Home, LogFactor, Method

MIN_DIGITS = 4
MAX_DIGITS = 16
HASH_PURPOSE = "bypass"


def is_bypass_shape(code: str) -> bool:
    """Bypass codes are 4-16 digits (random ones are 9)."""
    return MIN_DIGITS <= len(code) <= MAX_DIGITS and code.isascii() and code.isdigit()


class BypassFactor:
    """Admin-issued codes with use counts and expiry; stored only as keyed hashes."""

    kind: ClassVar[FactorKind] = FactorKind.BYPASS
    log_name: ClassVar[LogFactor] = LogFactor.BYPASS_CODE
    method: ClassVar[Method] = Method.PASSCODE

    def matches(self, ctx: PasscodeContext, passcode: str) -> list[Match]:
        if not is_bypass_shape(passcode):
            return []
        code_hash = ctx.box.code_hash(HASH_PURPOSE, ctx.user_id, passcode)
        return [Match(self.log_name, CommitRule.BYPASS_USE, Home.BYPASS, code_hash)]
