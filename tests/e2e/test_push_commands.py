"""What one Duo Push costs Redis, counted by Redis itself (MONITOR): the phone's long poll, the
application's synchronous auth, the phone's answer and the wake-up, end to end.

The bounds are the lean push path's (docs/performance.md lists the commands one by one): a
change that adds a round trip to the push path fails here, with the trace printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from authsvc.tls import DevCert
from mobile_sim.client import DeviceClient
from tests.conftest import IntegrationPair
from tests.e2e.push_helpers import Clients, activate_phone, new_phone, tls_clients
from tests.harness import RedisServer, ServiceProcess, service_env
from tests.topologies import RedisCluster

SENT_AT_MOST = 15  # 10 of the push path, 5 of every Auth API request (rate limits, user load)
RUN_AT_MOST = 52  # ... plus what the scripts run inside Redis
# The heartbeat's keys: the live-services announcement (a pipeline of HSET and DEL) and the
# schema mark it reads.
HEARTBEAT_KEYS = ('"as:service:', '"as:schema"')


class Monitor:
    """Every command Redis runs while the block runs, as MONITOR prints them."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._raw = b""
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with socket.create_connection(("127.0.0.1", self._port)) as sock:
            sock.sendall(b"MONITOR\r\n")
            sock.settimeout(0.1)
            while not self._stop.is_set():
                try:
                    self._raw += sock.recv(1 << 20)
                except TimeoutError:
                    pass
                self._ready.set()

    def __enter__(self) -> Monitor:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def commands(self) -> list[tuple[str, bool]]:
        """(command, run by a script) for each line, MONITOR's own lines and the service's
        heartbeat (`as:service:*` and `as:schema`, every 5 s, whatever the requests) left
        out."""
        found = []
        for line in self._raw.decode(errors="replace").splitlines():
            if '"' in line and not any(key in line for key in HEARTBEAT_KEYS):
                name = line.split('"')[1].lower()
                if name not in ("monitor", "info", "ping"):
                    found.append((name, " lua]" in line))
        return found


def _master_ports(redis_server: RedisServer) -> list[int]:
    if isinstance(redis_server, RedisCluster):
        return [node.port for node in redis_server.masters()]
    return [redis_server.port]


@pytest.fixture
def tls_one(redis_server: RedisServer, dev_cert: DevCert,
            tmp_path: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(service_env(redis_server.url, tmp_path / "data"),
                             args=("--tls-cert", str(dev_cert.cert), "--tls-key",
                                   str(dev_cert.key)), tls_ca=dev_cert.ca_cert)
    yield service.start(tmp_path / "serve.log")
    service.stop()


async def _push(clients: Clients, device: DeviceClient) -> None:
    """The phone long-polls first, as it does all day; then the push, the answer, the end."""
    poll = asyncio.create_task(device.transactions(wait=10))
    await asyncio.sleep(0.3)
    auth = asyncio.create_task(asyncio.to_thread(
        clients.auth.auth, "push", username="counted", device="auto"))
    pending = await poll
    await device.answer(pending[0]["urgid"], "approve")
    assert (await auth)["result"] == "allow"


@pytest.mark.slow
async def test_one_push_end_to_end_costs_redis_at_most_the_lean_path(
        tls_one: ServiceProcess, redis_server: RedisServer, integrations: IntegrationPair,
        dev_cert: DevCert) -> None:
    clients = tls_clients(tls_one, integrations, dev_cert)
    user = clients.admin.add_user("counted")
    phone = new_phone(clients.admin, user["user_id"])
    async with aiohttp.ClientSession() as session:
        account = await activate_phone(session, clients.admin, phone["phone_id"], clients.ca_file)
        device = DeviceClient(session, account)
        await _push(clients, device)  # warm: caches filled, scripts loaded, connections open
        monitors = [Monitor(port) for port in _master_ports(redis_server)]
        with contextlib.ExitStack() as stack:
            for monitor in monitors:
                stack.enter_context(monitor)
            await _push(clients, device)
            await asyncio.sleep(0.3)  # the log record is sent without waiting for Redis
    # On a cluster (the test command's second pass) the push's keys are spread over the
    # masters; WAIT (replicas acknowledging an answer) is the replication policy's, not the
    # path's, and is counted apart.
    commands = [command for monitor in monitors for command in monitor.commands()]
    waits = sum(1 for name, _ in commands if name == "wait")
    commands = [(name, in_script) for name, in_script in commands if name != "wait"]
    print(f"WAIT for replicas: {waits}")
    sent = Counter(name for name, in_script in commands if not in_script)
    run = Counter(name for name, _ in commands)
    print(f"sent {sum(sent.values())}: {dict(sent.most_common())}")
    print(f"run {sum(run.values())} (scripts' commands included): {dict(run.most_common())}")
    assert sent["evalsha"] >= 4  # create, deliver, resolve, log: the path was traced
    assert sum(sent.values()) <= SENT_AT_MOST
    assert sum(run.values()) <= RUN_AT_MOST
