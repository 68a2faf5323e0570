"""A YubiKey in "Yubico OTP" mode: every press types public id + one AES-128 block, in modhex.

Independent of the server's decoder. The block (all integers little-endian) is:
private id (6) | useCtr (2) | timestamp (3, 8 Hz since power-up) | sessionCtr (1) | random (2) |
~CRC16 (2), with the X-25 CRC over all 16 bytes leaving the residue 0xF0B8. The counters move as
on a real key, so the pair (useCtr, sessionCtr) strictly increases across presses and replugs:
a press uses the pair and then bumps sessionCtr (wrapping 0xFF into useCtr); a replug (power-up)
bumps useCtr, restarts sessionCtr at 0 and picks a new random timestamp.
"""

from __future__ import annotations

import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MODHEX = "cbdefghijklnrtuv"
_TO_MODHEX = str.maketrans("0123456789abcdef", MODHEX)
_FROM_MODHEX = str.maketrans(MODHEX, "0123456789abcdef")
CRC_RESIDUE = 0xF0B8
TOKEN_CHARS = 32
MAX_USE_COUNTER = 0x7FFF
MAX_SESSION_COUNTER = 0xFF
TIMESTAMP_HZ = 8


class OtpError(ValueError):
    """Not a Yubico OTP for this key: bad shape, bad modhex or a CRC that does not check."""


class KeyExhaustedError(RuntimeError):
    """The use counter has reached 0x7FFF: a real key stops giving OTPs."""


def modhex_encode(data: bytes) -> str:
    return data.hex().translate(_TO_MODHEX)


def modhex_decode(text: str) -> bytes:
    lowered = text.lower()
    if len(lowered) % 2 or any(ch not in MODHEX for ch in lowered):
        raise OtpError("not modhex")
    return bytes.fromhex(lowered.translate(_FROM_MODHEX))


