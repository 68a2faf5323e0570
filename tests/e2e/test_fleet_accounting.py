"""What a fleet counts as a poll error: a poll the service refused or a connection that broke
count, each by its kind; a long poll still held when the run ends does not count.

The phones poll a small TLS stand-in for the device API (this is about the fleet's accounting,
not the service): it answers every first poll with no pushes and each long poll as the test asks.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from authsvc.tls import DevCert
from mobile_sim.fleet import Fleet, parse_mix
from mobile_sim.state import Account, private_pem

PHONES = 4
REFUSED = {"stat": "FAIL", "code": 50301, "message": "Service temporarily unavailable"}


@dataclass
class DeviceApi:
    """The stand-in: `first` long polls of each phone get `answer`, later ones are held."""

    answer: str = "hold"  # "hold", "refuse" (503 FAIL) or "drop" (the connection is closed)
    first: int = 1
    held: int = 0
    long_polls: dict[str, int] = field(default_factory=dict)
    port: int = 0

    async def transactions(self, request: web.Request) -> web.StreamResponse:
        if "wait" not in request.query:
            return web.json_response({"stat": "OK", "response": {"transactions": []}})
        akey = request.query["akey"]
        self.long_polls[akey] = self.long_polls.get(akey, 0) + 1
        if self.long_polls[akey] <= self.first and self.answer == "refuse":
            return web.json_response(REFUSED, status=503)
        if self.long_polls[akey] <= self.first and self.answer == "drop":
            assert request.transport is not None
            request.transport.close()
        else:
            self.held += 1
        await asyncio.Event().wait()  # until the server stops
        raise AssertionError("unreachable")


@pytest.fixture
async def device_api(dev_cert: DevCert) -> AsyncIterator[DeviceApi]:
    api = DeviceApi()
    app = web.Application()
    app.router.add_get("/push/v2/device/transactions", api.transactions)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(dev_cert.cert), str(dev_cert.key))
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    api.port = runner.addresses[0][1]
    try:
        yield api
    finally:
        await runner.cleanup()


def _accounts(api: DeviceApi, dev_cert: DevCert) -> list[Account]:
    pem = private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return [Account(host=f"127.0.0.1:{api.port}", pkey=f"PK{n}", akey=f"AK{n}",
                    hotp_secret="secret", private_key_pem=pem, ca_file=str(dev_cert.ca_cert))
            for n in range(PHONES)]


async def _serve_until(api: DeviceApi, dev_cert: DevCert, held: int) -> Fleet:
    """Run a fleet until `held` long polls are held by the stand-in, then end the run."""
    async with Fleet(parse_mix("approve=1"), poll_wait=60) as fleet:
        fleet.accounts = _accounts(api, dev_cert)
        stopped = asyncio.Event()
        serving = asyncio.create_task(fleet.run(None, stopped))
        async with asyncio.timeout(15):
            while api.held < held:
                await asyncio.sleep(0.02)
        stopped.set()
        await serving
    return fleet


async def test_long_polls_cut_by_the_end_of_the_run_are_not_errors(
        device_api: DeviceApi, dev_cert: DevCert) -> None:
    fleet = await _serve_until(device_api, dev_cert, held=PHONES)
    assert fleet.stats.summary() == {"pushes": 0, "outcomes": {}, "errors": 0, "error_kinds": {}}


async def test_a_poll_the_service_refused_counts_with_its_code(
        device_api: DeviceApi, dev_cert: DevCert) -> None:
    device_api.answer = "refuse"
    fleet = await _serve_until(device_api, dev_cert, held=PHONES)  # each polled again after
    assert fleet.stats.summary()["error_kinds"] == {
        "503 50301 Service temporarily unavailable": PHONES}
    assert fleet.stats.errors == PHONES


async def test_a_poll_whose_connection_broke_counts_by_its_error_class(
        device_api: DeviceApi, dev_cert: DevCert) -> None:
    # aiohttp sends a GET again, once, when a kept-alive connection closes before the answer.
    device_api.answer, device_api.first = "drop", 2
    fleet = await _serve_until(device_api, dev_cert, held=PHONES)  # each polled again after
    assert fleet.stats.summary()["error_kinds"] == {"ServerDisconnectedError": PHONES}
