"""SMS passcode batches in Redis (one per user, in the user's slot)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from authsvc.model.telephony import IssueStatus
from authsvc.store.core import StoreContext
from authsvc.store.scripts import ScriptName


class SmsStore:
    """Replace a user's batch (with the cost controls), and tell the next code's position."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def issue(self, user_id: str, codes: Sequence[tuple[str, int]], *, now_ms: int,
                    expires_ms: int, cooldown_ms: int, daily_limit: int, day: str) -> IssueStatus:
        """Store `codes` (keyed hash, position) as the user's batch; see sms_issue.lua."""
        args: list[str | int] = [now_ms, cooldown_ms, daily_limit, day]
        for code_hash, position in codes:
            args += [code_hash, json.dumps({"pos": position, "expires": expires_ms})]
        reply = await self._ctx.scripts.run(
            ScriptName.SMS_ISSUE, [self._keys.user(user_id), self._keys.user_sms(user_id)], args)
        return IssueStatus(int(reply[0]))

    async def next_position(self, user_id: str, now_ms: int) -> int | None:
        """Position of the next unused, unexpired code of the batch, None if none is left."""
        values = await self._ctx.redis.execute("HVALS", self._keys.user_sms(user_id))
        live = [json.loads(raw) for raw in values]
        positions = [code["pos"] for code in live
                     if not code["expires"] or code["expires"] > now_ms]
        return min(positions) if positions else None
