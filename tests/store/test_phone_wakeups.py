"""A phone's long poll woken by a delivered push answers with the entry the wake-up carried
(push_deliver.lua publishes it), without reading the inbox again; a wake-up that carries no
entry (the subscriber reconnected, or an older process published it) or one whose entry ran
out reads the inbox, as before. Counted on a real Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from authsvc.clock import FakeClock
from authsvc.crypto import SecretBox
from authsvc.model.phones import AppCredentials, Phone, PhoneRecord
from authsvc.services import Services
from authsvc.settings import Settings
from authsvc.store import Store
from tests.harness import TEST_SECRET_KEY
from tests.store.counting import CountingRedis

PHONE_ID = "DPWAKEUPTEST00000001"


@pytest.fixture
async def services(redis_url: str) -> AsyncIterator[Services]:
    store = Store(CountingRedis.from_url(redis_url, wait_replicas=0))
    await store.start()
    yield Services.build(Settings.from_env({"AUTHSVC_REDIS_URL": redis_url}), store,
                         SecretBox.from_passphrase(TEST_SECRET_KEY), FakeClock())
    await store.redis.execute("DEL", store.keys.phone_inbox(PHONE_ID))
    await store.close()


def _phone(services: Services) -> PhoneRecord:
    seen = int(services.clock.now())  # seen just now: the poll does not write last_seen
    return PhoneRecord(Phone(PHONE_ID, created=0, activated=True, last_seen=seen),
                       AppCredentials(akey="DAWAKEUP", pubkey="unused here"))


def _entry(services: Services, txid: str, expires_in_ms: int) -> tuple[str, str]:
    urgid = f"DUWAKEUP.{txid}"
    transaction = {"urgid": urgid, "type": "login", "attributes": []}
    return urgid, json.dumps({"e": services.clock.now_ms() + expires_in_ms, "u": "DUWAKEUP",
                              "t": txid, "x": transaction})


async def _poll_until_woken(services: Services, wake: str,
                            inbox: tuple[str, str] | None = None,
                            times: int = 1) -> tuple[list[Any], int]:
    """Start a long poll on the empty inbox; once it waits, store `inbox` (if any) and send
    `wake` as the events channel would (`times` in a row, all heard before the poll resumes);
    the poll's transactions and the commands it waited for after its first read."""
    redis = services.store.redis
    assert isinstance(redis, CountingRedis)
    poll = asyncio.create_task(services.device.transactions(_phone(services), wait=30))
    while redis.awaited == 0 or services.waiters.closed:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # the first read answered: the poll waits
    if inbox is not None:
        await redis.execute("HSET", services.store.keys.phone_inbox(PHONE_ID), *inbox)
    counted = redis.awaited
    for _ in range(times):
        services.on_event(wake)
    found = (await asyncio.wait_for(poll, 5))["transactions"]
    return found, redis.awaited - counted


async def test_a_wakeup_carrying_the_entry_answers_without_reading_again(
        services: Services) -> None:
    urgid, entry = _entry(services, "T1", 60_000)
    found, reads = await _poll_until_woken(services, f"phone:{PHONE_ID}\n{urgid}\n{entry}")
    assert [item["urgid"] for item in found] == [urgid]
    assert reads == 0


async def test_an_entry_announced_twice_is_listed_once(services: Services) -> None:
    urgid, entry = _entry(services, "T4", 60_000)
    found, reads = await _poll_until_woken(services, f"phone:{PHONE_ID}\n{urgid}\n{entry}",
                                           times=2)
    assert [item["urgid"] for item in found] == [urgid]
    assert reads == 0


async def test_a_wakeup_without_an_entry_reads_the_inbox(services: Services) -> None:
    urgid, entry = _entry(services, "T2", 60_000)
    found, reads = await _poll_until_woken(services, f"phone:{PHONE_ID}", (urgid, entry))
    assert [item["urgid"] for item in found] == [urgid]
    assert reads == 1


async def test_an_announced_entry_that_ran_out_is_read_and_ended_from_the_inbox(
        services: Services) -> None:
    urgid, entry = _entry(services, "T3", -1)
    found, reads = await _poll_until_woken(services, f"phone:{PHONE_ID}\n{urgid}\n{entry}",
                                           (urgid, entry))
    assert found == []
    assert reads >= 2  # the inbox read, then the expired entry taken out of it
    assert not await services.store.redis.execute(
        "HGETALL", services.store.keys.phone_inbox(PHONE_ID))
