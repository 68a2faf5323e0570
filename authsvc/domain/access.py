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
        if actor.role is Role.HELP_DESK and not (
                before is not None and before.status in HELP_DESK_UNLOCKABLE
                and status is UserStatus.ACTIVE):
            await self.deny(actor, Action.CHANGE_USER_STATUS,
                            "help_desk may only set a locked out or disabled user to active")
        if actor.role is Role.USER_MANAGER and status is UserStatus.BYPASS \
                and not settings.user_managers_can_put_users_in_bypass:
            await self.deny(actor, Action.CHANGE_USER_STATUS,
                            "user_manager may not apply bypass status (setting)")

    async def bypass_limits(self, actor: Actor, settings: AccountSettings,
                            customised: bool) -> bool:
        """Check a bypass-code request; True when the Help Desk's `limit` applies (one code
        with the setting's defaults). `customised`: the request set a code, count, reuse
        count or expiry."""
        await self.require(actor, Action.CREATE_BYPASS_CODES)
        if actor.role is not Role.HELP_DESK:
            return False
        if settings.helpdesk_bypass == "deny":
            await self.deny(actor, Action.CREATE_BYPASS_CODES,
                            "help_desk may not create bypass codes (setting)")
        if settings.helpdesk_bypass == "limit":
            if customised:
                await self.deny(actor, Action.CREATE_BYPASS_CODES,
                                "help_desk may not customise bypass codes (setting)")
            return True
        return False

    async def require_enrollment_email(self, actor: Actor, settings: AccountSettings) -> None:
        """Sending (or resending) an enrollment email to an existing user."""
        await self.require(actor, Action.SEND_ENROLLMENT)
        if actor.role is Role.HELP_DESK and not settings.helpdesk_can_send_enroll_email:
            await self.deny(actor, Action.SEND_ENROLLMENT,
                            "help_desk may not send enrollment emails (setting)")
