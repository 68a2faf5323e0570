"""The lean Redis client against real redis-servers: replies matched to callers, error replies,
URL parsing and login, reconnecting after a restart, and giving up on a stuck server."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from authsvc.store import Redis, RedisError, RedisUnavailable, Store
from authsvc.store.redis_client import RedisAddress, parse_redis_url
from authsvc.store.scripts import ScriptName
from tests.harness import CLUSTER_ENV, RedisServer, free_port, redis_command

# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://127.0.0.1:6400/0", RedisAddress(host="127.0.0.1", port=6400)),
    ("redis://cache.internal", RedisAddress(host="cache.internal", port=6379)),
    ("redis://localhost:7000/5", RedisAddress(host="localhost", port=7000, db=5)),
    ("redis://localhost?db=3", RedisAddress(host="localhost", db=3)),
    ("redis://:s3cret@localhost:7000/2",
     RedisAddress(host="localhost", port=7000, db=2, password="s3cret")),
    ("redis://svc:p%40ss%2Fword@10.0.0.5:6380/1",
     RedisAddress(host="10.0.0.5", port=6380, db=1, username="svc", password="p@ss/word")),
    ("rediss://svc:pw@redis.example.com:6390/4",
     RedisAddress(host="redis.example.com", port=6390, db=4, username="svc", password="pw",
                  tls=True)),
    ("unix:///run/redis/redis.sock", RedisAddress(unix_path="/run/redis/redis.sock")),
    ("unix:///run/redis/redis.sock?db=7", RedisAddress(unix_path="/run/redis/redis.sock", db=7)),
    ("unix://:pw@/run/redis.sock?db=1",
     RedisAddress(unix_path="/run/redis.sock", db=1, password="pw")),
])
def test_redis_urls_parse_into_addresses(url: str, expected: RedisAddress) -> None:
    assert parse_redis_url(url) == expected


@pytest.mark.parametrize("url", ["http://localhost:6379", "unix://", "localhost:6379"])
def test_unusable_redis_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="unix|scheme"):
        parse_redis_url(url)


def test_address_description_leaves_the_password_out() -> None:
    tcp = parse_redis_url("redis://svc:hunter2@db.local:6390/3")
    unix = parse_redis_url("unix://:hunter2@/tmp/r.sock?db=2")
    assert (tcp.describe(), unix.describe()) == ("db.local:6390/3", "unix:/tmp/r.sock/2")


# --- commands and pipelines on the session Redis ----------------------------------------------


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_url)
    yield redis
    await redis.close()


async def test_execute_returns_the_reply_of_each_command(client: Redis) -> None:
    assert await client.execute("SET", "k", "v") == "OK"
    assert await client.execute("GET", "k") == "v"
    assert await client.execute("GET", "missing") is None
    assert await client.execute("INCRBY", "n", 41) == 41
    assert await client.execute("HSET", "h", "a", 1, "b", 2.5) == 2
    assert await client.execute("HGETALL", "h") == ["a", "1", "b", "2.5"]


async def test_binary_values_survive_the_round_trip(client: Redis) -> None:
    raw = bytes(range(256))
    await client.execute("SET", "bin", raw)

    reply = await client.execute("GET", "bin")

    assert reply.encode("utf-8", "surrogateescape") == raw


async def test_execute_raises_error_replies_as_redis_error(client: Redis) -> None:
    await client.execute("HSET", "h", "a", "1")

    with pytest.raises(RedisError, match="^WRONGTYPE"):
        await client.execute("INCR", "h")
    with pytest.raises(RedisError, match="unknown command"):
        await client.execute("NOSUCHCOMMAND")
    # The connection is still in step: the next reply is this call's.
    assert await client.execute("ECHO", "after errors") == "after errors"


async def test_pipeline_returns_replies_in_command_order(client: Redis) -> None:
    replies = await client.pipeline([("RPUSH", "l", "a"), ("RPUSH", "l", "b"), ("LRANGE", "l", 0, -1),
                                     ("INCR", "n"), ("INCR", "n"), ("GET", "n")])

    assert replies == [1, 2, ["a", "b"], 1, 2, "2"]


async def test_pipeline_returns_error_replies_as_values_and_runs_the_rest(client: Redis) -> None:
    await client.execute("SET", "s", "text")

    replies = await client.pipeline([("INCR", "n"), ("INCR", "s"), ("LPUSH", "s", "x"),
                                     ("INCR", "n")])

    assert replies[0] == 1 and replies[3] == 2
    assert isinstance(replies[1], RedisError) and "not an integer" in str(replies[1])
    assert isinstance(replies[2], RedisError) and str(replies[2]).startswith("WRONGTYPE")


async def test_pipeline_of_no_commands_returns_no_replies(client: Redis) -> None:
    assert await client.pipeline([]) == []


async def test_listing_integrations_of_an_empty_store_gives_an_empty_list(store: Store) -> None:
    assert await store.integrations.all() == []


async def test_getting_only_unknown_tokens_gives_an_empty_list(store: Store) -> None:
    assert await store.tokens.get_many(["DH-unknown"]) == []


async def test_concurrent_executes_on_one_client_each_get_their_own_reply(client: Redis) -> None:
    replies = await asyncio.gather(*(client.execute("INCR", "counter") for _ in range(100)))

    assert sorted(replies) == list(range(1, 101))


async def test_concurrent_mixed_commands_are_not_mixed_up(client: Redis) -> None:
    replies = await asyncio.gather(*(client.execute("ECHO", f"reply-{n}") for n in range(200)),
                                   *(client.pipeline([("ECHO", f"p{n}a"), ("ECHO", f"p{n}b")])
                                     for n in range(50)))

    assert replies[:200] == [f"reply-{n}" for n in range(200)]
    assert replies[200:] == [[f"p{n}a", f"p{n}b"] for n in range(50)]


async def test_a_cancelled_call_does_not_shift_the_replies_of_later_calls(client: Redis) -> None:
    await client.execute("PING")
    cancelled = asyncio.ensure_future(client.execute("ECHO", "abandoned"))
    await asyncio.sleep(0)  # the command is on the wire now
    cancelled.cancel()

    assert await client.execute("ECHO", "mine") == "mine"
    assert cancelled.cancelled()


@pytest.mark.skipif(os.environ.get(CLUSTER_ENV) == "1",
                    reason="a Redis Cluster has database 0 only")
async def test_the_database_named_in_the_url_is_selected(redis_server: RedisServer,
                                                         redis_url: str) -> None:
    redis = Redis.from_url(f"redis://127.0.0.1:{redis_server.port}/3")
    try:
        await redis.execute("SET", "where", "db3")
        assert "db=3" in await redis.execute("CLIENT", "INFO")
    finally:
        await redis.close()
    assert redis_command(redis_server.port, "EXISTS", "where") == b":0\r\n"  # not in db 0


async def test_a_closed_client_refuses_new_calls(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    await redis.execute("PING")
    await redis.close()

    with pytest.raises(RedisUnavailable, match="closed"):
        await redis.execute("PING")


async def test_unreachable_redis_raises_redis_unavailable() -> None:
    port = free_port()  # nothing listens there
    redis = Redis.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    try:
        with pytest.raises(RedisUnavailable, match=f"127.0.0.1:{port}"):
            await redis.execute("PING")
        with pytest.raises(RedisUnavailable):
            await redis.pipeline([("PING",)])
    finally:
        await redis.close()


# --- private servers: login, unix socket, restart, stuck ----------------------------------------


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A redis-server of this test's own, which it may stop, restart or reconfigure.

    Stopped while the test's event loop still runs, so that connections the client failed to
    close (see the leak test) see EOF and close instead of warning at garbage collection.
    Always a plain server: these tests choose databases, which a cluster does not have.
    """
    server = RedisServer(tmp_path / "redis", cluster=False).start()
    yield server
    server.stop()
    await asyncio.sleep(0.05)


