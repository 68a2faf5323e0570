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
    WEB = "web"
    """A web application using the Duo prompt (Duo's ``websdk``); signs no API call itself."""


class EnrollPolicy(StrEnum):
    """What preauth answers for a user the service does not know (Duo's New User Policy)."""

    ENROLL = "enroll"
    """Offer enrollment (the default)."""
    ALLOW = "allow"
    """Let the user in without a second factor."""
    DENY = "deny"
    """Refuse."""


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
    `role`'s unless `grants_only`."""
    redirect_uris: tuple[str, ...] = ()
    enroll_policy: EnrollPolicy = EnrollPolicy.ENROLL
    remember_days: int = 0
    self_service: bool = True
    groups_allowed: tuple[str, ...] = ()
    """Permitted groups: only their members may authenticate (empty = every user)."""
    grants_only: bool = False
    """Created through the Admin API: checked by `grants` alone, even when there are none."""
    notes: str = ""
