"""Integrations (ikey, sealed skey, type, role, grants, enroll policy, permitted groups) in
Redis, and the notice every process gets when one changes (its credentials cache drops it)."""

from __future__ import annotations

from authsvc.model.integrations import Integration
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.listing import PLACE_FIELD, Listing
from authsvc.store.records import integration_from_hash, integration_to_hash
from authsvc.store.scripts import ScriptName

CHANGED_TOPIC = "integration:"
ALL = 1_000_000  # `all()` reads every integration: far more than any account has


class IntegrationStore:
    """Create, read and list integrations."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._listing = Listing(ctx, ctx.keys.integrations_listing())

    async def create(self, integration: Integration, *, order_ms: int) -> None:
        """Store a new integration, listed at `order_ms`."""
        key = self._keys.integration(integration.ikey)
        fields = [item for pair in integration_to_hash(integration).items() for item in pair]
        await self._ctx.redis.execute("HSET", key, *fields)
        place = await self._listing.append(integration.ikey, order_ms)
        # Into the record only if it still exists: never a record holding a place alone.
        await self._ctx.scripts.run(ScriptName.HASH_SET_EXISTING, [key], [PLACE_FIELD, place])

    async def get(self, ikey: str) -> Integration | None:
        """The integration, or None."""
        data = flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.integration(ikey)))
        return integration_from_hash(data) if data else None

    async def all(self) -> list[Integration]:
        """Every integration, oldest first."""
        ikeys, _ = await self._listing.page(0, ALL)
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", self._keys.integration(ikey)) for ikey in ikeys])
        return [integration_from_hash(flat_to_dict(reply)) for reply in replies if reply]

    async def page(self, offset: int, limit: int) -> tuple[list[Integration], int]:
        """One page of integrations, oldest first, and the total."""
        keys = self._keys
        ikeys, total = await self._listing.page(offset, limit)
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", keys.integration(ikey)) for ikey in ikeys])
        return [integration_from_hash(flat_to_dict(reply)) for reply in replies if reply], total

    async def update(self, before: Integration, after: Integration) -> bool:
        """Write the fields that differ from `before`; False if it was deleted meanwhile.
        Every process is told to drop its cached copy."""
        old = integration_to_hash(before)
        fields = [item for name, value in integration_to_hash(after).items()
                  if old.get(name) != value for item in (name, value)]
        if fields:
            written = await self._ctx.scripts.run(
                ScriptName.HASH_SET_EXISTING, [self._keys.integration(after.ikey)], fields)
            if not written:
                return False
        await self.announce_change(after.ikey)
        return True

    async def delete(self, ikey: str) -> None:
        """Delete the integration; every process is told to drop its cached credentials."""
        place, _ = await self._ctx.redis.pipeline([
            ("HGET", self._keys.integration(ikey), PLACE_FIELD),
            ("DEL", self._keys.integration(ikey))])
        await self._listing.remove(ikey, None if place is None else int(place))
        await self.announce_change(ikey)

    async def announce_change(self, ikey: str) -> None:
        """PUBLISH ``integration:<ikey>`` on the events channel (every process's subscriber
        drops that ikey from its credentials cache)."""
        await self._ctx.redis.execute("PUBLISH", self._keys.events(), CHANGED_TOPIC + ikey)

    @staticmethod
    def changed_ikey(topic: str) -> str | None:
        """The ikey an events-channel message says changed, or None for another message."""
        return topic.removeprefix(CHANGED_TOPIC) if topic.startswith(CHANGED_TOPIC) else None
    async def count(self) -> int:
        """How many integrations there are (for `info/summary`)."""
        return await self._listing.count()
