"""Integrations (applications and admin API clients) and administrator roles."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from authsvc.model.roles import Grant, Role

__all__ = ["EnrollPolicy", "Grant", "Integration", "IntegrationType", "Role"]

MAX_REMEMBER_DAYS = 365


class IntegrationType(StrEnum):
    """Which API an integration key may call."""

    AUTH = "auth"
    ADMIN = "admin"
    WEB = "web"  # a web application behind the Duo Prompt (OIDC, duo_universal)


class EnrollPolicy(StrEnum):
    """What the prompt does for a user with no device (Duo's "New User Policy")."""

    ENROLL = "enroll"  # require enrollment, inline
    ALLOW = "allow"  # let them in without 2FA
    DENY = "deny"  # refuse them


@dataclass(frozen=True, slots=True)
class Integration:
    """An application's credentials: `sealed_skey` is the sealed secret key.

    A web integration's ikey and skey are its OIDC client id and client secret; it also has
    the exact redirect URIs it may use, its new-user policy, how many days the prompt may
    remember a device (0: never) and whether users may manage their devices from the prompt.
    """

    ikey: str
    name: str
    type: IntegrationType
    role: Role
    sealed_skey: str
    created: int
    grants: frozenset[Grant] = frozenset()
    """Admin API permissions given explicitly (Duo's ``adminapi_*`` flags); empty = the
    `role`'s."""
    redirect_uris: tuple[str, ...] = ()
    enroll_policy: EnrollPolicy = EnrollPolicy.ENROLL
    remember_days: int = 0
    self_service: bool = True
