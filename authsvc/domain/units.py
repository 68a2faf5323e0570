"""Administrative Units: create, change and delete them, put administrators, groups and
applications in and out, and the scope an administrator's units give them (no actors here:
`domain/admin/units.py` checks and logs every call; `domain/scope.py` enforces the scope).

What the Admin API cannot say alone, decided here:

- names are unique (any case): a second unit with a taken name is refused (400, ``name``);
- an Owner cannot be put in a unit (400): Owners manage the units and are never restricted;
  an administrator promoted to Owner later stays listed but is no longer restricted;
- groups and integrations named must exist (400 naming the list in a create or modify
  request, 404 in the membership paths).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.crypto import random_id
from authsvc.errors import Conflict, InvalidParameter, MissingParameter, NotFound
from authsvc.model.admins import Admin
from authsvc.model.permissions import UNRESTRICTED, Scope
from authsvc.model.roles import Role
from authsvc.model.units import (
    MAX_UNIT_DESCRIPTION,
    MAX_UNIT_MEMBERS,
    MAX_UNIT_NAME,
    AdminUnit,
    MemberKind,
    UnitReply,
    scope_of_units,
)
from authsvc.store import Store

PARAM = {MemberKind.ADMIN: "admins", MemberKind.GROUP: "groups",
         MemberKind.INTEGRATION: "integrations"}
ID_PARAM = {MemberKind.ADMIN: "admin_id", MemberKind.GROUP: "group_id",
            MemberKind.INTEGRATION: "integration_key"}


@dataclass(frozen=True, slots=True)
class UnitChanges:
    """Fields an Owner sent; None = not sent. Member lists replace the unit's."""

    name: str | None = None
    description: str | None = None
    restrict_by_groups: bool | None = None
    restrict_by_integrations: bool | None = None
    members: Mapping[MemberKind, Sequence[str]] | None = None

    def fields(self) -> dict[str, object]:
        """What the request changes (the administrator log's description)."""
        sent: dict[str, object] = {name: value for name, value in (
            ("name", self.name), ("description", self.description),
            ("restrict_by_groups", self.restrict_by_groups),
            ("restrict_by_integrations", self.restrict_by_integrations)) if value is not None}
        sent.update({PARAM[kind]: list(ids) for kind, ids in (self.members or {}).items()})
        return sent


def _name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_UNIT_NAME or not cleaned.isprintable():
        raise InvalidParameter(f"name (1-{MAX_UNIT_NAME} printable characters)")
    return cleaned


def _record_fields(changes: UnitChanges) -> dict[str, str]:
    fields: dict[str, str] = {}
    if changes.name is not None:
        fields["name"] = _name(changes.name)
    if changes.description is not None:
        if len(changes.description) > MAX_UNIT_DESCRIPTION or "\x00" in changes.description:
            raise InvalidParameter(f"description (at most {MAX_UNIT_DESCRIPTION} characters)")
        fields["description"] = changes.description.strip()
    for flag in ("restrict_by_groups", "restrict_by_integrations"):
        value = getattr(changes, flag)
        if value is not None:
            fields[flag] = "1" if value else "0"
    return fields


