"""The lean client on a real 3-master + 3-replica Redis Cluster started for this module: found
from one node's URL, commands and pipelines routed by slot, MOVED and ASK followed, scripts
loaded per node, and the events channel heard from every node, also after a node died."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from authsvc.store import Redis, Store
from authsvc.store.pubsub import Subscriber
from authsvc.store.redis_url import RedisAddress
from authsvc.store.scripts import ScriptName
from authsvc.store.slots import key_slot
from tests.harness import RedisServer
from tests.topologies import RedisCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    cluster = RedisCluster(tmp_path_factory.mktemp("cluster"), cluster=False).start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def redis(cluster: RedisCluster) -> AsyncIterator[Redis]:
    cluster.flush()
    client = Redis.from_url(cluster.url)
    yield client
    await client.close()


def node_id(node: RedisServer) -> str:
    return node.command("CLUSTER", "MYID").decode().split("\r\n")[1]


async def test_one_node_url_is_enough_to_reach_every_master(
        cluster: RedisCluster, redis: Redis) -> None:
    keys = [f"k{{{n}}}" for n in range(60)]
    for n, key in enumerate(keys):
        assert await redis.execute("SET", key, n) == "OK"

    assert redis.mode == "cluster"
    owners = {cluster.owner(key_slot(key)).port for key in keys}
    assert len(owners) == 3  # the keys really are spread over the three masters
    for n, key in enumerate(keys):  # each is on its slot's master, read without the client
        assert cluster.owner(key_slot(key)).command("GET", key) == f"${len(str(n))}\r\n{n}\r\n".encode()


async def test_a_pipeline_over_every_master_comes_back_in_order(redis: Redis) -> None:
    transaction = [("MULTI",), ("SET", "{t}a", "x"), ("APPEND", "{t}a", "y"), ("EXEC",)]
    commands = [*(("INCRBY", f"n{{{n}}}", n) for n in range(5)), *transaction, ("PING",),
                *(("INCRBY", f"n{{{n}}}", n) for n in range(5, 40))]

    replies = await redis.pipeline(commands)

    assert replies == [0, 1, 2, 3, 4, "OK", "QUEUED", "QUEUED", ["OK", 2], "PONG",
                       *range(5, 40)]


async def test_a_slot_moved_to_another_master_is_followed(
        cluster: RedisCluster, redis: Redis) -> None:
    key = "moving{m}"
    slot = key_slot(key)
    await redis.execute("PING")  # the map is loaded now
    source = cluster.owner(slot)
    target = next(node for node in cluster.masters() if node is not source)
    for node in (target, source, *cluster.masters()):  # an empty slot changes hands at once
        node.command("CLUSTER", "SETSLOT", str(slot), "NODE", node_id(target))

    assert await redis.execute("SET", key, "here") == "OK"  # MOVED, then the new owner
    assert target.command("GET", key) == b"$4\r\nhere\r\n"
    assert await redis.pipeline([("GET", key), ("GET", "other{o}")]) == ["here", None]


async def test_a_slot_being_migrated_is_reached_with_asking(
        cluster: RedisCluster, redis: Redis) -> None:
    key = "asked{a}"
    slot = key_slot(key)
    await redis.execute("PING")
    source = cluster.owner(slot)
    target = next(node for node in cluster.masters() if node is not source)
    target.command("CLUSTER", "SETSLOT", str(slot), "IMPORTING", node_id(source))
    source.command("CLUSTER", "SETSLOT", str(slot), "MIGRATING", node_id(target))
    try:
        # Not on the source: it answers ASK, and the key is created on the importing node.
        assert await redis.execute("SET", key, "new") == "OK"
        assert await redis.execute("GET", key) == "new"
        assert source.command("EXISTS", key).startswith(b"-ASK")  # not there: asks elsewhere
    finally:
        for node in cluster.masters():
            node.command("CLUSTER", "SETSLOT", str(slot), "NODE", node_id(target))


async def test_scripts_are_loaded_on_every_master_and_again_after_a_flush(
        cluster: RedisCluster) -> None:
    cluster.flush()
    store = Store(Redis.from_url(cluster.url))
    try:
        await store.start()  # loads every script on every master
        keys = [f"h{{{n}}}" for n in range(30)]
        for node in cluster.masters():
            node.command("SCRIPT", "FLUSH")
        for key in keys:
            await store.redis.execute("HSET", key, "f", "v")

        replies = await store.scripts.run_many(
            ScriptName.HASH_SET_EXISTING, [([key], ["f", "w"]) for key in keys])

        assert replies == [1] * len(keys)
        assert {cluster.owner(key_slot(key)).port for key in keys} == {
            node.port for node in cluster.masters()}
    finally:
        await store.close()


async def _hear(subscriber_messages: list[str], text: str) -> None:
    for _ in range(100):
        if text in subscriber_messages:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{text!r} never heard")


async def test_the_events_channel_is_heard_whichever_node_publishes(
        cluster: RedisCluster) -> None:
    store = Store(Redis.from_url(cluster.url))
    heard: list[str] = []
    events = store.events(heard.append, lambda: None)
    events.start()
    try:
        await asyncio.wait_for(events.subscribed.wait(), 5)
        for n, node in enumerate(cluster.nodes):  # masters and replicas alike
            node.command("PUBLISH", store.keys.events(), f"from-{n}")
            await _hear(heard, f"from-{n}")
    finally:
        await events.close()
        await store.close()


def listening_port(subscriber: Subscriber) -> int | None:
    return subscriber.address.port if subscriber.address is not None else None


async def test_a_subscriber_whose_node_dies_listens_on_another(cluster: RedisCluster) -> None:
    """Last in the module: it kills a replica."""
    masters = cluster.masters()
    replica = next(node for node in cluster.nodes if node not in masters)
    order = [replica, *masters]
    heard: list[str] = []
    reconnects: list[int] = []

    async def addresses() -> list[RedisAddress]:
        return [RedisAddress(port=node.port) for node in order]

    subscriber = Subscriber(addresses, "chan", heard.append, lambda: reconnects.append(1))
    subscriber.start()
    try:
        await asyncio.wait_for(subscriber.subscribed.wait(), 5)
        assert listening_port(subscriber) == replica.port
        cluster.kill(replica)
        await asyncio.sleep(0.2)
        await asyncio.wait_for(subscriber.subscribed.wait(), 5)
        assert listening_port(subscriber) not in (None, replica.port)

        masters[0].command("PUBLISH", "chan", "after")
        await _hear(heard, "after")
        assert reconnects  # waiters were told to re-read what they may have missed
    finally:
        await subscriber.close()
