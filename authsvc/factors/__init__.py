"""Factor modules, each whole in one file behind one interface (`base.py`), gathered in one
explicit registry. Adding a factor touches its module, its tests, this registry and (only if it
needs a new atomic decision) one Lua file.

The instances live as long as the process (the HOTP factor keeps a per-process cache).
"""

from __future__ import annotations

from typing import cast

from authsvc.factors.base import Factor, OutOfBandFactor, PasscodeFactor
from authsvc.factors.bypass import BypassFactor
from authsvc.factors.duo_mobile import DuoMobileFactor
from authsvc.factors.hotp import HotpFactor
from authsvc.factors.phone_call import PhoneCallFactor
from authsvc.factors.push import PushFactor
from authsvc.factors.sms import SmsFactor
from authsvc.factors.sms_passcode import SmsPasscodeFactor
from authsvc.factors.totp import TotpFactor
from authsvc.factors.u2f import U2fFactor
from authsvc.factors.webauthn import WebauthnFactor
from authsvc.factors.yubikey import YubikeyFactor
from authsvc.model.factors import FactorKind, Method

__all__ = ["REGISTRY", "OutOfBandFactor", "PasscodeFactor", "out_of_band_factors",
           "passcode_factors", "u2f_factor", "webauthn_factor"]

# In the order the decision script tries passcode matches: bypass, SMS, hardware tokens, then
# Duo Mobile.
REGISTRY: dict[FactorKind, Factor] = {
    FactorKind.BYPASS: BypassFactor(),
    FactorKind.SMS_PASSCODE: SmsPasscodeFactor(),
    FactorKind.HOTP: HotpFactor(),
    FactorKind.TOTP: TotpFactor(),
    FactorKind.YUBIKEY: YubikeyFactor(),
    FactorKind.DUO_MOBILE_PASSCODE: DuoMobileFactor(),
    FactorKind.PUSH: PushFactor(),
    FactorKind.PHONE_CALL: PhoneCallFactor(),
    FactorKind.SMS: SmsFactor(),
    FactorKind.WEBAUTHN: WebauthnFactor(),
    FactorKind.U2F: U2fFactor(),
}


def passcode_factors() -> tuple[PasscodeFactor, ...]:
    """The passcode factors, in the registry's order."""
    return tuple(cast(PasscodeFactor, f) for f in REGISTRY.values()
                 if f.method is Method.PASSCODE)


def out_of_band_factors() -> dict[str, OutOfBandFactor]:
    """The out-of-band factors by their Auth API name (push, phone, sms)."""
    found = (cast(OutOfBandFactor, f) for f in REGISTRY.values()
             if f.method is Method.OUT_OF_BAND)
    return {factor.api_name: factor for factor in found}


def webauthn_factor() -> WebauthnFactor:
    return cast(WebauthnFactor, REGISTRY[FactorKind.WEBAUTHN])


def u2f_factor() -> U2fFactor:
    return cast(U2fFactor, REGISTRY[FactorKind.U2F])
