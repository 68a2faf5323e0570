"""Factor modules, each behind one interface (`base.py`), gathered in one explicit registry."""

from __future__ import annotations

from authsvc.factors.base import PasscodeFactor
from authsvc.factors.bypass import BypassFactor
from authsvc.factors.duo_mobile import DuoMobileFactor
from authsvc.factors.hotp import HotpFactor
from authsvc.factors.sms import SmsFactor
from authsvc.factors.totp import TotpFactor
from authsvc.factors.yubikey import YubikeyFactor


def passcode_factors() -> tuple[PasscodeFactor, ...]:
    """The passcode factors in the order their candidates are tried: bypass, SMS, hardware
    tokens, then Duo Mobile."""
    return (BypassFactor(), SmsFactor(), HotpFactor(), TotpFactor(), YubikeyFactor(),
            DuoMobileFactor())
