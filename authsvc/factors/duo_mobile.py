"""Duo Mobile passcodes: HOTP-SHA1, 6 digits, keyed by the ASCII bytes of the app's
``hotp_secret``, with a look-ahead window of at least 10 (some apps start at counter 1)."""

from __future__ import annotations

import json

from authsvc.factors._oath import Hotp
from authsvc.factors.base import Contribution, FactorKind, PasscodeContext
from authsvc.store.attempts import TokenCandidate

DIGITS = 6
MIN_WINDOW = 10


class DuoMobileFactor:
    """Passcodes shown by an activated Duo Mobile app (each user keeps its own counter)."""

    kind = FactorKind.DUO_MOBILE_PASSCODE

    def contribute(self, ctx: PasscodeContext, passcode: str) -> Contribution:
        if len(passcode) != DIGITS or not passcode.isdigit():
            return Contribution()
        window = max(MIN_WINDOW, ctx.settings.hotp_window)
        candidates = []
        for phone_id, raw in ctx.mobile_otp.items():
            state = json.loads(raw)
            seed = ctx.box.open(state["seed"], bound_to=f"{phone_id}:{state['cred']}")
            counter = int(state["counter"])
            match = Hotp(seed, DIGITS).find(passcode, counter, counter + window)
            candidates.append(TokenCandidate(phone_id, "mobile",
                                             match=-1 if match is None else match))
        return Contribution(tokens=tuple(candidates))
