"""The Trash and the user counts as administrators see them (seed 001, Listing Users and
Deleting and Restoring Users). Duo's public Admin API has no Trash endpoints; authsvc's are
documented in docs/api.md. Sending a user to the Trash is `UserAdmin.delete` (DELETE
/admin/v1/users/{id})."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from authsvc.domain.access import Access
from authsvc.domain.audit import AdminLog
from authsvc.domain.counts import UserCounter
from authsvc.domain.scope import ScopeGuard
from authsvc.domain.trash import Trash, TrashEntry
from authsvc.model.permissions import Action, Actor
from authsvc.model.users import User, UserCounts, UserDevices

WHOLE_ACCOUNT = "the counts cover the whole account"


class TrashAdmin:
    """List, restore and delete for good; the counts and the summary."""

    def __init__(self, access: Access, audit: AdminLog, trash: Trash,
                 counter: UserCounter, scope: ScopeGuard) -> None:
        self._access = access
        self._scope = scope
        self._audit = audit
        self._trash = trash
        self._counter = counter

    async def page(self, actor: Actor, offset: int, limit: int) -> tuple[list[TrashEntry], int]:
        """One page of the Trash, with each user's deletion dates."""
        await self._access.require(actor, Action.READ_USERS)
        entries, total = await self._scope.by_user(actor, offset, limit, self._trash.page,
                                                   lambda entry: entry.view.user.user_id)
        return [replace(entry, view=self._scope.shown(actor, [entry.view])[0])
                for entry in entries], total

    async def purge_at(self, actor: Actor, user: User) -> int:
        """When a user in the Trash will be deleted for good (the user's page says so)."""
        await self._access.require(actor, Action.READ_USERS)
        return await self._trash.purge_at(user)

    async def restore(self, actor: Actor, user_id: str) -> UserDevices:
        """Restore a user (`user_restore`): back Disabled, every device kept."""
        await self._access.require(actor, Action.DELETE_USERS)
        await self._scope.user(actor, user_id)
        view = self._scope.shown(actor, [await self._trash.restore(user_id)])[0]
        await self._audit.record(actor, "user_restore", view.user.username,
                                 {"status": view.user.status.value})
        return view

    async def delete_now(self, actor: Actor, user_id: str) -> None:
        """Delete a user in the Trash for good (`user_delete_permanent`)."""
        await self._access.require(actor, Action.DELETE_USERS)
        await self._scope.user(actor, user_id)
        user = await self._trash.delete_now(user_id)
        await self._audit.record(actor, "user_delete_permanent", user.username)

    async def counts(self, actor: Actor) -> UserCounts:
        """The Users page counts."""
        await self._access.require(actor, Action.READ_SUMMARY)
        await self._scope.refuse_if_restricted(actor, Action.READ_SUMMARY, WHOLE_ACCOUNT)
        return await self._counter.counts()

    async def summary(self, actor: Actor) -> dict[str, Any]:
        """`get_info_summary`."""
        await self._access.require(actor, Action.READ_SUMMARY)
        await self._scope.refuse_if_restricted(actor, Action.READ_SUMMARY, WHOLE_ACCOUNT)
        return await self._counter.summary()
