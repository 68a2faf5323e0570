"""The lean client through real Sentinels (one master, one replica, three Sentinels): the master is
found from the Sentinels' URL, decisions wait for its replica, and after a switchover (the old
master now a replica answering READONLY) the client follows the new master by itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from authsvc.store import Redis, RedisUnavailable
from tests.harness import redis_command
from tests.topologies import MASTER_NAME, SentinelSet, wait_until


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    sentinels = SentinelSet(tmp_path / "sentinel").start()
    yield sentinels
    sentinels.stop()


async def test_the_sentinels_name_the_master_and_writes_wait_for_its_replica(
        sentinels: SentinelSet) -> None:
    # WAIT's 250 ms default, on two cores the whole suite keeps busy, once timed out here.
    redis = Redis.from_url(sentinels.url, wait_ms=3_000)
    try:
        assert await redis.execute("SET", "k", "v") == "OK"
        assert redis.mode == "sentinel"
        assert await redis.execute_waited("INCR", "n") == (1, True)
        master = sentinels.master()
        assert b"cmdstat_wait:calls=1," in master.command("INFO", "commandstats")
        replica = next(s for s in sentinels.servers if s is not master)
        assert replica.command("GET", "n") == b"$1\r\n1\r\n"  # there once WAIT said so
        assert (await redis.subscribe_addresses())[0].port == sentinels.master_port()
    finally:
        await redis.close()


async def test_after_a_switchover_the_client_follows_the_new_master(
        sentinels: SentinelSet, capsys: pytest.CaptureFixture[str]) -> None:
    redis = Redis.from_url(sentinels.url, timeout=1.0)
    try:
        await redis.execute("SET", "k", "before")
        old = sentinels.master_port()
        # A Sentinel needs a fresh INFO of the replica before it calls it suitable.
        wait_until(lambda: redis_command(sentinels.sentinel_ports[0], "SENTINEL", "FAILOVER",
                                         MASTER_NAME).startswith(b"+OK"), "a switchover", 30)
        wait_until(lambda: sentinels.master_port() != old, "the switchover", 30)
        started, refused = time.monotonic(), 0
        while True:  # READONLY or a refused write at most briefly, then the new master
            try:
                await redis.execute("SET", "k", "after")
                break
            except RedisUnavailable:
                refused += 1
                assert time.monotonic() - started < 10
                await asyncio.sleep(0.05)
        assert await redis.execute("GET", "k") == "after"
        with capsys.disabled():
            print(f"\nswitchover followed {time.monotonic() - started:.2f} s after the Sentinels "
                  f"named the new master ({refused} calls refused meanwhile)")
    finally:
        await redis.close()


async def test_a_master_turned_replica_is_left_and_never_read_from(
        sentinels: SentinelSet) -> None:
    """READONLY: the server the client writes to became a replica (here behind the Sentinels'
    back, as an operator's mistake or a partition would have it)."""
    redis = Redis.from_url(sentinels.url, timeout=1.0)
    try:
        await redis.execute("SET", "k", "v")
        master = sentinels.master()
        other = next(server for server in sentinels.servers if server is not master)
        other.command("REPLICAOF", "NO", "ONE")
        master.command("REPLICAOF", "127.0.0.1", str(other.port))

        with pytest.raises(RedisUnavailable, match="READONLY"):
            await redis.execute("SET", "k", "w")
        # The Sentinels still name the old master, a replica now: refused, not read from.
        with pytest.raises(RedisUnavailable, match="not a master"):
            await redis.execute("GET", "k")
    finally:
        await redis.close()
