"""Finished async transactions (``async=1``), kept for `auth_status` until they expire."""

from __future__ import annotations

import json

from authsvc.model.factors import LogFactor
from authsvc.model.verdicts import Result, Verdict
from authsvc.store.core import StoreContext


class TransactionStore:
    """txid -> the final verdict (JSON), with a TTL."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def put(self, txid: str, verdict: Verdict, ttl_seconds: int) -> None:
        """Remember the final verdict of a transaction."""
        stored = {**verdict.answer(), "reason": verdict.reason, "factor": verdict.factor.value,
                  "device": verdict.device}
        await self._ctx.redis.execute("SET", self._keys.transaction(txid), json.dumps(stored),
                                      "EX", ttl_seconds)

    async def get(self, txid: str) -> Verdict | None:
        """The stored verdict, or None (unknown or expired)."""
        raw = await self._ctx.redis.execute("GET", self._keys.transaction(txid))
        if raw is None:
            return None
        stored = json.loads(raw)
        return Verdict(Result(stored["result"]), stored["status"], stored["status_msg"],
                       stored.get("reason", ""),
                       LogFactor(stored.get("factor") or LogFactor.NOT_AVAILABLE),
                       stored.get("device", ""))
