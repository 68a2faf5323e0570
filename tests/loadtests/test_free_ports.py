"""The load tests' children on a port someone took between `free_port` and their bind (another
process's connection may get it): the ceiling app, the service and the chaos run's Redis and
services start again on another port, as the test harness's servers do. Real processes, a real
held port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from authsvc.tls import write_dev_cert
from loadtests.core import processes, service
from loadtests.core.processes import Children, free_port
from loadtests.scenarios.chaos import RedisChild, ServiceChild


@pytest.fixture
def taken_first(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """`free_port` answers a port this test holds (listening) once, then free ones."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        answers = iter([taken])
        monkeypatch.setattr(processes, "free_port", lambda: next(answers, None) or free_port())
        yield taken


def test_the_ceiling_app_starts_on_another_port_when_its_own_was_taken(
        taken_first: int, redis_url: str, tmp_path: Path) -> None:
    with Children() as children:
        ceiling = service.start_ceiling(children, tmp_path, redis_url)
        assert not ceiling.base_url.endswith(f":{taken_first}")
        assert "already in use" in (tmp_path / "ceiling.log").read_text().lower()


def test_the_service_starts_on_another_port_when_its_own_was_taken(
        taken_first: int, redis_url: str, tmp_path: Path) -> None:
    env = service.service_env(redis_url, "x" * 32, tmp_path / "data")
    with Children() as children:
        started = service.start_service(children, tmp_path, env)
        assert not started.base_url.endswith(f":{taken_first}")
        assert f"port {taken_first} on 127.0.0.1 is already in use" in (
            tmp_path / "service.log").read_text()


def test_the_chaos_runs_redis_starts_on_another_port_and_restarts_on_its_own(
        taken_first: int, tmp_path: Path) -> None:
    with Children() as children:
        redis = RedisChild(children, tmp_path)
        redis.start()
        assert redis.port not in (0, taken_first)
        assert "already in use" in (tmp_path / "redis" / "redis.log").read_text().lower()
        first = redis.port
        redis.kill()
        redis.start()  # after a kill: the same port, which the services reconnect to
        assert redis.port == first and redis.process is not None and redis.process.poll() is None


def test_a_chaos_service_starts_on_another_port_when_its_own_was_taken(
        taken_first: int, redis_url: str, tmp_path: Path) -> None:
    env = service.service_env(redis_url, "x" * 32, tmp_path / "data")
    with Children() as children:
        served = ServiceChild(children, tmp_path, env, write_dev_cert(tmp_path / "tls"), 1)
        served.start()
        assert served.port not in (0, taken_first)
        assert f"port {taken_first} on 127.0.0.1 is already in use" in served.log.read_text()
