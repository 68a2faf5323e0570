"""`authsvc serve --workers N`: one port, N processes, one Redis.

Which worker serves a connection is read from the kernel (/proc): the connection's server-side
socket is among that worker's open files. So "through another worker" is a fact the test
checks, not an assumption about how the kernel spreads connections.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from authsvc.tls import DevCert
from loadtests.core.signing import ApiError, DuoApi
from mobile_sim.client import DeviceClient
from tests.conftest import IntegrationPair
from tests.e2e.push_helpers import activate_phone, new_phone, tls_clients
from tests.e2e.test_operability import get, sample
from tests.harness import RedisServer, ServiceProcess, free_port, service_env

METRICS_TOKEN = "workers-metrics-token-0123456789abcdef"


def workers_of(supervisor: int) -> list[int]:
    try:
        text = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def wait_workers(supervisor: int, count: int, *, not_in: frozenset[int] = frozenset(),
                 timeout: float = 30) -> list[int]:
    """The supervisor's `count` workers once none of them is in `not_in`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = workers_of(supervisor)
        if len(pids) == count and not set(pids) & not_in:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"workers now {workers_of(supervisor)}, wanted {count} not in {not_in}")


def wait_listening(log: Path, timeout: float = 60) -> None:
    """Until the supervisor says every worker serves ("listening on")."""
    deadline = time.monotonic() + timeout
    while "listening on" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def serving_worker(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """The worker holding the server side of the loopback connection from `client_port`."""
    wanted = {f"0100007F:{server_port:04X}": f"0100007F:{client_port:04X}"}
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if wanted.get(fields[1]) == fields[2]:
            inode = fields[9]
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            if os.readlink(fd) == f"socket:[{inode}]":
                return pid
    return None


async def pinned_session(port: int, worker: int, pids: list[int],
                         first_call: Callable[[aiohttp.ClientSession], Awaitable[object]]
                         ) -> tuple[aiohttp.ClientSession, int]:
    """A session whose one kept-alive connection (opened by `first_call`, with the TLS context
    the later calls use) is served by `worker`; and its local port."""
    for _ in range(60):
        local = free_port()
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
            limit=1, local_addr=("127.0.0.1", local)))
        await first_call(session)
        if serving_worker(port, local, pids) == worker:
            return session, local
        await session.close()
    raise AssertionError(f"no connection landed on worker {worker}")


@pytest.fixture
def two_workers(redis_server: RedisServer, dev_cert: DevCert,
                tmp_path: Path) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        service_env(redis_server.url, tmp_path / "data", AUTHSVC_LOG_LEVEL="info"),
        args=("--tls-cert", str(dev_cert.cert), "--tls-key", str(dev_cert.key),
              "--workers", "2"), tls_ca=dev_cert.ca_cert).start(tmp_path / "serve.log")
    wait_listening(tmp_path / "serve.log")
    yield service
    service.stop()


@pytest.mark.slow
async def test_a_push_created_through_one_worker_and_answered_through_another_wakes_the_auth(
        two_workers: ServiceProcess, integrations: IntegrationPair, dev_cert: DevCert) -> None:
    assert two_workers.process is not None
    pids = wait_workers(two_workers.process.pid, 2)
    clients = tls_clients(two_workers, integrations, dev_cert)
    user = clients.admin.add_user("across")
    phone = new_phone(clients.admin, user["user_id"])
    context = ssl.create_default_context(cafile=str(dev_cert.ca_cert))
    async with aiohttp.ClientSession() as plain:
        account = await activate_phone(plain, clients.admin, phone["phone_id"], clients.ca_file)
    base = f"https://127.0.0.1:{two_workers.port}"
    app_session, app_port = await pinned_session(
        two_workers.port, pids[0], pids,
        lambda session: DuoApi(session, base, integrations.auth.ikey, integrations.auth.skey,
                               context).get("/auth/v2/check", {}))
    devices: list[DeviceClient] = []  # the client that opened the connection keeps using it

    def device_info(session: aiohttp.ClientSession) -> Awaitable[object]:
        devices.append(DeviceClient(session, account))
        return devices[-1].info()

    phone_session, phone_port = await pinned_session(two_workers.port, pids[1], pids,
                                                     device_info)
    try:
        device = devices[-1]
        api = DuoApi(app_session, base, integrations.auth.ikey, integrations.auth.skey, context)
        poll = asyncio.create_task(device.transactions(wait=20))  # waits on worker 2
        await asyncio.sleep(0.5)
        auth = asyncio.create_task(api.push("across"))  # created and waiting on worker 1
        pending = await asyncio.wait_for(poll, 10)
        assert len(pending) == 1
        await asyncio.sleep(0.5)
        assert not auth.done()
        answered = time.monotonic()
        await device.answer(pending[0]["urgid"], "approve")
        result = await asyncio.wait_for(auth, 10)
        woke_after = time.monotonic() - answered
        assert result["result"] == "allow" and result["status"] == "allow"
        assert woke_after < 2.0, woke_after  # the wake-up, not the push's 60 s timeout
        assert serving_worker(two_workers.port, app_port, pids) == pids[0]
        assert serving_worker(two_workers.port, phone_port, pids) == pids[1]

        # SIGTERM while a push waits: the waiting request is answered (503, Duo's envelope),
        # not cut, and the service exits cleanly within the shutdown timeout.
        waiting = asyncio.create_task(api.push("across"))
        await asyncio.sleep(1.0)
        two_workers.process.send_signal(signal.SIGTERM)
        with pytest.raises(ApiError) as refused:
            await asyncio.wait_for(waiting, 10)
        assert refused.value.status == 503 and "50301" in refused.value.detail
        assert await asyncio.to_thread(two_workers.process.wait, 15) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    finally:
        await app_session.close()
        await phone_session.close()


