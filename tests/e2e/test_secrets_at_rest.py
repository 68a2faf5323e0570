"""Reading Redis directly finds no seed, secret key, bypass code, activation code, link token,
session token or SMS code in clear, and no log line of the service (access log on, debug level)
holds one: checked after every flow."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import duo_client
import pytest
from aiohttp import web

from authsvc.store import Redis
from authsvc.tls import DevCert
from mobile_sim.carrier import Carrier, links, passcodes
from mobile_sim.client import activate, resolve_activation, ssl_context
from tests.conftest import create_integrations
from tests.e2e.carrier_helpers import carrier_of
from tests.e2e.push_helpers import Clients, new_phone, tls_clients
from tests.harness import RedisServer, ServiceProcess, free_port, service_env
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
            if kind == "none":
                continue  # expired since KEYS listed it
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


@dataclass
class Watch:
    """Everything secret a flow handed out, checked against a full Redis dump and the log."""

    redis_url: str
    log: Path
    secrets: list[str] = field(default_factory=list)

    def saw(self, *values: str) -> None:
        self.secrets += [value for value in values if value]

    def check(self, flow: str) -> None:
        # From a thread of its own: some flows run inside the test's event loop.
        with ThreadPoolExecutor(1) as pool:
            stored = pool.submit(asyncio.run, _everything_in(self.redis_url)).result()
        log = self.log.read_text()
        for secret in self.secrets:
            assert secret not in stored, f"{flow}: a secret is stored in clear"
            assert secret not in log, f"{flow}: a secret is in the log"
        assert "Traceback" not in log, flow


def _code(url_or_value: str) -> str:
    """The 20-character activation code in an activation URL or a duo:// value."""
    match = re.search(r"(?:/activate/|duo://)([A-Za-z0-9]{20})", url_or_value)
    assert match is not None, url_or_value
    return match.group(1)


@pytest.mark.slow
async def test_no_activation_code_link_token_or_sms_code_is_stored_or_logged(
        quiet_redis: RedisServer, dev_cert: DevCert, tmp_path: Path) -> None:
    service = ServiceProcess(
        service_env(quiet_redis.url, tmp_path / "data", AUTHSVC_LOG_LEVEL="debug",
                    AUTHSVC_ACCESS_LOG="1"),
        args=("--tls-cert", str(dev_cert.cert), "--tls-key", str(dev_cert.key)),
        tls_ca=dev_cert.ca_cert)
    await asyncio.to_thread(service.start, tmp_path / "serve.log")
    watch = Watch(quiet_redis.url, tmp_path / "serve.log")
    try:
        keys = await asyncio.to_thread(create_integrations, quiet_redis.url)
        clients = tls_clients(service, keys, dev_cert)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await _phone_flows(watch, clients, session)
            await asyncio.to_thread(_sms_flow, watch, clients, carrier_of(service))
            await _enrollment_flows(watch, clients, session, carrier_of(service),
                                    f"https://127.0.0.1:{service.port}")
    finally:
        await asyncio.to_thread(service.stop)
    assert "GET /activate/<redacted> HTTP/1.1" in watch.log.read_text()  # the access log is on
    watch.check("after stopping")


async def _phone_flows(watch: Watch, clients: Clients, session: aiohttp.ClientSession) -> None:
    admin, context = clients.admin, ssl_context(clients.ca_file)
    user = admin.add_user("dora")
    phone = new_phone(admin, user["user_id"])
    activation = admin.create_activation_url(phone["phone_id"])
    code = _code(activation["activation_url"])
    watch.saw(code)
    for url in (activation["activation_url"], activation["activation_barcode"]):
        async with session.get(url, ssl=context) as reply:  # the page and the QR image
            assert reply.status == 200
    watch.check("activation link opened")
    value = await resolve_activation(session, activation["activation_url"], clients.ca_file)
    account = await activate(session, value, clients.ca_file)
    watch.saw(account.hotp_secret)
    watch.check("phone activated")
    pending = new_phone(admin, user["user_id"])
    watch.saw(_code(admin.create_activation_url(pending["phone_id"])["activation_url"]))
    enrolled = clients.auth.enroll(username="eli")
    watch.saw(_code(enrolled["activation_code"]))
    assert clients.auth.enroll_status(enrolled["user_id"], enrolled["activation_code"]) == \
        "waiting"
    watch.check("activation links pending")


