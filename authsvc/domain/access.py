"""Every permission check: the table (`model/permissions.py`) and the conditions it cannot say.

`Access.require` is called by the administration facades (`domain/admin/`) before any read or
change; a refusal raises Forbidden (Duo's 403 / 40301), changes nothing, and is recorded in the
administrator log. The conditions, from seed 001:

- Help Desk may edit full name, email and notes, not the username or aliases; may change a
  status only from Locked Out or Disabled to Active; may create bypass codes only as the
  "Help Desk" setting (`helpdesk_bypass`) allows (``limit``: one code with the setting's
  defaults, nothing custom); may send enrollment emails only when
  `helpdesk_can_send_enroll_email` is on.
- User Manager may apply Bypass status only when `user_managers_can_put_users_in_bypass` is on.

Conditions apply to administrators acting in a role; an integration created with explicit
grants is checked by its grants alone, as Duo does.
"""

from __future__ import annotations

from authsvc.domain.audit import AdminLog
from authsvc.errors import Forbidden
from authsvc.model.permissions import Action, Actor
from authsvc.model.roles import Role
from authsvc.model.settings import AccountSettings
from authsvc.model.users import User, UserStatus

HELP_DESK_FIELDS = frozenset({"realname", "firstname", "lastname", "email", "notes", "status"})
HELP_DESK_UNLOCKABLE = (UserStatus.LOCKED_OUT, UserStatus.DISABLED)


class Access:
    """Check actors against the permission table and its conditions."""

    def __init__(self, audit: AdminLog) -> None:
        self._audit = audit

    async def require(self, actor: Actor, action: Action) -> None:
        """Raise Forbidden (recorded) unless `actor` may do `action`."""
        if not actor.may(action):
            who = actor.role.value if actor.role else "these grants"
            await self.deny(actor, action, f"{who} may not {action.value}")

    async def deny(self, actor: Actor, action: Action, reason: str) -> None:
        """Record the refusal and raise Forbidden."""
        await self._audit.denied(actor, action, reason)
        raise Forbidden(reason)

    async def require_user_changes(self, actor: Actor, before: User | None, fields: set[str],
                                   status: UserStatus | None, settings: AccountSettings) -> None:
        """An update (or, with `before` None, a creation) touching `fields` and maybe the
        status: the table, then the Help Desk and User Manager conditions."""
        await self.require(actor, Action.UPDATE_USERS if before else Action.CREATE_USERS)
        if actor.role is Role.HELP_DESK and fields - HELP_DESK_FIELDS:
            await self.deny(actor, Action.UPDATE_USERS,
                            "help_desk may not change " + ", ".join(sorted(
                                fields - HELP_DESK_FIELDS)))
        if status is not None and (before is None or status is not before.status):
            await self.require_status(actor, before, status, settings)

    async def require_status(self, actor: Actor, before: User | None, status: UserStatus,
                             settings: AccountSettings) -> None:
        """A status change from `before`'s status to `status`."""
        await self.require(actor, Action.CHANGE_USER_STATUS)
        refusal = status_refusal(actor, before, status, settings)
        if refusal:
            await self.deny(actor, Action.CHANGE_USER_STATUS, refusal)

    async def bypass_limits(self, actor: Actor, settings: AccountSettings,
                            customised: bool) -> bool:
        """Check a bypass-code request; True when the Help Desk's `limit` applies (one code
        with the setting's defaults). `customised`: the request set a code, count, reuse
        count or expiry."""
        await self.require(actor, Action.CREATE_BYPASS_CODES)
        policy = bypass_policy(actor, settings)
        if policy == "deny":
            await self.deny(actor, Action.CREATE_BYPASS_CODES,
                            "help_desk may not create bypass codes (setting)")
        if policy == "limit" and customised:
            await self.deny(actor, Action.CREATE_BYPASS_CODES,
                            "help_desk may not customise bypass codes (setting)")
        return policy == "limit"

    async def require_enrollment_email(self, actor: Actor, settings: AccountSettings) -> None:
        """Sending (or resending) an enrollment email to an existing user."""
        await self.require(actor, Action.SEND_ENROLLMENT)
        if not may_send_enrollment(actor, settings):
            await self.deny(actor, Action.SEND_ENROLLMENT,
                            "help_desk may not send enrollment emails (setting)")


# The conditions as predicates: the checks above use them, and the Admin Panel shows only what
# they allow (one rule, one place).

def status_refusal(actor: Actor, before: User | None, status: UserStatus,
                   settings: AccountSettings) -> str:
    """Why the actor may not set `status` on this user ("" when it may; the table's
    `change_user_status` is checked separately)."""
    if actor.role is Role.HELP_DESK and not (
            before is not None and before.status in HELP_DESK_UNLOCKABLE
            and status is UserStatus.ACTIVE):
        return "help_desk may only set a locked out or disabled user to active"
    if actor.role is Role.USER_MANAGER and status is UserStatus.BYPASS \
            and not settings.user_managers_can_put_users_in_bypass:
        return "user_manager may not apply bypass status (setting)"
    return ""


def status_choices(actor: Actor, user: User, settings: AccountSettings) -> list[UserStatus]:
    """The statuses the actor may give this user (its own first when it may keep it)."""
    if not actor.may(Action.CHANGE_USER_STATUS):
        return []
    return [status for status in (UserStatus.ACTIVE, UserStatus.BYPASS, UserStatus.DISABLED)
            if status is not user.status
            and not status_refusal(actor, user, status, settings)]


def editable_fields(actor: Actor) -> frozenset[str]:
    """The user fields the actor may edit."""
    if not actor.may(Action.UPDATE_USERS):
        return frozenset()
    if actor.role is Role.HELP_DESK:
        return HELP_DESK_FIELDS
    return HELP_DESK_FIELDS | {"username", "aliases"}


def bypass_policy(actor: Actor, settings: AccountSettings) -> str:
    """How the actor may create bypass codes: ``allow`` (with options), ``limit`` (one code
    with the defaults), ``deny``."""
    if not actor.may(Action.CREATE_BYPASS_CODES):
        return "deny"
    if actor.role is Role.HELP_DESK:
        return settings.helpdesk_bypass
    return "allow"


def may_send_enrollment(actor: Actor, settings: AccountSettings) -> bool:
    return actor.may(Action.SEND_ENROLLMENT) and not (
        actor.role is Role.HELP_DESK and not settings.helpdesk_can_send_enroll_email)
