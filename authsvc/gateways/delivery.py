"""Message providers: the Redis outbox (default) and a signed webhook with durable retries.

The outbox keeps each message sealed (`SecretBox`, bound to its channel and destination) for a
short while (`store/outbox.py`); whoever holds the outbox token (derived from the master key, so
every process agrees on it) fetches the messages over HTTP (`http/outbox.py`), as a real SMS
gateway would. Nothing but this provider can read them from Redis.

Webhook requests are ``POST <url>`` with the message as JSON and the header
``X-Authsvc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; any 2xx
answer is a delivery. A failed attempt goes to a retry queue in Redis (backoff 1, 2, 4, ... s,
at most `max_attempts` attempts) that every process drains; a message that never gets through is
kept in the dead-letter list (a week) and logged, never dropped silently. Both hold the entry
sealed with the `SecretBox`, like the outbox: a message carries passcodes and links.
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
from authsvc.crypto import DecryptionError, SecretBox, constant_time_equal
from authsvc.domain.messages import Message
from authsvc.errors import StoreUnavailable
from authsvc.store import Store

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
REQUEST_TIMEOUT_S = 10.0
OUTBOX_READER = "outbox reader v1"  # the purpose the outbox token is derived for
WEBHOOK_ENTRY = "webhook delivery entry"  # what a sealed retry or dead-letter entry is bound to


def _bound_to(channel: str, destination: str) -> str:
    return f"outbox\x00{channel}\x00{destination}"


class OutboxProvider:
    """Messages kept sealed in Redis per destination, fetched with the outbox token."""

    def __init__(self, store: Store, clock: Clock, box: SecretBox) -> None:
        self._store = store
        self._clock = clock
        self._box = box

    async def deliver(self, message: Message) -> None:
        """Keep the message, sealed, in its destination's list."""
        body = json.dumps(message.as_json(self._clock.now()), separators=(",", ":"))
        sealed = self._box.seal(body.encode(), bound_to=_bound_to(message.channel, message.to))
        await self._store.outbox.append(message.channel, message.to, sealed)

    @property
    def token(self) -> str:
        """The bearer token of the outbox endpoint (the same in every process of one key)."""
        return self._box.derive_token(OUTBOX_READER)

    def accepts(self, presented: str) -> bool:
        """Whether `presented` is the outbox token (constant time)."""
        return constant_time_equal(presented, self.token)

    async def messages(self, channel: str, destination: str) -> list[dict[str, Any]]:
        """The messages kept for `destination` on `channel`, oldest first, opened.

        An entry that does not open (written under another master key, or by a version that
        stored messages in clear) is skipped and logged without its content.
        """
        opened = []
        for sealed in await self._store.outbox.read(channel, destination):
            try:
                opened.append(json.loads(self._box.open(sealed, bound_to=_bound_to(
                    channel, destination))))
            except (DecryptionError, ValueError):
                log.warning("outbox: skipped an entry for a %s destination that does not open",
                            channel)
        return opened


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value (receivers recompute it to authenticate the sender)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class WebhookProvider:
    """Signed JSON POSTs to one URL, with retries that survive restarts."""

    def __init__(self, store: Store, clock: Clock, box: SecretBox, url: str, secret: str,
                 max_attempts: int = 8) -> None:
        self._store = store
        self._clock = clock
        self._box = box
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
            await self._store.delivery.bury(self._seal(entry))
            return
        delay_ms = 1000 * 2 ** (entry["attempts"] - 1)
        log.warning("webhook delivery of message %s failed (attempt %d); retrying in %d ms",
                    entry["message"]["message_id"], entry["attempts"], delay_ms)
        await self._store.delivery.schedule(self._seal(entry), self._clock.now_ms() + delay_ms)

    def _seal(self, entry: dict[str, Any]) -> str:
        return self._box.seal(json.dumps(entry).encode(), bound_to=WEBHOOK_ENTRY)

    def open_entry(self, sealed: str) -> dict[str, Any] | None:
        """A sealed retry or dead-letter entry, opened (None if it does not open: written under
        another master key, or in clear by an older version, and logged without its content)."""
        try:
            entry: dict[str, Any] = json.loads(self._box.open(sealed, bound_to=WEBHOOK_ENTRY))
        except (DecryptionError, ValueError):
            log.error("webhook: a queued entry does not open with this master key; skipped")
            return None
        return entry

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
                for sealed in await self._store.delivery.claim_due(self._clock.now_ms()):
                    entry = self.open_entry(sealed)
                    if entry is not None:
                        await self._attempt(entry)
            except StoreUnavailable as exc:
                log.warning("delivery retries paused: %s", exc)
