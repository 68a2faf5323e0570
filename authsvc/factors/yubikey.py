"""YubiKey OTP (Yubico OTP, "yk" tokens): 32-48 modhex characters, the last 32 an AES-128 block.

The block decrypts (AES-128-ECB, one block) with the token's key to: private id (6), use
counter (2, LE), timestamp (3), session counter (1), random (2), CRC16 (2). It is valid if the
CRC residue is 0xF0B8 and the private id matches; the (use counter, session counter) pair,
packed as ``use * 256 + session``, must then be strictly greater than the last one accepted,
which the decision script enforces.
"""

from __future__ import annotations

import json
from typing import ClassVar

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from authsvc.crypto import constant_time_equal
from authsvc.factors.base import PasscodeContext
from authsvc.model.attempts import Match
from authsvc.model.factors import CommitRule, FactorKind, Home, LogFactor, Method
from authsvc.model.tokens import TokenType

MODHEX = "cbdefghijklnrtuv"
_TO_HEX = str.maketrans(MODHEX, "0123456789abcdef")
TOKEN_CHARS = 32
MAX_PUBLIC_ID_CHARS = 32
CRC_RESIDUE = 0xF0B8


def is_otp_shape(text: str) -> bool:
    lowered = text.lower()
    return TOKEN_CHARS <= len(lowered) <= TOKEN_CHARS + MAX_PUBLIC_ID_CHARS \
        and len(lowered) % 2 == 0 and all(ch in MODHEX for ch in lowered)


def crc16(data: bytes) -> int:
    """ISO 13239 / X-25 CRC as Yubico OTP uses it (init 0xFFFF, reflected poly 0x8408)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def decrypt_block(otp: str, aes_key: bytes) -> bytes:
    """The plaintext block of an OTP (the last 32 modhex characters)."""
    block = bytes.fromhex(otp.lower()[-TOKEN_CHARS:].translate(_TO_HEX))
    decryptor = Cipher(algorithms.AES(aes_key), modes.ECB()).decryptor()  # noqa: S305 - Yubico OTP is one ECB block
    return decryptor.update(block) + decryptor.finalize()


def counter_of(otp: str, aes_key: bytes, private_id: bytes) -> int | None:
    """``use * 256 + session`` if the OTP is valid for this key and private id, else None."""
    plain = decrypt_block(otp, aes_key)
    if crc16(plain) != CRC_RESIDUE or not constant_time_equal(plain[:6], private_id):
        return None
    use = int.from_bytes(plain[6:8], "little")
    return use * 256 + plain[11]


class YubikeyFactor:
    """yk tokens: every assigned YubiKey is tried with its own key (as Duo does)."""

    kind: ClassVar[FactorKind] = FactorKind.YUBIKEY
    log_name: ClassVar[LogFactor] = LogFactor.YUBIKEY_CODE
    method: ClassVar[Method] = Method.PASSCODE

    def matches(self, ctx: PasscodeContext, passcode: str) -> list[Match]:
        if not is_otp_shape(passcode):
            return []
        found = []
        for token in ctx.tokens:
            if token.type is not TokenType.YUBIKEY:
                continue
            secret = json.loads(ctx.box.open(token.sealed_seed, bound_to=token.token_id))
            counter = counter_of(passcode, bytes.fromhex(secret["aes_key"]),
                                 bytes.fromhex(secret["private_id"]))
            if counter is not None:
                found.append(Match(self.log_name, CommitRule.YUBIKEY_COUNTER, Home.TOKENS,
                                   token.token_id, counter=counter))
        return found
