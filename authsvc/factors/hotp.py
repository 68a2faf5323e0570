"""Hardware HOTP tokens (h6, h8): look-ahead window and the automatic-resync search."""

from __future__ import annotations

from collections import OrderedDict

from authsvc.domain.models import Token, TokenType
from authsvc.factors._oath import RESYNC_RANGE, Hotp
from authsvc.factors.base import Contribution, FactorKind, PasscodeContext
from authsvc.store.attempts import TokenCandidate

HOTP_TYPES = (TokenType.HOTP6, TokenType.HOTP8)


FAR_CACHE_SIZE = 128


class FarCodes:
    """Per process: for a (token, counter), which counter each code has in the resync range.

    Building one table costs about 1,000 HMACs (~1.8 ms); a user typing wrong codes until the
    lockout would otherwise pay that on every attempt, which makes wrong codes a cheap way to burn
    the service's CPU. Small LRU: tables are ~100 KB.
    """

    def __init__(self) -> None:
        self._tables: OrderedDict[tuple[str, int, int], dict[str, int]] = OrderedDict()

    def counter_of(self, token: Token, generator: Hotp, code: str, first: int) -> int | None:
        key = (token.token_id, token.counter, first)
        table = self._tables.get(key)
        if table is None:
            table = {}
            for counter in range(first, token.counter + RESYNC_RANGE):
                table.setdefault(generator.at(counter), counter)
            self._tables[key] = table
            if len(self._tables) > FAR_CACHE_SIZE:
                self._tables.popitem(last=False)
        else:
            self._tables.move_to_end(key)
        return table.get(code)


def hotp_candidate(token: Token, generator: Hotp, code: str, window: int,
                   far_codes: FarCodes) -> TokenCandidate:
    """Where `code` falls for one HOTP token outside its look-ahead window.

    `far` is the counter the code has for automatic resync: the continuation of a resync in
    progress if it fits, else the first counter in [counter + window, counter + RESYNC_RANGE).
    """
    if token.resync_count and generator.find(code, token.resync_next, token.resync_next + 1) \
            is not None:
        return TokenCandidate(token.token_id, "hotp", far=token.resync_next)
    far = far_codes.counter_of(token, generator, code, token.counter + window)
    return TokenCandidate(token.token_id, "hotp", far=-1 if far is None else far)


class HotpFactor:
    """h6/h8 tokens: RFC 4226 codes keyed by the token's seed."""

    kind = FactorKind.HARDWARE_TOKEN

    def __init__(self) -> None:
        self._far_codes = FarCodes()

    def contribute(self, ctx: PasscodeContext, passcode: str) -> Contribution:
        """Two phases: every token's look-ahead window first (a match ends the search); only
        when none matches, the resync range of each token."""
        window = ctx.settings.hotp_window
        usable = [(token, Hotp(ctx.box.open(token.sealed_seed, bound_to=token.token_id),
                               token.type.digits))
                  for token in ctx.tokens
                  if token.type in HOTP_TYPES and len(passcode) == token.type.digits]
        for token, generator in usable:
            match = generator.find(passcode, token.counter, token.counter + window)
            if match is not None:
                return Contribution(tokens=(TokenCandidate(token.token_id, "hotp", match=match),))
        return Contribution(tokens=tuple(
            hotp_candidate(token, generator, passcode, window, self._far_codes)
            for token, generator in usable))