def _hammer(url: str, stop: threading.Event, results: list[str]) -> None:
    """New connections one after another until `stop`; each outcome recorded."""
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - loopback
                results.append("ok" if reply.status == 200 else f"status {reply.status}")
        except OSError as exc:
            results.append(f"error {exc}")
        time.sleep(0.01)


def _live_services(redis_server: RedisServer) -> bytes:
    return redis_server.command("HGETALL", "as:service:live")


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_a_reload_loses_no_request_nor_the_announcements(
        redis_server: RedisServer, tmp_path: Path) -> None:
    redis_server.flush()
    data = tmp_path / "data"
    service = ServiceProcess(service_env(redis_server.url, data, AUTHSVC_LOG_LEVEL="info"),
                             args=("--workers", "2")).start(tmp_path / "serve.log")
    wait_listening(tmp_path / "serve.log")
    assert service.process is not None
    supervisor, base = service.process.pid, f"http://127.0.0.1:{service.port}"
    try:
        first = wait_workers(supervisor, 2)
        outbox = json.loads((data / "outbox.json").read_text())
        assert outbox["url"] == base
        assert _live_services(redis_server).count(base.encode()) == 1

        os.kill(first[0], signal.SIGKILL)
        replaced = wait_workers(supervisor, 2, not_in=frozenset({first[0]}))
        assert first[1] in replaced

        results: list[str] = []
        stop = threading.Event()
        hammer = threading.Thread(target=_hammer, args=(f"{base}/auth/v2/ping", stop, results))
        hammer.start()
        time.sleep(0.3)
        os.kill(supervisor, signal.SIGHUP)
        reloaded = wait_workers(supervisor, 2, not_in=frozenset(replaced))
        time.sleep(0.5)
        stop.set()
        hammer.join()
        assert len(results) > 20 and set(results) == {"ok"}, results[-5:]
        assert not any(Path(f"/proc/{pid}").exists() for pid in replaced)
        assert json.loads((data / "outbox.json").read_text()) == outbox
        assert _live_services(redis_server).count(base.encode()) == 1
        log = (tmp_path / "serve.log").read_text()
        assert log.count("listening on") == 1 and "(2 workers, " in log
        assert "restarting it" in log and "reloaded: 2 new workers" in log
    finally:
        service.stop()
    assert not (data / "outbox.json").exists()
    assert base.encode() not in _live_services(redis_server)
    assert not any(Path(f"/proc/{pid}").exists() for pid in reloaded)


@pytest.mark.slow
def test_the_workers_run_on_uvloop_when_asked_and_share_one_metrics_view(
        redis_server: RedisServer, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    service = ServiceProcess(service_env(redis_server.url, tmp_path / "data",
                                         AUTHSVC_EVENT_LOOP="uvloop", AUTHSVC_LOG_LEVEL="info",
                                         AUTHSVC_METRICS_TOKEN=METRICS_TOKEN),
                             args=("--workers", "2"))
    try:
        service.start(log, timeout=15)
        with urllib.request.urlopen(
                f"http://127.0.0.1:{service.port}/readyz", timeout=5) as reply:
            assert json.load(reply)["response"]["redis"] == "ok"
        deadline = time.monotonic() + 10  # the supervisor logs once every worker serves
        while "(2 workers, uvloop " not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        base = f"http://127.0.0.1:{service.port}"
        for _ in range(20):  # each on a new connection, so on either worker
            assert get(f"{base}/auth/v2/ping")[0] == 200
        for _ in range(3):  # whichever worker answers sums both
            text = get(f"{base}/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})[2]
            assert sample(text, "authsvc_http_requests_total", route="/auth/v2/ping") == 20
    finally:
        service.stop()
