"""Account-wide administration: global settings, the logs, pending and bulk enrollment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authsvc.domain.access import Access
from authsvc.domain.account import AccountPolicy
from authsvc.domain.audit import AdminLog
from authsvc.domain.authlog import AuthLog
from authsvc.domain.invitations import Invitations
from authsvc.domain.scope import ScopeGuard
from authsvc.model.authlog import LogPage, LogQuery
from authsvc.model.permissions import Action, Actor
from authsvc.model.settings import AccountSettings, validate_update

ACCOUNT_LOGS = "the telephony and administrator logs cover the whole account"


class AccountAdmin:
    """Settings, logs and enrollment campaigns, checked and logged."""

    def __init__(self, access: Access, audit: AdminLog, account: AccountPolicy,
                 authlog: AuthLog, invitations: Invitations, scope: ScopeGuard) -> None:
        self._access = access
        self._scope = scope
        self._audit = audit
        self._account = account
        self._authlog = authlog
        self._invitations = invitations

    async def settings(self, actor: Actor) -> AccountSettings:
        await self._access.require(actor, Action.READ_SETTINGS)
        return await self._account.current()

    async def update_settings(self, actor: Actor, params: Mapping[str, object]) -> AccountSettings:
        """Apply an `update_settings` request (`customer_update`); validated before storing."""
        await self._access.require(actor, Action.MODIFY_SETTINGS)
        changed = validate_update(params)
        settings = await self._account.update(params)
        await self._audit.record(actor, "customer_update", "settings", changed)
        return settings

    async def authentication_log(self, actor: Actor, query: LogQuery) -> LogPage:
        await self._access.require(actor, Action.READ_LOGS)
        return await self._authlog.query(await self._scope.log_query(actor, query))

    async def telephony_log(self, actor: Actor, query: LogQuery) -> LogPage:
        await self._access.require(actor, Action.READ_LOGS)
        await self._scope.refuse_if_restricted(actor, Action.READ_LOGS, ACCOUNT_LOGS)
        return await self._authlog.telephony(query)

    async def administrator_log(self, actor: Actor, mintime_s: int) -> list[dict[str, Any]]:
        """Admin API v1: the 1,000 oldest records at or after `mintime_s`."""
        await self._access.require(actor, Action.READ_LOGS)
        await self._scope.refuse_if_restricted(actor, Action.READ_LOGS, ACCOUNT_LOGS)
        return await self._audit.since(mintime_s)

    async def administrator_log_page(self, actor: Actor, query: LogQuery) -> LogPage:
        await self._access.require(actor, Action.READ_LOGS)
        await self._scope.refuse_if_restricted(actor, Action.READ_LOGS, ACCOUNT_LOGS)
        return await self._audit.query(query)

    async def pending_enrollments(self, actor: Actor) -> list[dict[str, Any]]:
        await self._access.require(actor, Action.MANAGE_PENDING_ENROLLMENTS)
        members = await self._scope.members(actor)
        return [row for row in await self._invitations.pending()
                if members is None or row["user_id"] in members]

    async def resend_enrollment(self, actor: Actor, enrollment_id: str) -> dict[str, Any]:
        await self._access.require(actor, Action.MANAGE_PENDING_ENROLLMENTS)
        await self._scope.enrollment(actor, enrollment_id)
        result = await self._invitations.resend(enrollment_id)
        await self._audit.record(actor, "user_enroll_resend", enrollment_id)
        return result

    async def delete_enrollment(self, actor: Actor, enrollment_id: str) -> None:
        await self._access.require(actor, Action.MANAGE_PENDING_ENROLLMENTS)
        await self._scope.enrollment(actor, enrollment_id)
        await self._invitations.delete(enrollment_id)
        await self._audit.record(actor, "user_enroll_delete", enrollment_id)

    async def bulk_enroll(self, actor: Actor, csv_text: str,
                          valid_secs: int | None) -> list[dict[str, Any]]:
        await self._access.require(actor, Action.BULK_ENROLL)
        await self._scope.refuse_if_restricted(actor, Action.BULK_ENROLL,
                                               "new users would be outside them")
        report = await self._invitations.invite_bulk(csv_text, valid_secs)
        await self._audit.record(actor, "user_bulk_enroll", "users", {"rows": len(report)})
        return report
