"""CTAP2 over CTAPHID.CBOR for the soft key (`tokens.fido.SoftAuthenticator`): GetInfo,
MakeCredential (ES256, "packed" self-attestation) and GetAssertion, including the client's
``up: false`` pre-flight. No resident keys, no PIN, no user verification.

The commands run against the `Key` primitives (wrapping credential ids, the signature counter,
user presence), so this module holds the protocol and `fido.py` the key's state.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Mapping
from threading import Event
from typing import Any, Protocol, TypeVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256
from fido2.ctap import STATUS, CtapError

ERR = CtapError.ERR
AAGUID = bytes.fromhex("7e0c5a1f3b9d4e2a8c6f0d1b2a394857")  # this soft key "model"
FLAG_UP, FLAG_AT = 0x01, 0x40
SIGN = ec.ECDSA(hashes.SHA256())
Keepalive = Callable[[STATUS], None] | None
_T = TypeVar("_T")


class Key(Protocol):
    """What the CTAP2 commands need from the key."""

    advertise_client_pin: bool

    def wrap(self, key: ec.EllipticCurvePrivateKey, aad: bytes) -> bytes: ...

    def unwrap(self, handle: object, aad: bytes) -> ec.EllipticCurvePrivateKey | None: ...

    def next_counter(self) -> bytes: ...

    def user_presence(self, event: Event | None, on_keepalive: Keepalive) -> None: ...


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _field(request: Mapping[int, Any], key: int, kind: type[_T]) -> _T:
    value = request.get(key)
    if value is None:
        raise CtapError(ERR.MISSING_PARAMETER)
    if not isinstance(value, kind):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    return value


def _options(value: object) -> dict[str, bool]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CtapError(ERR.CBOR_UNEXPECTED_TYPE)
    return value


def _cose_es256(public: ec.EllipticCurvePublicKey) -> dict[int, int | bytes]:
    """COSE_Key of an ES256 credential: kty EC2, alg -7, crv P-256, x, y."""
    numbers = public.public_numbers()
    return {1: 2, 3: ES256.ALGORITHM, -1: 1, -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big")}


def handle_cbor(key: Key, data: bytes, event: Event | None, on_keepalive: Keepalive) -> bytes:
    """One CTAPHID.CBOR request: the status byte, then the CBOR reply."""
    handlers = {0x01: make_credential, 0x02: get_assertion, 0x04: get_info}
    handler = handlers.get(data[0]) if data else None
    if handler is None:
        return bytes([ERR.INVALID_COMMAND])
    try:
        request = cbor.decode(data[1:]) if len(data) > 1 else {}
    except (ValueError, IndexError, TypeError, KeyError, struct.error):
        return bytes([ERR.INVALID_CBOR])
    if not isinstance(request, dict):
        return bytes([ERR.INVALID_CBOR])
    try:
        reply = handler(key, request, event, on_keepalive)
    except CtapError as exc:
        return bytes([exc.code])
    return b"\x00" + cbor.encode(reply)


def get_info(key: Key, request: Mapping[int, Any], event: Event | None,
             on_keepalive: Keepalive) -> dict[int, Any]:
    """authenticatorGetInfo."""
    # No "uv", "clientPin" or "bioEnroll": python-fido2 turns userVerification "preferred"
    # into "required" as soon as any of them is present, even as False (the UV trap), which
    # ``advertise_client_pin`` reproduces: a factory-fresh YubiKey says clientPin: False.
    options = {"plat": False, "rk": False, "up": True}
    if key.advertise_client_pin:
        options["clientPin"] = False
    return {1: ["U2F_V2", "FIDO_2_0"], 3: AAGUID, 4: options, 5: 1200, 7: 8, 8: 128}


def _no_pin(key: Key, pin_auth: object, event: Event | None, on_keepalive: Keepalive) -> None:
    if pin_auth is None:
        return
    if pin_auth == b"":  # a platform's "touch to select" probe (CTAP 2.0 selection)
        key.user_presence(event, on_keepalive)
        raise CtapError(ERR.PIN_NOT_SET)
    raise CtapError(ERR.PIN_AUTH_INVALID)


def _check_make_credential(request: Mapping[int, Any]) -> tuple[bytes, str]:
    """(clientDataHash, rpId) of a MakeCredential this key can serve, else the CTAP error."""
    client_data_hash = _field(request, 1, bytes)
    rp_id = _field(request, 2, dict).get("id")
    _field(request, 3, dict)
    params = _field(request, 4, list)
    if not isinstance(rp_id, str):
        raise CtapError(ERR.MISSING_PARAMETER)
    if not any(isinstance(p, dict) and p.get("alg") == ES256.ALGORITHM
               and p.get("type") == "public-key" for p in params):
        raise CtapError(ERR.UNSUPPORTED_ALGORITHM)
    options = _options(request.get(7))
    if options.get("rk"):
        raise CtapError(ERR.UNSUPPORTED_OPTION)
    if options.get("uv") or options.get("up") is False:
        raise CtapError(ERR.INVALID_OPTION)
    return client_data_hash, rp_id


def make_credential(key: Key, request: Mapping[int, Any], event: Event | None,
                    on_keepalive: Keepalive) -> dict[int, Any]:
    """authenticatorMakeCredential: a new ES256 credential, "packed" self-attestation."""
    client_data_hash, rp_id = _check_make_credential(request)
    _no_pin(key, request.get(8), event, on_keepalive)
    rp_hash = sha256(rp_id.encode())
    excluded = any(key.unwrap(c.get("id"), rp_hash) for c in request.get(5) or []
                   if isinstance(c, dict))
    key.user_presence(event, on_keepalive)
    if excluded:
        raise CtapError(ERR.CREDENTIAL_EXCLUDED)
    private = ec.generate_private_key(ec.SECP256R1())
    cred_id = key.wrap(private, rp_hash)
    cose = cbor.encode(_cose_es256(private.public_key()))
    auth_data = (rp_hash + bytes([FLAG_UP | FLAG_AT]) + key.next_counter()
                 + AAGUID + struct.pack(">H", len(cred_id)) + cred_id + cose)
    signature = private.sign(auth_data + client_data_hash, SIGN)
    return {1: "packed", 2: auth_data, 3: {"alg": ES256.ALGORITHM, "sig": signature}}


def get_assertion(key: Key, request: Mapping[int, Any], event: Event | None,
                  on_keepalive: Keepalive) -> dict[int, Any]:
    """authenticatorGetAssertion: sign with the first allowed credential this key made."""
    rp_id = _field(request, 1, str)
    client_data_hash = _field(request, 2, bytes)
    options = _options(request.get(5))
    if options.get("uv"):
        raise CtapError(ERR.UNSUPPORTED_OPTION)
    if "rk" in options:
        raise CtapError(ERR.INVALID_OPTION)
    _no_pin(key, request.get(6), event, on_keepalive)
    rp_hash = sha256(rp_id.encode())
    found = next(((c["id"], private) for c in request.get(3) or [] if isinstance(c, dict)
                  if (private := key.unwrap(c.get("id"), rp_hash)) is not None), None)
    if found is None:  # no resident keys: nothing to offer without an allow list
        raise CtapError(ERR.NO_CREDENTIALS)
    cred_id, private = found
    presence = options.get("up", True)
    if presence:
        key.user_presence(event, on_keepalive)
    auth_data = rp_hash + bytes([FLAG_UP if presence else 0]) + key.next_counter()
    signature = private.sign(auth_data + client_data_hash, SIGN)
    return {1: {"id": cred_id, "type": "public-key"}, 2: auth_data, 3: signature}
