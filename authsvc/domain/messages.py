"""Messages to people (SMS, voice calls, email) and the one interface they leave through.

The domain builds a `Message` and hands it to `Messenger.send`; the provider behind it (the
Redis outbox, or a signed webhook) is chosen by configuration (`gateways/delivery.py`). Every SMS
and call is also written to the telephony log with its credits.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from authsvc.clock import Clock
from authsvc.store import Store

SMS_SEGMENT = 160


@dataclass(frozen=True, slots=True)
class Message:
    """One message: channel ``sms``, ``voice`` or ``email``; `extra` carries call details."""

    channel: str
    to: str
    body: str
    kind: str
    context: str = "authentication"
    txid: str = ""
    subject: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    message_id: str = field(default_factory=lambda: secrets.token_hex(10))

    def as_json(self, now: float) -> dict[str, object]:
        return {"message_id": self.message_id, "channel": self.channel, "to": self.to,
                "body": self.body, "kind": self.kind, "context": self.context,
                "txid": self.txid, "subject": self.subject, "extra": dict(self.extra),
                "ts": int(now)}

    @property
    def credits(self) -> int:
        """Telephony credits: one per SMS segment, one per call."""
        if self.channel == "sms":
            return max(1, math.ceil(len(self.body) / SMS_SEGMENT))
        return 1 if self.channel == "voice" else 0


CHANNELS = ("sms", "voice", "email")


class Provider(Protocol):
    """Where messages go."""

    async def deliver(self, message: Message) -> None: ...


class OutboxReader(Protocol):
    """The outbox provider's pickup side: messages fetched over HTTP with a bearer token."""

    @property
    def token(self) -> str:
        """The bearer token (the same in every process of one master key)."""
        ...

    def accepts(self, presented: str) -> bool:
        """Whether `presented` is the token (constant time)."""
        ...

    async def messages(self, channel: str, destination: str) -> list[dict[str, Any]]:
        """Everything kept for one destination, oldest first."""
        ...


class Messenger:
    """Send messages through the configured provider and log SMS and calls."""

    def __init__(self, store: Store, clock: Clock, provider: Provider) -> None:
        self._store = store
        self._clock = clock
        self._provider = provider

    async def mail_admin_setup(self, email: str, link: str) -> None:
        """Mail an administrator the one-time link that sets their password."""
        await self.send(Message("email", email, f"Set up your authsvc administrator account: "
                                f"open {link} to choose a password and add your second factor.",
                                "admin_setup", context="administrator",
                                subject="Your authsvc administrator account"))

    async def send(self, message: Message) -> None:
        await self._provider.deliver(message)
        if message.channel in ("sms", "voice"):
            await self._store.telephony.append({
                "telephony_id": message.message_id, "ts": self._clock.now(),
                "context": message.context, "type": "sms" if message.channel == "sms" else "phone",
                "phone": message.to, "credits": message.credits, "txid": message.txid},
                self._clock.now_ms())
