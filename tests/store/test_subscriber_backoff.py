"""The events subscriber's reconnect waits grow while Redis stays away and start short again
once it listened: a connection dropped after an earlier outage is back within a short wait."""

from __future__ import annotations

import asyncio
import socket
import time

from authsvc.store.pubsub import Subscriber
from authsvc.store.redis_url import RedisAddress, parse_redis_url
from tests.harness import RedisServer
from tests.topologies import RedisCluster


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_new_outage_is_retried_soon_after_a_long_one(redis_server: RedisServer) -> None:
    live = (RedisAddress(port=redis_server.masters()[0].port)
            if isinstance(redis_server, RedisCluster) else parse_redis_url(redis_server.url))
    dead = RedisAddress(port=_closed_port())
    failures: list[int] = []

    async def addresses() -> list[RedisAddress]:
        if len(failures) < 5:  # 0.05 + 0.1 + 0.2 + 0.4 + 0.8 s of waits: the next is 1.6 s
            failures.append(1)
            return [dead]
        return [live]

    subscriber = Subscriber(addresses, "backoff-test", lambda _: None, lambda: None)
    subscriber.start()
    try:
        await asyncio.wait_for(subscriber.subscribed.wait(), 10)
        kill = await asyncio.create_subprocess_exec(
            "redis-cli", "-p", str(live.port), "CLIENT", "KILL", "TYPE", "pubsub",
            stdout=asyncio.subprocess.DEVNULL)
        await kill.wait()
        started = time.monotonic()
        while subscriber.subscribed.is_set():
            await asyncio.sleep(0.005)
        await asyncio.wait_for(subscriber.subscribed.wait(), 5)
        back_in = time.monotonic() - started
        print(f"listening again {back_in:.3f} s after the connection was dropped")
        assert back_in < 0.8  # without the reset: the grown wait, 1.6 s
    finally:
        await subscriber.close()
