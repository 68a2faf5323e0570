"""Integrations: creation (ikey + sealed skey) and the cached lookup that request signing uses.

The lookup cache keeps decrypted secret keys in memory for `CACHE_SECONDS`, so the hot path
neither reads Redis nor runs AES-GCM for the integration on every request. A change made through
the Admin API (update, new secret key, deletion) drops the entry at once in the process that
made it and, through an ``integration:<ikey>`` message on the events channel, in every other
process (`forget`). Accepted: while a process's subscriber is disconnected it may miss that
message, so a deleted key (or an old secret key, or old permitted groups) can keep working
there for at most `CACHE_SECONDS` (5 s); a reconnecting subscriber clears the whole cache.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, random_id, random_secret_key
from authsvc.domain.integration_changes import (
    IntegrationChanges,
    apply_changes,
    integration_type,
)
from authsvc.errors import InvalidParameter, MissingParameter, NotFound
from authsvc.model.integrations import (
    MAX_REMEMBER_DAYS,
    EnrollPolicy,
    Integration,
    IntegrationType,
    Role,
)
from authsvc.model.permissions import Actor, ActorKind
from authsvc.model.units import MemberKind
from authsvc.store import Store

CACHE_SECONDS = 5.0
MAX_NAME_LENGTH = 200
MAX_REDIRECT_URIS = 20
MAX_REDIRECT_URI_LENGTH = 1024
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, slots=True)
class WebOptions:
    """What only a web integration has: its exact redirect URIs, its new-user policy, how
    long the prompt may remember a device, and whether users may manage devices from it."""

    redirect_uris: Sequence[str] = field(default_factory=tuple)
    enroll_policy: str = EnrollPolicy.ENROLL.value
    remember_days: int = 0
    self_service: bool = True


def check_redirect_uri(uri: str) -> str:
    """A redirect URI a web integration may register: absolute https (http only to a
    loopback host, RFC 8252 §7.3), no fragment, no user info; raises InvalidParameter."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        raise InvalidParameter("redirect_uri") from None
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)
    if (not secure or not host or parts.fragment or "@" in parts.netloc
            or len(uri) > MAX_REDIRECT_URI_LENGTH or not uri.isprintable() or " " in uri):
        raise InvalidParameter("redirect_uri (absolute https URL without fragment)")
    return uri


def _web_fields(options: WebOptions) -> tuple[tuple[str, ...], EnrollPolicy, int, bool]:
    if len(options.redirect_uris) > MAX_REDIRECT_URIS:
        raise InvalidParameter(f"redirect_uri (at most {MAX_REDIRECT_URIS})")
    try:
        policy = EnrollPolicy(options.enroll_policy)
    except ValueError:
        raise InvalidParameter("enroll_policy (enroll, allow or deny)") from None
    if not 0 <= options.remember_days <= MAX_REMEMBER_DAYS:
        raise InvalidParameter(f"remember_days (0-{MAX_REMEMBER_DAYS})")
    uris = tuple(dict.fromkeys(check_redirect_uri(uri) for uri in options.redirect_uris))
    return uris, policy, options.remember_days, options.self_service


@dataclass(frozen=True, slots=True)
class Credentials:
    """An integration with its secret key opened."""

    integration: Integration
    skey: str


def actor_of(integration: Integration) -> Actor:
    """The Admin API caller behind an integration: its explicit grants (an integration made
    through the Admin API has only those, even none), else its role."""
    if integration.grants or integration.grants_only:
        return Actor(ActorKind.INTEGRATION, integration.ikey, integration.name, None,
                     integration.grants)
    return Actor.with_role(ActorKind.INTEGRATION, integration.ikey, integration.name,
                           integration.role)


