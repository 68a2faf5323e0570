"""Integrations (ikey, sealed skey, type, role) in Redis."""

from __future__ import annotations

from authsvc.model.integrations import Integration
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.records import integration_from_hash, integration_to_hash


class IntegrationStore:
    """Create, read and list integrations."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def create(self, integration: Integration, *, order_ms: int) -> None:
        """Store a new integration, listed at `order_ms`."""
        fields = [item for pair in integration_to_hash(integration).items() for item in pair]
        await self._ctx.redis.execute("HSET", self._keys.integration(integration.ikey), *fields)
        await self._ctx.scripts.append_to_listing(self._keys.integrations(), order_ms,
                                                  integration.ikey)

    async def get(self, ikey: str) -> Integration | None:
        """The integration, or None."""
        data = flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.integration(ikey)))
        return integration_from_hash(data) if data else None

    async def all(self) -> list[Integration]:
        """Every integration, oldest first."""
        ikeys = await self._ctx.redis.execute("ZRANGE", self._keys.integrations(), 0, -1)
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", self._keys.integration(ikey)) for ikey in ikeys])
        return [integration_from_hash(flat_to_dict(reply)) for reply in replies if reply]

    async def count(self) -> int:
        """How many integrations there are (for `info/summary`)."""
        total: int = await self._ctx.redis.execute("ZCARD", self._keys.integrations())
        return total
