"""Bypass codes (metadata only: the code itself is only ever stored as a keyed hash)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BypassCode:
    """Metadata of one bypass code; `uses` 0 = unlimited, `expires_ms` 0 = never."""

    code_id: str
    user_id: str
    created: int
    uses: int = 1
    expires_ms: int = 0
    admin_email: str = ""

    @property
    def reuse_count(self) -> int | None:
        """Duo's `reuse_count`: remaining uses, None for unlimited."""
        return self.uses or None

    @property
    def expiration(self) -> int | None:
        """Duo's `expiration`: unix seconds, None for never."""
        return self.expires_ms // 1000 if self.expires_ms else None


@dataclass(frozen=True, slots=True)
class NewBypassCode:
    """A code to store: its keyed hash and its metadata."""

    code_hash: str
    meta: BypassCode
