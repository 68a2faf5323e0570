"""Auth transactions by txid: ``async=1`` returns a txid, `auth_status` answers for it.

A passcode (or a refused push) is final within the request, so its async form stores the final
answer under the txid. A push's txid is answered from the push itself, with the long poll of
`PushService.status`.
"""

from __future__ import annotations

import json
import uuid

from authsvc.domain.models import Verdict
from authsvc.domain.push import PushService
from authsvc.errors import InvalidParameter
from authsvc.store import Store

TRANSACTION_TTL_SECONDS = 600
MAX_TXID_LENGTH = 64


def answer_of(verdict: Verdict) -> dict[str, str]:
    """The Auth API's answer fields."""
    return {"result": verdict.result.value, "status": verdict.status,
            "status_msg": verdict.status_msg}


class Transactions:
    """Remember finished answers by txid, and answer auth_status."""

    def __init__(self, store: Store, pushes: PushService) -> None:
        self._store = store
        self._pushes = pushes

    async def finished(self, verdict: Verdict, txid: str | None = None) -> str:
        """Store a final verdict and return its txid."""
        txid = txid or str(uuid.uuid4())
        await self._store.transactions.put(txid, json.dumps(answer_of(verdict)),
                                           TRANSACTION_TTL_SECONDS)
        return txid

    async def status(self, txid: str) -> dict[str, str]:
        """The answer for a txid; raises InvalidParameter for an unknown or expired one."""
        if not txid or len(txid) > MAX_TXID_LENGTH:
            raise InvalidParameter("txid")
        answer = await self._store.transactions.get(txid)
        if answer is not None:
            decoded: dict[str, str] = json.loads(answer)
            return decoded
        owner = await self._store.pushes.owner(txid)
        if owner is None:
            raise InvalidParameter("txid (unknown or expired transaction)")
        return answer_of(await self._pushes.status(owner, txid))
