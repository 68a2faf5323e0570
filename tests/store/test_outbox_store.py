"""The outbox provider against a real Redis: messages sealed at rest, bound to their destination,
kept briefly, and only opened by the provider."""

from __future__ import annotations

import json

from authsvc.clock import FakeClock
from authsvc.crypto import SecretBox
from authsvc.domain.messages import Message
from authsvc.gateways.delivery import OutboxProvider
from authsvc.store import Store
from authsvc.store.outbox import KEEP_MESSAGES, KEEP_SECONDS
from tests.harness import TEST_SECRET_KEY

NUMBER = "+15555550190"


def sms(body: str, to: str = NUMBER) -> Message:
    return Message(channel="sms", to=to, body=body, kind="sms_passcodes")


async def test_messages_come_back_opened_in_order_but_redis_holds_them_sealed(
        store: Store, box: SecretBox, clock: FakeClock) -> None:
    outbox = OutboxProvider(store, clock, box)
    for body in ("codes 1234567 2345678", "codes 3456789"):
        await outbox.deliver(sms(body))
    assert [m["body"] for m in await outbox.messages("sms", NUMBER)] == [
        "codes 1234567 2345678", "codes 3456789"]
    assert set((await outbox.messages("sms", NUMBER))[0]) == {
        "message_id", "channel", "to", "body", "kind", "context", "txid", "subject", "extra", "ts"}
    raw = await store.redis.execute("LRANGE", store.keys.outbox("sms", NUMBER), 0, -1)
    assert len(raw) == 2 and all(entry.startswith("v1.") for entry in raw)
    assert not any(code in "".join(raw) for code in ("1234567", "2345678", "3456789", "codes"))
    assert 0 < await store.redis.execute("TTL", store.keys.outbox("sms", NUMBER)) <= KEEP_SECONDS
    assert await outbox.messages("sms", "+15555550000") == []


async def test_an_entry_moved_to_another_destination_or_left_in_clear_does_not_open(
        store: Store, box: SecretBox, clock: FakeClock) -> None:
    outbox = OutboxProvider(store, clock, box)
    await outbox.deliver(sms("for the first number 1234567"))
    [sealed] = await store.outbox.read("sms", NUMBER)
    other = "+15555550191"
    await store.outbox.append("sms", other, sealed)  # copied under another number
    await store.outbox.append("email", NUMBER, sealed)  # or another channel
    await store.outbox.append("sms", other, json.dumps({"body": "clear, from an old version"}))
    await outbox.deliver(sms("the other's own 7654321", to=other))
    assert [m["body"] for m in await outbox.messages("sms", other)] == ["the other's own 7654321"]
    assert await outbox.messages("email", NUMBER) == []
    assert await OutboxProvider(store, clock, SecretBox(b"another master key")).messages(
        "sms", NUMBER) == []


async def test_only_the_newest_messages_are_kept(store: Store, box: SecretBox,
                                                 clock: FakeClock) -> None:
    outbox = OutboxProvider(store, clock, box)
    for n in range(KEEP_MESSAGES + 3):
        await outbox.deliver(sms(f"message {n}"))
    kept = await outbox.messages("sms", NUMBER)
    assert len(kept) == KEEP_MESSAGES and kept[0]["body"] == "message 3"


async def test_the_token_is_the_same_for_every_process_of_one_master_key(
        store: Store, box: SecretBox, clock: FakeClock) -> None:
    outbox = OutboxProvider(store, clock, box)
    again = OutboxProvider(store, clock, SecretBox.from_passphrase(TEST_SECRET_KEY))
    assert outbox.token == again.token and outbox.accepts(again.token)
    assert not outbox.accepts(SecretBox(b"another master key").derive_token("outbox reader v1"))
    assert not outbox.accepts("") and not outbox.accepts(outbox.token[:-1])
