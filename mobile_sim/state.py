"""Activated accounts, kept in a JSON state file (several accounts per file).

The file holds the app's private keys and HOTP secrets, as the phone's own storage would; it is
written with mode 0600.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

STATE_ENV = "MOBILE_SIM_STATE"  # e.g. var/mobile-sim.json, to keep it out of a source tree
DEFAULT_STATE = Path(os.environ.get(STATE_ENV) or "mobile-sim.json")


@dataclass
class Account:
    """One activated Duo Mobile account."""

    host: str
    pkey: str
    akey: str
    hotp_secret: str
    private_key_pem: str
    customer_name: str = ""
    hotp_counter: int = 0
    ca_file: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def private_key(self) -> rsa.RSAPrivateKey:
        """The app's RSA key, parsed once per process (as a phone keeps it loaded).

        Parsing a PEM runs cryptography's RSA key check, about 40 ms of CPU: done on every
        signed call it would cap a fleet at a dozen pushes a second.
        """
        key = _PARSED_KEYS.get(self.private_key_pem)
        if key is None:
            loaded = serialization.load_pem_private_key(self.private_key_pem.encode(),
                                                        password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)  # noqa: S101 - we only store RSA keys
            key = _PARSED_KEYS[self.private_key_pem] = loaded
        return key


# PEM -> parsed key. Grows by one entry per account this process uses; a fleet of 10,000
# phones holds 10,000 keys, which is what it needs to sign anyway.
_PARSED_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def private_pem(key: rsa.RSAPrivateKey) -> str:
    """Serialise a freshly generated key, remembering it so it is never parsed back."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    _PARSED_KEYS[pem] = key
    return pem


class StateFile:
    """Load and save the accounts of one state file."""

    def __init__(self, path: Path = DEFAULT_STATE) -> None:
        self.path = path

    def load(self) -> list[Account]:
        if not self.path.exists():
            return []
        data = json.loads(self.path.read_text())
        return [Account(**entry) for entry in data.get("accounts", [])]

    def save(self, accounts: list[Account]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"accounts": [asdict(a) for a in accounts]}, indent=2)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(payload + "\n")

    def add(self, account: Account) -> None:
        """Add an account (replacing one with the same pkey)."""
        accounts = [a for a in self.load() if a.pkey != account.pkey]
        self.save([*accounts, account])

    def update(self, account: Account) -> None:
        self.save([account if a.pkey == account.pkey else a for a in self.load()])
