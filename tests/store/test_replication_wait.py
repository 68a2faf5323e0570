"""The replication window, closed: a decision that consumed a code waits (WAIT) until a replica
has it; when none acknowledges in time the request answers 503 and the code stays used, never
accepted twice. On a lone Redis nothing waits. Real master and replica servers; the replica is
frozen with SIGSTOP (as a stalled or partitioned replica)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from authsvc.clock import FakeClock
from authsvc.errors import StoreUnavailable
from authsvc.model.attempts import AttemptStatus
from authsvc.store import Redis, Store
from authsvc.store.redis_errors import ReplicaUnacknowledged
from tests.harness import RedisServer
from tests.store.conftest import add_user, bypass_code, bypass_match, lockout_settings
from tests.topologies import wait_until


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[RedisServer, RedisServer]]:
    master = RedisServer(tmp_path / "master", cluster=False).start()
    replica = RedisServer(tmp_path / "replica", cluster=False).start()
    replica.command("REPLICAOF", "127.0.0.1", str(master.port))
    # In sync as the master sees it: what `auto` counts when the client connects.
    wait_until(lambda: b"state=online" in master.command("INFO", "replication"), "the replica")
    yield master, replica
    if replica.process is not None:
        os.kill(replica.process.pid, signal.SIGCONT)
    replica.stop()
    master.stop()


async def _store(url: str, wait_replicas: int | None = None) -> Store:
    store = Store(Redis.from_url(url, wait_ms=200, wait_replicas=wait_replicas))
    await store.start()
    return store


async def _use(store: Store, clock: FakeClock, code_hash: str) -> AttemptStatus:
    outcome = await store.attempts.decide("U1", now_ms=clock.now_ms(),
                                          settings=lockout_settings(100),
                                          matches=[bypass_match(code_hash)])
    return outcome.status


async def _one_code(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=1)], preserve=False,
                           now_ms=clock.now_ms(), limit=100)


def waits(server: RedisServer) -> int:
    """WAIT commands the server has run."""
    for line in server.command("INFO", "commandstats").decode().splitlines():
        if line.startswith("cmdstat_wait:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_with_a_replica_an_accepted_code_is_answered_once_a_replica_has_it(
        pair: tuple[RedisServer, RedisServer], clock: FakeClock) -> None:
    master, replica = pair
    store = await _store(master.url)
    try:
        await _one_code(store, clock)
        assert await _use(store, clock, "h1") is AttemptStatus.ALLOW
        assert waits(master) >= 1
        assert replica.command("HLEN", store.keys.user_bypass("U1")) == b":0\r\n"
        # So the domain does not pipeline a decision with its admission (no WAIT would follow).
        assert not store.attempts.pipelines_decisions
    finally:
        await store.close()


async def test_no_replica_acknowledging_answers_503_and_the_code_stays_used(
        pair: tuple[RedisServer, RedisServer], clock: FakeClock) -> None:
    master, replica = pair
    store = await _store(master.url)
    try:
        await _one_code(store, clock)
        assert replica.process is not None
        os.kill(replica.process.pid, signal.SIGSTOP)
        started = time.monotonic()

        with pytest.raises(ReplicaUnacknowledged) as refused:
            await _use(store, clock, "h1")

        assert isinstance(refused.value, StoreUnavailable)  # 503 / 50301, Retry-After
        assert time.monotonic() - started < 1.0  # AUTHSVC_REDIS_WAIT_MS, not a stall
        os.kill(replica.process.pid, signal.SIGCONT)
        assert await _use(store, clock, "h1") is AttemptStatus.INVALID  # consumed, once
    finally:
        await store.close()


async def test_a_refused_code_is_answered_without_waiting_for_replicas(
        pair: tuple[RedisServer, RedisServer], clock: FakeClock) -> None:
    master, replica = pair
    store = await _store(master.url)
    try:
        await _one_code(store, clock)
        assert replica.process is not None
        os.kill(replica.process.pid, signal.SIGSTOP)
        assert await _use(store, clock, "wrong") is AttemptStatus.INVALID
    finally:
        await store.close()


async def test_wait_replicas_zero_never_waits(pair: tuple[RedisServer, RedisServer],
                                              clock: FakeClock) -> None:
    master, replica = pair
    store = await _store(master.url, wait_replicas=0)
    try:
        await _one_code(store, clock)
        assert replica.process is not None
        os.kill(replica.process.pid, signal.SIGSTOP)
        assert await _use(store, clock, "h1") is AttemptStatus.ALLOW
        assert waits(master) == 0
        assert store.attempts.pipelines_decisions
    finally:
        await store.close()


async def test_a_lone_redis_never_waits_by_default(tmp_path: Path, clock: FakeClock) -> None:
    lone = RedisServer(tmp_path / "lone", cluster=False).start()
    store = await _store(lone.url)
    try:
        await _one_code(store, clock)
        assert await _use(store, clock, "h1") is AttemptStatus.ALLOW
        assert waits(lone) == 0
        assert store.attempts.pipelines_decisions  # the one-round-trip passcode path
    finally:
        await store.close()
        lone.stop()


async def test_wait_replicas_one_on_a_lone_redis_refuses_every_accepted_code(
        tmp_path: Path, clock: FakeClock) -> None:
    lone = RedisServer(tmp_path / "lone", cluster=False).start()
    store = await _store(lone.url, wait_replicas=1)
    try:
        await _one_code(store, clock)
        with pytest.raises(ReplicaUnacknowledged):
            await _use(store, clock, "h1")
        assert not store.attempts.pipelines_decisions
    finally:
        await store.close()
        lone.stop()


async def test_a_wait_for_replicas_holds_up_no_other_call(
        pair: tuple[RedisServer, RedisServer], clock: FakeClock) -> None:
    master, replica = pair
    store = await _store(master.url)
    try:
        await _one_code(store, clock)
        assert replica.process is not None
        os.kill(replica.process.pid, signal.SIGSTOP)
        deciding = asyncio.ensure_future(_use(store, clock, "h1"))  # WAITs 200 ms, in vain
        await asyncio.sleep(0.02)
        started = time.monotonic()

        assert await store.redis.execute("HGET", store.keys.user("U1"), "status") == "active"

        assert time.monotonic() - started < 0.15  # not queued behind the 200 ms WAIT
        with pytest.raises(ReplicaUnacknowledged):
            await deciding
    finally:
        await store.close()
