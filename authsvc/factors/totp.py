"""Hardware TOTP tokens (t6, t8): one step either side, each step usable once."""

from __future__ import annotations

from authsvc.domain.models import TokenType
from authsvc.factors._oath import Hotp, time_step
from authsvc.factors.base import Contribution, FactorKind, PasscodeContext
from authsvc.store.attempts import TokenCandidate

TOTP_TYPES = (TokenType.TOTP6, TokenType.TOTP8)
SKEW_STEPS = 1


class TotpFactor:
    """t6/t8 tokens: RFC 6238 codes; no drift tracking or resync (as Duo)."""

    kind = FactorKind.HARDWARE_TOKEN

    def contribute(self, ctx: PasscodeContext, passcode: str) -> Contribution:
        candidates = []
        for token in ctx.tokens:
            if token.type not in TOTP_TYPES or len(passcode) != token.type.digits:
                continue
            seed = ctx.box.open(token.sealed_seed, bound_to=token.token_id)
            generator = Hotp(seed, token.type.digits)
            now_step = time_step(ctx.now, token.totp_step)
            # Oldest first, skipping steps already used, so a code is matched to the step that
            # the decision script can still accept.
            steps = range(max(now_step - SKEW_STEPS, token.last_step + 1), now_step + SKEW_STEPS + 1)
            match = generator.find(passcode, steps.start, steps.stop)
            candidates.append(TokenCandidate(token.token_id, "totp",
                                             match=-1 if match is None else match))
        return Contribution(tokens=tuple(candidates))
