"""Bypass codes: the submitted code's keyed hash, for the decision script to look up."""

from __future__ import annotations

from authsvc.factors.base import Contribution, FactorKind, PasscodeContext

MIN_DIGITS = 4
MAX_DIGITS = 16
HASH_PURPOSE = "bypass"


def is_bypass_shape(code: str) -> bool:
    """Bypass codes are 4-16 digits (random ones are 9)."""
    return MIN_DIGITS <= len(code) <= MAX_DIGITS and code.isascii() and code.isdigit()


class BypassFactor:
    """Admin-issued codes with use counts and expiry; stored only as keyed hashes."""

    kind = FactorKind.BYPASS_CODE

    def contribute(self, ctx: PasscodeContext, passcode: str) -> Contribution:
        if not is_bypass_shape(passcode):
            return Contribution()
        return Contribution(bypass_hash=ctx.box.code_hash(HASH_PURPOSE, ctx.user_id, passcode))
