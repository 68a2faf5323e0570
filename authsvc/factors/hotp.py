"""Hardware HOTP tokens (h6, h8): look-ahead window and the automatic-resync search."""

from __future__ import annotations

from collections import OrderedDict
from typing import ClassVar

from authsvc.factors._oath import RESYNC_RANGE, Hotp, opened_codes
from authsvc.factors.base import PasscodeContext
from authsvc.model.attempts import Match
from authsvc.model.factors import CommitRule, FactorKind, Home, LogFactor, Method
from authsvc.model.tokens import Token

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


class HotpFactor:
    """h6/h8 tokens: RFC 4226 codes keyed by the token's seed."""

    kind: ClassVar[FactorKind] = FactorKind.HOTP
    log_name: ClassVar[LogFactor] = LogFactor.HARDWARE_TOKEN
    method: ClassVar[Method] = Method.PASSCODE

    def __init__(self) -> None:
        self._far_codes = FarCodes()

    def matches(self, ctx: PasscodeContext, passcode: str) -> list[Match]:
        """Two phases: every token's look-ahead window first (a match ends the search); only
        when none matches, the resync range of each token."""
        window = ctx.settings.hotp_window
        usable = [(token, opened_codes(ctx.box, token.sealed_seed, bound_to=token.token_id,
                                       digits=token.type.digits))
                  for token in ctx.tokens
                  if token.type.is_hotp and len(passcode) == token.type.digits]
        for token, generator in usable:
            counter = generator.find(passcode, token.counter, token.counter + window)
            if counter is not None:
                return [self._match(token, counter=counter, window=window)]
        resync = [(token, self._far(token, generator, passcode, window))
                  for token, generator in usable]
        return [self._match(token, far=far) for token, far in resync if far is not None]

    def _far(self, token: Token, generator: Hotp, code: str, window: int) -> int | None:
        """The counter `code` has for automatic resync: the continuation of a resync in
        progress if it fits, else the first in [counter + window, counter + RESYNC_RANGE)."""
        if token.resync_count and generator.find(
                code, token.resync_next, token.resync_next + 1) is not None:
            return token.resync_next
        return self._far_codes.counter_of(token, generator, code, token.counter + window)

    def _match(self, token: Token, *, counter: int | None = None, far: int | None = None,
               window: int | None = None) -> Match:
        return Match(self.log_name, CommitRule.HOTP_COUNTER, Home.TOKENS, token.token_id,
                     counter=counter, far=far, window=window)