def connected_clients(port: int) -> int:
    """Connections the server holds, not counting the one asking."""
    info = redis_command(port, "INFO", "clients").decode()
    return int(info.split("connected_clients:")[1].split()[0]) - 1


async def settled_connected_clients(port: int, expected: int) -> int:
    """The server's connection count once it reaches `expected` (closes reach it a bit later)."""
    count = connected_clients(port)
    for _ in range(50):
        if count == expected:
            break
        await asyncio.sleep(0.02)
        count = connected_clients(port)
    return count


async def test_password_and_acl_user_from_the_url_log_in(own_redis: RedisServer) -> None:
    port = own_redis.port
    assert redis_command(port, "ACL", "SETUSER", "svc", "on", ">svc-pw", "~*", "+@all"
                         ).startswith(b"+OK")
    assert redis_command(port, "CONFIG", "SET", "requirepass", "default pw").startswith(b"+OK")
    clients = [Redis.from_url(url) for url in (
        f"redis://:default%20pw@127.0.0.1:{port}/2",
        f"redis://svc:svc-pw@127.0.0.1:{port}/2")]
    try:
        for n, redis in enumerate(clients):
            assert await redis.execute("SET", f"k{n}", "v") == "OK"
        assert await clients[1].execute("ACL", "WHOAMI") == "svc"
        assert sorted(await clients[0].execute("KEYS", "*")) == ["k0", "k1"]
    finally:
        for redis in clients:
            await redis.close()


