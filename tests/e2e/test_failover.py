"""A Redis master killed mid-load, on a real 3+3 Redis Cluster and on a real Sentinel set: no
decision lost or doubled, the service back within a bounded time (printed), no caller stalled.

The service process is given only the URL (any cluster node; the Sentinels), as an operator
would. Decisions wait for a replica (``AUTHSVC_REDIS_WAIT_REPLICAS=auto``), which is what keeps
a code accepted just before the kill from being accepted again by the promoted replica.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duo_client
import pytest

from authsvc.store.slots import tag_slot
from tests.conftest import IntegrationPair, create_integrations
from tests.e2e.failover_load import check_decisions, populate, recovery_s, run_load
from tests.harness import ServiceProcess, service_env
from tests.topologies import RedisCluster, SentinelSet

USERS = 24
WORKERS = 12
RECOVERY_BOUND_S = 20.0  # node-timeout 2 s (cluster) / down-after 1 s (Sentinel) + election
SLOWEST_BOUND_S = 2.5  # no caller waits out more than one Redis timeout (2 s)
NO_LIMITS = {f"AUTHSVC_RATE_LIMIT_{name}": "off" for name in (
    "USERNAME", "FAILED_AUTH_INTEGRATION", "FAILED_AUTH_IP")}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RedisCluster]:
    cluster = RedisCluster(tmp_path / "cluster", cluster=False).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    sentinels = SentinelSet(tmp_path / "sentinel").start()
    yield sentinels
    sentinels.stop()


def _service(url: str, tmp_path: Path) -> tuple[ServiceProcess, IntegrationPair]:
    service = ServiceProcess(service_env(url, tmp_path / "data", **NO_LIMITS))
    service.start(tmp_path / "serve.log")
    return service, create_integrations(url)


@pytest.mark.slow
def test_a_cluster_master_killed_mid_load_loses_and_doubles_no_decision(
        cluster: RedisCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    service, keys = _service(cluster.url, tmp_path)
    try:
        admin = duo_client.Admin(keys.admin.ikey, keys.admin.skey, "127.0.0.1",
                                 ca_certs="HTTP", port=service.port)
        people = populate(admin, USERS)
        victim = cluster.owner(tag_slot(f"u:{people.user_ids['fo0']}"))
        victims = {name for name, user_id in people.user_ids.items()
                   if cluster.owner(tag_slot(f"u:{user_id}")) is victim}
        killed_at: list[float] = []
        lock = threading.Lock()

        def progress(fraction: float) -> None:
            with lock:
                if fraction >= 0.25 and not killed_at:
                    killed_at.append(time.monotonic())
                    cluster.kill(victim)

        outcome = run_load(service.port, keys, people, workers=WORKERS, on_progress=progress)
        recovered = recovery_s(outcome, victims, killed_at[0])
        with capsys.disabled():  # shown in the test command's output, even with -q
            print(f"\ncluster failover: served again {recovered:.2f} s after the master was "
                  f"killed; {sum(outcome.unavailable.values())} answers 503 meanwhile; slowest "
                  f"request {outcome.slowest_s:.2f} s; {len(victims)} of {USERS} users on it")
        check_decisions(service.port, keys, people, outcome)
        assert recovered < RECOVERY_BOUND_S
        assert outcome.slowest_s < SLOWEST_BOUND_S
        assert "Traceback" not in (tmp_path / "serve.log").read_text()
    finally:
        service.stop()


@pytest.mark.slow
def test_a_sentinel_master_killed_mid_load_loses_and_doubles_no_decision(
        sentinels: SentinelSet, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    service, keys = _service(sentinels.url, tmp_path)
    try:
        admin = duo_client.Admin(keys.admin.ikey, keys.admin.skey, "127.0.0.1",
                                 ca_certs="HTTP", port=service.port)
        people = populate(admin, USERS)
        victim = sentinels.master()
        killed_at: list[float] = []
        lock = threading.Lock()

        def progress(fraction: float) -> None:
            with lock:
                if fraction >= 0.25 and not killed_at:
                    killed_at.append(time.monotonic())
                    assert victim.process is not None
                    victim.process.kill()

        outcome = run_load(service.port, keys, people, workers=WORKERS, on_progress=progress)
        recovered = recovery_s(outcome, set(people.user_ids), killed_at[0])
        with capsys.disabled():
            print(f"\nSentinel failover: served again {recovered:.2f} s after the master was "
                  f"killed; {sum(outcome.unavailable.values())} answers 503 meanwhile; slowest "
                  f"request {outcome.slowest_s:.2f} s; new master port {sentinels.master_port()}")
        check_decisions(service.port, keys, people, outcome)
        assert sentinels.master_port() != victim.port
        assert recovered < RECOVERY_BOUND_S
        assert outcome.slowest_s < SLOWEST_BOUND_S
        assert "Traceback" not in (tmp_path / "serve.log").read_text()
    finally:
        service.stop()
