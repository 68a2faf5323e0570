"""The webhook delivery provider against a local receiver: signed JSON, retried with backoff
when the receiver fails, kept as a dead letter (and logged) when it never recovers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duo_client
import pytest
from aiohttp import web

from authsvc.crypto import SecretBox
from authsvc.gateways.delivery import WEBHOOK_ENTRY
from authsvc.store import Redis
from tests.conftest import create_integrations
from tests.harness import TEST_SECRET_KEY, RedisServer, ServiceProcess, free_port, service_env

SECRET = "webhook-secret-0123456789abcdef-0123456789"


@dataclass
class Receiver:
    """A webhook endpoint that fails its first `failures` requests."""

    failures: int
    received: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.attempts += 1
        stamp, _, mac = request.headers["X-Authsvc-Signature"].partition(",v1=")
        expected = hmac.new(SECRET.encode(), stamp.removeprefix("t=").encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, mac):
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.attempts <= self.failures:
            return web.Response(status=500)
        self.received.append(json.loads(body))
        return web.Response(text="ok")


async def _serve(receiver: Receiver) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


async def _send_activation_sms(own_redis: RedisServer, tmp_path: Path, receiver: Receiver,
                               attempts: int) -> tuple[ServiceProcess, Path, web.AppRunner]:
    runner, port = await _serve(receiver)
    service = ServiceProcess(service_env(
        own_redis.url, tmp_path / "data", AUTHSVC_DELIVERY="webhook",
        AUTHSVC_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", AUTHSVC_WEBHOOK_SECRET=SECRET,
        AUTHSVC_WEBHOOK_MAX_ATTEMPTS=str(attempts)))
    log = tmp_path / "serve.log"
    await asyncio.to_thread(service.start, log)
    keys = await asyncio.to_thread(create_integrations, own_redis.url)
    admin = duo_client.Admin(keys.admin.ikey, keys.admin.skey, "127.0.0.1", ca_certs="HTTP",
                             port=service.port)
    user = await asyncio.to_thread(admin.add_user, "wendy")
    phone = await asyncio.to_thread(admin.add_phone, number="+15555550177", type="mobile",
                                    platform="google android")
    await asyncio.to_thread(admin.add_user_phone, user["user_id"], phone["phone_id"])
    await asyncio.to_thread(admin.send_sms_activation_to_phone, phone["phone_id"])
    return service, log, runner


@pytest.mark.slow
async def test_a_failing_receiver_gets_the_message_once_it_recovers(
        own_redis: RedisServer, tmp_path: Path) -> None:
    receiver = Receiver(failures=2)
    service, _, runner = await _send_activation_sms(own_redis, tmp_path, receiver, attempts=5)
    try:
        for _ in range(100):
            if receiver.received:
                break
            await asyncio.sleep(0.1)
        assert receiver.attempts == 3 and receiver.bad_signatures == 0
        [message] = receiver.received
        assert (message["channel"], message["to"], message["kind"]) == \
            ("sms", "+15555550177", "activation")
        assert "/activate/" in message["body"]
    finally:
        service.stop()
        await runner.cleanup()


@pytest.mark.slow
async def test_a_message_the_receiver_never_takes_becomes_a_logged_dead_letter(
        own_redis: RedisServer, tmp_path: Path) -> None:
    receiver = Receiver(failures=1000)
    service, log, runner = await _send_activation_sms(own_redis, tmp_path, receiver, attempts=2)
    redis = Redis.from_url(own_redis.url)
    try:
        for _ in range(100):
            if await redis.execute("LLEN", "as:delivery:dead"):
                break
            await asyncio.sleep(0.1)
        [dead] = await redis.execute("LRANGE", "as:delivery:dead", 0, -1)
        assert "/activate/" not in dead and "+15555550177" not in dead  # sealed
        entry = json.loads(SecretBox.from_passphrase(TEST_SECRET_KEY).open(
            dead, bound_to=WEBHOOK_ENTRY))
        assert entry["attempts"] == 2 and receiver.attempts == 2
        assert 0 < await redis.execute("TTL", "as:delivery:dead") <= 7 * 86_400
        assert "kept as dead letter" in log.read_text()
    finally:
        await redis.close()
        service.stop()
        await runner.cleanup()
