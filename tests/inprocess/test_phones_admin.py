"""Phones through duo_client.Admin, and the Duo Mobile flows around them (shared phones,
push-fatigue limits, Help Desk verification push, enroll/enroll_status, the SMS outbox)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import duo_client
import pytest

from authsvc.tls import DevCert
from mobile_sim.client import DeviceClient, activate, resolve_activation
from mobile_sim.phone import attribute
from tests.conftest import IntegrationPair
from tests.e2e.carrier_helpers import carrier_of
from tests.e2e.push_helpers import Clients, activate_phone, new_phone, one_push, tls_clients
from tests.inprocess.serving import InProcessService


@pytest.fixture
def clients(tls_service: InProcessService, integrations: IntegrationPair,
            dev_cert: DevCert) -> Clients:
    return tls_clients(tls_service, integrations, dev_cert)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def test_phone_crud_and_lookup_by_number(clients: Clients) -> None:
    admin = clients.admin
    phone = admin.add_phone(number="(555) 555-0123", extension="12", name="Desk",
                            type="landline", platform="unknown", predelay=2, postdelay=3)
    assert phone["phone_id"].startswith("DP") and len(phone["phone_id"]) == 20
    assert (phone["number"], phone["extension"], phone["type"]) == ("+15555550123", "12",
                                                                    "landline")
    assert (phone["predelay"], phone["postdelay"], phone["activated"]) == (2, 3, False)
    assert [p["phone_id"] for p in admin.get_phones_by_number("+15555550123", "12")] == \
        [phone["phone_id"]]
    updated = admin.update_phone(phone["phone_id"], number="+447700900123", type="mobile",
                                 platform="Apple iOS")
    assert (updated["number"], updated["platform"]) == ("+447700900123", "apple ios")
    assert admin.get_phones_by_number("+15555550123", "12") == []
    assert [p["phone_id"] for p in admin.get_phones()] == [phone["phone_id"]]
    with pytest.raises(RuntimeError, match="400"):
        admin.add_phone(number="call me", type="mobile")
    with pytest.raises(RuntimeError, match="400"):
        admin.add_phone(number="+15555550000", platform="toaster")
    admin.delete_phone(phone["phone_id"])
    admin.delete_phone(phone["phone_id"])
    with pytest.raises(RuntimeError, match="404"):
        admin.get_phone_by_id(phone["phone_id"])


def test_a_phone_shared_by_two_users_and_its_removal(clients: Clients) -> None:
    admin = clients.admin
    ann, bob = admin.add_user("ann"), admin.add_user("bob")
    shared = admin.add_phone(number="+15555550111", type="mobile", platform="google android")
    for user in (ann, bob):
        admin.add_user_phone(user["user_id"], shared["phone_id"])
    users = admin.get_phone_by_id(shared["phone_id"])["users"]
    assert sorted(u["username"] for u in users) == ["ann", "bob"]
    assert admin.get_user_by_id(ann["user_id"])["phones"][0]["phone_id"] == shared["phone_id"]
    admin.delete_user_phone(ann["user_id"], shared["phone_id"])
    assert admin.get_user_phones(ann["user_id"]) == []
    assert admin.get_phone_by_id(shared["phone_id"])["users"][0]["username"] == "bob"
    admin.delete_user_phone(bob["user_id"], shared["phone_id"])  # its last user: deleted
    with pytest.raises(RuntimeError, match="404"):
        admin.get_phone_by_id(shared["phone_id"])
    other = admin.add_phone(number="+15555550112", type="mobile", platform="google android")
    for user in (ann, bob):
        admin.add_user_phone(user["user_id"], other["phone_id"])
    admin.delete_phone(other["phone_id"])
    assert admin.get_user_phones(ann["user_id"]) == admin.get_user_phones(bob["user_id"]) == []


def test_a_users_phones_keep_an_order_that_an_admin_can_change(clients: Clients) -> None:
    admin = clients.admin
    user = admin.add_user("cleo")
    ids = [new_phone(admin, user["user_id"])["phone_id"] for _ in range(3)]
    assert [p["phone_id"] for p in admin.get_user_phones(user["user_id"])] == ids
    reordered = admin.json_api_call("POST", f"/admin/v1/users/{user['user_id']}/phones/order",
                                    {"phone_ids": ",".join(reversed(ids))})
    assert [p["phone_id"] for p in reordered] == list(reversed(ids))
    assert [p["phone_id"] for p in admin.get_user_phones(user["user_id"])] == list(reversed(ids))
    with pytest.raises(RuntimeError, match="400"):
        admin.json_api_call("POST", f"/admin/v1/users/{user['user_id']}/phones/order",
                            {"phone_ids": ids[0]})


async def test_auto_push_goes_to_the_first_activated_phone_of_a_shared_set(
        clients: Clients, session: aiohttp.ClientSession) -> None:
    admin = clients.admin
    dan, eve = admin.add_user("dan"), admin.add_user("eve")
    shared = new_phone(admin, dan["user_id"])
    admin.add_user_phone(eve["user_id"], shared["phone_id"])
    device = DeviceClient(session, await activate_phone(session, admin, shared["phone_id"],
                                                        clients.ca_file))
    for name in ("dan", "eve"):
        txid = clients.auth.auth("push", username=name, device="auto", async_txn=True)["txid"]
        push = await one_push(device)
        assert attribute(push, "Username") == name
        await device.answer(push["urgid"], "approve")
        assert clients.auth.auth_status(txid)["success"] is True


async def test_push_fatigue_limits_outstanding_pushes_and_cools_down_after_denials(
        clients: Clients, session: aiohttp.ClientSession) -> None:
    admin, auth = clients.admin, clients.auth
    admin.json_api_call("POST", "/admin/v1/settings", {
        "push_max_outstanding": "2", "push_cooldown_after": "2", "push_cooldown_minutes": "5"})
    user = admin.add_user("fred")
    phone = new_phone(admin, user["user_id"])
    device = DeviceClient(session, await activate_phone(session, admin, phone["phone_id"],
                                                        clients.ca_file))
    txids = [auth.auth("push", username="fred", device="auto", async_txn=True)["txid"]
             for _ in range(2)]
    third = auth.auth("push", username="fred", device="auto")
    assert (third["result"], third["status"]) == ("deny", "deny")
    for push in await device.transactions():
        await device.answer(push["urgid"], "deny")
    assert [auth.auth_status(txid)["status"] for txid in txids] == ["deny", "deny"]
    cooling = auth.auth("push", username="fred", device="auto")
    assert cooling["result"] == "deny" and "try again later" in cooling["status_msg"]
    logs = admin.get_authentication_log(api_version=2, users=[user["user_id"]],
                                        mintime=int(time.time() * 1000) - 60_000,
                                        maxtime=int(time.time() * 1000) + 1000)["authlogs"]
    reasons = [log["reason"] for log in reversed(logs)]
    assert reasons == ["frequent_attempts", "user_cancelled", "user_cancelled", "anomalous_push"]


async def test_help_desk_verification_push(clients: Clients,
                                           session: aiohttp.ClientSession) -> None:
    admin = clients.admin
    user = admin.add_user("gail")
    phone = new_phone(admin, user["user_id"])
    device = DeviceClient(session, await activate_phone(session, admin, phone["phone_id"],
                                                        clients.ca_file))
    sent = admin.send_verification_push(user["user_id"], phone["phone_id"])
    assert len(sent["confirmation_code"]) == 6
    waiting = admin.get_verification_push_response(user["user_id"], sent["push_id"])
    assert waiting == {"push_id": sent["push_id"], "result": "waiting"}
    push = await one_push(device)
    assert attribute(push, "Confirmation Code") == sent["confirmation_code"]
    await device.answer(push["urgid"], "approve")
    assert admin.get_verification_push_response(user["user_id"], sent["push_id"])["result"] == \
        "approve"
    sent = admin.send_verification_push(user["user_id"], phone["phone_id"])
    await device.answer((await one_push(device))["urgid"], "deny", fraud=True)
    assert admin.get_verification_push_response(user["user_id"], sent["push_id"])["result"] == \
        "fraud"
    with pytest.raises(RuntimeError, match="404"):
        admin.get_verification_push_response(user["user_id"], "no-such-push")


async def test_enroll_and_enroll_status(clients: Clients, session: aiohttp.ClientSession) -> None:
    enrolled = clients.auth.enroll(username="hugo", valid_secs=600)
    assert enrolled["username"] == "hugo" and enrolled["user_id"].startswith("DU")
    assert enrolled["activation_code"].startswith("duo://")
    assert enrolled["expiration"] > time.time()
    status = clients.auth.enroll_status(enrolled["user_id"], enrolled["activation_code"])
    assert status == "waiting"
    value = await resolve_activation(session, enrolled["activation_barcode"], clients.ca_file)
    await activate(session, value, clients.ca_file)
    assert clients.auth.enroll_status(enrolled["user_id"], enrolled["activation_code"]) == \
        "success"
    assert clients.auth.enroll_status(enrolled["user_id"], "duo://" + "x" * 20) == "invalid"
    with pytest.raises(RuntimeError, match="already in use"):
        clients.auth.enroll(username="hugo")
    generated = clients.auth.enroll()
    assert generated["username"].startswith("user-")


def test_sms_activation_goes_to_the_outbox_and_is_refused_while_the_link_is_valid(
        clients: Clients, tls_service: InProcessService) -> None:
    admin = clients.admin
    user = admin.add_user("ines")
    phone = new_phone(admin, user["user_id"])
    sent = admin.send_sms_activation_to_phone(phone["phone_id"], install=1)
    assert "/activate/" in sent["activation_msg"] and sent["installation_msg"]
    with pytest.raises(RuntimeError, match="still valid"):
        admin.send_sms_activation_to_phone(phone["phone_id"])
    with pytest.raises(RuntimeError, match="acturl"):
        admin.send_sms_activation_to_phone(phone["phone_id"], activation_msg="no link here")
    sent_sms = carrier_of(tls_service).messages("sms", "+15555550100")
    assert [message for message in sent_sms if "/activate/" in message["body"]]


def test_duo_client_unmodified_sees_the_phone_objects(clients: Clients) -> None:
    admin: duo_client.Admin = clients.admin
    user = admin.add_user("jake")
    phone = new_phone(admin, user["user_id"])
    listed = admin.get_user_phones(user["user_id"])[0]
    assert set(listed) >= {"phone_id", "number", "extension", "name", "type", "platform",
                           "predelay", "postdelay", "activated", "capabilities", "users"}
    assert listed["users"][0]["user_id"] == user["user_id"]
    assert phone["phone_id"] == listed["phone_id"]
