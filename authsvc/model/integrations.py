"""Integrations (applications and admin API clients) and administrator roles."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from authsvc.model.roles import Grant, Role

__all__ = ["Grant", "Integration", "IntegrationType", "Role"]


class IntegrationType(StrEnum):
    """Which API an integration key may call."""

    AUTH = "auth"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Integration:
    """An application's credentials: `sealed_skey` is the sealed secret key."""

    ikey: str
    name: str
    type: IntegrationType
    role: Role
    sealed_skey: str
    created: int
    grants: frozenset[Grant] = frozenset()
    """Admin API permissions given explicitly (Duo's ``adminapi_*`` flags); empty = the
    `role`'s."""
