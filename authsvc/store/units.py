"""Administrative Units in Redis, under the administrators' hash tag {admins}: a record per
unit, a SET per kind of member, the listing and the name index. admin_unit_save.lua,
admin_unit_delete.lua and admin_unit_member.lua change them, each in one call (so a unit's name
stays unique and its administrators are never Owners); readers read every unit at once, since
an account has few (tens): two round trips whatever the count.

A group or integration deleted leaves every unit afterwards (`forget`, a pipelined SREM on
each unit's set). Race, accepted: one added to a unit between its deletion and `forget` stays
listed; it names nothing any user is in or any request comes from, so it widens no scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from authsvc.model.units import AdminUnit, MemberKind, UnitReply
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.redis_client import Arg
from authsvc.store.scripts import ScriptName

KINDS = (MemberKind.ADMIN, MemberKind.GROUP, MemberKind.INTEGRATION)


def unit_to_hash(unit: AdminUnit) -> dict[str, str]:
    return {"admin_unit_id": unit.admin_unit_id, "name": unit.name,
            "description": unit.description,
            "restrict_by_groups": "1" if unit.restrict_by_groups else "0",
            "restrict_by_integrations": "1" if unit.restrict_by_integrations else "0",
            "created": str(unit.created)}


def _unit(data: Mapping[str, str], members: Sequence[list[str]]) -> AdminUnit:
    admins, groups, integrations = (tuple(sorted(ids)) for ids in members)
    return AdminUnit(admin_unit_id=data["admin_unit_id"], name=data["name"],
                     description=data.get("description", ""),
                     restrict_by_groups=data.get("restrict_by_groups") == "1",
                     restrict_by_integrations=data.get("restrict_by_integrations") == "1",
                     created=int(data.get("created") or 0), admins=admins, groups=groups,
                     integrations=integrations)


class UnitStore:
    """Create, read, change and delete units; put members in and out."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    def _unit_keys(self, unit_id: str) -> list[str]:
        keys = self._keys
        return [keys.admin_unit(unit_id), keys.admin_unit_names(), keys.admin_units(),
                *(keys.admin_unit_members(unit_id, kind.value) for kind in KINDS)]

    async def save(self, unit_id: str, *, create: bool, now_ms: int, name_key: str,
                   fields: Mapping[str, str],
                   members: Mapping[MemberKind, Sequence[str]]) -> tuple[UnitReply, str]:
        """Create the unit or change it: `fields` to set, `name_key` the new lowercased name
        ("" = unchanged), `members` the kinds whose lists are replaced. Returns the reply and,
        for NO_ADMIN or OWNER, the administrator's id."""
        admins = list(members.get(MemberKind.ADMIN, ()))
        args: list[Arg] = ["create" if create else "update", unit_id, now_ms, name_key,
                           len(fields), *(item for pair in fields.items() for item in pair)]
        for kind in KINDS:
            ids = members.get(kind)
            args += [-1] if ids is None else [len(ids), *ids]
        reply = await self._ctx.scripts.run(
            ScriptName.ADMIN_UNIT_SAVE,
            [*self._unit_keys(unit_id), *(self._keys.admin(admin_id) for admin_id in admins)],
            args)
        return UnitReply(int(reply[0])), str(reply[1]) if len(reply) > 1 else ""

    async def delete(self, unit_id: str) -> str | None:
        """Delete the unit; its name, or None when there was none."""
        reply = await self._ctx.scripts.run(ScriptName.ADMIN_UNIT_DELETE,
                                            self._unit_keys(unit_id), [unit_id])
        return str(reply[1]) if int(reply[0]) == 1 else None

    async def member(self, unit_id: str, kind: MemberKind, member_id: str, *,
                     add: bool) -> tuple[UnitReply, bool]:
        """Add or remove one member: the reply and whether anything changed."""
        keys = [self._keys.admin_unit(unit_id), self._keys.admin_unit_members(unit_id, kind)]
        if kind is MemberKind.ADMIN:
            keys.append(self._keys.admin(member_id))
        reply = await self._ctx.scripts.run(
            ScriptName.ADMIN_UNIT_MEMBER, keys,
            ["add" if add else "remove", member_id, "1" if kind is MemberKind.ADMIN else "0"])
        return UnitReply(int(reply[0])), len(reply) > 1 and int(reply[1]) == 1

    async def get(self, unit_id: str) -> AdminUnit | None:
        """The unit with its members, or None."""
        found = await self._load([unit_id])
        return found[0] if found else None

    async def all(self) -> list[AdminUnit]:
        """Every unit with its members, oldest first."""
        ids = await self._ctx.redis.execute("ZRANGE", self._keys.admin_units(), 0, -1)
        return await self._load(list(ids))

    async def _load(self, unit_ids: Sequence[str]) -> list[AdminUnit]:
        if not unit_ids:
            return []
        keys = self._keys
        replies = await self._ctx.redis.pipeline([command for unit_id in unit_ids for command in (
            ("HGETALL", keys.admin_unit(unit_id)),
            *(("SMEMBERS", keys.admin_unit_members(unit_id, kind)) for kind in KINDS))])
        units = []
        for i in range(len(unit_ids)):
            data = flat_to_dict(replies[4 * i])
            if data:
                units.append(_unit(data, replies[4 * i + 1:4 * i + 4]))
        return units

    async def forget(self, kind: MemberKind, member_id: str) -> None:
        """Take a deleted admin, group or integration out of every unit."""
        ids = await self._ctx.redis.execute("ZRANGE", self._keys.admin_units(), 0, -1)
        if ids:
            await self._ctx.redis.pipeline(
                [("SREM", self._keys.admin_unit_members(unit_id, kind), member_id)
                 for unit_id in ids])
