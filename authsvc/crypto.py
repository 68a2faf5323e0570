"""Secrets at rest, keyed hashes of one-time codes, random identifiers, constant-time compares.

One master key (``AUTHSVC_SECRET_KEY`` or a 0600 key file created on first start) is stretched
with HKDF into independent sub-keys: one for AES-GCM encryption of token seeds and integration
secret keys, one (the "pepper") for the HMAC under which bypass and SMS codes are stored. A Redis
dump therefore holds neither a usable seed nor a guessable code hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import string
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_ID_ALPHABET = string.ascii_uppercase + string.digits
_SKEY_ALPHABET = string.ascii_letters + string.digits
_CIPHERTEXT_VERSION = "v1"


class DecryptionError(Exception):
    """A stored ciphertext does not open with this master key (wrong key or tampered record)."""


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    """The one comparison helper for anything secret."""
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def secret_hash(secret: str) -> str:
    """What Redis keeps of a random link secret (activation code, enrollment or session token),
    and the name it is looked up by: SHA-256, hex. Unkeyed is enough because these secrets are
    random and long (at least 119 bits), so the hash cannot be reversed by guessing; a dump of
    Redis then holds nothing that activates a phone or opens a portal."""
    return hashlib.sha256(secret.encode()).hexdigest()


def random_id(prefix: str, length: int = 20) -> str:
    """A Duo-style identifier: the prefix (``DU``, ``DH``, ``DI``...) then uppercase letters/digits."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length - len(prefix)))


def random_secret_key(length: int = 40) -> str:
    """An integration secret key (40 characters, letters and digits)."""
    return "".join(secrets.choice(_SKEY_ALPHABET) for _ in range(length))


def random_digits(count: int) -> str:
    """A uniformly random numeric code of `count` digits (leading zeros kept)."""
    return "".join(secrets.choice(string.digits) for _ in range(count))


def load_or_create_master_key(key_file: Path) -> bytes:
    """Read the master key file, creating it (0600, 32 random bytes, base64) if absent."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return base64.b64decode(key_file.read_text().strip(), validate=True)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return base64.b64decode(key_file.read_text().strip(), validate=True)


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


class SecretBox:
    """AES-256-GCM for secrets at rest, and the keyed hash for stored codes.

    Each ciphertext is bound (as associated data) to the record it belongs to, so a seed copied
    from one token record into another does not decrypt.
    """

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < 16:
            raise ValueError("master key too short")
        self._aead = AESGCM(_derive(master_key, b"authsvc seal v1"))
        self._pepper = _derive(master_key, b"authsvc code hash v1")
        self._token_key = _derive(master_key, b"authsvc bearer token v1")

    @classmethod
    def from_passphrase(cls, passphrase: str) -> SecretBox:
        """A box keyed by an ``AUTHSVC_SECRET_KEY`` string."""
        return cls(passphrase.encode("utf-8"))

    def seal(self, plaintext: bytes, *, bound_to: str) -> str:
        """Encrypt; the result is printable and safe to store."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext, bound_to.encode())
        return f"{_CIPHERTEXT_VERSION}.{base64.b64encode(nonce + sealed).decode('ascii')}"

    def open(self, sealed: str, *, bound_to: str) -> bytes:
        """Decrypt what `seal` produced for the same record."""
        version, _, payload = sealed.partition(".")
        if version != _CIPHERTEXT_VERSION:
            raise DecryptionError("unknown ciphertext version")
        try:
            raw = base64.b64decode(payload, validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], bound_to.encode())
        except (ValueError, InvalidTag) as exc:
            raise DecryptionError("ciphertext does not open") from exc

    def code_hash(self, purpose: str, owner: str, code: str) -> str:
        """Keyed hash under which a one-time code is stored (and looked up) for one owner."""
        message = f"{purpose}\x00{owner}\x00{code}".encode()
        return hmac.new(self._pepper, message, "sha256").hexdigest()

    def derive_token(self, purpose: str) -> str:
        """A bearer token for `purpose` (64 hex digits), the same in every process sharing the
        master key and unrelated to every other purpose's token. Never stored in Redis."""
        return hmac.new(self._token_key, purpose.encode(), "sha256").hexdigest()
