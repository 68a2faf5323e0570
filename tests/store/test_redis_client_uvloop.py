"""The lean client on uvloop's event loop (uvloop's transports are not asyncio.Transport
subclasses; the client once asserted they were and crashed): commands, pipelines, a script, a
lost connection and the events subscriber, against the session Redis (and so, in the cluster
pass, against the 3+3 cluster)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from authsvc.store import Redis, RedisUnavailable, Store
from authsvc.store.scripts import ScriptName
from tests.harness import RedisServer, free_port

T = TypeVar("T")
uvloop = pytest.importorskip("uvloop")  # a dev dependency: installed by ./bootstrap.sh


def _on_uvloop(coroutine: Coroutine[Any, Any, T]) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(30):  # the old client hung here instead of connecting
            return await coroutine

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert "uvloop" in type(runner.get_loop()).__module__
        return runner.run(bounded())


def test_the_client_works_under_uvloop(redis_url: str) -> None:
    async def exercise() -> list[object]:
        store = Store(Redis.from_url(redis_url))
        await store.start()
        heard: list[str] = []
        events = store.events(heard.append, lambda: None)
        events.start()
        try:
            await asyncio.wait_for(events.subscribed.wait(), 5)
            await store.redis.execute("HSET", "{u}h", "f", "v")
            replies = await store.redis.pipeline([("HGET", "{u}h", "f"), ("INCR", "{u}n")])
            script = await store.scripts.run(ScriptName.HASH_SET_EXISTING, ["{u}h"], ["f", "w"])
            many = await asyncio.gather(*(store.redis.execute("INCR", "{u}c") for _ in range(50)))
            await store.redis.execute("PUBLISH", store.keys.events(), "hello")
            for _ in range(100):
                if heard:
                    break
                await asyncio.sleep(0.02)
            return [replies, script, sorted(many)[-1], heard]
        finally:
            await events.close()
            await store.close()

    assert _on_uvloop(exercise()) == [["v", 1], 1, 50, ["hello"]]


def test_a_unix_socket_redis_works_under_uvloop(tmp_path: Path) -> None:
    socket_path = Path(tempfile.mkdtemp(prefix="as-uv-", dir="/tmp")) / "redis.sock"
    server = RedisServer(tmp_path / "redis", cluster=False).start(
        extra=("--unixsocket", str(socket_path), "--unixsocketperm", "700"))

    async def exercise() -> tuple[str, str, str]:
        redis = Redis.from_url(f"unix://{socket_path}?db=2")
        try:
            done = await redis.execute("SET", "k", "v")
            value, info = await redis.pipeline([("GET", "k"), ("CLIENT", "INFO")])
            return str(done), str(value), str(info)
        finally:
            await redis.close()

    try:
        done, value, info = _on_uvloop(exercise())
        assert (done, value) == ("OK", "v") and "db=2" in info
    finally:
        server.stop()
        shutil.rmtree(socket_path.parent, ignore_errors=True)


def test_an_unreachable_redis_is_unavailable_under_uvloop() -> None:
    async def exercise() -> None:
        redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
        try:
            with pytest.raises(RedisUnavailable):
                await redis.execute("PING")
        finally:
            await redis.close()

    _on_uvloop(exercise())
