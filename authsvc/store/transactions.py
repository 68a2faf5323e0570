"""Finished async transactions (``async=1``), kept for `auth_status` until they expire."""

from __future__ import annotations

from authsvc.store.core import StoreContext


class TransactionStore:
    """txid -> JSON answer, with a TTL."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def put(self, txid: str, answer_json: str, ttl_seconds: int) -> None:
        """Remember the answer of a transaction."""
        await self._ctx.redis.execute("SET", self._keys.transaction(txid), answer_json,
                                      "EX", ttl_seconds)

    async def get(self, txid: str) -> str | None:
        """The stored answer, or None (unknown or expired)."""
        answer: str | None = await self._ctx.redis.execute("GET", self._keys.transaction(txid))
        return answer