@pytest.mark.parametrize("url_auth", ["", ":wrong@", "svc:wrong@"])
async def test_a_wrong_or_missing_password_is_a_login_failure(
        own_redis: RedisServer, url_auth: str) -> None:
    redis_command(own_redis.port, "CONFIG", "SET", "requirepass", "right")
    redis = Redis.from_url(f"redis://{url_auth}127.0.0.1:{own_redis.port}/1")
    try:
        with pytest.raises((RedisError, RedisUnavailable), match="NOAUTH|WRONGPASS"):
            await redis.execute("SET", "k", "v")
    finally:
        await redis.close()


async def test_failed_logins_leave_no_connection_open(own_redis: RedisServer) -> None:
    # An ACL user, so that the default user (which counts connections here) needs no password.
    redis_command(own_redis.port, "ACL", "SETUSER", "svc", "on", ">right", "~*", "+@all")
    redis = Redis.from_url(f"redis://svc:wrong@127.0.0.1:{own_redis.port}/1")
    try:
        for _ in range(3):
            with pytest.raises((RedisError, RedisUnavailable)):
                await redis.execute("PING")
    finally:
        await redis.close()

    assert await settled_connected_clients(own_redis.port, 0) == 0


async def test_a_pipeline_cut_off_by_a_lost_connection_leaves_no_unretrieved_failures(
        own_redis: RedisServer) -> None:
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(str(context.get("message"))))
    redis = Redis.from_url(own_redis.url, timeout=1.0)
    try:
        await redis.execute("PING")
        own_redis.stop()
        failed = False
        try:
            await redis.pipeline([("PING",), ("PING",), ("PING",)])
        except RedisUnavailable:
            failed = True
        assert failed
        await asyncio.sleep(0)
        gc.collect()
    finally:
        loop.set_exception_handler(previous)
        await redis.close()

    assert reported == []


