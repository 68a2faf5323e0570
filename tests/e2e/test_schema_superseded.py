"""A running service that sees a newer version mark its store stops serving (within a
heartbeat, 5 s) and exits with the reason: it would not see what the newer version moves, so
it must not go on deciding (docs/configuration.md, "Upgrades"). One process, and a supervisor
with two workers (the supervisor stops them all)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from authsvc.app import ANNOUNCE_EVERY_S
from authsvc.store import SCHEMA_VERSION
from tests.harness import RedisServer, ServiceProcess, service_env

# A newer mark under the suite's own prefix would stop its long-lived services too (as it must
# stop a real one): the services here run under a prefix of their own.
PREFIX = "schema-test"
MARK = f"{PREFIX}:schema"


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_newer_mark_stops_a_running_service_with_the_reason(
        redis_server: RedisServer, redis_url: str, tmp_path: Path, workers: str) -> None:
    log = tmp_path / "serve.log"
    service = ServiceProcess(service_env(redis_url, tmp_path / "data", AUTHSVC_LOG_LEVEL="info",
                                         AUTHSVC_WORKERS=workers, AUTHSVC_KEY_PREFIX=PREFIX)
                             ).start(log)
    assert service.process is not None
    newer = str(SCHEMA_VERSION + 1)
    try:
        while "listening on" not in log.read_text():  # every worker serves
            assert service.process.poll() is None, log.read_text()
            time.sleep(0.05)
        redis_server.command("SET", MARK, newer)
        started = time.monotonic()
        status = service.process.wait(ANNOUNCE_EVERY_S * 2 + 10)
        took = time.monotonic() - started
        mark = redis_server.command("GET", MARK)
    finally:
        service.stop()
        redis_server.command("DEL", MARK)
    print(f"\n[superseded] {workers} worker(s): stopped {took:.1f} s after the newer mark")
    text = log.read_text()
    assert status == 1, text
    assert (f"authsvc: error: stopped serving: this Redis holds data laid out by a newer authsvc "
            f"(schema {newer};") in text
    assert "Traceback" not in text
    assert took < ANNOUNCE_EVERY_S + 8
    assert mark == f"${len(newer)}\r\n{newer}\r\n".encode()  # never lowered


@pytest.mark.slow
def test_the_mark_it_knows_keeps_it_serving(redis_server: RedisServer, redis_url: str,
                                           tmp_path: Path) -> None:
    service = ServiceProcess(service_env(redis_url, tmp_path / "data",
                                         AUTHSVC_KEY_PREFIX=PREFIX)).start(tmp_path / "serve.log")
    assert service.process is not None
    try:
        time.sleep(ANNOUNCE_EVERY_S + 1)  # a heartbeat read the mark (its own)
        assert service.process.poll() is None and service._healthy()
        assert redis_server.command("GET", MARK) == f"$1\r\n{SCHEMA_VERSION}\r\n".encode()
    finally:
        service.stop()
