"""SMS passcode batches and phone calls end to end: duo_client on the application side, the
simulated carrier (mobile_sim.carrier) fetching the outbox over HTTP and answering calls, the
service in this process on a clock the test moves."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duo_client
import pytest

from mobile_sim.carrier import Carrier, CarrierError, passcodes, report
from tests.conftest import IntegrationPair
from tests.e2e.carrier_helpers import carrier_of
from tests.harness import RedisServer, redis_command
from tests.inprocess.serving import InProcessService, ServedClock

NUMBER = "+15555550142"


@pytest.fixture
def carrier(service: InProcessService) -> Carrier:
    return carrier_of(service)


@pytest.fixture
def sms_user(admin_api: duo_client.Admin) -> dict[str, Any]:
    user: dict[str, Any] = admin_api.add_user("sam", email="sam@example.org")
    phone = admin_api.add_phone(number=NUMBER, type="mobile", platform="google android")
    admin_api.add_user_phone(user["user_id"], phone["phone_id"])
    user["phone_id"] = phone["phone_id"]
    return user


def _logs(admin: duo_client.Admin, user_id: str,
          now_ms: int | None = None) -> list[dict[str, Any]]:
    now_ms = now_ms or int(time.time() * 1000)
    logs: list[dict[str, Any]] = admin.get_authentication_log(
        api_version=2, users=[user_id], mintime=now_ms - 60_000, maxtime=now_ms + 1000)["authlogs"]
    return logs


def test_an_sms_batch_works_code_by_code_and_preauth_tells_the_next(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, carrier: Carrier,
        sms_user: dict[str, Any], redis_server: RedisServer) -> None:
    devices = auth_api.preauth(username="sam")["devices"]
    assert devices[0]["capabilities"] == ["auto", "sms", "phone"]
    answer = auth_api.auth("sms", username="sam", device="auto")
    assert (answer["result"], answer["status"]) == ("deny", "sent")
    codes = passcodes(carrier.messages("sms", NUMBER)[-1])
    assert len(codes) == 10 and [code[0] for code in codes] == list("1234567890")
    stored = redis_command(redis_server.port, "HGETALL", f"as:{{u:{sms_user['user_id']}}}:sms")
    assert stored.count(b"expires") == 10  # the batch is there, as keyed hashes only
    assert not any(code.encode() in stored for code in codes)
    assert auth_api.preauth(username="sam")["devices"][0]["sms_nextcode"] == "1"
    assert auth_api.auth("passcode", username="sam", passcode=codes[0])["result"] == "allow"
    assert auth_api.auth("passcode", username="sam", passcode=codes[0])["result"] == "deny"
    assert auth_api.preauth(username="sam")["devices"][0]["sms_nextcode"] == "2"
    assert _logs(admin_api, sms_user["user_id"])[1]["factor"] == "sms_passcode"


def test_a_new_batch_invalidates_the_old_and_cost_controls_refuse_more(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, carrier: Carrier,
        sms_user: dict[str, Any]) -> None:
    admin_api.json_api_call("POST", "/admin/v1/settings",
                            {"sms_batch_cooldown": "0", "sms_daily_limit": "2", "sms_batch": "3"})
    auth_api.auth("sms", username="sam", device=sms_user["phone_id"])
    old = passcodes(carrier.messages("sms", NUMBER)[-1])
    assert len(old) == 3
    auth_api.auth("sms", username="sam", device="auto")
    new = passcodes(carrier.messages("sms", NUMBER)[-1])
    assert auth_api.auth("passcode", username="sam", passcode=old[1])["result"] == "deny"
    assert auth_api.auth("passcode", username="sam", passcode=new[1])["result"] == "allow"
    third = auth_api.auth("sms", username="sam", device="auto")
    assert (third["result"], third["status"]) == ("deny", "deny")
    admin_api.json_api_call("POST", "/admin/v1/settings", {"sms_batch_cooldown": "3600",
                                                           "sms_daily_limit": "50"})
    auth_api.auth("sms", username="sam", device="auto")
    reasons = [log["reason"] for log in _logs(admin_api, sms_user["user_id"])]
    assert reasons[:2] == ["sms_cooldown", "sms_daily_limit"]
    assert len(carrier.messages("sms", NUMBER)) == 2


def test_sms_passcodes_expire_after_the_sms_expiration(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, carrier: Carrier,
        sms_user: dict[str, Any], clock: ServedClock) -> None:
    admin_api.json_api_call("POST", "/admin/v1/settings", {"sms_expiration": "1"})  # minutes
    auth_api.auth("sms", username="sam", device="auto")
    codes = passcodes(carrier.messages("sms", NUMBER)[-1])
    clock.advance(59)
    assert auth_api.auth("passcode", username="sam", passcode=codes[0])["result"] == "allow"
    clock.advance(1)
    assert auth_api.auth("passcode", username="sam", passcode=codes[1])["result"] == "deny"


def test_one_sms_code_raced_by_thirty_requests_is_accepted_once(
        admin_api: duo_client.Admin, service: InProcessService, integrations: IntegrationPair,
        carrier: Carrier, sms_user: dict[str, Any]) -> None:
    admin_api.update_settings(lockout_threshold=100)
    admin_api.json_api_call("POST", f"/admin/v1/phones/{sms_user['phone_id']}/send_sms_passcodes",
                            {})
    code = passcodes(carrier.messages("sms", NUMBER)[-1])[4]
    barrier = threading.Barrier(30)

    def one(_: int) -> str:
        client = duo_client.Auth(integrations.auth.ikey, integrations.auth.skey, "127.0.0.1",
                                 ca_certs="HTTP", port=service.port)
        barrier.wait()
        result: str = client.auth("passcode", username="sam", passcode=code)["result"]
        return result

    with ThreadPoolExecutor(30) as pool:
        assert Counter(pool.map(one, range(30))) == {"allow": 1, "deny": 29}


def test_turning_sms_and_calls_off_removes_them_everywhere(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, carrier: Carrier,
        sms_user: dict[str, Any]) -> None:
    auth_api.auth("sms", username="sam", device="auto")
    code = passcodes(carrier.messages("sms", NUMBER)[-1])[0]
    admin_api.json_api_call("POST", "/admin/v1/settings",
                            {"sms_passcodes_enabled": "0", "phone_calls_enabled": "0"})
    preauth = auth_api.preauth(username="sam")
    assert preauth["result"] == "deny" and "devices" not in preauth
    for factor in ("sms", "phone"):
        answer = auth_api.auth(factor, username="sam", device=sms_user["phone_id"])
        assert answer["result"] == "deny"
    assert auth_api.auth("passcode", username="sam", passcode=code)["result"] == "deny"
    reasons = [log["reason"] for log in _logs(admin_api, sms_user["user_id"])]
    assert reasons.count("factor_restricted") >= 3
    admin = admin_api
    sent = admin.send_sms_activation_to_phone(sms_user["phone_id"])  # setup links still go out
    assert sent["activation_msg"] and carrier.messages("sms", NUMBER)[-1]["kind"] == "activation"


@pytest.mark.parametrize(("press", "status", "result"), [("#", "allow", "allow"),
                                                         ("3", "fraud", "deny"),
                                                         ("5", "deny", "deny")])
def test_a_phone_call_is_answered_through_the_carrier(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, carrier: Carrier,
        sms_user: dict[str, Any], press: str, status: str, result: str) -> None:
    txid = auth_api.auth("phone", username="sam", device="auto", async_txn=True)["txid"]
    assert auth_api.auth_status(txid)["status"] == "calling"
    call = carrier.wait_for_call(NUMBER, max_age_s=60, wait_s=5)
    assert call is not None and call["extra"]["call_id"] == txid
    assert "Press #" in call["body"]
    report(call, "answered")
    assert auth_api.auth_status(txid)["status"] == "answered"
    report(call, "keypress", press)
    final = auth_api.auth_status(txid)
    assert (final["status"], final["success"]) == (status, result == "allow")
    assert _logs(admin_api, sms_user["user_id"])[0]["factor"] == "phone_call"
    with pytest.raises(CarrierError, match="404"):
        report({**call, "extra": {**call["extra"], "token": "forged"}}, "keypress", "#")


def test_an_unanswered_call_rings_out(admin_api: duo_client.Admin, auth_api: duo_client.Auth,
                                      sms_user: dict[str, Any], clock: ServedClock) -> None:
    admin_api.json_api_call("POST", "/admin/v1/settings", {"call_timeout": "2"})
    with ThreadPoolExecutor(1) as pool:
        calling = pool.submit(auth_api.auth, "auto", username="sam")
        clock.until_waiting()  # the application's request holds while the phone rings
        clock.advance(3)
        answer = calling.result(10)
    assert (answer["result"], answer["status"]) == ("deny", "timeout")
    assert _logs(admin_api, sms_user["user_id"], clock.now_ms())[0]["reason"] == "no_response"


def test_the_telephony_log_counts_every_sms_and_call(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, sms_user: dict[str, Any]) -> None:
    auth_api.auth("sms", username="sam", device="auto")
    auth_api.auth("phone", username="sam", device="auto", async_txn=True)
    v1 = admin_api.get_telephony_log(mintime=int(time.time()) - 60)
    assert sorted((row["type"], row["phone"], row["context"]) for row in v1) == [
        ("phone", NUMBER, "authentication"), ("sms", NUMBER, "authentication")]
    assert all(row["credits"] >= 1 for row in v1)
    v2 = admin_api.get_telephony_log(api_version=2, mintime=int(time.time() * 1000) - 60_000,
                                     maxtime=int(time.time() * 1000) + 1000)
    assert {item["type"] for item in v2["items"]} == {"sms", "phone"}
    assert v2["metadata"]["total_objects"]["value"] == 2
    assert all(len(item["txid"]) == 36 for item in v2["items"])
