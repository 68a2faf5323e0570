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
The protocols live in `tokens.ctap2` and `tokens.u2f`; this module holds the key's state and the
primitives they run on (wrap/unwrap, the counter, user presence, attestation).

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

import os
import struct
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from threading import Event
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from fido2.ctap import STATUS, CtapDevice, CtapError
from fido2.hid import CAPABILITY, CTAPHID

from tokens.ctap2 import AAGUID, SIGN, Keepalive, handle_cbor, sha256
from tokens.u2f import handle_msg

__all__ = ["AAGUID", "CRED_ID_LENGTH", "SECRET_LENGTH", "CounterMode", "SoftAuthenticator"]

ERR = CtapError.ERR
SECRET_LENGTH = 32
CRED_ID_LENGTH = 60
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class CounterMode(StrEnum):
    """How the signature counter moves."""

    NORMAL = "normal"
    ZERO = "zero"
    REGRESS = "regress"


def _derive(secret: bytes, label: bytes, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length, salt=None, info=b"tokens.fido " + label).derive(secret)


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
            return handle_cbor(self, data, event, on_keepalive)
        if cmd == CTAPHID.MSG:
            return handle_msg(self, data)
        if cmd == CTAPHID.PING:
            return data
        if cmd in (CTAPHID.WINK, CTAPHID.LOCK):
            return b""
        raise CtapError(ERR.INVALID_COMMAND)

    # -- the primitives the protocol modules (ctap2.py, u2f.py) run on ----------------------

    def wrap(self, key: ec.EllipticCurvePrivateKey, aad: bytes) -> bytes:
        """A stateless credential id / key handle: ``nonce || AES-GCM(wrap_key, d, aad)``."""
        nonce = os.urandom(12)
        scalar = key.private_numbers().private_value.to_bytes(32, "big")
        return nonce + self._wrap_key.encrypt(nonce, scalar, aad)

    def unwrap(self, handle: object, aad: bytes) -> ec.EllipticCurvePrivateKey | None:
        """The private key of a handle this key made for `aad`; None for any other."""
        if not isinstance(handle, bytes) or len(handle) != CRED_ID_LENGTH:
            return None
        try:
            scalar = self._wrap_key.decrypt(handle[:12], handle[12:], aad)
        except InvalidTag:
            return None
        return ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())

    def next_counter(self) -> bytes:
        """Move the counter by the mode and return the value to sign (4 bytes, big endian)."""
        with self._lock:
            if self.counter_mode is CounterMode.ZERO:
                return bytes(4)
            step = -1 if self.counter_mode is CounterMode.REGRESS else 1
            self._counter = min(max(self._counter + step, 0), 0xFFFFFFFF)
            return struct.pack(">I", self._counter)

    def user_presence(self, event: Event | None, on_keepalive: Keepalive) -> None:
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

    def u2f_presence(self) -> bool:
        """U2F user presence never blocks: False until the touch has happened, then one use."""
        if self.refuse:
            return False
        if self.touch_delay <= 0:
            return True
        with self._lock:
            now = time.monotonic()
            if self._touch_at is None:
                self._touch_at = now + self.touch_delay
            if now < self._touch_at:
                return False
            self._touch_at = None
            return True

    def attest(self, data: bytes) -> bytes:
        """Sign with the attestation key (U2F REGISTER)."""
        return self._attestation_key.sign(data, SIGN)

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
