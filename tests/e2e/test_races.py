"""Exactly-once under concurrency, over real HTTP against the service process and real Redis.

Each racer is its own duo_client.Auth on its own TCP connection, released together by a barrier.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duo_client
import pytest

from tests.conftest import IntegrationPair
from tests.harness import ServiceProcess
from tokens.oath import HotpToken

SEED = b"race-seed-0123456789"


def _race(service: ServiceProcess, keys: IntegrationPair, racers: int,
          params: dict[str, str]) -> list[dict[str, Any]]:
    """`racers` simultaneous /auth/v2/auth calls with the same parameters."""
    barrier = threading.Barrier(racers)

    def one(_: int) -> dict[str, Any]:
        client = duo_client.Auth(keys.auth.ikey, keys.auth.skey, "127.0.0.1", ca_certs="HTTP",
                                 port=service.port)
        barrier.wait()
        answer: dict[str, Any] = client.auth("passcode", **params)
        return answer

    with ThreadPoolExecutor(racers) as pool:
        return list(pool.map(one, range(racers)))


@pytest.mark.slow
def test_fifty_parallel_requests_with_one_hotp_code_are_accepted_once(
        service: ServiceProcess, integrations: IntegrationPair,
        admin_api: duo_client.Admin) -> None:
    admin_api.update_settings(lockout_threshold=100)
    user = admin_api.add_user("racer")
    hardware = HotpToken(SEED, "RACE-1")
    token = admin_api.add_hotp6_token(hardware.serial, hardware.secret_hex)
    admin_api.add_user_token(user["user_id"], token["token_id"])
    hardware.press_ahead(3)
    answers = _race(service, integrations, 50, {"username": "racer", "passcode": hardware.press()})
    assert Counter(a["result"] for a in answers) == {"allow": 1, "deny": 49}


@pytest.mark.slow
def test_a_bypass_code_with_three_uses_admits_exactly_three_of_thirty(
        service: ServiceProcess, integrations: IntegrationPair,
        admin_api: duo_client.Admin) -> None:
    admin_api.update_settings(lockout_threshold=100)
    user = admin_api.add_user("bypasser")
    code = admin_api.add_user_bypass_codes(user["user_id"], count=1, remaining_uses=3)[0]
    answers = _race(service, integrations, 30, {"username": "bypasser", "passcode": code})
    assert Counter(a["result"] for a in answers) == {"allow": 3, "deny": 27}
    assert admin_api.get_user_bypass_codes(user["user_id"]) == []


@pytest.mark.slow
def test_thirty_parallel_wrong_codes_lock_the_user_after_exactly_threshold_failures(
        service: ServiceProcess, integrations: IntegrationPair,
        admin_api: duo_client.Admin) -> None:
    threshold = 7
    admin_api.update_settings(lockout_threshold=threshold)
    user = admin_api.add_user("locker")
    admin_api.add_user_bypass_codes(user["user_id"], codes=["12345678"])
    answers = _race(service, integrations, 30, {"username": "locker", "passcode": "87654321"})
    assert all(a["result"] == "deny" for a in answers)
    assert admin_api.get_user_by_id(user["user_id"])["status"] == "locked out"
    now_ms = int(time.time() * 1000)
    logs = admin_api.get_authentication_log(api_version=2, users=[user["user_id"]], limit="100",
                                            mintime=now_ms - 60_000, maxtime=now_ms + 1000)
    reasons = Counter(record["reason"] for record in logs["authlogs"])
    assert reasons == {"invalid_passcode": threshold, "locked_out": 30 - threshold}
