"""The ``tokens`` command's state file: the soft tokens' secrets and counters and the soft FIDO
key's secret and counter, so that later commands use the same tokens and key. Written 0600."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from tokens.ceremonies import TokensError
from tokens.fido import SoftAuthenticator

STATE_ENV = "TOKENS_STATE"  # e.g. var/tokens.json, to keep it out of a source tree
DEFAULT_STATE = Path(os.environ.get(STATE_ENV) or "tokens.json")


class StateFile:
    """``{"soft_key": {secret, counter}, "tokens": {serial: {type, ...}}}``, written 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        self.data.setdefault("tokens", {})

    @property
    def tokens(self) -> dict[str, dict[str, Any]]:
        tokens: dict[str, dict[str, Any]] = self.data["tokens"]
        return tokens

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(self.data, indent=2) + "\n")

    def soft_key(self, *, create: bool, counter_mode: str = "normal") -> SoftAuthenticator:
        saved = self.data.get("soft_key")
        if saved is None:
            if not create:
                raise TokensError(f"no soft key in {self.path}: run 'tokens register' first")
            return SoftAuthenticator(counter_mode=counter_mode)
        return SoftAuthenticator.from_secret(base64.urlsafe_b64decode(saved["secret"]),
                                             counter=int(saved["counter"]), counter_mode=counter_mode)

    def keep_soft_key(self, key: SoftAuthenticator) -> None:
        self.data["soft_key"] = {"secret": base64.urlsafe_b64encode(key.secret).decode(),
                                 "counter": key.counter, "fingerprint": key.fingerprint}
        self.save()
