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
from authsvc.crypto import SecretBox
from authsvc.domain.auth_requests import AuthRequest, Passcode
from authsvc.domain.tokens import NewToken
from authsvc.domain.users import UserChanges
from authsvc.errors import StoreUnavailable
from authsvc.model.attempts import AttemptStatus
from authsvc.services import Services
from authsvc.settings import Settings
from authsvc.store import Redis, Store
from authsvc.store.redis_errors import ReplicaUnacknowledged
from tests.harness import TEST_SECRET_KEY, RedisServer
from tests.store.conftest import add_user, bypass_code, bypass_match, lockout_settings
from tests.store.counting import CountingRedis
from tests.topologies import wait_until
from tokens.oath import oath_code

SEED = bytes(range(20))


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


# What a test that waits in vain (a stalled replica) waits; one whose replica answers is given
# more, so that a busy machine's scheduling delay is not taken for a missing acknowledgement.
STALLED_WAIT_MS = 200
ANSWERED_WAIT_MS = 2000


async def _store(url: str, wait_replicas: int | None = None,
                 wait_ms: int = STALLED_WAIT_MS) -> Store:
    store = Store(Redis.from_url(url, wait_ms=wait_ms, wait_replicas=wait_replicas))
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
    store = await _store(master.url, wait_ms=ANSWERED_WAIT_MS)
    try:
        await _one_code(store, clock)
        assert await _use(store, clock, "h1") is AttemptStatus.ALLOW
        assert waits(master) >= 1
        assert replica.command("HLEN", store.keys.user_bypass("U1")) == b":0\r\n"
        assert store.redis.may_wait  # so a warm decision goes on with its WAIT
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
        assert not store.redis.may_wait
    finally:
        await store.close()


async def test_a_lone_redis_never_waits_by_default(tmp_path: Path, clock: FakeClock) -> None:
    lone = RedisServer(tmp_path / "lone", cluster=False).start()
    store = await _store(lone.url)
    try:
        await _one_code(store, clock)
        assert await _use(store, clock, "h1") is AttemptStatus.ALLOW
        assert waits(lone) == 0
        assert not store.redis.may_wait  # the decision pipelined with its admission
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
        assert store.redis.may_wait
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


async def test_with_a_replica_a_warm_passcode_still_waits_for_one_round_trip(
        pair: tuple[RedisServer, RedisServer]) -> None:
    """The warm passcode path with replicas to wait for: the decision and its WAIT go on a
    connection of their own while the admission and the settings' version go on the shared
    one, at the same time (one wave of calls); the accepted code is on the replica when the
    answer comes, and with the replica stalled it is answered 503 and stays used."""
    master, replica = pair
    store = Store(CountingRedis.from_url(master.url, wait_ms=1000))
    await store.start()
    services = Services.build(Settings.from_env({"AUTHSVC_REDIS_URL": master.url}), store,
                              SecretBox.from_passphrase(TEST_SECRET_KEY), FakeClock())
    try:
        user = await services.users.add(UserChanges(username="rep"))
        token = await services.tokens.add(NewToken(type="h6", serial="R1", secret=SEED.hex()))
        await services.tokens.assign(user.user_id, token.token_id)
        app = (await services.integrations.create("auth", "app")).integration

        async def attempt(counter: int) -> tuple[str, int, int]:
            request = AuthRequest(app, username="rep", proof=Passcode(oath_code(SEED, counter)))
            CountingRedis.round_trips = CountingRedis.waves = 0
            answer = await services.auth.auth(request)
            return answer.verdict.result.value, CountingRedis.waves, CountingRedis.round_trips

        assert (await attempt(0))[0] == "allow"  # cold: the user is loaded
        before = waits(master)
        assert await attempt(1) == ("allow", 1, 2)  # two calls, waited for together
        assert waits(master) > before
        copy = replica.command("HGET", store.keys.user(user.user_id), f"t:{token.token_id}")
        assert b'"counter":2' in copy  # the replica had the accepted code before the answer

        assert replica.process is not None
        os.kill(replica.process.pid, signal.SIGSTOP)
        with pytest.raises(ReplicaUnacknowledged):
            await attempt(2)
        os.kill(replica.process.pid, signal.SIGCONT)
        assert (await attempt(2))[0] == "deny"  # used once, never twice
    finally:
        await store.close()
