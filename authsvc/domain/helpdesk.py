"""Help Desk verification push: the agent sends a push whose confirmation code the caller reads
out from the phone, and sees the answer (``approve``, ``deny``, ``fraud`` or ``waiting``)."""

from __future__ import annotations

import uuid

from authsvc.clock import Clock
from authsvc.crypto import random_digits
from authsvc.domain.push import PushRequest, PushService
from authsvc.domain.subjects import standing_of
from authsvc.errors import InvalidParameter, NotFound
from authsvc.model.authlog import AttemptFacts
from authsvc.model.integrations import Integration
from authsvc.model.pushes import PushKind, PushState
from authsvc.store import Store

CONFIRMATION_DIGITS = 6
_RESULTS = {PushState.APPROVED: "approve", PushState.DENIED: "deny", PushState.FRAUD: "fraud",
            PushState.TIMEOUT: "deny", PushState.PENDING: "waiting"}


class HelpDesk:
    """Send verification pushes and read their answers."""

    def __init__(self, store: Store, clock: Clock, pushes: PushService) -> None:
        self._store = store
        self._clock = clock
        self._pushes = pushes

    async def send(self, user_id: str, phone_id: str, integration: Integration) -> dict[str, str]:
        """Push to one of the user's activated phones; returns push_id and confirmation_code."""
        loaded = await self._store.attempts.load(user_id)
        if loaded is None:
            raise NotFound("user_id")
        if phone_id not in loaded.activated_phones:
            raise InvalidParameter("phone_id (not an activated phone of this user)")
        code = random_digits(CONFIRMATION_DIGITS)
        facts = AttemptFacts(txid=str(uuid.uuid4()), app_key=integration.ikey,
                             app_name=f"{integration.name} (Help Desk)", user_id=user_id,
                             username=loaded.user.username, email=loaded.user.email)
        settings = await self._store.account.for_version(loaded.settings_version)
        standing = await standing_of(self._store, loaded)
        started = await self._pushes.start(PushRequest(
            user_id=user_id, phone_id=phone_id, facts=facts, kind=PushKind.VERIFICATION,
            type="verification", confirmation_code=code, gate=standing.gate), settings)
        if started.refused is not None:
            raise InvalidParameter(f"phone_id (push refused: {started.refused.status_msg})")
        return {"push_id": started.txid, "confirmation_code": code}

    async def response(self, user_id: str, push_id: str) -> dict[str, str]:
        """The answer so far."""
        push = await self._store.pushes.read(user_id, push_id)
        if not push.exists or push.kind is not PushKind.VERIFICATION:
            raise NotFound("push_id")
        if push.state is PushState.PENDING and self._clock.now_ms() >= push.expires_ms:
            await self._pushes.expire(user_id, push_id)
            push = await self._store.pushes.read(user_id, push_id)
        return {"push_id": push_id, "result": _RESULTS.get(push.state, "deny")}

    async def wait(self, user_id: str, push_id: str) -> dict[str, str]:
        """The answer after a bounded long poll (at once if it changed since the last poll)."""
        push = await self._store.pushes.read(user_id, push_id)
        if not push.exists or push.kind is not PushKind.VERIFICATION:
            raise NotFound("push_id")
        await self._pushes.status(user_id, push_id)
        return await self.response(user_id, push_id)
