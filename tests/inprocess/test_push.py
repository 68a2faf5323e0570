"""Duo Push end to end over HTTPS: duo_client on the application side, mobile_sim as the phone,
the service in this process on a clock the test moves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from authsvc.tls import DevCert
from mobile_sim.client import DeviceClient, DeviceError, passcode
from mobile_sim.phone import attribute
from tests.conftest import IntegrationPair
from tests.e2e.push_helpers import Clients, activate_phone, new_phone, one_push, tls_clients
from tests.inprocess.serving import InProcessService, ServedClock


@dataclass
class World:
    clients: Clients
    user: dict[str, Any]
    phone: dict[str, Any]
    device: DeviceClient
    session: aiohttp.ClientSession
    clock: ServedClock


@pytest.fixture
async def world(tls_service: InProcessService, integrations: IntegrationPair,
                dev_cert: DevCert, clock: ServedClock) -> AsyncIterator[World]:
    clients = tls_clients(tls_service, integrations, dev_cert)
    user = clients.admin.add_user("pia", realname="Pia", email="pia@example.org")
    phone = new_phone(clients.admin, user["user_id"])
    async with aiohttp.ClientSession() as session:
        account = await activate_phone(session, clients.admin, phone["phone_id"], clients.ca_file)
        yield World(clients, user, phone, DeviceClient(session, account), session, clock)


async def _auth(world: World, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = await asyncio.to_thread(world.clients.auth.auth, **params)
    return result


async def _status(world: World, txid: str) -> dict[str, Any]:
    result: dict[str, Any] = await asyncio.to_thread(world.clients.auth.auth_status, txid)
    return result


async def test_activation_gives_an_activated_phone_in_preauth(world: World) -> None:
    phone = world.clients.admin.get_phone_by_id(world.phone["phone_id"])
    assert phone["activated"] is True
    assert phone["capabilities"] == ["auto", "push", "mobile_otp", "sms", "phone"]
    assert world.device.account.pkey == world.phone["phone_id"]
    assert len(world.device.account.hotp_secret) == 32
    devices = world.clients.auth.preauth(username="pia")["devices"]
    assert devices[0]["device"] == world.phone["phone_id"]
    assert devices[0]["type"] == "phone" and devices[0]["number"] == "XXX-XXX-0100"


async def test_a_synchronous_push_is_allowed_when_the_phone_approves(world: World) -> None:
    waiting = asyncio.create_task(_auth(world, factor="push", username="pia", device="auto",
                                        ipaddr="198.51.100.7", display_username="Pia P.",
                                        pushinfo="ticket=42&from=VPN", type="Login"))
    push = await one_push(world.device)
    assert attribute(push, "Username") == "Pia P."
    assert attribute(push, "Application") == "test application"
    assert attribute(push, "IP Address") == "198.51.100.7"
    assert attribute(push, "ticket") == "42" and attribute(push, "from") == "VPN"
    assert isinstance(attribute(push, "Time"), int) and push["type"] == "Login"
    assert "step_up_code_info" not in push
    assert await world.device.answer(push["urgid"], "approve") == {"result": "SUCCESS"}
    answer = await waiting
    assert (answer["result"], answer["status"]) == ("allow", "allow")
    with pytest.raises(DeviceError) as again:
        await world.device.answer(push["urgid"], "deny")
    assert (again.value.status, again.value.code) == (404, 40404)


@pytest.mark.parametrize(("answer", "fraud", "status"), [("deny", False, "deny"),
                                                          ("deny", True, "fraud")])
async def test_deny_and_fraud_deny_the_login(world: World, answer: str, fraud: bool,
                                             status: str) -> None:
    txid = (await _auth(world, factor="push", username="pia", device=world.phone["phone_id"],
                        async_txn=True))["txid"]
    first = await _status(world, txid)
    assert (first["waiting"], first["status"]) == (True, "pushed")
    push = await one_push(world.device)
    await world.device.answer(push["urgid"], answer, fraud=fraud)
    final = await _status(world, txid)
    assert (final["success"], final["status"]) == (False, status)
    logs = world.clients.admin.get_authentication_log(
        api_version=2, mintime=int(time.time() * 1000) - 60_000,
        maxtime=int(time.time() * 1000) + 1000)["authlogs"]
    record = logs[0]
    assert record["factor"] == "duo_push"
    assert (record["result"], record["reason"]) == (
        ("fraud", "user_marked_fraud") if fraud else ("denied", "user_cancelled"))


async def test_fraud_locks_the_user_out_when_the_setting_says_so(world: World) -> None:
    world.clients.admin.update_settings(lockout_threshold=10)
    world.clients.admin.json_api_call("POST", "/admin/v1/settings", {"fraud_locks_user": "1"})
    txid = (await _auth(world, factor="push", username="pia", device="auto",
                        async_txn=True))["txid"]
    push = await one_push(world.device)
    await world.device.answer(push["urgid"], "deny", fraud=True)
    assert (await _status(world, txid))["status"] == "fraud"
    user = world.clients.admin.get_user_by_id(world.user["user_id"])
    assert (user["status"], user["lockout_reason"]) == ("locked out", "Fraud reported")


async def test_an_unanswered_push_times_out(world: World) -> None:
    world.clients.admin.json_api_call("POST", "/admin/v1/settings", {"push_timeout": "2"})
    waiting = asyncio.create_task(_auth(world, factor="push", username="pia", device="auto"))
    push = await one_push(world.device)
    await world.clock.waiting()  # the application's request holds for the answer
    world.clock.advance(1.5)
    assert [p["urgid"] for p in await world.device.transactions()] == [push["urgid"]]
    assert not waiting.done()
    world.clock.advance(1)
    answer = await asyncio.wait_for(waiting, 10)
    assert (answer["result"], answer["status"]) == ("deny", "timeout")
    assert await world.device.transactions() == []


async def test_auth_status_long_polls_until_the_state_changes(world: World) -> None:
    txid = (await _auth(world, factor="push", username="pia", device="auto",
                        async_txn=True))["txid"]
    assert (await _status(world, txid))["waiting"] is True
    polling = asyncio.create_task(_status(world, txid))
    push = await one_push(world.device)
    await world.clock.waiting()
    assert not polling.done()  # the second poll blocks: nothing changed yet
    await world.device.answer(push["urgid"], "approve")
    assert (await asyncio.wait_for(polling, 10))["success"] is True


async def test_verified_push_needs_the_code_shown_at_login(world: World) -> None:
    admin, auth = world.clients.admin, world.clients.auth
    admin.json_api_call("POST", "/admin/v1/settings",
                        {"verified_push_enabled": "1", "verified_push_digits": "4"})
    pre = auth.preauth(username="pia", client_supports_verified_push=True)
    code, txid = pre["verification_code"], pre["txid"]
    assert len(code) == 4 and code.isdigit() and pre["expiration"] > time.time()
    started = await _auth(world, factor="push", username="pia", device="auto", txid=txid,
                          async_txn=True)
    assert started["txid"] == txid
    push = await one_push(world.device)
    assert push["step_up_code_info"] == {"num_digits": 4}
    wrong = "0000" if code != "0000" else "1111"
    with pytest.raises(DeviceError) as refused:
        await world.device.answer(push["urgid"], "approve", step_up_code=wrong)
    assert (refused.value.status, refused.value.code) == (400, 40032)
    assert (await _status(world, txid))["waiting"] is True
    await world.device.answer(push["urgid"], "approve", step_up_code=code)
    assert (await _status(world, txid))["success"] is True


async def test_a_verified_push_txid_is_refused_after_its_expiration(world: World) -> None:
    world.clients.admin.json_api_call("POST", "/admin/v1/settings",
                                      {"verified_push_enabled": "1", "push_timeout": "30"})
    pre = world.clients.auth.preauth(username="pia", client_supports_verified_push=True)
    assert pre["expiration"] == int(world.clock.now()) + 30
    world.clock.advance(31)
    with pytest.raises(RuntimeError, match="400.*txid"):
        await _auth(world, factor="push", username="pia", device="auto", txid=pre["txid"],
                    async_txn=True)

async def test_three_wrong_verification_codes_deny_the_push(world: World) -> None:
    world.clients.admin.json_api_call("POST", "/admin/v1/settings",
                                      {"verified_push_enabled": "1"})
    pre = world.clients.auth.preauth(username="pia", client_supports_verified_push=True)
    assert len(pre["verification_code"]) == 3
    await _auth(world, factor="push", username="pia", device="auto", txid=pre["txid"],
                async_txn=True)
    push = await one_push(world.device)
    # Three different wrong codes (an identical signed request would be a refused replay).
    wrong = [code for code in ("997", "998", "999", "996") if code != pre["verification_code"]]
    for attempt in range(2):
        with pytest.raises(DeviceError, match="40032"):
            await world.device.answer(push["urgid"], "approve", step_up_code=wrong[attempt])
    await world.device.answer(push["urgid"], "approve", step_up_code=wrong[2])
    assert (await _status(world, pre["txid"]))["status"] == "deny"
    logs = world.clients.admin.get_authentication_log(
        api_version=2, mintime=int(time.time() * 1000) - 60_000,
        maxtime=int(time.time() * 1000) + 1000)["authlogs"]
    assert logs[0]["reason"] == "verification_code_incorrect"


async def test_a_txid_of_another_user_or_none_at_all_is_refused(world: World) -> None:
    with pytest.raises(RuntimeError, match="400.*txid"):
        await _auth(world, factor="push", username="pia", device="auto",
                    txid="00000000-0000-0000-0000-000000000000")


async def test_duo_mobile_passcodes_work_once_and_are_logged(world: World) -> None:
    account = world.device.account
    account.hotp_counter = 3  # an app that started at 1 and skipped some codes
    code = passcode(account)
    answer = world.clients.auth.auth("passcode", username="pia", passcode=code)
    assert answer["result"] == "allow"
    assert world.clients.auth.auth("passcode", username="pia", passcode=code)["result"] == "deny"
    logs = world.clients.admin.get_authentication_log(
        api_version=2, mintime=int(time.time() * 1000) - 60_000,
        maxtime=int(time.time() * 1000) + 1000)["authlogs"]
    assert [log["factor"] for log in logs[1:]] == ["duo_mobile_passcode"]
