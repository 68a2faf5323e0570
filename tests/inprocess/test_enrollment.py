"""Enrollment by email, the enrollment and self-service portals, the recovery scenario after
SMS and calls are turned off, and the "Not enrolled" lockout - end to end over HTTPS with the
simulated phone, carrier and inbox."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from authsvc.tls import DevCert
from mobile_sim.carrier import Carrier, links
from mobile_sim.client import (
    DeviceClient,
    activate,
    enroll_from_link,
    resolve_activation,
    ssl_context,
)
from tests.conftest import IntegrationPair
from tests.e2e.carrier_helpers import carrier_of
from tests.e2e.push_helpers import Clients, one_push, tls_clients
from tests.harness import RedisServer, redis_command
from tests.inprocess.serving import InProcessService


@dataclass
class Env:
    clients: Clients
    carrier: Carrier
    session: aiohttp.ClientSession
    base: str


@pytest.fixture
def carrier(tls_service: InProcessService) -> Carrier:
    return carrier_of(tls_service)


@pytest.fixture
async def env(tls_service: InProcessService, integrations: IntegrationPair, dev_cert: DevCert,
              carrier: Carrier) -> AsyncIterator[Env]:
    jar = aiohttp.CookieJar(unsafe=True)  # the service is addressed by IP here
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield Env(tls_clients(tls_service, integrations, dev_cert), carrier, session,
                  f"https://127.0.0.1:{tls_service.port}")


def _mailed_link(env: Env, address: str) -> str:
    return links(env.carrier.messages("email", address)[-1])[0]


async def _push_approved(env: Env, device: DeviceClient, username: str) -> None:
    txid = env.clients.auth.auth("push", username=username, device="auto", async_txn=True)["txid"]
    await device.answer((await one_push(device))["urgid"], "approve")
    assert env.clients.auth.auth_status(txid)["success"] is True


async def test_enroll_user_mails_a_link_that_enrolls_duo_mobile_once(env: Env) -> None:
    admin = env.clients.admin
    admin.enroll_user("nora", "nora@example.org")
    user = admin.get_users_by_name("nora")[0]
    assert user["email"] == "nora@example.org"
    [pending] = admin.json_api_call("GET", "/admin/v1/enrollments", {})
    assert pending["user_id"] == user["user_id"]
    assert 29 * 86400 < pending["expires"] - time.time() <= 30 * 86400
    link = _mailed_link(env, "nora@example.org")
    account = await enroll_from_link(env.session, link, env.clients.ca_file)
    await _push_approved(env, DeviceClient(env.session, account), "nora")
    async with env.session.get(link, ssl=ssl_context(env.clients.ca_file)) as reply:
        assert reply.status == 404  # used
    assert admin.json_api_call("GET", "/admin/v1/enrollments", {}) == []
    admin.enroll_user("nora", "nora@example.org")  # enrolled now: no new mail
    assert len(env.carrier.messages("email", "nora@example.org")) == 1


async def test_the_portal_can_add_a_phone_for_sms(env: Env) -> None:
    env.clients.admin.enroll_user("omar", "omar@example.org")
    link = _mailed_link(env, "omar@example.org")
    async with env.session.post(link + "/sms", data={"number": "+15555550166"},
                                ssl=ssl_context(env.clients.ca_file)) as reply:
        assert reply.status == 200 and "can now receive SMS" in await reply.text()
    answer = env.clients.auth.auth("sms", username="omar", device="auto")
    assert answer["status"] == "sent" and env.carrier.messages("sms", "+15555550166")


async def test_resend_mails_the_same_link_with_its_expiry_and_delete_kills_it(env: Env) -> None:
    """Seeds 001/002: a resend is another copy of the same link, its expiration unchanged, and
    the link keeps working; it goes to the user's current email (seed 002)."""
    admin = env.clients.admin
    admin.enroll_user("pat", "old@example.org", valid_secs=3600)
    [pending] = admin.json_api_call("GET", "/admin/v1/enrollments", {})
    assert (pending["username"], pending["email"]) == ("pat", "old@example.org")
    first = _mailed_link(env, "old@example.org")
    user_id = admin.get_users_by_name("pat")[0]["user_id"]
    admin.update_user(user_id, email="new@example.org")
    [listed] = admin.json_api_call("GET", "/admin/v1/enrollments", {})
    assert (listed["email"], listed["sent_to"]) == ("new@example.org", "old@example.org")
    resent = admin.json_api_call("POST", f"/admin/v1/enrollments/{pending['enrollment_id']}/resend",
                                 {})
    assert (resent["expires"], resent["email"]) == (pending["expires"], "new@example.org")
    assert _mailed_link(env, "new@example.org") == first
    context = ssl_context(env.clients.ca_file)
    async with env.session.get(first, ssl=context) as reply:
        assert reply.status == 200  # still the one live link
    [after] = admin.json_api_call("GET", "/admin/v1/enrollments", {})
    assert after["expires"] == pending["expires"]
    admin.json_api_call("DELETE", f"/admin/v1/enrollments/{pending['enrollment_id']}", {})
    async with env.session.get(first, ssl=context) as reply:
        assert reply.status == 404
    with pytest.raises(RuntimeError, match="400.*email"):
        admin.enroll_user("quin", "not-an-email")
    admin.add_user("nomail")
    admin.enroll_user("nomail", "tmp@example.org")
    [pending] = [p for p in admin.json_api_call("GET", "/admin/v1/enrollments", {})
                 if p["username"] == "nomail"]
    nomail = admin.get_users_by_name("nomail")[0]["user_id"]
    admin.update_user(nomail, email="")
    with pytest.raises(RuntimeError, match="400.*email"):
        admin.json_api_call("POST", f"/admin/v1/enrollments/{pending['enrollment_id']}/resend",
                            {})


