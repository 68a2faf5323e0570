"""Async auth transactions: ``async=1`` returns a txid, `auth_status` answers for it.

Passcode verification finishes within the request, so its async form stores the final answer
under the txid. (Duo Push, in a later issue, adds waiting transactions and the long poll.)
"""

from __future__ import annotations

import json
import uuid

from authsvc.domain.models import Verdict
from authsvc.errors import InvalidParameter
from authsvc.store import Store

TRANSACTION_TTL_SECONDS = 600
MAX_TXID_LENGTH = 64


class Transactions:
    """Remember finished answers by txid."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def finished(self, verdict: Verdict) -> str:
        """Store a final verdict and return its new txid."""
        txid = str(uuid.uuid4())
        answer = {"result": verdict.result.value, "status": verdict.status,
                  "status_msg": verdict.status_msg}
        await self._store.transactions.put(txid, json.dumps(answer), TRANSACTION_TTL_SECONDS)
        return txid

    async def status(self, txid: str) -> dict[str, str]:
        """The answer for a txid; raises InvalidParameter for an unknown or expired one."""
        if not txid or len(txid) > MAX_TXID_LENGTH:
            raise InvalidParameter("txid")
        answer = await self._store.transactions.get(txid)
        if answer is None:
            raise InvalidParameter("txid (unknown or expired transaction)")
        decoded: dict[str, str] = json.loads(answer)
        return decoded
