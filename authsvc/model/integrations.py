"""Integrations (applications and admin API clients) and administrator roles."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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


class Role(StrEnum):
    """Administrator roles."""

    OWNER = "owner"
    ADMINISTRATOR = "administrator"
    APPLICATION_MANAGER = "application_manager"
    USER_MANAGER = "user_manager"
    HELP_DESK = "help_desk"
    BILLING = "billing"
    READ_ONLY = "read_only"


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
    redirect_uris: tuple[str, ...] = ()
    enroll_policy: EnrollPolicy = EnrollPolicy.ENROLL
    remember_days: int = 0
    self_service: bool = True
