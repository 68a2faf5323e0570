"""CTAP1/U2F over CTAPHID.MSG extended APDUs for the soft key (`tokens.fido.SoftAuthenticator`):
VERSION, REGISTER with a self-signed attestation certificate, AUTHENTICATE with P1
0x03 (enforce presence), 0x07 (check only) and 0x08 (no presence).

U2F user presence never blocks: the key answers 6985 until the touch has happened, as real keys
do, and the client polls.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tokens.ctap2 import SIGN


class SW(IntEnum):
    """ISO 7816 status words that U2F uses."""

    OK = 0x9000
    WRONG_LENGTH = 0x6700
    CONDITIONS_NOT_SATISFIED = 0x6985
    WRONG_DATA = 0x6A80
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


class ApduStatus(Exception):
    """The command ends with this status word (and no data)."""

    def __init__(self, sw: SW) -> None:
        super().__init__(f"status {sw:04X}")
        self.sw = sw


class Key(Protocol):
    """What the U2F commands need from the key."""

    def wrap(self, key: ec.EllipticCurvePrivateKey, aad: bytes) -> bytes: ...

    def unwrap(self, handle: object, aad: bytes) -> ec.EllipticCurvePrivateKey | None: ...

    def next_counter(self) -> bytes: ...

    def u2f_presence(self) -> bool: ...

    def attest(self, data: bytes) -> bytes: ...

    def attestation_certificate(self) -> bytes: ...


def parse_apdu(apdu: bytes) -> tuple[int, int, bytes]:
    """(INS, P1, data) of a short or extended-length command APDU."""
    if len(apdu) < 4:
        raise ApduStatus(SW.WRONG_LENGTH)
    if apdu[0] != 0:
        raise ApduStatus(SW.CLA_NOT_SUPPORTED)
    body = apdu[4:]
    if not body:
        return apdu[1], apdu[2], b""
    if body[0] == 0 and len(body) >= 3:  # extended: 00 Lc_hi Lc_lo data [Le_hi Le_lo]
        length = int.from_bytes(body[1:3], "big")
        data, rest = body[3:3 + length], body[3 + length:]
    else:
        length = body[0]
        data, rest = body[1:1 + length], body[1 + length:]
    if len(data) != length or len(rest) > 2:
        raise ApduStatus(SW.WRONG_LENGTH)
    return apdu[1], apdu[2], data


def handle_msg(key: Key, apdu: bytes) -> bytes:
    """One CTAPHID.MSG request: the response data, then the status word."""
    try:
        ins, p1, data = parse_apdu(apdu)
        if ins == 0x03:
            reply = b"U2F_V2"
        elif ins == 0x01:
            reply = register(key, data)
        elif ins == 0x02:
            reply = authenticate(key, p1, data)
        else:
            raise ApduStatus(SW.INS_NOT_SUPPORTED)
    except ApduStatus as status:
        return struct.pack(">H", status.sw)
    return reply + struct.pack(">H", SW.OK)


def _touched(key: Key) -> None:
    if not key.u2f_presence():
        raise ApduStatus(SW.CONDITIONS_NOT_SATISFIED)


def register(key: Key, data: bytes) -> bytes:
    """U2F REGISTER: a new key pair, its wrapped handle, the attestation certificate and
    signature."""
    if len(data) != 64:
        raise ApduStatus(SW.WRONG_LENGTH)
    challenge, app = data[:32], data[32:]
    _touched(key)
    private = ec.generate_private_key(ec.SECP256R1())
    handle = key.wrap(private, app)
    public = private.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
    signature = key.attest(b"\x00" + app + challenge + handle + public)
    return (b"\x05" + public + bytes([len(handle)]) + handle
            + key.attestation_certificate() + signature)


def authenticate(key: Key, p1: int, data: bytes) -> bytes:
    """U2F AUTHENTICATE: sign with the key whose handle this key made for this AppID."""
    if len(data) < 65 or len(data) != 65 + data[64]:
        raise ApduStatus(SW.WRONG_LENGTH)
    challenge, app, handle = data[:32], data[32:64], data[65:]
    private = key.unwrap(handle, app)
    if private is None:
        raise ApduStatus(SW.WRONG_DATA)
    if p1 == 0x07:  # check-only: "6985" is how a key says "this handle is mine"
        raise ApduStatus(SW.CONDITIONS_NOT_SATISFIED)
    if p1 not in (0x03, 0x08):
        raise ApduStatus(SW.WRONG_DATA)
    if p1 == 0x03:
        _touched(key)
    presence = bytes([1 if p1 == 0x03 else 0])
    counter = key.next_counter()
    signature = private.sign(app + presence + counter + challenge, SIGN)
    return presence + counter + signature
