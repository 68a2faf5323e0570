"""Reading Redis directly finds no seed, secret key or bypass code in clear, and no log line of
the service holds a code."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import duo_client
import pytest

from authsvc.store import Redis
from tests.conftest import create_integrations
from tests.harness import RedisServer, ServiceProcess, service_env
from tokens.oath import HotpToken

SEED = b"\x8a\x17seed-for-at-rest-test\x01"


async def _everything_in(redis_url: str) -> str:
    """Every key and every value of every Redis structure, as one string."""
    redis = Redis.from_url(redis_url)
    readers = {"string": ("GET",), "hash": ("HGETALL",), "zset": ("ZRANGE", 0, -1, "WITHSCORES"),
               "set": ("SMEMBERS",), "list": ("LRANGE", 0, -1), "stream": ("XRANGE", "-", "+")}
    dump: list[str] = []
    try:
        for key in await redis.execute("KEYS", "*"):
            kind = await redis.execute("TYPE", key)
            command, *rest = readers[kind]
            dump.append(f"{key} {await redis.execute(command, key, *rest)!r}")
    finally:
        await redis.close()
    return "\n".join(dump)


@pytest.fixture
def quiet_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.mark.slow
def test_no_secret_or_code_is_stored_or_logged_in_clear(quiet_redis: RedisServer,
                                                              tmp_path: Path) -> None:
    service = ServiceProcess(service_env(quiet_redis.url, tmp_path / "data",
                                         AUTHSVC_LOG_LEVEL="debug", AUTHSVC_ACCESS_LOG="1"))
    service.start(tmp_path / "serve.log")
    try:
        keys = create_integrations(quiet_redis.url)
        admin = duo_client.Admin(keys.admin.ikey, keys.admin.skey, "127.0.0.1", ca_certs="HTTP",
                                 port=service.port)
        auth = duo_client.Auth(keys.auth.ikey, keys.auth.skey, "127.0.0.1", ca_certs="HTTP",
                               port=service.port)
        user = admin.add_user("secretive")
        hardware = HotpToken(SEED, "AT-REST-1")
        token = admin.add_hotp6_token(hardware.serial, hardware.secret_hex)
        admin.add_user_token(user["user_id"], token["token_id"])
        codes = admin.add_user_bypass_codes(user["user_id"], count=3, remaining_uses=2)
        custom = admin.add_user_bypass_codes(user["user_id"], codes=["7700112233"],
                                             preserve_existing=True)
        used_code = hardware.press()
        assert auth.auth("passcode", username="secretive", passcode=used_code)["result"] == "allow"
        assert auth.auth("passcode", username="secretive", passcode=codes[0])["result"] == "allow"
        auth.auth("passcode", username="secretive", passcode="13572468")
    finally:
        service.stop()
    stored = asyncio.run(_everything_in(quiet_redis.url))
    assert "AT-REST-1" in stored and user["user_id"] in stored  # the dump really holds the data
    forbidden = [SEED.hex(), SEED.hex().upper(), base64.b32encode(SEED).decode(),
                 base64.b64encode(SEED).decode(), keys.admin.skey, keys.auth.skey,
                 *codes, *custom]
    for secret in forbidden:
        assert secret not in stored
    log = (tmp_path / "serve.log").read_text()
    assert "POST /auth/v2/auth" in log  # the access log is on
    for secret in [*forbidden, used_code, "13572468"]:
        assert secret not in log
