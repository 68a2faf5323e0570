"""Integrations (applications and admin API clients) and administrator roles."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class IntegrationType(StrEnum):
    """Which API an integration key may call."""

    AUTH = "auth"
    ADMIN = "admin"


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
    """An application's credentials: `sealed_skey` is the sealed secret key."""

    ikey: str
    name: str
    type: IntegrationType
    role: Role
    sealed_skey: str
    created: int
