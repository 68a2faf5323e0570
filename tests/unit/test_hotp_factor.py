"""The HOTP factor's two phases: look-ahead windows first, the resync range only without a
match (and its code table built once per token and counter)."""

from __future__ import annotations

from authsvc.crypto import SecretBox
from authsvc.factors._oath import RESYNC_RANGE
from authsvc.factors.base import PasscodeContext
from authsvc.factors.hotp import HotpFactor
from authsvc.model.settings import AccountSettings
from authsvc.model.tokens import Token, TokenType
from tokens.oath import oath_code

BOX = SecretBox(b"k" * 32)
SEEDS = [bytes(range(20)), bytes(range(1, 21))]


def _tokens(counter: int = 0) -> list[Token]:
    return [Token(f"DH{n:018d}", TokenType.HOTP6, f"s{n}",
                  BOX.seal(seed, bound_to=f"DH{n:018d}"), 0, counter=counter)
            for n, seed in enumerate(SEEDS)]


def _context(tokens: list[Token]) -> PasscodeContext:
    return PasscodeContext("DU1", tokens, [], AccountSettings.from_stored({}), 0.0, BOX)


def test_a_window_match_ends_the_search_without_resync_candidates() -> None:
    matches = HotpFactor().matches(_context(_tokens()), oath_code(SEEDS[1], 3))
    assert [(m.object_id, m.counter, m.far) for m in matches] == \
        [("DH000000000000000001", 3, None)]


def test_without_a_window_match_each_token_holding_the_code_gets_its_resync_counter() -> None:
    code = oath_code(SEEDS[0], 500)
    matches = HotpFactor().matches(_context(_tokens()), code)
    # Only the token whose resync range holds the code (no sentinel for the other one).
    assert [(m.object_id, m.counter, m.far) for m in matches] == \
        [("DH000000000000000000", None, 500)]


def test_codes_beyond_the_resync_range_are_not_found_and_tables_are_reused() -> None:
    factor = HotpFactor()
    tokens = _tokens(counter=10)
    beyond = oath_code(SEEDS[0], 10 + RESYNC_RANGE)
    beyond_matches = [m for m in factor.matches(_context(tokens), beyond)
                      if m.object_id == tokens[0].token_id]
    # Never beyond the range (no match at all, unless the code repeats inside it).
    assert all(m.far is not None and m.far < 10 + RESYNC_RANGE for m in beyond_matches)
    inside = oath_code(SEEDS[0], 10 + RESYNC_RANGE - 1)
    assert factor.matches(_context(tokens), inside)[0].far == 10 + RESYNC_RANGE - 1
    assert len(factor._far_codes._tables) == 2  # one table per token, built once
