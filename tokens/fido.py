"""A software FIDO2 + U2F security key, as a `fido2.ctap.CtapDevice` that `Fido2Client` drives.

It speaks CTAP2 over CTAPHID.CBOR (GetInfo, MakeCredential with ES256 and "packed"
self-attestation, GetAssertion including the client's ``up: false`` pre-flight) and CTAP1/U2F over
CTAPHID.MSG extended APDUs (VERSION, REGISTER with a self-signed attestation certificate,
AUTHENTICATE with P1 0x03/0x07/0x08).

Credential ids and key handles are stateless: ``nonce(12) || AES-256-GCM(wrap_key, d, aad)``
(60 bytes) with ``aad = SHA-256(rpId)`` for CTAP2 and ``aad = appParam`` for U2F. Both are the
same hash, so a credential made over U2F for an AppID answers a CTAP2 GetAssertion whose rpId is
that AppID (the WebAuthn ``appid`` path), and a foreign or other-RP id fails the GCM tag.
The only state is the 32-byte secret (``.secret`` / ``from_secret``) and the signature counter.

Knobs, all plain attributes that tests may flip between ceremonies:
- ``touch_delay``: seconds before the simulated touch (CTAP2 sends keepalive UPNEEDED and
  honours the cancel event; U2F answers 6985 until the delay has passed, as real keys do);
- ``refuse``: the user never confirms (CTAP2 OPERATION_DENIED, U2F 6985 forever);
- ``counter_mode``: ``normal`` (+1 per signature), ``zero`` (always 0) or ``regress`` (-1 per
  signature: what a server sees from a cloned key); ``clone()`` makes a literal clone. One global
  counter; the client's ``up: false`` pre-flight is a signature too, so a CTAP2 WebAuthn login
  moves it by 2 (a CTAP1 one by 1); U2F REGISTER does not sign with it;
- ``ctap2=False``: a U2F-only key (no CBOR capability), so clients fall back to CTAP1;
- ``advertise_client_pin``: GetInfo says ``clientPin: False`` like a factory-fresh YubiKey, which
  springs python-fido2's UV trap unless the RP sends userVerification "discouraged".
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from threading import Event
from typing import Any, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from fido2 import cbor
from fido2.cose import ES256
from fido2.ctap import STATUS, CtapDevice, CtapError
from fido2.hid import CAPABILITY, CTAPHID

ERR = CtapError.ERR
AAGUID = bytes.fromhex("7e0c5a1f3b9d4e2a8c6f0d1b2a394857")  # this soft key "model"
SECRET_LENGTH = 32
CRED_ID_LENGTH = 60
FLAG_UP, FLAG_AT = 0x01, 0x40
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_SIGN = ec.ECDSA(hashes.SHA256())
_T = TypeVar("_T")


class CounterMode(StrEnum):
    """How the signature counter moves."""

    NORMAL = "normal"
    ZERO = "zero"
    REGRESS = "regress"


class SW(IntEnum):
    """ISO 7816 status words that U2F uses."""

    OK = 0x9000
    WRONG_LENGTH = 0x6700
    CONDITIONS_NOT_SATISFIED = 0x6985
    WRONG_DATA = 0x6A80
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


class _ApduStatus(Exception):
    def __init__(self, sw: SW) -> None:
        super().__init__(f"status {sw:04X}")
        self.sw = sw


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _derive(secret: bytes, label: bytes, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length, salt=None, info=b"tokens.fido " + label).derive(secret)


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


def _parse_apdu(apdu: bytes) -> tuple[int, int, bytes]:
    """(INS, P1, data) of a short or extended-length command APDU."""
    if len(apdu) < 4:
        raise _ApduStatus(SW.WRONG_LENGTH)
    if apdu[0] != 0:
        raise _ApduStatus(SW.CLA_NOT_SUPPORTED)
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
        raise _ApduStatus(SW.WRONG_LENGTH)
    return apdu[1], apdu[2], data


class SoftAuthenticator(CtapDevice):
    """A USB security key in software: CTAP2 and U2F, one secret, one global counter."""

    def __init__(self, secret: bytes | None = None, *, counter: int = 0,
                 counter_mode: CounterMode | str = CounterMode.NORMAL, touch_delay: float = 0.0,
                 refuse: bool = False, ctap2: bool = True, advertise_client_pin: bool = False) -> None:
        self._secret = os.urandom(SECRET_LENGTH) if secret is None else bytes(secret)
        if len(self._secret) != SECRET_LENGTH:
            raise ValueError(f"the secret of a soft key is {SECRET_LENGTH} bytes")
        self._wrap_key = AESGCM(_derive(self._secret, b"wrap", 32))
        scalar = int.from_bytes(_derive(self._secret, b"attestation", 48), "big")
        self._attestation_key = ec.derive_private_key(scalar % (_P256_ORDER - 1) + 1, ec.SECP256R1())
        self._certificate: bytes | None = None
        self._counter = counter
        self._lock = threading.Lock()
        self._touch_at: float | None = None
        self._counter_mode = CounterMode(counter_mode)
        self.touch_delay = touch_delay
        self.refuse = refuse
        self.ctap2 = ctap2
        self.advertise_client_pin = advertise_client_pin

    @classmethod
    def from_secret(cls, secret: bytes, **knobs: Any) -> SoftAuthenticator:
        """The same key as the one whose ``.secret`` this is (counter and knobs as given)."""
        return cls(secret, **knobs)

    @property
    def secret(self) -> bytes:
        """The 32-byte master secret: every credential id/key handle this key made is sealed under
        keys derived from it, and so is the attestation key."""
        return self._secret

    @property
    def counter(self) -> int:
        """The global signature counter (the last value signed, in normal mode)."""
        return self._counter

    @property
    def counter_mode(self) -> CounterMode:
        return self._counter_mode

    @counter_mode.setter
    def counter_mode(self, mode: CounterMode | str) -> None:
        self._counter_mode = CounterMode(mode)

    @property
    def fingerprint(self) -> str:
        """A short public name for the secret (safe to print)."""
        return sha256(b"tokens.fido fingerprint" + self._secret)[:6].hex()

    def clone(self) -> SoftAuthenticator:
        """A physical clone: same secret and counter, counting on independently from here."""
        return SoftAuthenticator(self._secret, counter=self._counter, counter_mode=self.counter_mode,
                                 touch_delay=self.touch_delay, refuse=self.refuse, ctap2=self.ctap2,
                                 advertise_client_pin=self.advertise_client_pin)

    @property
    def capabilities(self) -> int:
        return int(CAPABILITY.WINK | CAPABILITY.CBOR) if self.ctap2 else int(CAPABILITY.WINK)

    @classmethod
    def list_devices(cls) -> Iterator[CtapDevice]:
        return iter(())

    def call(self, cmd: int, data: bytes = b"", event: Event | None = None,
             on_keepalive: Callable[[STATUS], None] | None = None) -> bytes:
        if cmd == CTAPHID.CBOR and self.ctap2:
            return self._cbor(data, event, on_keepalive)
        if cmd == CTAPHID.MSG:
            return self._msg(data)
        if cmd == CTAPHID.PING:
            return data
        if cmd in (CTAPHID.WINK, CTAPHID.LOCK):
            return b""
        raise CtapError(ERR.INVALID_COMMAND)

    # -- keys, counter, presence ------------------------------------------------------------

    def _wrap(self, key: ec.EllipticCurvePrivateKey, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        scalar = key.private_numbers().private_value.to_bytes(32, "big")
        return nonce + self._wrap_key.encrypt(nonce, scalar, aad)

    def _unwrap(self, handle: object, aad: bytes) -> ec.EllipticCurvePrivateKey | None:
        if not isinstance(handle, bytes) or len(handle) != CRED_ID_LENGTH:
            return None
        try:
            scalar = self._wrap_key.decrypt(handle[:12], handle[12:], aad)
        except InvalidTag:
            return None
        return ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())

    def _next_counter(self) -> bytes:
        with self._lock:
            if self.counter_mode is CounterMode.ZERO:
                return bytes(4)
            step = -1 if self.counter_mode is CounterMode.REGRESS else 1
            self._counter = min(max(self._counter + step, 0), 0xFFFFFFFF)
            return struct.pack(">I", self._counter)

    def _touch(self, event: Event | None, on_keepalive: Callable[[STATUS], None] | None) -> None:
        """CTAP2 user presence: blink (keepalive UPNEEDED) until touched, refused or cancelled."""
        if self.touch_delay > 0:
            if on_keepalive is not None:
                on_keepalive(STATUS.UPNEEDED)
            if event is None:
                time.sleep(self.touch_delay)
            elif event.wait(self.touch_delay):
                raise CtapError(ERR.KEEPALIVE_CANCEL)
        if event is not None and event.is_set():
            raise CtapError(ERR.KEEPALIVE_CANCEL)
        if self.refuse:
            raise CtapError(ERR.OPERATION_DENIED)

    def _u2f_touch(self) -> None:
        """U2F user presence never blocks: 6985 until the touch has happened, then one use."""
        if self.refuse:
            raise _ApduStatus(SW.CONDITIONS_NOT_SATISFIED)
        if self.touch_delay <= 0:
            return
        with self._lock:
            now = time.monotonic()
            if self._touch_at is None:
                self._touch_at = now + self.touch_delay
            if now < self._touch_at:
                raise _ApduStatus(SW.CONDITIONS_NOT_SATISFIED)
            self._touch_at = None

    def attestation_certificate(self) -> bytes:
        """The self-signed U2F attestation certificate (DER), derived from the secret."""
        if self._certificate is None:
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokens soft authenticator"),
                              x509.NameAttribute(NameOID.ORGANIZATION_NAME, "authsvc tokens")])
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(self._attestation_key.public_key())
                    .serial_number(int.from_bytes(_derive(self._secret, b"serial", 8), "big") >> 1 | 1)
                    .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
                    .not_valid_after(datetime(2050, 1, 1, tzinfo=UTC))
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                    .sign(self._attestation_key, hashes.SHA256()))
            self._certificate = cert.public_bytes(serialization.Encoding.DER)
        return self._certificate

    # -- CTAP2 ------------------------------------------------------------------------------

    def _cbor(self, data: bytes, event: Event | None,
              on_keepalive: Callable[[STATUS], None] | None) -> bytes:
        handlers = {0x01: self._make_credential, 0x02: self._get_assertion, 0x04: self._get_info}
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
            reply = handler(request, event, on_keepalive)
        except CtapError as exc:
            return bytes([exc.code])
        return b"\x00" + cbor.encode(reply)

    def _get_info(self, request: Mapping[int, Any], event: Event | None,
                  on_keepalive: Callable[[STATUS], None] | None) -> dict[int, Any]:
        # No "uv", "clientPin" or "bioEnroll": python-fido2 turns userVerification "preferred"
        # into "required" as soon as any of them is present, even as False (the UV trap), which
        # ``advertise_client_pin`` reproduces: a factory-fresh YubiKey says clientPin: False.
        options = {"plat": False, "rk": False, "up": True}
        if self.advertise_client_pin:
            options["clientPin"] = False
        return {1: ["U2F_V2", "FIDO_2_0"], 3: AAGUID, 4: options, 5: 1200, 7: 8, 8: 128}

    def _no_pin(self, pin_auth: object, event: Event | None,
                on_keepalive: Callable[[STATUS], None] | None) -> None:
        if pin_auth is None:
            return
        if pin_auth == b"":  # a platform's "touch to select" probe (CTAP 2.0 selection)
            self._touch(event, on_keepalive)
            raise CtapError(ERR.PIN_NOT_SET)
        raise CtapError(ERR.PIN_AUTH_INVALID)

    def _make_credential(self, request: Mapping[int, Any], event: Event | None,
                         on_keepalive: Callable[[STATUS], None] | None) -> dict[int, Any]:
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
        self._no_pin(request.get(8), event, on_keepalive)
        rp_hash = sha256(rp_id.encode())
        excluded = any(self._unwrap(c.get("id"), rp_hash) for c in request.get(5) or []
                       if isinstance(c, dict))
        self._touch(event, on_keepalive)
        if excluded:
            raise CtapError(ERR.CREDENTIAL_EXCLUDED)
        key = ec.generate_private_key(ec.SECP256R1())
        cred_id = self._wrap(key, rp_hash)
        cose = cbor.encode(_cose_es256(key.public_key()))
        auth_data = (rp_hash + bytes([FLAG_UP | FLAG_AT]) + self._next_counter()
                     + AAGUID + struct.pack(">H", len(cred_id)) + cred_id + cose)
        signature = key.sign(auth_data + client_data_hash, _SIGN)
        return {1: "packed", 2: auth_data, 3: {"alg": ES256.ALGORITHM, "sig": signature}}

    def _get_assertion(self, request: Mapping[int, Any], event: Event | None,
                       on_keepalive: Callable[[STATUS], None] | None) -> dict[int, Any]:
        rp_id = _field(request, 1, str)
        client_data_hash = _field(request, 2, bytes)
        options = _options(request.get(5))
        if options.get("uv"):
            raise CtapError(ERR.UNSUPPORTED_OPTION)
        if "rk" in options:
            raise CtapError(ERR.INVALID_OPTION)
        self._no_pin(request.get(6), event, on_keepalive)
        rp_hash = sha256(rp_id.encode())
        found = next(((c["id"], key) for c in request.get(3) or [] if isinstance(c, dict)
                      if (key := self._unwrap(c.get("id"), rp_hash)) is not None), None)
        if found is None:  # no resident keys: nothing to offer without an allow list
            raise CtapError(ERR.NO_CREDENTIALS)
        cred_id, key = found
        presence = options.get("up", True)
        if presence:
            self._touch(event, on_keepalive)
        auth_data = rp_hash + bytes([FLAG_UP if presence else 0]) + self._next_counter()
        signature = key.sign(auth_data + client_data_hash, _SIGN)
        return {1: {"id": cred_id, "type": "public-key"}, 2: auth_data, 3: signature}

    # -- CTAP1 / U2F ------------------------------------------------------------------------

    def _msg(self, apdu: bytes) -> bytes:
        try:
            ins, p1, data = _parse_apdu(apdu)
            if ins == 0x03:
                reply = b"U2F_V2"
            elif ins == 0x01:
                reply = self._u2f_register(data)
            elif ins == 0x02:
                reply = self._u2f_authenticate(p1, data)
            else:
                raise _ApduStatus(SW.INS_NOT_SUPPORTED)
        except _ApduStatus as status:
            return struct.pack(">H", status.sw)
        return reply + struct.pack(">H", SW.OK)

    def _u2f_register(self, data: bytes) -> bytes:
        if len(data) != 64:
            raise _ApduStatus(SW.WRONG_LENGTH)
        challenge, app = data[:32], data[32:]
        self._u2f_touch()
        key = ec.generate_private_key(ec.SECP256R1())
        handle = self._wrap(key, app)
        public = key.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
        signature = self._attestation_key.sign(b"\x00" + app + challenge + handle + public, _SIGN)
        return (b"\x05" + public + bytes([len(handle)]) + handle
                + self.attestation_certificate() + signature)

    def _u2f_authenticate(self, p1: int, data: bytes) -> bytes:
        if len(data) < 65 or len(data) != 65 + data[64]:
            raise _ApduStatus(SW.WRONG_LENGTH)
        challenge, app, handle = data[:32], data[32:64], data[65:]
        key = self._unwrap(handle, app)
        if key is None:
            raise _ApduStatus(SW.WRONG_DATA)
        if p1 == 0x07:  # check-only: "6985" is how a key says "this handle is mine"
            raise _ApduStatus(SW.CONDITIONS_NOT_SATISFIED)
        if p1 not in (0x03, 0x08):
            raise _ApduStatus(SW.WRONG_DATA)
        if p1 == 0x03:
            self._u2f_touch()
        presence = bytes([1 if p1 == 0x03 else 0])
        counter = self._next_counter()
        signature = key.sign(app + presence + counter + challenge, _SIGN)
        return presence + counter + signature
