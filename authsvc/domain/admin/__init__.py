"""What administrators (Admin API integrations, and admins in the Admin Panel) may do, each
call checked against the permission table (`domain/access.py`) before anything is read or
changed, and every change written to the administrator log (`domain/audit.py`).

The directories below (`domain/users.py`, `phones.py`, ...) stay free of actors: the portals,
the prompt and the CLI use them for the user's own devices. Every handler of the Admin API and
the Admin Panel goes through these facades, never around them.
"""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.domain.admin.account import AccountAdmin
from authsvc.domain.admin.admins import AdminAdmin
from authsvc.domain.admin.devices import DeviceAdmin
from authsvc.domain.admin.groups import GroupAdmin
from authsvc.domain.admin.integrations import IntegrationAdmin
from authsvc.domain.admin.trash import TrashAdmin
from authsvc.domain.admin.units import UnitAdmin
from authsvc.domain.admin.users import UserAdmin
from authsvc.domain.audit import AdminLog


@dataclass(frozen=True, slots=True)
class Administration:
    """The facades, one per area."""

    users: UserAdmin
    devices: DeviceAdmin
    account: AccountAdmin
    admins: AdminAdmin
    trash: TrashAdmin
    audit: AdminLog
    groups: GroupAdmin
    integrations: IntegrationAdmin
    units: UnitAdmin