class AdminUnits:
    """Units and their members, and the scope they give administrators."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create(self, changes: UnitChanges) -> AdminUnit:
        """A new unit; raises MissingParameter without a name, InvalidParameter/Conflict."""
        if changes.name is None:
            raise MissingParameter("name")
        now_ms = self._clock.now_ms()
        unit_id = random_id("DA")
        fields = {"admin_unit_id": unit_id, "created": str(now_ms // 1000),
                  "description": "", "restrict_by_groups": "0",
                  "restrict_by_integrations": "0", **_record_fields(changes)}
        await self._save(unit_id, changes, fields, create=True, now_ms=now_ms)
        return await self.get(unit_id)

    async def update(self, unit_id: str, changes: UnitChanges) -> AdminUnit:
        """Change a unit; raises NotFound, InvalidParameter, Conflict (name taken)."""
        await self._save(unit_id, changes, _record_fields(changes), create=False,
                         now_ms=self._clock.now_ms())
        return await self.get(unit_id)

    async def _save(self, unit_id: str, changes: UnitChanges, fields: dict[str, str], *,
                    create: bool, now_ms: int) -> None:
        members = {kind: list(dict.fromkeys(ids)) for kind, ids in (changes.members or {}).items()}
        for kind, ids in members.items():
            await self._require_existing(kind, ids)
        name_key = fields["name"].lower() if "name" in fields else ""
        reply, admin_id = await self._store.units.save(
            unit_id, create=create, now_ms=now_ms, name_key=name_key, fields=fields,
            members=members)
        _raise_for(reply, admin_id, param="admins")

    async def _require_existing(self, kind: MemberKind, ids: Sequence[str]) -> None:
        """Groups and integrations named must exist (administrators: checked by the script)."""
        if len(ids) > MAX_UNIT_MEMBERS:
            raise InvalidParameter(f"{PARAM[kind]} (at most {MAX_UNIT_MEMBERS})")
        for member_id in ids:
            if not member_id or len(member_id) > 64 or not await self._exists(kind, member_id):
                raise InvalidParameter(f"{PARAM[kind]} (no such {kind.value}: {member_id[:64]})")

    async def _exists(self, kind: MemberKind, member_id: str) -> bool:
        if kind is MemberKind.GROUP:
            return await self._store.groups.get(member_id) is not None
        if kind is MemberKind.INTEGRATION:
            return await self._store.integrations.get(member_id) is not None
        return True

    async def get(self, unit_id: str) -> AdminUnit:
        """The unit with its members; raises NotFound."""
        unit = await self._store.units.get(unit_id)
        if unit is None:
            raise NotFound("admin_unit_id")
        return unit

    async def find(self, unit_id: str) -> AdminUnit | None:
        """The unit, or None."""
        return await self._store.units.get(unit_id)

    async def listing(self, kind: MemberKind | None, member_id: str | None
                      ) -> list[AdminUnit]:
        """Every unit, oldest first; with `kind`, only those holding `member_id`."""
        units = await self._store.units.all()
        if kind is None:
            return units
        return [unit for unit in units if member_id in unit.members(kind)]

    async def delete(self, unit_id: str) -> str | None:
        """Delete the unit: its name, or None when there was none."""
        return await self._store.units.delete(unit_id)

    async def add(self, unit_id: str, kind: MemberKind, member_id: str) -> bool:
        """Put one member in the unit (True if it was not in it); raises NotFound naming the
        unit or the member, InvalidParameter for an Owner."""
        if not await self._exists(kind, member_id):
            raise NotFound(ID_PARAM[kind])
        reply, changed = await self._store.units.member(unit_id, kind, member_id, add=True)
        _raise_for(reply, member_id, param=ID_PARAM[kind])
        return changed

    async def remove(self, unit_id: str, kind: MemberKind, member_id: str) -> bool:
        """Take one member out of the unit (True if it was in it); raises NotFound."""
        reply, changed = await self._store.units.member(unit_id, kind, member_id, add=False)
        _raise_for(reply, member_id, param=ID_PARAM[kind])
        return changed

    async def scope_of(self, admin_id: str) -> Scope:
        """What the administrator may reach: the union over their units (none, or an Owner:
        unrestricted). Two round trips; call it for every request an administrator makes,
        so a change to their units applies at once. Raises NotFound for an unknown admin."""
        admin = await self._store.admins.get(admin_id)
        if admin is None:
            raise NotFound("admin_id")
        return await self.scope_of_admin(admin)

    async def scope_of_admin(self, admin: Admin) -> Scope:
        """`scope_of` for an administrator already read."""
        if admin.role is Role.OWNER:
            return UNRESTRICTED
        return scope_of_units(await self.listing(MemberKind.ADMIN, admin.admin_id))


def _raise_for(reply: UnitReply, member_id: str, *, param: str) -> None:
    if reply in (UnitReply.NO_UNIT, UnitReply.NO_SUCH_UNIT):
        raise NotFound("admin_unit_id")
    if reply is UnitReply.NAME_TAKEN:
        raise Conflict("name (an administrative unit with this name exists)")
    if reply is UnitReply.NO_ADMIN:
        if param == "admins":
            raise InvalidParameter(f"admins (no such admin: {member_id})")
        raise NotFound("admin_id")
    if reply is UnitReply.OWNER:
        raise InvalidParameter(f"{param} (an Owner cannot be restricted: {member_id})")
