"""Administrators as Owners manage them (`/admin/v1/admins`; seed 000: "Manage other admins":
Owner only; others with the read permission may list them)."""

from __future__ import annotations

from authsvc.domain.access import Access
from authsvc.domain.admin_factors import AdminFactors
from authsvc.domain.admins import SETUP_DAYS, AdminAccounts
from authsvc.domain.audit import AdminLog
from authsvc.domain.messages import Messenger
from authsvc.model.admin_factors import AdminFactor
from authsvc.model.admins import Admin, AdminStatus
from authsvc.model.permissions import Action, Actor
from authsvc.model.roles import Role
from authsvc.store import Store


class AdminAdmin:
    """List, create, change, reset and delete administrators, checked and logged."""

    def __init__(self, access: Access, audit: AdminLog, accounts: AdminAccounts,
                 messenger: Messenger, factors: AdminFactors, store: Store) -> None:
        self._access = access
        self._audit = audit
        self._accounts = accounts
        self._messenger = messenger
        self._factors = factors
        self._store = store

    async def page(self, actor: Actor, offset: int, limit: int) -> tuple[list[Admin], int]:
        await self._access.require(actor, Action.READ_ADMINS)
        return await self._accounts.page(offset, limit)

    async def get(self, actor: Actor, admin_id: str) -> Admin:
        await self._access.require(actor, Action.READ_ADMINS)
        return await self._accounts.get(admin_id)

    async def create(self, actor: Actor, email: str, name: str, role: Role, phone: str = "",
                     *, mail: bool = True) -> tuple[Admin, str, int]:
        """A pending administrator and its one-time setup link (`admin_create`), mailed to
        the new administrator when `mail`."""
        await self._access.require(actor, Action.MANAGE_ADMINS)
        admin, link, expires = await self._accounts.create(email, name, role, phone)
        await self._audit.record(actor, "admin_create", admin.email,
                                 {"name": admin.name, "role": role.value})
        if mail:
            await self._messenger.mail_admin_setup(admin.email, link)
        return admin, link, expires

    async def update(self, actor: Actor, admin_id: str, *, name: str | None = None,
                     phone: str | None = None, role: Role | None = None,
                     status: AdminStatus | None = None) -> Admin:
        """Change name, phone, role or status (`admin_update`); the last Owner stays."""
        await self._access.require(actor, Action.MANAGE_ADMINS)
        admin = await self._accounts.update(admin_id, name=name, phone=phone, role=role,
                                            status=status)
        changed = {"name": name, "phone": phone, "role": role.value if role else None,
                   "status": status.value if status else None}
        if status is AdminStatus.DISABLED:  # signed out at once, in every browser
            await self._store.admin_sessions.delete_all(admin_id)
        await self._audit.record(actor, "admin_update", admin.email,
                                 {key: value for key, value in changed.items() if value})
        return admin

    async def reset(self, actor: Actor, admin_id: str) -> Admin:
        """Lift a sign-in lockout, and the second-factor lockout (`admin_update`)."""
        await self._access.require(actor, Action.MANAGE_ADMINS)
        admin = await self._accounts.reset(admin_id)
        await self._factors.unlock(admin)
        await self._audit.record(actor, "admin_update", admin.email, {"reset": True})
        return admin

    async def setup_link(self, actor: Actor, admin_id: str, valid_days: int | None, *,
                         mail: bool = True) -> tuple[Admin, str, int]:
        """A new one-time setup link (to set a new password), mailed when `mail`."""
        await self._access.require(actor, Action.MANAGE_ADMINS)
        admin = await self._accounts.get(admin_id)
        link, expires = await self._accounts.setup_link(admin_id, valid_days or SETUP_DAYS)
        await self._audit.record(actor, "admin_update", admin.email, {"setup_link": True})
        if mail:
            await self._messenger.mail_admin_setup(admin.email, link)
        return admin, link, expires

    async def delete(self, actor: Actor, admin_id: str) -> None:
        """Delete an administrator (`admin_delete`); the last Owner stays."""
        await self._access.require(actor, Action.MANAGE_ADMINS)
        admin = await self._accounts.get(admin_id)
        await self._accounts.delete(admin_id)
        await self._store.admin_sessions.delete_all(admin_id)
        await self._factors.forget(admin)
        await self._audit.record(actor, "admin_delete", admin.email)

    async def factors(self, actor: Actor, admin_id: str) -> tuple[Admin, list[AdminFactor]]:
        """An administrator and their second factors (phones and security keys)."""
        await self._access.require(actor, Action.READ_ADMINS)
        admin = await self._accounts.get(admin_id)
        return admin, await self._factors.factors(admin)

    async def remove_factor(self, actor: Actor, admin_id: str, factor_id: str) -> None:
        """Remove a lost phone or key of an administrator (`admin_update`)."""
        await self._access.require(actor, Action.MANAGE_ADMINS)
        admin = await self._accounts.get(admin_id)
        factor = await self._factors.remove(admin, factor_id)
        await self._audit.record(actor, "admin_update", admin.email,
                                 {"factor_removed": factor.kind, "name": factor.name})
