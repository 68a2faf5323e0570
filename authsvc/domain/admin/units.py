"""Administrative Units as administrators see and change them (seed 000 note; Duo's
`/admin/v1/administrative_units`). Reading them needs what reading administrators needs
(`read_admin_units`: Owner, Administrator, Read-only); changing them is for Owners only
(`manage_admin_units`), like managing other admins (the seed's matrix): a unit decides what
other administrators may reach, so changing one is managing them.

`actor_for` is what the Admin Panel's sign-in calls to make an administrator's actor,
restricted by their units.
"""

from __future__ import annotations

from authsvc.domain.access import Access
from authsvc.domain.audit import AdminLog
from authsvc.domain.units import AdminUnits, UnitChanges
from authsvc.model.admins import Admin
from authsvc.model.permissions import Action, Actor, ActorKind, Scope
from authsvc.model.units import AdminUnit, MemberKind

LOG_OBJECT = {MemberKind.ADMIN: "admin_id", MemberKind.GROUP: "group_id",
              MemberKind.INTEGRATION: "integration_key"}


class UnitAdmin:
    """List, create, change and delete units; put members in and out; build restricted
    administrators' actors."""

    def __init__(self, access: Access, audit: AdminLog, units: AdminUnits) -> None:
        self._access = access
        self._audit = audit
        self._units = units

    async def page(self, actor: Actor, offset: int, limit: int, *,
                   kind: MemberKind | None = None,
                   member_id: str | None = None) -> tuple[list[AdminUnit], int]:
        """One page of units, oldest first (only those holding `member_id` of `kind`, when
        given), and their total."""
        await self._access.require(actor, Action.READ_ADMIN_UNITS)
        units = await self._units.listing(kind, member_id)
        return units[offset:offset + limit], len(units)

    async def of_admins(self, actor: Actor, admin_ids: list[str]) -> dict[str, list[str]]:
        """The ids of each administrator's units (the admin object's `admin_units`), as far as
        the actor may read units (none shown otherwise: an integration granted only
        `adminapi_admins` still gets its answer to an admin change)."""
        units = await self._units.listing(None, None) \
            if actor.may(Action.READ_ADMIN_UNITS) else []
        return {admin_id: [unit.admin_unit_id for unit in units if admin_id in unit.admins]
                for admin_id in admin_ids}

    async def get(self, actor: Actor, unit_id: str) -> AdminUnit:
        """One unit with its members; raises NotFound."""
        await self._access.require(actor, Action.READ_ADMIN_UNITS)
        return await self._units.get(unit_id)

    async def create(self, actor: Actor, changes: UnitChanges) -> AdminUnit:
        """A new unit (`admin_unit_create`)."""
        await self._access.require(actor, Action.MANAGE_ADMIN_UNITS)
        unit = await self._units.create(changes)
        await self._audit.record(actor, "admin_unit_create", unit.name,
                                 {"admin_unit_id": unit.admin_unit_id, **changes.fields()})
        return unit

    async def update(self, actor: Actor, unit_id: str, changes: UnitChanges) -> AdminUnit:
        """Change a unit (`admin_unit_update`); its administrators' next requests follow."""
        await self._access.require(actor, Action.MANAGE_ADMIN_UNITS)
        unit = await self._units.update(unit_id, changes)
        await self._audit.record(actor, "admin_unit_update", unit.name,
                                 {"admin_unit_id": unit_id, **changes.fields()})
        return unit

    async def delete(self, actor: Actor, unit_id: str) -> None:
        """Delete a unit (`admin_unit_delete`); raises NotFound."""
        await self._access.require(actor, Action.MANAGE_ADMIN_UNITS)
        name = await self._units.delete(unit_id)
        if name is None:
            await self._units.get(unit_id)  # raises NotFound
        await self._audit.record(actor, "admin_unit_delete", name or unit_id,
                                 {"admin_unit_id": unit_id})

    async def add(self, actor: Actor, unit_id: str, kind: MemberKind, member_id: str) -> None:
        """Put an administrator, group or integration in the unit (`admin_unit_update`)."""
        await self._access.require(actor, Action.MANAGE_ADMIN_UNITS)
        if await self._units.add(unit_id, kind, member_id):
            await self._log_member(actor, unit_id, f"{kind.value}_added", kind, member_id)

    async def remove(self, actor: Actor, unit_id: str, kind: MemberKind,
                     member_id: str) -> None:
        """Take a member out of the unit (`admin_unit_update`; nothing when it was not in)."""
        await self._access.require(actor, Action.MANAGE_ADMIN_UNITS)
        if await self._units.remove(unit_id, kind, member_id):
            await self._log_member(actor, unit_id, f"{kind.value}_removed", kind, member_id)

    async def _log_member(self, actor: Actor, unit_id: str, change: str, kind: MemberKind,
                          member_id: str) -> None:
        unit = await self._units.find(unit_id)
        await self._audit.record(actor, "admin_unit_update", unit.name if unit else unit_id,
                                 {"admin_unit_id": unit_id, change: member_id,
                                  "kind": LOG_OBJECT[kind]})

    async def scope_of(self, admin_id: str) -> Scope:
        """What the administrator may reach (see `AdminUnits.scope_of`)."""
        return await self._units.scope_of(admin_id)

    async def actor_for(self, admin: Admin) -> Actor:
        """The actor of a signed-in administrator, restricted by their units (two round
        trips): build it for every request, so a change to a unit applies at once."""
        scope = await self._units.scope_of_admin(admin)
        return Actor.with_role(ActorKind.ADMIN, admin.admin_id, admin.email, admin.role, scope)
