"""RFC 4226 and RFC 6238 vectors for the server's OATH code and the independent soft tokens,
cross-checked against pyotp."""

from __future__ import annotations

import base64

import pyotp
import pytest

from authsvc.factors._oath import Hotp, time_step
from tokens.oath import HotpToken, TotpToken, oath_code

RFC4226_SECRET = b"12345678901234567890"
RFC4226_CODES = ["755224", "287082", "359152", "969429", "338314",
                 "254676", "287922", "162583", "399871", "520489"]
RFC6238_SHA1 = [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
                (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130")]


@pytest.mark.parametrize("counter", range(10))
def test_server_and_soft_token_match_rfc4226(counter: int) -> None:
    assert Hotp(RFC4226_SECRET, 6).at(counter) == RFC4226_CODES[counter]
    assert oath_code(RFC4226_SECRET, counter) == RFC4226_CODES[counter]


@pytest.mark.parametrize(("unix_time", "code"), RFC6238_SHA1)
def test_server_and_soft_token_match_rfc6238_sha1(unix_time: int, code: str) -> None:
    assert Hotp(RFC4226_SECRET, 8).at(time_step(unix_time, 30)) == code
    assert TotpToken(RFC4226_SECRET, "rfc", digits=8).code_at(unix_time) == code


def test_server_matches_pyotp_for_many_counters_and_both_lengths() -> None:
    secret = bytes(range(32))
    for digits in (6, 8):
        oracle = pyotp.HOTP(base64.b32encode(secret).decode(), digits=digits)
        server = Hotp(secret, digits)
        assert [server.at(c) for c in range(0, 5000, 37)] == \
            [oracle.at(c) for c in range(0, 5000, 37)]


def test_find_returns_the_first_matching_counter_in_the_range_only() -> None:
    server = Hotp(RFC4226_SECRET, 6)
    assert server.find(RFC4226_CODES[4], 0, 10) == 4
    assert server.find(RFC4226_CODES[4], 5, 10) is None
    assert server.find(RFC4226_CODES[4], 0, 4) is None


def test_hotp_token_presses_in_order_and_can_drift() -> None:
    token = HotpToken(RFC4226_SECRET, "t")
    assert [token.press(), token.press()] == RFC4226_CODES[:2]
    token.press_ahead(5)
    assert token.press() == RFC4226_CODES[7]
