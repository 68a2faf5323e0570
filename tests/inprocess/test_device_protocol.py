"""The device API exactly as liberal as third-party Duo Mobile clients need, and no more."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from authsvc.domain.device import MAX_DEVICE_WAIT_S, poll_window
from authsvc.tls import DevCert
from mobile_sim.client import APP_FACTS, DeviceClient, DeviceError, ssl_context
from mobile_sim.protocol import (
    new_device_key,
    parse_value,
    public_pem,
    sign_request,
    value_from_activation_page,
)
from mobile_sim.state import Account, private_pem
from tests.conftest import IntegrationPair
from tests.e2e.push_helpers import Clients, activate_phone, new_phone, one_push, tls_clients
from tests.inprocess.serving import InProcessService, ServedClock


@dataclass
class Setup:
    clients: Clients
    user: dict[str, Any]
    phone: dict[str, Any]
    session: aiohttp.ClientSession
    base: str


@pytest.fixture
async def setup(tls_service: InProcessService, integrations: IntegrationPair,
                dev_cert: DevCert) -> AsyncIterator[Setup]:
    clients = tls_clients(tls_service, integrations, dev_cert)
    user = clients.admin.add_user("dora")
    phone = new_phone(clients.admin, user["user_id"])
    async with aiohttp.ClientSession() as session:
        yield Setup(clients, user, phone, session, f"https://127.0.0.1:{tls_service.port}")


async def _post(setup: Setup, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with setup.session.post(setup.base + path, ssl=ssl_context(setup.clients.ca_file),
                                  **kwargs) as reply:
        return reply.status, await reply.json()


async def _get(setup: Setup, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with setup.session.get(setup.base + path, ssl=ssl_context(setup.clients.ca_file),
                                 **kwargs) as reply:
        return reply.status, await reply.json()


def _code(activation: dict[str, Any]) -> str:
    return str(urlsplit(activation["activation_url"]).path.rsplit("/", 1)[1])


async def test_activation_links_qr_and_page_agree(setup: Setup) -> None:
    activation = setup.clients.admin.create_activation_url(setup.phone["phone_id"], valid_secs=600)
    assert activation["valid_secs"] == 600
    code = _code(activation)
    assert len(code) == 20 and code.isalnum()
    qr_url = activation["activation_barcode"]
    assert "/frame/qr?value=duo%3A%2F%2F" in qr_url
    async with setup.session.get(qr_url, ssl=ssl_context(setup.clients.ca_file)) as reply:
        assert reply.content_type == "image/png"
        assert (await reply.read()).startswith(b"\x89PNG")
        assert reply.headers["Access-Control-Allow-Origin"] == "*"
    async with setup.session.get(activation["activation_url"],
                                 ssl=ssl_context(setup.clients.ca_file)) as reply:
        page = await reply.text()
    assert f"duo&#x3a;&#x2f;&#x2f;{code}-" in page
    value = value_from_activation_page(page)
    assert value.code == code and value.host == f"127.0.0.1:{setup.base.rsplit(':', 1)[1]}"


@pytest.mark.parametrize(("phone_type", "platform"), [("landline", "unknown"),
                                                       ("mobile", "unknown")])
def test_activation_is_refused_for_landlines_and_unknown_platforms(
        setup: Setup, phone_type: str, platform: str) -> None:
    phone = setup.clients.admin.add_phone(number="+15555550199", type=phone_type,
                                          platform=platform)
    with pytest.raises(RuntimeError, match="400"):
        setup.clients.admin.create_activation_url(phone["phone_id"])


async def test_activation_params_may_come_in_the_query_or_a_question_mark_body(
        setup: Setup) -> None:
    key = new_device_key()
    first = _code(setup.clients.admin.create_activation_url(setup.phone["phone_id"]))
    query = {"pubkey": public_pem(key), "pkpush": "rsa-sha512", "platform": "iOS"}
    status, body = await _post(setup, f"/push/v2/activation/{first}", params=query)
    assert status == 200 and body["response"]["pkey"] == setup.phone["phone_id"]
    second = _code(setup.clients.admin.create_activation_url(setup.phone["phone_id"]))
    form = "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    status, body = await _post(setup, f"/push/v2/activation/duo%3A%2F%2F{second}",
                               data=form.encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body


async def test_activation_refusals(setup: Setup) -> None:
    code = _code(setup.clients.admin.create_activation_url(setup.phone["phone_id"]))
    status, body = await _post(setup, f"/push/v2/activation/{code}", data={"platform": "Android"})
    assert (status, body["code"]) == (401, 40112)
    pem = public_pem(new_device_key())
    status, body = await _post(setup, f"/push/v2/activation/{code}",
                               data={"pubkey": pem, "pkpush": "rsa-sha512", "platform": "ios"})
    assert (status, body["code"], body["message"]) == (400, 40002, "Unsupported platform")
    status, body = await _post(setup, f"/push/v2/activation/{code}",
                               data={"pubkey": pem, "pkpush": "rsa-sha512", **APP_FACTS})
    assert (status, body["code"]) == (404, 40403)  # the code was consumed by the bad platform


async def test_a_new_activation_cuts_off_the_app_activated_before(setup: Setup) -> None:
    old = await activate_phone(setup.session, setup.clients.admin, setup.phone["phone_id"],
                               setup.clients.ca_file)
    stale_code = _code(setup.clients.admin.create_activation_url(setup.phone["phone_id"]))
    with pytest.raises(DeviceError) as refused:
        await DeviceClient(setup.session, old).transactions()
    assert refused.value.code == 40103
    assert setup.clients.admin.get_phone_by_id(setup.phone["phone_id"])["activated"] is False
    new = await activate_phone(setup.session, setup.clients.admin, setup.phone["phone_id"],
                               setup.clients.ca_file)
    assert await DeviceClient(setup.session, new).transactions() == []
    status, body = await _post(setup, f"/push/v2/activation/{stale_code}",
                               data={"pubkey": public_pem(new_device_key()),
                                     "pkpush": "rsa-sha512", "platform": "Android"})
    assert (status, body["code"]) == (404, 40403)


def _signed(account: Account, method: str, path: str, params: list[tuple[str, str]],
            **overrides: str) -> dict[str, str]:
    return sign_request(account.private_key(), account.pkey, method=method, host=account.host,
                        path=path, params=params, **overrides)


async def test_signatures_over_sorted_or_as_received_params_and_any_rfc2822_date(
        setup: Setup) -> None:
    account = await activate_phone(setup.session, setup.clients.admin, setup.phone["phone_id"],
                                   setup.clients.ca_file)
    path = "/push/v2/device/transactions"
    for date in (email.utils.formatdate(), email.utils.formatdate(usegmt=True),
                 email.utils.formatdate().replace("-0000", "+0000")):
        params = [("akey", account.akey), ("pkpush", "rsa-sha512")]
        status, _ = await _get(setup, path, params=params,
                               headers=_signed(account, "GET", path, params, date=date))
        assert status == 200, date
    # An insertion-order client: signs the raw, unsorted query string as sent.
    raw = f"pkpush=rsa-sha512&akey={account.akey}"
    date = email.utils.formatdate()
    canonical = "\n".join([date, "GET", account.host, path, raw]).encode()
    signature = base64.b64encode(account.private_key().sign(canonical, padding.PKCS1v15(),
                                                            hashes.SHA512())).decode()
    auth = base64.b64encode(f"{account.pkey}:{signature}".encode()).decode()
    async with setup.session.get(f"{setup.base}{path}?{raw}", ssl=ssl_context(setup.clients.ca_file),
                                 headers={"Authorization": f"Basic {auth}",
                                          "x-duo-date": date}) as reply:
        assert reply.status == 200


async def test_bad_device_signatures_are_refused(setup: Setup) -> None:
    account = await activate_phone(setup.session, setup.clients.admin, setup.phone["phone_id"],
                                   setup.clients.ca_file)
    path = "/push/v2/device/transactions"
    params = [("akey", account.akey)]
    good = _signed(account, "GET", path, params)
    for _ in range(2):  # an identical poll within the same second is not a replay
        status, _ = await _get(setup, path, params=params, headers=good)
        assert status == 200
    registration = "/push/v2/device/registration"
    token = [("akey", account.akey), ("token", "fcm-token")]
    signed_post = _signed(account, "POST", registration, token)
    status, _ = await _post(setup, registration, data=token, headers=signed_post)
    assert status == 200
    status, body = await _post(setup, registration, data=token, headers=signed_post)
    assert (status, body["code"]) == (401, 40103)  # a replayed POST changes nothing
    cases = {
        "other params": (_signed(account, "GET", path, params), [("akey", account.akey),
                                                                 ("extra", "1")]),
        "other key": (_signed(Account(account.host, account.pkey, account.akey,
                                      account.hotp_secret, private_pem(new_device_key())),
                              "GET", path, params), params),
        "signed for another host": (sign_request(account.private_key(), account.pkey,
                                                 method="GET", host="evil.example", path=path,
                                                 params=params), params),
        "old date": (_signed(account, "GET", path, params,
                             date=email.utils.formatdate(time.time() - 400)), params),
        "unsigned": ({}, params),
    }
    for name, (headers, sent) in cases.items():
        status, body = await _get(setup, path, params=sent, headers=headers)
        assert status == 401 and body["stat"] == "FAIL", name


async def test_cors_preflight_on_the_device_api(setup: Setup) -> None:
    async with setup.session.options(f"{setup.base}/push/v2/device/transactions",
                                     ssl=ssl_context(setup.clients.ca_file),
                                     headers={"Origin": "chrome-extension://abc",
                                              "Access-Control-Request-Method": "GET"}) as reply:
        assert reply.status == 204
        assert reply.headers["Access-Control-Allow-Origin"] == "*"
        assert "x-duo-date" in reply.headers["Access-Control-Allow-Headers"]


async def _pushed(setup: Setup) -> tuple[Account, str, str]:
    """An activated phone with one async push pending: the account, the txid and the path
    its answer is posted to."""
    account = await activate_phone(setup.session, setup.clients.admin, setup.phone["phone_id"],
                                   setup.clients.ca_file)
    txid = setup.clients.auth.auth("push", username="dora", device="auto",
                                   async_txn=True)["txid"]
    push = await one_push(DeviceClient(setup.session, account))
    return account, txid, f"/push/v2/device/transactions/{push['urgid']}"


async def test_answers_may_travel_in_the_query_of_a_post(setup: Setup) -> None:
    account, txid, path = await _pushed(setup)
    urgid = path.rsplit("/", 1)[1]
    params = [("answer", "approve"), ("txId", urgid)]
    status, body = await _post(setup, path, params=params,
                               headers=_signed(account, "POST", path, params))
    assert (status, body["response"]) == (200, {"result": "SUCCESS"})
    assert setup.clients.auth.auth_status(txid)["success"] is True


async def test_a_replayed_answer_is_refused_as_a_replay(setup: Setup) -> None:
    """The answer's replay guard lives in push_resolve.lua (one command fewer per push): the
    same signed answer sent twice is refused as a replay, not as an unknown push."""
    account, txid, path = await _pushed(setup)
    params = [("answer", "deny")]
    headers = _signed(account, "POST", path, params)
    status, body = await _post(setup, path, data=params, headers=headers)
    assert (status, body["response"]) == (200, {"result": "SUCCESS"})
    status, body = await _post(setup, path, data=params, headers=headers)
    assert (status, body["code"], body["message_detail"]) == (
        401, 40103, "signature already used")
    ended = setup.clients.auth.auth_status(txid)
    assert (ended["waiting"], ended["success"]) == (False, False)  # still the first answer's


def test_activation_values_round_trip_through_the_simulator_parser() -> None:
    value = parse_value("duo://AbCdEfGhIjKlMnOpQrSt-" +
                        base64.b64encode(b"[000:0000:0000:0000::1]:8443").decode().rstrip("="))
    assert value.host == "[000:0000:0000:0000::1]:8443" and len(value.host) == 28


async def test_registration_and_info_are_signed_calls(setup: Setup) -> None:
    account = await activate_phone(setup.session, setup.clients.admin, setup.phone["phone_id"],
                                   setup.clients.ca_file)
    device = DeviceClient(setup.session, account)
    assert await device.register("fcm:abc") == {}
    info = await device.info()
    assert info["pkey"] == setup.phone["phone_id"] and info["customer_name"] == "authsvc"
    status, body = await _get(setup, "/push/v2/device/info")
    assert (status, body["code"]) == (401, 40101)


async def test_a_poll_records_when_the_phone_was_last_seen_once_a_minute(
        setup: Setup, clock: ServedClock) -> None:
    account = await activate_phone(setup.session, setup.clients.admin, setup.phone["phone_id"],
                                   setup.clients.ca_file)
    device = DeviceClient(setup.session, account)
    before = int(clock.now())
    await device.transactions()
    seen = setup.clients.admin.get_phone_by_id(setup.phone["phone_id"])["last_seen"]
    assert before - 1 <= seen <= int(clock.now())
    # Phones poll every second; within the minute the record is not written again.
    clock.advance(30)
    await device.transactions()
    assert setup.clients.admin.get_phone_by_id(setup.phone["phone_id"])["last_seen"] == seen
    clock.advance(31)
    await device.transactions()
    assert setup.clients.admin.get_phone_by_id(setup.phone["phone_id"])["last_seen"] == seen + 61


async def test_an_empty_long_poll_ends_in_the_last_fifth_of_its_wait(
        setup: Setup, clock: ServedClock) -> None:
    """Phones that poll in step (a fleet activated at once, a restart) fall out of step: an
    empty poll asked to wait 10 s ends after 8 to 10 s (`poll_window`)."""
    account = await activate_phone(setup.session, setup.clients.admin, setup.phone["phone_id"],
                                   setup.clients.ca_file)
    device = DeviceClient(setup.session, account)
    poll = asyncio.create_task(device.transactions(wait=10))
    await clock.waiting()
    clock.advance(7.95)
    await asyncio.sleep(0.1)
    assert not poll.done(), "the poll ended before 80% of its wait"
    clock.advance(2.05)
    assert await asyncio.wait_for(poll, 5) == []


def test_poll_windows_spread_over_the_last_fifth_of_the_wait() -> None:
    windows = [poll_window(10) for _ in range(2_000)]
    assert 8 <= min(windows) < 8.1 and 9.9 < max(windows) <= 10
    assert poll_window(600) <= MAX_DEVICE_WAIT_S
