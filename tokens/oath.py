"""OATH soft tokens: an HOTP token with a button and a TOTP token with a skewed clock.

Independent of the server's implementation (RFC 4226 section 5.3, RFC 6238), so the tests catch
a truncation or counter mistake on either side.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass


def oath_code(secret: bytes, moving_factor: int, digits: int = 6) -> str:
    """RFC 4226: dynamic truncation of HMAC-SHA1 over the 8-byte big-endian moving factor."""
    digest = hmac.new(secret, moving_factor.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[19] & 0xF
    binary = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return f"{binary % 10 ** digits:0{digits}d}"


@dataclass
class HotpToken:
    """A counter-based token: every press shows the next code."""

    secret: bytes
    serial: str
    digits: int = 6
    counter: int = 0

    @property
    def secret_hex(self) -> str:
        return self.secret.hex()

    def press(self) -> str:
        """The next code (the token's counter moves on)."""
        code = oath_code(self.secret, self.counter, self.digits)
        self.counter += 1
        return code

    def press_ahead(self, presses: int) -> None:
        """Presses nobody typed in: the drift a server's window and resync must absorb."""
        self.counter += presses


@dataclass
class TotpToken:
    """A time-based token whose clock may run `skew_seconds` off."""

    secret: bytes
    serial: str
    digits: int = 6
    step: int = 30
    skew_seconds: float = 0.0

    def code_at(self, unix_time: float) -> str:
        """The code the token shows at `unix_time` (its own clock is skewed)."""
        return oath_code(self.secret, int(unix_time + self.skew_seconds) // self.step, self.digits)

    def code(self) -> str:
        """The code it shows now."""
        return self.code_at(time.time())
