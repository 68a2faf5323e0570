"""Integrations (applications and Admin API clients) as administrators see and change them
(seed 000 matrix: "Manage applications"; Duo's Admin API integrations endpoints).

No privilege escalation through an Admin API integration: an ``adminapi`` integration can do
what its grants (or its role) allow, so creating one, changing it, deleting it or reading its
secret key is itself a grant of that power. Duo lets only Owners manage Admin API applications;
here an administrator acting in a role must be an Owner, and an integration acting by grants
may hand out, and reach, only grants it holds itself (`_require_within`). Auth and web
integrations need only "Manage applications".
"""

from __future__ import annotations

from authsvc.domain.access import Access
from authsvc.domain.audit import AdminLog
from authsvc.domain.integration_changes import IntegrationChanges
from authsvc.domain.integrations import Credentials, IntegrationRegistry
from authsvc.domain.scope import ScopeGuard
from authsvc.model.integrations import Grant, Integration, IntegrationType, Role
from authsvc.model.permissions import ROLE_GRANTS, Action, Actor


def capability(integration: Integration) -> frozenset[Grant]:
    """What an integration may do on the Admin API, as grants (a role's are ROLE_GRANTS);
    nothing for auth and web integrations."""
    if integration.type is not IntegrationType.ADMIN:
        return frozenset()
    if integration.grants or integration.grants_only:
        return integration.grants
    return ROLE_GRANTS[integration.role]


class IntegrationAdmin:
    """List, create, change and delete integrations; fetch a secret key."""

    def __init__(self, access: Access, audit: AdminLog, registry: IntegrationRegistry,
                 scope: ScopeGuard) -> None:
        self._access = access
        self._scope = scope
        self._audit = audit
        self._registry = registry

    async def page(self, actor: Actor, offset: int, limit: int
                   ) -> tuple[list[Integration], int]:
        """One page of integrations (no secrets)."""
        await self._access.require(actor, Action.READ_APPLICATIONS)
        return await self._scope.integration_page(actor, offset, limit, self._registry.page)

    async def get(self, actor: Actor, ikey: str) -> Integration:
        """One integration (no secret); raises NotFound."""
        await self._access.require(actor, Action.READ_APPLICATIONS)
        self._scope.integration(actor, ikey)
        return await self._registry.get(ikey)

    async def create(self, actor: Actor, changes: IntegrationChanges) -> Credentials:
        """A new integration with its secret key (`integration_create`; the key is not logged)."""
        await self._access.require(actor, Action.MANAGE_APPLICATIONS)
        await self._scope.refuse_new_application(actor)
        self._scope.permitted_groups(actor, changes.groups_allowed)
        credentials = await self._registry.prepare(changes)
        await self._require_within(actor, credentials.integration)
        await self._registry.save(credentials)
        await self._audit.record(actor, "integration_create", credentials.integration.name,
                                 {"integration_key": credentials.integration.ikey,
                                  **changes.fields()})
        return credentials

    async def update(self, actor: Actor, ikey: str, changes: IntegrationChanges) -> Integration:
        """Change an integration (`integration_update`)."""
        await self._access.require(actor, Action.MANAGE_APPLICATIONS)
        self._scope.integration(actor, ikey)
        self._scope.permitted_groups(actor, changes.groups_allowed)
        await self._require_within(actor, await self._registry.get(ikey))
        preview = await self._registry.preview(ikey, changes)
        await self._require_within(actor, preview)
        integration = await self._registry.update(ikey, changes)
        await self._audit.record(actor, "integration_update", integration.name,
                                 {"integration_key": ikey, **changes.fields()})
        return integration

    async def delete(self, actor: Actor, ikey: str) -> None:
        """Delete an integration (`integration_delete`; nothing happens if already gone)."""
        await self._access.require(actor, Action.MANAGE_APPLICATIONS)
        self._scope.integration(actor, ikey)
        existing = await self._registry.find(ikey)
        if existing is None:
            return
        await self._require_within(actor, existing)
        await self._registry.delete(ikey)
        await self._audit.record(actor, "integration_delete", existing.name,
                                 {"integration_key": ikey})

    async def secret_key(self, actor: Actor, ikey: str) -> str:
        """The secret key in clear; the fetch is logged (``integration_skey_view``, an authsvc
        addition), the key never."""
        await self._access.require(actor, Action.MANAGE_APPLICATIONS)
        self._scope.integration(actor, ikey)
        integration = await self._registry.get(ikey)
        await self._require_within(actor, integration)
        skey = await self._registry.secret_key(ikey)
        await self._audit.record(actor, "integration_skey_view", integration.name,
                                 {"integration_key": ikey})
        return skey

    async def _require_within(self, actor: Actor, integration: Integration) -> None:
        """Refuse (recorded) unless `actor` already holds every power `integration` has."""
        if integration.type is not IntegrationType.ADMIN:
            return
        power = capability(integration)
        if actor.role is not None:
            if actor.role is not Role.OWNER:
                await self._access.deny(actor, Action.MANAGE_APPLICATIONS,
                                        "only an owner may manage Admin API integrations")
        elif not power <= actor.grants:
            missing = ", ".join(sorted(grant.value for grant in power - actor.grants))
            await self._access.deny(actor, Action.MANAGE_APPLICATIONS,
                                    f"may not manage an integration holding {missing}")