class IntegrationRegistry:
    """Create and look up integrations."""

    def __init__(self, store: Store, box: SecretBox, clock: Clock) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._cache: dict[str, tuple[float, Credentials]] = {}

    async def create(self, type_: str, name: str, role: str = Role.OWNER.value,
                     web: WebOptions | None = None) -> Credentials:
        """A new integration; the secret key is returned here and never again in clear.
        `web` only for type web (client id = ikey, client secret = skey)."""
        try:
            integration_type = IntegrationType(type_)
        except ValueError:
            raise InvalidParameter("type (auth, admin or web)") from None
        if web is not None and integration_type is not IntegrationType.WEB:
            raise InvalidParameter("redirect_uri (web integrations only)")
        try:
            integration_role = Role(role)
        except ValueError:
            raise InvalidParameter(f"role ({', '.join(r.value for r in Role)})") from None
        if not name.strip() or len(name) > MAX_NAME_LENGTH or not name.isprintable():
            raise InvalidParameter("name")
        uris, policy, remember_days, self_service = _web_fields(web or WebOptions())
        ikey, skey = random_id("DI"), random_secret_key()
        now_ms = self._clock.now_ms()
        integration = Integration(
            ikey=ikey, name=name, type=integration_type, role=integration_role,
            sealed_skey=self._box.seal(skey.encode(), bound_to=ikey),
            created=now_ms // 1000, redirect_uris=uris, enroll_policy=policy,
            remember_days=remember_days, self_service=self_service)
        await self._store.integrations.create(integration, order_ms=now_ms)
        return Credentials(integration, skey)

    async def all(self) -> list[Integration]:
        """Every integration (no secrets)."""
        return await self._store.integrations.all()

    async def credentials(self, ikey: str) -> Credentials | None:
        """The integration and its opened secret key, or None for an unknown ikey."""
        now = self._clock.now()
        cached = self._cache.get(ikey)
        if cached is not None and cached[0] > now:
            return cached[1]
        integration = await self._store.integrations.get(ikey)
        if integration is None:
            self._cache.pop(ikey, None)
            return None
        skey = self._box.open(integration.sealed_skey, bound_to=ikey).decode()
        credentials = Credentials(integration, skey)
        self._cache[ikey] = (now + CACHE_SECONDS, credentials)
        return credentials

    def notice(self, topic: str) -> bool:
        """Handle an events-channel message: True (and the ikey forgotten) when it says an
        integration changed."""
        ikey = self._store.integrations.changed_ikey(topic)
        if ikey is None:
            return False
        self.forget(ikey)
        return True

    def forget(self, ikey: str | None = None) -> None:
        """Drop `ikey` (None: every ikey) from this process's credentials cache."""
        if ikey is None:
            self._cache.clear()
        else:
            self._cache.pop(ikey, None)

    async def prepare(self, changes: IntegrationChanges) -> Credentials:
        """A new integration from the Admin API, checked but not stored yet (`save`): it acts
        by its `adminapi_*` grants alone (none unless given) unless a `role` is given;
        permitted groups must exist. The secret key is returned here and otherwise only by
        `secret_key`."""
        if changes.name is None or changes.type is None:
            raise MissingParameter("name" if changes.name is None else "type")
        type_ = integration_type(changes.type)
        ikey, skey = random_id("DI"), random_secret_key()
        now_ms = self._clock.now_ms()
        blank = Integration(ikey=ikey, name="-", type=type_, role=Role.READ_ONLY,
                            sealed_skey=self._box.seal(skey.encode(), bound_to=ikey),
                            created=now_ms // 1000, grants_only=True)
        integration = apply_changes(blank, changes)
        await self._check_groups(integration)
        return Credentials(integration, skey)

    async def save(self, credentials: Credentials) -> None:
        """Store an integration made by `prepare`."""
        await self._store.integrations.create(credentials.integration,
                                              order_ms=self._clock.now_ms())

    async def find(self, ikey: str) -> Integration | None:
        """The integration, or None."""
        return await self._store.integrations.get(ikey)

    async def preview(self, ikey: str, changes: IntegrationChanges) -> Integration:
        """What `update` would make of the integration (checked, not stored)."""
        return apply_changes(await self.get(ikey), changes)

    async def get(self, ikey: str) -> Integration:
        """The integration (no secret in clear); raises NotFound."""
        integration = await self._store.integrations.get(ikey)
        if integration is None:
            raise NotFound("integration_key")
        return integration

    async def page(self, offset: int, limit: int) -> tuple[list[Integration], int]:
        """One page of integrations, oldest first, and the total."""
        return await self._store.integrations.page(offset, limit)

    async def update(self, ikey: str, changes: IntegrationChanges) -> Integration:
        """Apply an admin's changes (a new secret key with `reset_secret_key`, not shown);
        raises NotFound, InvalidParameter."""
        before = await self.get(ikey)
        after = apply_changes(before, changes)
        if changes.reset_secret_key:
            after = dataclasses.replace(after, sealed_skey=self._box.seal(
                random_secret_key().encode(), bound_to=ikey))
        await self._check_groups(after, already=before.groups_allowed)
        if not await self._store.integrations.update(before, after):
            raise NotFound("integration_key")
        self.forget(ikey)
        return after

    async def delete(self, ikey: str) -> Integration | None:
        """Delete the integration (its key stops working, see the module docstring; it leaves
        every Administrative Unit); the deleted integration, or None when there was none."""
        integration = await self._store.integrations.get(ikey)
        if integration is not None:
            await self._store.integrations.delete(ikey)
            await self._store.units.forget(MemberKind.INTEGRATION, ikey)
        self.forget(ikey)
        return integration

    async def secret_key(self, ikey: str) -> str:
        """The integration's secret key in clear (the Admin API's explicit fetch)."""
        integration = await self.get(ikey)
        return self._box.open(integration.sealed_skey, bound_to=ikey).decode()

    async def _check_groups(self, integration: Integration, already: tuple[str, ...] = ()
                            ) -> None:
        """Every permitted group must exist when it is first named (one deleted later stays
        listed: it admits nobody, and removing it would admit everyone)."""
        wanted = [group_id for group_id in integration.groups_allowed if group_id not in already]
        found = {group.group_id for group in await self._store.groups.get_many(wanted)}
        unknown = [group_id for group_id in wanted if group_id not in found]
        if unknown:
            raise InvalidParameter(f"groups_allowed (no such group: {unknown[0]})")
