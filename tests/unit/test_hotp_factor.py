"""The HOTP factor's two phases: look-ahead windows first, the resync range only without a
match (and its code table built once per token and counter)."""

from __future__ import annotations

from authsvc.crypto import SecretBox
from authsvc.domain.account_settings import AccountSettings
from authsvc.domain.models import Token, TokenType
from authsvc.factors._oath import RESYNC_RANGE
from authsvc.factors.base import PasscodeContext
from authsvc.factors.hotp import HotpFactor
from tokens.oath import oath_code

BOX = SecretBox(b"k" * 32)
SEEDS = [bytes(range(20)), bytes(range(1, 21))]


def _tokens(counter: int = 0) -> list[Token]:
    return [Token(f"DH{n:018d}", TokenType.HOTP6, f"s{n}",
                  BOX.seal(seed, bound_to=f"DH{n:018d}"), 0, counter=counter)
            for n, seed in enumerate(SEEDS)]


def _context(tokens: list[Token]) -> PasscodeContext:
    return PasscodeContext("DU1", tokens, {}, AccountSettings.from_stored({}), 0.0, BOX)


def test_a_window_match_ends_the_search_without_resync_candidates() -> None:
    contribution = HotpFactor().contribute(_context(_tokens()), oath_code(SEEDS[1], 3))
    assert [(c.token_id, c.match, c.far) for c in contribution.tokens] == \
        [("DH000000000000000001", 3, -1)]


def test_without_a_window_match_every_token_gets_its_resync_counter() -> None:
    code = oath_code(SEEDS[0], 500)
    candidates = HotpFactor().contribute(_context(_tokens()), code).tokens
    assert candidates[0].far == 500 and candidates[0].match == -1
    assert len(candidates) == 2 and candidates[1].token_id == "DH000000000000000001"


def test_codes_beyond_the_resync_range_are_not_found_and_tables_are_reused() -> None:
    factor = HotpFactor()
    tokens = _tokens(counter=10)
    beyond = oath_code(SEEDS[0], 10 + RESYNC_RANGE)
    first = factor.contribute(_context(tokens), beyond).tokens[0]
    assert first.far < 10 + RESYNC_RANGE  # never beyond the range (-1 unless a code repeats)
    inside = oath_code(SEEDS[0], 10 + RESYNC_RANGE - 1)
    assert factor.contribute(_context(tokens), inside).tokens[0].far == 10 + RESYNC_RANGE - 1
    assert len(factor._far_codes._tables) == 2  # one table per token, built once
