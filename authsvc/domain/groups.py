"""Groups: create, change and delete them, and put users in and out (no actors here: the
administration facade `domain/admin/groups.py` checks and logs every call).

What a group decides (status override, factor switches, permitted groups) is written in
`model/groups.py`; how a change reaches decisions at once is in `store/groups.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from authsvc.clock import Clock
from authsvc.crypto import random_id
from authsvc.errors import InvalidParameter, MissingParameter, NotFound
from authsvc.model.groups import MAX_GROUP_DESC, MAX_GROUP_NAME, SWITCHES, Group, GroupStatus
from authsvc.model.units import MemberKind
from authsvc.model.users import User
from authsvc.store import Store


@dataclass(frozen=True, slots=True)
class GroupChanges:
    """Fields an admin sent; None = not sent. `switches` maps a switch name
    (``push_enabled``, ...) to its new value."""

    name: str | None = None
    desc: str | None = None
    status: str | None = None
    switches: Mapping[str, bool] = field(default_factory=dict)

    def fields(self) -> dict[str, object]:
        """What the request changes (the administrator log's description)."""
        sent: dict[str, object] = {name: value for name, value in
                                   (("name", self.name), ("desc", self.desc),
                                    ("status", self.status)) if value is not None}
        sent.update(self.switches)
        return sent


def _text(value: str, param: str, max_length: int, *, blank_ok: bool) -> str:
    cleaned = value.strip()
    if (not cleaned and not blank_ok) or len(cleaned) > max_length or "\x00" in cleaned:
        raise InvalidParameter(param)
    return cleaned


def _status(value: str) -> GroupStatus:
    try:
        return GroupStatus(value)
    except ValueError:
        raise InvalidParameter("status (active, bypass or disabled)") from None


def _apply(group: Group, changes: GroupChanges) -> Group:
    """The group with `changes` applied; raises InvalidParameter naming a bad field."""
    updates: dict[str, Any] = {}
    if changes.name is not None:
        updates["name"] = _text(changes.name, "name", MAX_GROUP_NAME, blank_ok=False)
    if changes.desc is not None:
        updates["desc"] = _text(changes.desc, "desc", MAX_GROUP_DESC, blank_ok=True)
    if changes.status is not None:
        updates["status"] = _status(changes.status)
    for switch, value in changes.switches.items():
        if switch not in SWITCHES:
            raise InvalidParameter(switch)
        updates[switch] = value
    return dataclasses.replace(group, **updates)


_NAME_PAGE = 500


class GroupDirectory:
    """Groups and their members."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create(self, changes: GroupChanges) -> Group:
        """A new group (active, every factor allowed unless `changes` say otherwise); raises
        MissingParameter without a name, InvalidParameter on a bad field."""
        if changes.name is None:
            raise MissingParameter("name")
        now_ms = self._clock.now_ms()
        group = _apply(Group(group_id=random_id("DG"), name="", created=now_ms // 1000), changes)
        await self._store.groups.create(group, order_ms=now_ms)
        return group

    async def get(self, group_id: str) -> Group:
        """The group; raises NotFound."""
        group = await self._store.groups.get(group_id)
        if group is None:
            raise NotFound("group_id")
        return group

    async def page(self, offset: int, limit: int) -> tuple[list[Group], int]:
        """One page of groups in creation order, and the total."""
        return await self._store.groups.page(offset, limit)

    async def by_name(self) -> dict[str, list[Group]]:
        """Every group, by lower-cased name (names need not be unique), for the user import."""
        named: dict[str, list[Group]] = {}
        offset, total = 0, 1
        while offset < total:
            groups, total = await self._store.groups.page(offset, _NAME_PAGE)
            for group in groups:
                named.setdefault(group.name.lower(), []).append(group)
            offset += _NAME_PAGE
        return named

    async def get_many(self, group_ids: Sequence[str]) -> list[Group]:
        """The existing groups among `group_ids`, in that order."""
        return await self._store.groups.get_many(group_ids)

    async def update(self, group_id: str, changes: GroupChanges) -> Group:
        """Apply an admin's changes; a new status or switch takes effect for every member's
        next decision (and any decision computed before it and not yet committed is redone).
        Raises NotFound, InvalidParameter."""
        before = await self.get(group_id)
        after = _apply(before, changes)
        if not await self._store.groups.update(before, after):
            raise NotFound("group_id")
        return await self.get(group_id)

    async def delete(self, group_id: str) -> Group | None:
        """Delete the group (its members leave it first); the deleted group, or None when
        there was none. It leaves every Administrative Unit. Applications that listed it as a
        permitted group keep only their other permitted groups (none left = nobody admitted,
        never everyone)."""
        group = await self._store.groups.get(group_id)
        if group is not None:
            await self._store.groups.delete(group_id)
            await self._store.units.forget(MemberKind.GROUP, group_id)
        return group

    async def members(self, group_id: str, offset: int, limit: int
                      ) -> tuple[list[tuple[str, str]], int]:
        """One page of the group's members as (user id, username), and the count; raises
        NotFound."""
        await self.get(group_id)
        return await self._store.groups.members_page(group_id, offset, limit)

    async def of_user(self, user: User) -> list[Group]:
        """The user's groups, by name."""
        ids = await self._store.groups.of_user(user.user_id)
        groups = await self._store.groups.get_many(sorted(ids))
        return sorted(groups, key=lambda group: (group.name.lower(), group.group_id))

    async def add_member(self, user: User, group_id: str) -> Group:
        """Put the user in the group (nothing changes if already in it); raises
        InvalidParameter naming `group_id` for an unknown group, NotFound when the user is
        gone."""
        group = await self._store.groups.get(group_id)
        if group is None:
            raise InvalidParameter("group_id (no such group)")
        missing = await self._store.groups.add_member(group_id, user.user_id,
                                                      now_ms=self._clock.now_ms())
        if missing == "user_id":
            raise NotFound("user_id")
        if missing:
            raise InvalidParameter("group_id (no such group)")
        return group

    async def remove_member(self, user: User, group_id: str) -> Group | None:
        """Take the user out of the group; the group if they were in it, else None."""
        group = await self._store.groups.get(group_id)
        left = await self._store.groups.remove_member(group_id, user.user_id)
        return group if left else None
