"""Hardware HOTP tokens (h6, h8): look-ahead window and the automatic-resync search."""

from __future__ import annotations

from authsvc.domain.models import Token, TokenType
from authsvc.factors._oath import RESYNC_RANGE, Hotp
from authsvc.factors.base import Contribution, FactorKind, PasscodeContext
from authsvc.store.attempts import TokenCandidate

HOTP_TYPES = (TokenType.HOTP6, TokenType.HOTP8)


def hotp_candidate(token: Token, generator: Hotp, code: str, window: int) -> TokenCandidate:
    """Where `code` falls for one HOTP token.

    `match` is a counter in [counter, counter + window). Failing that, `far` is the counter the
    code has for automatic resync: the continuation of a resync in progress if it fits, else the
    first counter in [counter + window, counter + RESYNC_RANGE).
    """
    match = generator.find(code, token.counter, token.counter + window)
    if match is not None:
        return TokenCandidate(token.token_id, "hotp", match=match)
    if token.resync_count and generator.find(code, token.resync_next, token.resync_next + 1) \
            is not None:
        return TokenCandidate(token.token_id, "hotp", far=token.resync_next)
    far = generator.find(code, token.counter + window, token.counter + RESYNC_RANGE)
    return TokenCandidate(token.token_id, "hotp", far=-1 if far is None else far)


class HotpFactor:
    """h6/h8 tokens: RFC 4226 codes keyed by the token's seed."""

    kind = FactorKind.HARDWARE_TOKEN

    def contribute(self, ctx: PasscodeContext, passcode: str) -> Contribution:
        candidates = []
        for token in ctx.tokens:
            if token.type not in HOTP_TYPES or len(passcode) != token.type.digits:
                continue
            seed = ctx.box.open(token.sealed_seed, bound_to=token.token_id)
            generator = Hotp(seed, token.type.digits)
            candidates.append(hotp_candidate(token, generator, passcode, ctx.settings.hotp_window))
        return Contribution(tokens=tuple(candidates))
