"""The harness's servers on a port someone else took meanwhile: a port `free_port` found free
can be bound by another process before redis-server binds it (on a busy machine, any client
connection may get it as its ephemeral port). A cluster node then starts again on new ports
(CI once failed waiting 30 s for such a node); a single server says why at once; a service
starts again on another port. And the harness itself never hands out one port twice (the
kernel may)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import CLUSTER_ENV, RedisServer, ServiceProcess, free_port, service_env
from tests.topologies import RedisCluster


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(bool(os.environ.get(CLUSTER_ENV)), reason="once per suite is enough")
def test_a_cluster_node_whose_port_was_taken_starts_on_another(tmp_path: Path,
                                                               taken_port: int) -> None:
    cluster = RedisCluster(tmp_path, cluster=False)
    cluster.nodes = [RedisServer(tmp_path / f"node{n}", cluster=False) for n in range(6)]
    cluster.nodes[2].port = taken_port
    try:
        cluster.start()
        assert cluster.nodes[2].port != taken_port
        assert b"cluster_state:ok" in cluster.nodes[2].command("CLUSTER", "INFO")
        assert len(cluster.masters()) == 3
    finally:
        cluster.stop()


def test_a_server_whose_port_was_taken_says_so_at_once(tmp_path: Path, taken_port: int) -> None:
    server = RedisServer(tmp_path, port=taken_port, cluster=False)
    with pytest.raises(RuntimeError, match="exited at start: .*Failed listening on port"):
        server.start()
    assert server.process is not None and server.process.returncode is not None


def test_the_harness_never_hands_out_a_port_twice() -> None:
    # 2,000 picks from ~28,000 ephemeral ports repeat one almost surely when left to chance.
    ports = [free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)


@pytest.mark.slow
def test_a_service_whose_port_was_taken_starts_on_another(redis_url: str,
                                                          tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        service = ServiceProcess(service_env(redis_url, tmp_path / "data"), port=taken)
        service.start(tmp_path / "serve.log")
        try:
            assert service.port != taken and service._healthy()
            assert f"port {taken} on 127.0.0.1 is already in use" in (
                tmp_path / "serve.log").read_text()
        finally:
            service.stop()
