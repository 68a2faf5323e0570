"""Many processes, one Redis: a push created through one authsvc process and answered through
another resolves the auth_status that waits on the first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from authsvc.tls import DevCert
from mobile_sim.client import DeviceClient
from tests.conftest import IntegrationPair
from tests.e2e.push_helpers import activate_phone, new_phone, one_push, tls_clients
from tests.harness import RedisServer, ServiceProcess, service_env


@pytest.fixture
def pair(redis_server: RedisServer, dev_cert: DevCert,
         tmp_path: Path) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    tls = ("--tls-cert", str(dev_cert.cert), "--tls-key", str(dev_cert.key))
    second = ServiceProcess(service_env(redis_server.url, tmp_path / "b"), args=tls,
                            tls_ca=dev_cert.ca_cert)
    # The first process writes the second's address into activation codes: the phone talks to
    # the second process only.
    first = ServiceProcess(service_env(redis_server.url, tmp_path / "a"),
                           args=(*tls, "--public-host", f"127.0.0.1:{second.port}"),
                           tls_ca=dev_cert.ca_cert)
    second.start(tmp_path / "b.log")
    first.start(tmp_path / "a.log")
    yield first, second
    first.stop()
    second.stop()


@pytest.mark.slow
async def test_a_push_answered_through_another_process_wakes_the_waiting_status(
        pair: tuple[ServiceProcess, ServiceProcess], integrations: IntegrationPair,
        dev_cert: DevCert) -> None:
    first, second = pair
    clients = tls_clients(first, integrations, dev_cert)
    user = clients.admin.add_user("multi")
    phone = new_phone(clients.admin, user["user_id"])
    async with aiohttp.ClientSession() as session:
        account = await activate_phone(session, clients.admin, phone["phone_id"], clients.ca_file)
        assert account.host == f"127.0.0.1:{second.port}"
        device = DeviceClient(session, account)
        txid = clients.auth.auth("push", username="multi", device="auto", async_txn=True)["txid"]
        assert clients.auth.auth_status(txid)["waiting"] is True
        waiting = asyncio.create_task(asyncio.to_thread(clients.auth.auth_status, txid))
        push = await one_push(device)
        await asyncio.sleep(0.5)
        assert not waiting.done()
        await device.answer(push["urgid"], "approve")
        assert (await asyncio.wait_for(waiting, 10))["success"] is True