def test_bulk_enrollment_checks_every_row_first(env: Env) -> None:
    admin = env.clients.admin
    with pytest.raises(RuntimeError, match="line 3"):
        admin.json_api_call("POST", "/admin/v1/users/enroll/bulk",
                            {"csv": "username,email\nrae,rae@example.org\nsid,no-at-sign\n"})
    assert admin.get_users_by_name("rae") == []
    report = admin.json_api_call("POST", "/admin/v1/users/enroll/bulk",
                                 {"csv": "rae,rae@example.org\nsid,sid@example.org\n"})
    assert [(row["line"], row["username"], row["mailed"]) for row in report] == \
        [(1, "rae", True), (2, "sid", True)]
    assert env.carrier.messages("email", "sid@example.org")


async def _portal_login(env: Env, username: str, passcode: str) -> str:
    context = ssl_context(env.clients.ca_file)
    async with env.session.post(f"{env.base}/portal/self/login", ssl=context,
                                data={"username": username, "passcode": passcode,
                                      "method": "passcode"}) as reply:
        page = await reply.text()
        assert reply.status == 200 and 'id="devices"' in page, page
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


async def test_recovery_a_bypass_code_then_duo_mobile_in_the_self_service_portal(
        env: Env) -> None:
    admin, auth = env.clients.admin, env.clients.auth
    user = admin.add_user("uma")
    landline = admin.add_phone(number="+15555550155", type="landline")
    admin.add_user_phone(user["user_id"], landline["phone_id"])
    admin.json_api_call("POST", "/admin/v1/settings",
                        {"sms_passcodes_enabled": "0", "phone_calls_enabled": "0"})
    preauth = auth.preauth(username="uma")
    assert preauth["result"] == "deny" and "enroll_portal_url" not in preauth
    assert auth.auth("phone", username="uma", device="auto")["result"] == "deny"

    [code] = admin.add_user_bypass_codes(user["user_id"], count=1)
    csrf = await _portal_login(env, "uma", code)
    context = ssl_context(env.clients.ca_file)
    async with env.session.post(f"{env.base}/portal/self/devices/mobile", ssl=context,
                                data={"csrf": csrf, "platform": "ios"}) as reply:
        page = await reply.text()
    activation = re.search(r'id="activation-link" href="([^"]+)"', page)
    assert activation is not None
    value = await resolve_activation(env.session, activation.group(1), env.clients.ca_file)
    device = DeviceClient(env.session, await activate(env.session, value, env.clients.ca_file))
    await _push_approved(env, device, "uma")
    async with env.session.post(f"{env.base}/portal/self/devices/mobile", ssl=context,
                                data={"csrf": "forged", "platform": "ios"}) as reply:
        assert reply.status == 403


async def test_recovery_b_the_phone_made_mobile_and_linked_by_sms(env: Env) -> None:
    admin, auth = env.clients.admin, env.clients.auth
    user = admin.add_user("vera")
    phone = admin.add_phone(number="+15555550188", type="mobile", platform="generic smartphone")
    admin.add_user_phone(user["user_id"], phone["phone_id"])
    admin.json_api_call("POST", "/admin/v1/settings",
                        {"sms_passcodes_enabled": "0", "phone_calls_enabled": "0"})
    assert auth.preauth(username="vera")["result"] == "deny"
    admin.update_phone(phone["phone_id"], type="mobile", platform="google android")
    admin.send_sms_activation_to_phone(phone["phone_id"])
    link = [url for url in links(env.carrier.messages("sms", "+15555550188")[-1])
            if "/activate/" in url][0]
    value = await resolve_activation(env.session, link, env.clients.ca_file)
    device = DeviceClient(env.session, await activate(env.session, value, env.clients.ca_file))
    assert auth.preauth(username="vera")["devices"][0]["capabilities"] == \
        ["auto", "push", "mobile_otp"]
    await _push_approved(env, device, "vera")


async def test_self_service_deletes_a_lost_device(env: Env) -> None:
    admin = env.clients.admin
    user = admin.add_user("wes")
    lost = admin.add_phone(number="+15555550199", type="mobile", platform="apple ios")
    admin.add_user_phone(user["user_id"], lost["phone_id"])
    [code] = admin.add_user_bypass_codes(user["user_id"], count=1)
    csrf = await _portal_login(env, "wes", code)
    async with env.session.post(f"{env.base}/portal/self/devices/{lost['phone_id']}/delete",
                                ssl=ssl_context(env.clients.ca_file),
                                data={"csrf": csrf}) as reply:
        assert reply.status == 200
    assert admin.get_user_phones(user["user_id"]) == []
    async with env.session.post(f"{env.base}/portal/self/login",
                                ssl=ssl_context(env.clients.ca_file),
                                data={"username": "wes", "passcode": code,
                                      "method": "passcode"}) as reply:
        assert reply.status == 403  # the bypass code was single-use


def test_users_without_a_device_are_locked_out_after_the_threshold(
        env: Env, redis_server: RedisServer) -> None:
    admin, auth = env.clients.admin, env.clients.auth
    user: dict[str, Any] = admin.add_user("xena")
    assert auth.preauth(username="xena")["result"] == "enroll"
    admin.update_settings(unenrolled_user_lockout_threshold=1)
    assert auth.preauth(username="xena")["result"] == "enroll"  # created today
    # The user was created two days ago:
    redis_command(redis_server.port, "HSET", f"as:{{u:{user['user_id']}}}:user", "created",
                  str(int(time.time()) - 2 * 86400))
    assert auth.preauth(username="xena")["result"] == "deny"
    locked = admin.get_user_by_id(user["user_id"])
    assert (locked["status"], locked["lockout_reason"]) == ("locked out", "Not enrolled")
