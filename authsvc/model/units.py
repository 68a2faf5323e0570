"""Administrative Units (seed 000 note; Duo's `/admin/v1/administrative_units`): a unit names
administrators, groups and applications (integrations); its administrators are restricted to
the users in its groups (when `restrict_by_groups`) and to its applications (when
`restrict_by_integrations`).

An administrator's scope is the union over the units they are in (`scope_of_units`): a unit
that does not restrict one side leaves that side open, so an administrator in such a unit is
unrestricted on that side; an administrator in no unit is unrestricted. Owners are never
restricted (they manage the units themselves).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from authsvc.model.permissions import UNRESTRICTED, Scope

MAX_UNIT_NAME = 200
MAX_UNIT_DESCRIPTION = 1024
MAX_UNIT_MEMBERS = 1000
"""Members of one kind one unit may hold (a request listing more is refused)."""


class MemberKind(StrEnum):
    """What a unit holds; the value is the word in Duo's paths (``.../admin/{admin_id}``)."""

    ADMIN = "admin"
    GROUP = "group"
    INTEGRATION = "integration"


class UnitReply(IntEnum):
    """Replies of the unit scripts (admin_unit_save, admin_unit_member)."""

    NO_UNIT = 0
    DONE = 1
    NAME_TAKEN = 2
    NO_SUCH_UNIT = 3
    NO_ADMIN = 4
    OWNER = 5


@dataclass(frozen=True, slots=True)
class AdminUnit:
    """A unit as stored, with its members' ids (sorted)."""

    admin_unit_id: str
    name: str
    description: str = ""
    restrict_by_groups: bool = False
    restrict_by_integrations: bool = False
    created: int = 0
    admins: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()

    def members(self, kind: MemberKind) -> tuple[str, ...]:
        return {MemberKind.ADMIN: self.admins, MemberKind.GROUP: self.groups,
                MemberKind.INTEGRATION: self.integrations}[kind]


def scope_of_units(units: Iterable[AdminUnit]) -> Scope:
    """The union of what `units` let their administrators reach (none = unrestricted)."""
    units = list(units)
    if not units:
        return UNRESTRICTED
    groups: set[str] | None = set()
    integrations: set[str] | None = set()
    for unit in units:
        if groups is not None:
            groups = groups | set(unit.groups) if unit.restrict_by_groups else None
        if integrations is not None:
            integrations = (integrations | set(unit.integrations)
                            if unit.restrict_by_integrations else None)
    return Scope(None if groups is None else frozenset(groups),
                 None if integrations is None else frozenset(integrations))
