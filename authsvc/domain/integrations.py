"""Integrations: creation (ikey + sealed skey) and the cached lookup that request signing uses.

The lookup cache keeps decrypted secret keys in memory for `CACHE_SECONDS`, so the hot path
neither reads Redis nor runs AES-GCM for the integration on every request. Consequence, accepted:
a change to an integration reaches other processes within that many seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from authsvc.clock import Clock
from authsvc.crypto import SecretBox, random_id, random_secret_key
from authsvc.errors import InvalidParameter
from authsvc.model.integrations import Integration, IntegrationType, Role
from authsvc.model.permissions import Actor, ActorKind
from authsvc.store import Store

CACHE_SECONDS = 5.0
MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Credentials:
    """An integration with its secret key opened."""

    integration: Integration
    skey: str


def actor_of(integration: Integration) -> Actor:
    """The Admin API caller behind an integration: its explicit grants, else its role."""
    if integration.grants:
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

    async def create(self, type_: str, name: str, role: str = Role.OWNER.value) -> Credentials:
        """A new integration; the secret key is returned here and never again in clear."""
        try:
            integration_type = IntegrationType(type_)
        except ValueError:
            raise InvalidParameter("type (auth or admin)") from None
        try:
            integration_role = Role(role)
        except ValueError:
            raise InvalidParameter(f"role ({', '.join(r.value for r in Role)})") from None
        if not name.strip() or len(name) > MAX_NAME_LENGTH or not name.isprintable():
            raise InvalidParameter("name")
        ikey, skey = random_id("DI"), random_secret_key()
        now_ms = self._clock.now_ms()
        integration = Integration(
            ikey=ikey, name=name, type=integration_type, role=integration_role,
            sealed_skey=self._box.seal(skey.encode(), bound_to=ikey),
            created=now_ms // 1000)
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
