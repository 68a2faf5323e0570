"""Message providers: the Redis outbox (default) and a signed webhook with durable retries.

Webhook requests are ``POST <url>`` with the message as JSON and the header
``X-Authsvc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; any 2xx
answer is a delivery. A failed attempt goes to a retry queue in Redis (backoff 1, 2, 4, ... s,
at most `max_attempts` attempts) that every process drains; a message that never gets through is
kept in the dead-letter list and logged, never dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import aiohttp

from authsvc.clock import Clock
from authsvc.domain.messages import Message
from authsvc.store import RedisUnavailable, Store

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
REQUEST_TIMEOUT_S = 10.0


class OutboxProvider:
    """Messages kept in Redis per destination (read by the simulated carrier and inbox)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def deliver(self, message: Message) -> None:
        await self._store.outbox.append(message.channel, message.to,
                                        message.as_json(self._clock.now()))


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value (receivers recompute it to authenticate the sender)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class WebhookProvider:
    """Signed JSON POSTs to one URL, with retries that survive restarts."""

    def __init__(self, store: Store, clock: Clock, url: str, secret: str,
                 max_attempts: int = 8) -> None:
        self._store = store
        self._clock = clock
        self._url = url
        self._secret = secret
        self._max_attempts = max_attempts
        self._session: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))
        self._worker = asyncio.get_running_loop().create_task(self._drain())

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._session is not None:
            await self._session.close()

    async def deliver(self, message: Message) -> None:
        """Try once now; on failure the message waits in the retry queue."""
        entry = {"message": message.as_json(self._clock.now()), "attempts": 0}
        await self._attempt(entry)

    async def _attempt(self, entry: dict[str, Any]) -> None:
        entry["attempts"] += 1
        if await self._post(entry["message"]):
            return
        if entry["attempts"] >= self._max_attempts:
            log.error("webhook delivery of message %s failed %d times; kept as dead letter",
                      entry["message"]["message_id"], entry["attempts"])
            await self._store.delivery.bury(entry)
            return
        delay_ms = 1000 * 2 ** (entry["attempts"] - 1)
        log.warning("webhook delivery of message %s failed (attempt %d); retrying in %d ms",
                    entry["message"]["message_id"], entry["attempts"], delay_ms)
        await self._store.delivery.schedule(entry, self._clock.now_ms() + delay_ms)

    async def _post(self, message: dict[str, Any]) -> bool:
        assert self._session is not None, "start() the provider first"  # noqa: S101
        body = json.dumps(message, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   "X-Authsvc-Signature": sign_webhook(self._secret, body, int(time.time()))}
        try:
            async with self._session.post(self._url, data=body, headers=headers) as reply:
                return 200 <= reply.status < 300
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.debug("webhook %s unreachable: %s", self._url, exc)
            return False

    async def _drain(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                for entry in await self._store.delivery.claim_due(self._clock.now_ms()):
                    await self._attempt(entry)
            except RedisUnavailable as exc:
                log.warning("delivery retries paused: %s", exc)