@pytest.fixture
def unix_redis() -> Iterator[Path]:
    """A redis-server listening only on a unix socket (short path: sun_path is ~107 bytes)."""
    directory = Path(tempfile.mkdtemp(prefix="as-redis-", dir="/tmp"))
    socket_path = directory / "redis.sock"
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(directory),
         "--logfile", str(directory / "redis.log")], stdin=subprocess.DEVNULL)
    try:
        _wait_for_unix_redis(socket_path, process)
        yield socket_path
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for_unix_redis(socket_path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(str(socket_path))
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("redis-server did not listen on its unix socket")


async def test_unix_socket_url_connects_and_selects_the_database(unix_redis: Path) -> None:
    redis = Redis.from_url(f"unix://{unix_redis}?db=4")
    try:
        await redis.execute("SET", "via", "unix")
        info = await redis.execute("CLIENT", "INFO")
        assert "db=4" in info
        assert await redis.pipeline([("GET", "via"), ("SELECT", 0), ("GET", "via")]) == [
            "unix", "OK", None]
    finally:
        await redis.close()


async def test_client_reconnects_after_the_server_restarts(own_redis: RedisServer) -> None:
    redis = Redis.from_url(own_redis.url.rsplit("/", 1)[0] + "/2", timeout=1.0)
    try:
        assert await redis.execute("SET", "before", "1") == "OK"

        own_redis.stop()
        with pytest.raises(RedisUnavailable):
            await redis.execute("GET", "before")
        with pytest.raises(RedisUnavailable):
            await redis.pipeline([("GET", "before")])

        own_redis.start()  # same port, empty data set
        assert await redis.execute("GET", "before") is None
        assert await redis.execute("SET", "after", "2") == "OK"
        assert "db=2" in await redis.execute("CLIENT", "INFO")
    finally:
        await redis.close()
    assert redis_command(own_redis.port, "EXISTS", "after") == b":0\r\n"  # not in db 0


async def test_store_scripts_are_reloaded_after_the_server_restarts(
        own_redis: RedisServer) -> None:
    store = Store(Redis.from_url(own_redis.url, timeout=1.0))
    try:
        await store.start()
        own_redis.stop()
        with pytest.raises(RedisUnavailable):
            await store.redis.execute("PING")
        own_redis.start()  # a new server process: its script cache is empty
        await store.redis.execute("HSET", "h", "f", "v")

        replies = [await store.scripts.run(ScriptName.HASH_SET_EXISTING, [key], ["f", "w"])
                   for key in ("h", "nothing")]

        assert replies == [1, 0]
        assert await store.redis.execute("HGET", "h", "f") == "w"
    finally:
        await store.close()


def _pause_all_clients(port: int, ms: int) -> None:
    assert redis_command(port, "CLIENT", "PAUSE", str(ms), "ALL").startswith(b"+OK")


async def _wait_until_unpaused(url: str) -> None:
    """Returns once Redis answers again (a paused server holds this PING until the pause ends)."""
    probe = Redis.from_url(url, timeout=10)
    try:
        assert await probe.execute("PING") == "PONG"
    finally:
        await probe.close()


async def test_a_stuck_server_makes_calls_fail_with_redis_unavailable_and_the_client_recovers(
        own_redis: RedisServer) -> None:
    # DEBUG SLEEP is disabled by default since Redis 7 (enable-debug-command), so the server is
    # made to hold every command with CLIENT PAUSE instead.
    redis = Redis.from_url(own_redis.url, timeout=0.3)
    try:
        assert await redis.execute("SET", "k", "v") == "OK"
        _pause_all_clients(own_redis.port, 2000)

        results = await asyncio.gather(redis.execute("GET", "k"), redis.pipeline([("GET", "k")]),
                                       redis.execute("PING"), return_exceptions=True)

        assert [type(r) for r in results] == [RedisUnavailable] * 3
        await _wait_until_unpaused(own_redis.url)
        assert await redis.execute("GET", "k") == "v"
        assert await asyncio.gather(*(redis.execute("INCR", "n") for _ in range(10))) == list(
            range(1, 11))
    finally:
        await redis.close()


async def test_a_call_with_a_longer_own_timeout_waits_out_a_short_stall(
        own_redis: RedisServer) -> None:
    redis = Redis.from_url(own_redis.url, timeout=0.3)
    try:
        await redis.execute("SET", "k", "v")
        _pause_all_clients(own_redis.port, 600)

        assert await redis.execute("GET", "k", timeout=10) == "v"
    finally:
        await redis.close()


async def test_connecting_to_a_stuck_server_times_out_with_redis_unavailable(
        own_redis: RedisServer) -> None:
    # SELECT during the handshake is held by the paused server: the connect must time out.
    redis = Redis.from_url(own_redis.url.rsplit("/", 1)[0] + "/1", timeout=0.3)
    try:
        _pause_all_clients(own_redis.port, 2000)
        with pytest.raises(RedisUnavailable, match="cannot use Redis"):
            await redis.execute("PING")
        await _wait_until_unpaused(own_redis.url)
        assert await redis.execute("PING") == "PONG"
    finally:
        await redis.close()


@pytest.mark.skipif(os.environ.get(CLUSTER_ENV) != "1",
                    reason=f"the one-node cluster runs with {CLUSTER_ENV}=1 (./bootstrap.sh test)")
async def test_the_cluster_run_refuses_keys_that_span_slots(redis_url: str) -> None:
    # What makes the cluster run a check at all: the same keys without a shared tag fail.
    redis = Redis.from_url(redis_url)
    try:
        with pytest.raises(RedisError, match="CROSSSLOT"):
            await redis.execute("MGET", "as:{u:A}:user", "as:{u:B}:user")
        assert await redis.execute("MGET", "as:{u:A}:user", "as:{u:A}:tokens") == [None, None]
    finally:
        await redis.close()