def _sms_flow(watch: Watch, clients: Clients, carrier: Carrier) -> None:
    admin, auth = clients.admin, clients.auth
    user = admin.add_user("sam")
    phone = admin.add_phone(number="+15555550142", type="mobile", platform="google android")
    admin.add_user_phone(user["user_id"], phone["phone_id"])
    assert auth.auth("sms", username="sam", device=phone["phone_id"])["status"] == "sent"
    codes = passcodes(carrier.messages("sms", "+15555550142")[-1])
    watch.saw(*codes)
    assert auth.auth("passcode", username="sam", passcode=codes[0])["result"] == "allow"
    watch.check("SMS passcodes")


async def _enrollment_flows(watch: Watch, clients: Clients, session: aiohttp.ClientSession,
                            carrier: Carrier, base: str) -> None:
    admin, context = clients.admin, ssl_context(clients.ca_file)
    admin.enroll_user("nina", "nina@example.org")
    [link] = links(carrier.messages("email", "nina@example.org")[-1])
    watch.saw(link.rsplit("/", 1)[1])
    async with session.get(link, ssl=context) as reply:
        assert reply.status == 200
    watch.check("enrollment link opened")
    user = admin.get_users_by_name("nina")[0]
    [bypass] = admin.add_user_bypass_codes(user["user_id"], count=1)
    watch.saw(bypass)
    async with session.post(f"{base}/portal/self/login", ssl=context,
                            data={"username": "nina", "passcode": bypass,
                                  "method": "passcode"}) as reply:
        assert reply.status == 200
    watch.saw(*[cookie.value for cookie in session.cookie_jar])
    watch.check("portal session")


@pytest.mark.slow
async def test_webhook_retries_and_dead_letters_are_sealed(
        quiet_redis: RedisServer, tmp_path: Path) -> None:
    async def refuse(_: web.Request) -> web.Response:
        return web.Response(status=503)

    refusing = web.Application()
    refusing.router.add_post("/hook", refuse)
    runner = web.AppRunner(refusing)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    service = ServiceProcess(service_env(
        quiet_redis.url, tmp_path / "data", AUTHSVC_DELIVERY="webhook",
        AUTHSVC_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        AUTHSVC_WEBHOOK_SECRET="w" * 40, AUTHSVC_WEBHOOK_MAX_ATTEMPTS="2"))
    await asyncio.to_thread(service.start, tmp_path / "serve.log")
    watch = Watch(quiet_redis.url, tmp_path / "serve.log")
    redis = Redis.from_url(quiet_redis.url)
    try:
        keys = await asyncio.to_thread(create_integrations, quiet_redis.url)
        admin = duo_client.Admin(keys.admin.ikey, keys.admin.skey, "127.0.0.1", ca_certs="HTTP",
                                 port=service.port)
        auth = duo_client.Auth(keys.auth.ikey, keys.auth.skey, "127.0.0.1", ca_certs="HTTP",
                               port=service.port)
        user = await asyncio.to_thread(admin.add_user, "walt")
        phone = await asyncio.to_thread(admin.add_phone, number="+15555550143", type="mobile")
        await asyncio.to_thread(admin.add_user_phone, user["user_id"], phone["phone_id"])
        await asyncio.to_thread(auth.auth, "sms", username="walt", device=phone["phone_id"])
        [queued] = await redis.execute("ZRANGE", "as:delivery:retry", 0, -1)
        assert queued.startswith("v1.") and "+15555550143" not in queued
        for _ in range(100):
            if await redis.execute("LLEN", "as:delivery:dead"):
                break
            await asyncio.sleep(0.1)
        [dead] = await redis.execute("LRANGE", "as:delivery:dead", 0, -1)
        assert dead.startswith("v1.") and "SMS passcodes" not in dead
        assert await redis.execute("TTL", "as:delivery:dead") > 0
    finally:
        await redis.close()
        await asyncio.to_thread(service.stop)
        await runner.cleanup()
    watch.check("webhook")
