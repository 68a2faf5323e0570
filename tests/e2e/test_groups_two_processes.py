"""Two authsvc processes on one Redis: a group or integration changed through one process takes
effect in the other at its next request (group records are cached per process by version;
credentials caches are told through the events channel, not left to expire)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duo_client
import pytest

from tests.conftest import IntegrationPair
from tests.harness import RedisServer, ServiceProcess, service_env

CACHE_SECONDS = 5.0


@pytest.fixture
def pair(redis_server: RedisServer, tmp_path: Path
         ) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    # One user is hammered from four threads on purpose: the per-user rate limit is not tested
    # here (tests/e2e/test_rate_limits.py is), so it is off.
    limits = {"AUTHSVC_RATE_LIMIT_USERNAME": "off"}
    first = ServiceProcess(service_env(redis_server.url, tmp_path / "a", **limits))
    second = ServiceProcess(service_env(redis_server.url, tmp_path / "b", **limits))
    first.start(tmp_path / "a.log")
    second.start(tmp_path / "b.log")
    yield first, second
    first.stop()
    second.stop()


def _admin(process: ServiceProcess, keys: IntegrationPair) -> duo_client.Admin:
    return duo_client.Admin(keys.admin.ikey, keys.admin.skey, "127.0.0.1", ca_certs="HTTP",
                            port=process.port)


def _auth(process: ServiceProcess, ikey: str, skey: str) -> duo_client.Auth:
    return duo_client.Auth(ikey, skey, "127.0.0.1", ca_certs="HTTP", port=process.port)


@pytest.mark.slow
def test_a_group_disabled_through_one_process_denies_at_once_through_the_other(
        pair: tuple[ServiceProcess, ServiceProcess], integrations: IntegrationPair) -> None:
    first, second = pair
    admin = _admin(first, integrations)
    user = admin.add_user("two")
    code = admin.add_user_bypass_codes(user["user_id"], count=1, remaining_uses=0)[0]
    group = admin.create_group("staff")
    admin.add_user_group(user["user_id"], group["group_id"])
    app = _auth(second, integrations.auth.ikey, integrations.auth.skey)
    assert app.auth("passcode", username="two", passcode=code)["result"] == "allow"
    admin.modify_group(group["group_id"], status="disabled")
    assert app.auth("passcode", username="two", passcode=code)["result"] == "deny"
    admin.modify_group(group["group_id"], status="bypass")
    assert app.auth("passcode", username="two", passcode="1")["status"] == "bypass"


@pytest.mark.slow
def test_an_integration_deleted_through_one_process_stops_working_in_the_other_at_once(
        pair: tuple[ServiceProcess, ServiceProcess], integrations: IntegrationPair) -> None:
    first, second = pair
    admin = _admin(first, integrations)
    made = admin.create_integration("doomed", "authapi")
    app = _auth(second, made["integration_key"], made["secret_key"])
    assert app.check()["time"] > 0  # now in the second process's credentials cache
    admin.delete_integration(made["integration_key"])
    started = time.monotonic()
    while True:
        try:
            app.check()
        except RuntimeError as refused:
            assert "401" in str(refused)
            break
        time.sleep(0.02)
    assert time.monotonic() - started < CACHE_SECONDS / 2


@pytest.mark.slow
def test_no_attempt_started_after_a_group_is_disabled_is_let_in(
        pair: tuple[ServiceProcess, ServiceProcess], integrations: IntegrationPair) -> None:
    """A status change racing passcode decisions in two processes: every attempt that began
    after the change returned is denied (attempts already in flight may still have been
    decided before it: the store-level tests show they are redone if they commit after)."""
    first, second = pair
    admin = _admin(first, integrations)
    user = admin.add_user("racer")
    code = admin.add_user_bypass_codes(user["user_id"], count=1, remaining_uses=0)[0]
    group = admin.create_group("racers")
    admin.add_user_group(user["user_id"], group["group_id"])
    changed_at: list[float] = []
    stop = threading.Event()

    def hammer(process: ServiceProcess) -> list[tuple[float, str]]:
        client = _auth(process, integrations.auth.ikey, integrations.auth.skey)
        seen = []
        while not stop.is_set():
            started = time.monotonic()
            seen.append((started, client.auth("passcode", username="racer",
                                              passcode=code)["result"]))
        return seen

    with ThreadPoolExecutor(4) as pool:
        racers = [pool.submit(hammer, process) for process in (first, second, first, second)]
        time.sleep(0.3)
        admin.modify_group(group["group_id"], status="disabled")
        changed_at.append(time.monotonic())
        time.sleep(0.3)
        stop.set()
        results = [item for racer in racers for item in racer.result()]
    after = [result for started, result in results if started > changed_at[0]]
    before = [result for started, result in results if started < changed_at[0]]
    assert after and set(after) == {"deny"}
    assert "allow" in before