def crc16(data: bytes) -> int:
    """ISO 13239 / X-25 (init 0xFFFF, reflected polynomial 0x8408, no final xor)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def _aes(key: bytes, block: bytes, *, decrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - Yubico OTP is one ECB block
    worker = cipher.decryptor() if decrypt else cipher.encryptor()
    return worker.update(block) + worker.finalize()


@dataclass(frozen=True)
class DecodedOtp:
    """What one OTP carries."""

    public_id: str  # modhex
    private_id: bytes
    use_counter: int
    timestamp: int
    session_counter: int
    random: int

    @property
    def counters(self) -> tuple[int, int]:
        """(useCtr, sessionCtr): a validation server accepts only strictly greater pairs."""
        return self.use_counter, self.session_counter


def encode_otp(public_id: bytes, private_id: bytes, aes_key: bytes, *, use_counter: int,
               timestamp: int, session_counter: int, random: int) -> str:
    """The modhex OTP for these fields."""
    body = (private_id + struct.pack("<H", use_counter) + (timestamp & 0xFFFFFF).to_bytes(3, "little")
            + bytes([session_counter]) + struct.pack("<H", random))
    block = body + struct.pack("<H", ~crc16(body) & 0xFFFF)
    return modhex_encode(public_id) + modhex_encode(_aes(aes_key, block, decrypt=False))


def decode_otp(otp: str, aes_key: bytes | str) -> DecodedOtp:
    """Decrypt and check an OTP; raises OtpError unless the shape, modhex and CRC are right."""
    key = bytes.fromhex(aes_key) if isinstance(aes_key, str) else aes_key
    if not TOKEN_CHARS <= len(otp) <= TOKEN_CHARS + 32:
        raise OtpError("an OTP is 32 modhex characters after a public id of up to 32")
    public, token = otp[:-TOKEN_CHARS].lower(), modhex_decode(otp[-TOKEN_CHARS:])
    modhex_decode(public)
    plain = _aes(key, token, decrypt=True)
    if crc16(plain) != CRC_RESIDUE:
        raise OtpError("CRC mismatch: wrong key or not a Yubico OTP")
    return DecodedOtp(public_id=public, private_id=plain[:6],
                      use_counter=struct.unpack("<H", plain[6:8])[0],
                      timestamp=int.from_bytes(plain[8:11], "little"), session_counter=plain[11],
                      random=struct.unpack("<H", plain[12:14])[0])


class YubiKey:
    """One key's OTP slot, programmed with (public id, private id, AES key)."""

    def __init__(self, *, public_id: bytes | None = None, private_id: bytes | None = None,
                 aes_key: bytes | None = None, use_counter: int = 1, session_counter: int = 0,
                 timestamp_start: int | None = None, powered_at: float | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        # User-programmed public ids conventionally start with "vv" (0xff).
        self._public_id = public_id if public_id is not None else b"\xff" + secrets.token_bytes(5)
        self._private_id = private_id if private_id is not None else secrets.token_bytes(6)
        self._aes_key = aes_key if aes_key is not None else secrets.token_bytes(16)
        if len(self._private_id) != 6 or len(self._aes_key) != 16 or len(self._public_id) > 16:
            raise ValueError("private id is 6 bytes, the AES key 16, the public id at most 16")
        self.use_counter = use_counter
        self.session_counter = session_counter
        self._clock = clock
        self.timestamp_start = secrets.randbelow(1 << 24) if timestamp_start is None else timestamp_start
        self.powered_at = clock() if powered_at is None else powered_at

    @property
    def public_id(self) -> str:
        """Modhex, as typed in front of every OTP."""
        return modhex_encode(self._public_id)

    @property
    def private_id(self) -> str:
        """Hex (12 characters), as the Personalization Tool logs it."""
        return self._private_id.hex()

    @property
    def aes_key(self) -> str:
        """Hex (32 characters)."""
        return self._aes_key.hex()

    @property
    def counters(self) -> tuple[int, int]:
        """(useCtr, sessionCtr) the next press will carry."""
        return self.use_counter, self.session_counter

    def timestamp(self) -> int:
        """The 24-bit 8 Hz timer, running since power-up from a random start."""
        ticks = int((self._clock() - self.powered_at) * TIMESTAMP_HZ)
        return (self.timestamp_start + max(ticks, 0)) & 0xFFFFFF

    def press(self) -> str:
        """Touch the key: the next OTP (public id + 32 characters)."""
        if self.use_counter > MAX_USE_COUNTER:
            raise KeyExhaustedError("use counter exhausted")
        otp = encode_otp(self._public_id, self._private_id, self._aes_key,
                         use_counter=self.use_counter, timestamp=self.timestamp(),
                         session_counter=self.session_counter, random=secrets.randbelow(1 << 16))
        self.session_counter += 1
        if self.session_counter > MAX_SESSION_COUNTER:
            self.session_counter = 0
            self.use_counter += 1
        return otp

    def replug(self) -> None:
        """Unplug and plug in again: a new session."""
        self.use_counter += 1
        self.session_counter = 0
        self.timestamp_start = secrets.randbelow(1 << 24)
        self.powered_at = self._clock()

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to carry on later (secrets included: keep the file private)."""
        return {"public_id": self.public_id, "private_id": self.private_id, "aes_key": self.aes_key,
                "use_counter": self.use_counter, "session_counter": self.session_counter,
                "timestamp_start": self.timestamp_start, "powered_at": self.powered_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any], clock: Callable[[], float] = time.time) -> YubiKey:
        return cls(public_id=modhex_decode(data["public_id"]),
                   private_id=bytes.fromhex(data["private_id"]), aes_key=bytes.fromhex(data["aes_key"]),
                   use_counter=int(data["use_counter"]), session_counter=int(data["session_counter"]),
                   timestamp_start=int(data["timestamp_start"]), powered_at=float(data["powered_at"]),
                   clock=clock)
