"""Auth transactions by txid: ``async=1`` returns a txid, `auth_status` answers for it.

A passcode (or a refused push) is final within the request, so its async form stores the final
answer under the txid. A push's txid is answered from the push itself, with the long poll of
`PushService.status`.
"""

from __future__ import annotations

import uuid

from authsvc.domain.auth_requests import AuthAnswer
from authsvc.domain.push import PushService
from authsvc.errors import InvalidParameter
from authsvc.model.verdicts import Verdict
from authsvc.store import Store

TRANSACTION_TTL_SECONDS = 600
MAX_TXID_LENGTH = 64


class Transactions:
    """Remember finished answers by txid, and answer auth_status."""

    def __init__(self, store: Store, pushes: PushService) -> None:
        self._store = store
        self._pushes = pushes

    async def finished(self, verdict: Verdict, txid: str | None = None) -> str:
        """Store a final verdict and return its txid."""
        txid = txid or str(uuid.uuid4())
        await self._store.transactions.put(txid, verdict, TRANSACTION_TTL_SECONDS)
        return txid

    async def status(self, txid: str) -> AuthAnswer:
        """The answer for a txid; raises InvalidParameter for an unknown or expired one."""
        if not txid or len(txid) > MAX_TXID_LENGTH:
            raise InvalidParameter("txid")
        verdict = await self._store.transactions.get(txid)
        if verdict is not None:
            return AuthAnswer(verdict, txid, "")
        owner = await self._store.pushes.owner(txid)
        if owner is None:
            raise InvalidParameter("txid (unknown or expired transaction)")
        return AuthAnswer(await self._pushes.status(owner, txid), txid, owner)
