"""Administrators: people who sign in to the Admin Panel, each with one role.

Duo administrator accounts are separate from Duo users (seed 001). An administrator is created
in status `pending` with a one-time setup link (where the password is chosen and the second
factor enrolled), becomes `active`, may be `disabled` by an Owner, and is `locked` after too
many failed sign-ins until an Owner resets it. There is always at least one Owner (who is not disabled).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from authsvc.model.roles import Role

DUO_ROLE_NAMES = {
    Role.OWNER: "Owner", Role.ADMINISTRATOR: "Administrator",
    Role.APPLICATION_MANAGER: "Application Manager", Role.USER_MANAGER: "User Manager",
    Role.HELP_DESK: "Help Desk", Role.BILLING: "Billing", Role.READ_ONLY: "Read-only",
}


def role_from_text(text: str) -> Role | None:
    """A role from Duo's display name ("Help Desk") or authsvc's value ("help_desk")."""
    cleaned = text.strip()
    for role, name in DUO_ROLE_NAMES.items():
        if cleaned.lower() in (name.lower(), role.value):
            return role
    return None


class AdminStatus(StrEnum):
    """Where an administrator account is."""

    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"
    LOCKED = "locked"

    @property
    def duo_name(self) -> str:
        return {"pending": "Pending Activation", "active": "Active", "disabled": "Disabled",
                "locked": "Locked Out"}[self.value]


@dataclass(frozen=True, slots=True)
class Admin:
    """An administrator (never carries the password hash above the store)."""

    admin_id: str
    email: str
    name: str
    role: Role
    status: AdminStatus
    created: int
    phone: str = ""
    last_login: int | None = None
    fails: int = 0
    has_password: bool = False
    subject: str = ""
    """The internal subject holding the administrator's second factors ("" = none enrolled;
    model/admin_factors.py)."""


class ChangeStatus(IntEnum):
    """Replies of admin_change.lua."""

    DONE = 1
    NO_ADMIN = 2
    LAST_OWNER = 3
