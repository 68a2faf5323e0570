"""Duo Mobile passcodes: HOTP-SHA1, 6 digits, keyed by the ASCII bytes of the app's
``hotp_secret``, with a look-ahead window of at least 10 (some apps start at counter 1)."""

from __future__ import annotations

from typing import ClassVar

from authsvc.factors._oath import opened_codes
from authsvc.factors.base import PasscodeContext
from authsvc.model.attempts import Match
from authsvc.model.factors import CommitRule, FactorKind, Home, LogFactor, Method

DIGITS = 6
MIN_WINDOW = 10


class DuoMobileFactor:
    """Passcodes shown by an activated Duo Mobile app (each user keeps its own counter)."""

    kind: ClassVar[FactorKind] = FactorKind.DUO_MOBILE_PASSCODE
    log_name: ClassVar[LogFactor] = LogFactor.DUO_MOBILE_PASSCODE
    method: ClassVar[Method] = Method.PASSCODE

    def matches(self, ctx: PasscodeContext, passcode: str) -> list[Match]:
        if len(passcode) != DIGITS or not passcode.isdigit():
            return []
        window = max(MIN_WINDOW, ctx.settings.hotp_window)
        found = []
        for state in ctx.mobile_otp:
            hotp = opened_codes(ctx.box, state.sealed_seed, bound_to=f"{state.phone_id}:{state.cred}",
                             digits=DIGITS)
            counter = hotp.find(passcode, state.counter, state.counter + window)
            if counter is not None:
                found.append(Match(self.log_name, CommitRule.HOTP_COUNTER, Home.MOBILE_OTP,
                                   state.phone_id, counter=counter, window=window))
        return found
