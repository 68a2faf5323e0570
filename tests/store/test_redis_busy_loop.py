"""The lean client tells a stuck Redis from its own busy event loop: calls queued while the loop
was held longer than the timeout (a burst of requests, each with CPU work) are overdue by the
clock, but Redis answers them, and none may fail. (Before: the watchdog aborted the healthy
connection and every call in flight failed with RedisUnavailable: 8,172 phones' long polls in a
10,000-phone bench.) A stuck server still fails calls: test_redis_client.py."""

from __future__ import annotations

import asyncio
import time

from authsvc.store import Redis

BURST = 1_000
WORK_S = 0.001  # per request: the burst holds the loop ~1 s, five times the timeout


async def test_calls_queued_while_the_loop_was_busy_are_answered(redis_url: str) -> None:
    redis = Redis.from_url(redis_url, timeout=0.2)

    async def request() -> int:
        await redis.execute("INCR", "busy:first")
        time.sleep(WORK_S)  # CPU held by this request, as a signature check would
        return int(await redis.execute("INCR", "busy:second"))

    try:
        await redis.execute("PING")
        results = await asyncio.gather(*(request() for _ in range(BURST)),
                                       return_exceptions=True)
        failures = [result for result in results if isinstance(result, BaseException)]
        assert failures == []
        assert sorted(results) == list(range(1, BURST + 1))  # type: ignore[type-var]
    finally:
        await redis.close()
