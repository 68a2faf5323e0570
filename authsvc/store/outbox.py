"""The outbox delivery provider's storage: sealed messages kept in Redis per destination, until
the simulated carrier and inbox (or any gateway) fetch them over HTTP (`http/outbox.py`).

Entries are opaque strings: the provider (`gateways/delivery.py`) seals each message with the
service's `SecretBox` before it gets here, so a Redis dump shows no passcode or link. The list
lives `KEEP_SECONDS` after its newest message: long enough for a poller or a person at the
simulator, short enough that live SMS passcodes do not sit in Redis for days.
"""

from __future__ import annotations

from authsvc.store.core import StoreContext

KEEP_MESSAGES = 100
# One hour after the newest message to a destination. A gateway polling the endpoint fetches a
# message within seconds; a person reading the simulator does so within minutes. Sealed or not,
# a message's codes and links are worth least to whoever reads Redis when they are gone soonest.
KEEP_SECONDS = 3600


class OutboxStore:
    """Append and read sealed messages per (channel, destination).

    Atomicity: the append is one pipeline on one key (RPUSH, LTRIM, EXPIRE); two appends racing
    on one destination interleave whole, and the trim keeps the newest `KEEP_MESSAGES` either way.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def append(self, channel: str, destination: str, sealed: str) -> None:
        """Keep one sealed message (newest last) and restart the list's `KEEP_SECONDS`.

        Args:
            channel: ``sms``, ``voice`` or ``email``.
            destination: the phone number or email address.
            sealed: the message as `SecretBox.seal` printed it.
        """
        key = self._keys.outbox(channel, destination)
        await self._ctx.redis.pipeline([
            ("RPUSH", key, sealed),
            ("LTRIM", key, -KEEP_MESSAGES, -1),
            ("EXPIRE", key, KEEP_SECONDS)])

    async def read(self, channel: str, destination: str) -> list[str]:
        """The sealed messages kept for `destination` on `channel`, oldest first (none: [])."""
        raw = await self._ctx.redis.execute("LRANGE", self._keys.outbox(channel, destination), 0, -1)
        return [str(entry) for entry in raw]
