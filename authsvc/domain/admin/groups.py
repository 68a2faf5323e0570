"""Groups as administrators see and change them (seed 001, "Using Groups" and "Assigning User
Status with Groups"; the role matrix's "Manage users and groups")."""

from __future__ import annotations

from collections.abc import Sequence

from authsvc.domain.access import Access
from authsvc.domain.audit import AdminLog
from authsvc.domain.groups import GroupChanges, GroupDirectory
from authsvc.domain.scope import ScopeGuard
from authsvc.domain.users import UserDirectory
from authsvc.errors import InvalidParameter
from authsvc.model.groups import Group
from authsvc.model.permissions import Action, Actor

LOOKUP_MAX = 100


class GroupAdmin:
    """List, create, change and delete groups; put users in and out of them."""

    def __init__(self, access: Access, audit: AdminLog, groups: GroupDirectory,
                 users: UserDirectory, scope: ScopeGuard) -> None:
        self._access = access
        self._scope = scope
        self._audit = audit
        self._groups = groups
        self._users = users

    async def page(self, actor: Actor, offset: int, limit: int) -> tuple[list[Group], int]:
        """One page of groups in creation order, and the total."""
        await self._access.require(actor, Action.READ_USERS)
        return await self._scope.group_page(actor, offset, limit, self._groups.page)

    async def lookup(self, actor: Actor, group_ids: Sequence[str]) -> list[Group]:
        """The groups among `group_ids` (at most `LOOKUP_MAX`)."""
        await self._access.require(actor, Action.READ_USERS)
        return self._scope.groups(actor, await self._groups.get_many(
            list(group_ids)[:LOOKUP_MAX]))

    async def get(self, actor: Actor, group_id: str) -> Group:
        """One group; raises NotFound."""
        await self._access.require(actor, Action.READ_USERS)
        self._scope.group(actor, group_id)
        return await self._groups.get(group_id)

    async def members(self, actor: Actor, group_id: str, offset: int, limit: int
                      ) -> tuple[list[tuple[str, str]], int]:
        """One page of a group's members (user id, username) and the count."""
        await self._access.require(actor, Action.READ_USERS)
        self._scope.group(actor, group_id)
        return await self._groups.members(group_id, offset, limit)

    async def create(self, actor: Actor, changes: GroupChanges) -> Group:
        """A new group (`group_create`)."""
        await self._access.require(actor, Action.MANAGE_GROUPS)
        await self._scope.refuse_if_restricted(actor, Action.MANAGE_GROUPS,
                                               "a new group would be outside them")
        group = await self._groups.create(changes)
        await self._audit.record(actor, "group_create", group.name, changes.fields())
        return group

    async def update(self, actor: Actor, group_id: str, changes: GroupChanges) -> Group:
        """Change a group (`group_update`): its members' next decisions follow it."""
        await self._access.require(actor, Action.MANAGE_GROUPS)
        self._scope.group(actor, group_id)
        group = await self._groups.update(group_id, changes)
        await self._audit.record(actor, "group_update", group.name, changes.fields())
        return group

    async def delete(self, actor: Actor, group_id: str) -> None:
        """Delete a group (`group_delete`; nothing happens if already gone)."""
        await self._access.require(actor, Action.MANAGE_GROUPS)
        self._scope.group(actor, group_id)
        group = await self._groups.delete(group_id)
        if group is not None:
            await self._audit.record(actor, "group_delete", group.name,
                                     {"group_id": group.group_id})

    async def of_user(self, actor: Actor, user_id: str) -> list[Group]:
        """The user's groups, by name; raises NotFound."""
        await self._access.require(actor, Action.READ_USERS)
        await self._scope.user(actor, user_id)
        return self._scope.groups(actor, await self._groups.of_user(await self._users.get(user_id)))

    async def add_member(self, actor: Actor, user_id: str, group_id: str) -> None:
        """Put a user in a group (`group_update`, naming the user added)."""
        await self._access.require(actor, Action.MANAGE_GROUPS)
        await self._in_scope(actor, user_id, group_id)
        user = await self._users.get(user_id)
        group = await self._groups.add_member(user, group_id)
        await self._audit.record(actor, "group_update", group.name,
                                 {"user_added": user.username})

    async def remove_member(self, actor: Actor, user_id: str, group_id: str) -> None:
        """Take a user out of a group (`group_update`, naming the user removed); nothing
        happens when they were not in it."""
        await self._access.require(actor, Action.MANAGE_GROUPS)
        await self._in_scope(actor, user_id, group_id)
        user = await self._users.get(user_id)
        group = await self._groups.remove_member(user, group_id)
        if group is not None:
            await self._audit.record(actor, "group_update", group.name,
                                     {"user_removed": user.username})

    async def _in_scope(self, actor: Actor, user_id: str, group_id: str) -> None:
        """A membership change: the user in scope (else 404), the group one of the actor's
        (else the answer an unknown group gets)."""
        await self._scope.user(actor, user_id)
        if not self._scope.groups(actor, [Group(group_id=group_id, name="")]):
            raise InvalidParameter("group_id (no such group)")
