"""Hardware TOTP tokens (t6, t8): one step either side, each step usable once."""

from __future__ import annotations

from typing import ClassVar

from authsvc.factors._oath import opened_codes, time_step
from authsvc.factors.base import PasscodeContext
from authsvc.model.attempts import Match
from authsvc.model.factors import CommitRule, FactorKind, Home, LogFactor, Method
from authsvc.model.tokens import Token

SKEW_STEPS = 1


class TotpFactor:
    """t6/t8 tokens: RFC 6238 codes; no drift tracking or resync (as Duo)."""

    kind: ClassVar[FactorKind] = FactorKind.TOTP
    log_name: ClassVar[LogFactor] = LogFactor.HARDWARE_TOKEN
    method: ClassVar[Method] = Method.PASSCODE

    def matches(self, ctx: PasscodeContext, passcode: str) -> list[Match]:
        found = []
        for token in ctx.tokens:
            if token.type.is_totp and len(passcode) == token.type.digits:
                step = self._step(ctx, token, passcode)
                if step is not None:
                    found.append(Match(self.log_name, CommitRule.TOTP_STEP, Home.TOKENS,
                                       token.token_id, counter=step))
        return found

    @staticmethod
    def _step(ctx: PasscodeContext, token: Token, passcode: str) -> int | None:
        """The time step `passcode` has: oldest first, skipping steps already used, so a code is
        matched to the step that the decision script can still accept."""
        codes = opened_codes(ctx.box, token.sealed_seed, bound_to=token.token_id,
                             digits=token.type.digits)
        now_step = time_step(ctx.now, token.totp_step)
        first = max(now_step - SKEW_STEPS, token.last_step + 1)
        return codes.find(passcode, first, now_step + SKEW_STEPS + 1)
