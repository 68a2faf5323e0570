"""The "Not enrolled" lockout reaches users who never come back: a running service's sweep
locks them out, and the Admin API shows it, without any preauth."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import duo_client
import pytest

from tests.conftest import IntegrationPair
from tests.harness import RedisServer, ServiceProcess, service_env


@pytest.fixture
def sweeping_service(redis_server: RedisServer, tmp_path: Path) -> Iterator[ServiceProcess]:
    process = ServiceProcess(service_env(redis_server.url, tmp_path,
                                         AUTHSVC_UNENROLLED_SWEEP_SECONDS="0.3"))
    process.start(tmp_path / "serve.log")
    yield process
    process.stop()


def _created_days_ago(redis_server: RedisServer, user_id: str, days: int) -> None:
    """Move the user's creation back in time, in the record and in the creation-ordered list."""
    created = int(time.time()) - days * 86_400
    redis_server.command("HSET", f"as:{{u:{user_id}}}:user", "created", str(created))
    redis_server.command("ZADD", "as:users", str(created * 1000), user_id)


@pytest.mark.slow
def test_the_sweep_locks_out_users_without_a_device_after_the_threshold(
        sweeping_service: ServiceProcess, redis_server: RedisServer,
        integrations: IntegrationPair) -> None:
    admin = duo_client.Admin(integrations.admin.ikey, integrations.admin.skey, "127.0.0.1",
                             ca_certs="HTTP", port=sweeping_service.port)
    idle = admin.add_user("idle")
    enrolled = admin.add_user("enrolled")
    admin.add_user_bypass_codes(enrolled["user_id"], count=1)
    fresh = admin.add_user("fresh")
    for user in (idle, enrolled):
        _created_days_ago(redis_server, user["user_id"], 3)
    admin.update_settings(unenrolled_user_lockout_threshold=2)

    deadline = time.monotonic() + 10
    while admin.get_user_by_id(idle["user_id"])["status"] != "locked out":
        assert time.monotonic() < deadline, "the sweep did not lock the idle user out"
        time.sleep(0.1)
    assert admin.get_user_by_id(idle["user_id"])["lockout_reason"] == "Not enrolled"
    time.sleep(1)  # a few more sweeps
    assert admin.get_user_by_id(enrolled["user_id"])["status"] == "active"
    assert admin.get_user_by_id(fresh["user_id"])["status"] == "active"
