"""WebAuthn and U2F end to end over HTTPS: the software authenticator of `tokens/` driven by
python-fido2's Fido2Client (registration in the self-service portal, authentication through the
Auth API extension), raw U2F, the appid path, refusals, and the Admin API. The `tokens` command
itself, as a process, is in tests/e2e/test_tokens_command.py."""

from __future__ import annotations

import base64
import json
import re
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from fido2.client import ClientError

from authsvc.tls import DevCert
from mobile_sim.carrier import links
from tests.conftest import IntegrationPair
from tests.e2e.carrier_helpers import carrier_of
from tests.e2e.push_helpers import Clients, tls_clients
from tests.inprocess.serving import InProcessService
from tokens.ceremonies import auth_api_authenticate, portal_register, service_url
from tokens.fido import SoftAuthenticator
from tokens.webauthn_client import authenticate, register, u2f_register, u2f_sign


@dataclass
class Bench:
    clients: Clients
    session: aiohttp.ClientSession
    origin: str
    user: dict[str, Any]
    codes: list[str]


@pytest.fixture
async def bench(tls_service: InProcessService, integrations: IntegrationPair,
                dev_cert: DevCert) -> AsyncIterator[Bench]:
    clients = tls_clients(tls_service, integrations, dev_cert)
    user = clients.admin.add_user("kiki", email="kiki@example.org")
    codes = clients.admin.add_user_bypass_codes(user["user_id"], count=5)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield Bench(clients, session, f"https://127.0.0.1:{tls_service.port}", user, codes)


async def _register(bench: Bench, key: SoftAuthenticator, code_index: int = 0) -> dict[str, Any]:
    return await portal_register(bench.session, service_url(bench.origin), key, username="kiki",
                                 passcode=bench.codes[code_index], name="Blue key",
                                 ca_file=bench.clients.ca_file)


def _options(bench: Bench) -> dict[str, Any]:
    options: dict[str, Any] = bench.clients.auth.json_api_call(
        "POST", "/auth/v2/webauthn/options", {"username": "kiki"})["options"]
    return options


def _auth_with(bench: Bench, assertion: dict[str, Any]) -> str:
    answer = bench.clients.auth.json_api_call("POST", "/auth/v2/auth", {
        "factor": "webauthn", "username": "kiki", "assertion": json.dumps(assertion)})
    return str(answer["result"])


def _logs(bench: Bench) -> list[dict[str, Any]]:
    now_ms = int(time.time() * 1000)
    logs: list[dict[str, Any]] = bench.clients.admin.get_authentication_log(
        api_version=2, mintime=now_ms - 60_000, maxtime=now_ms + 1000)["authlogs"]
    return logs


async def test_a_registered_key_authenticates_and_admins_see_it(bench: Bench) -> None:
    key = SoftAuthenticator()
    registered = await _register(bench, key)
    assert registered["credential_name"] == "Blue key"
    answer = auth_api_authenticate(bench.clients.auth, bench.origin, "kiki", key)
    assert answer["result"] == "allow"
    assert _logs(bench)[0]["factor"] == "webauthn_security_key"
    admin, user_id = bench.clients.admin, bench.user["user_id"]
    [listed] = admin.get_user_webauthncredentials(user_id)
    assert listed["webauthnkey"] == registered["webauthnkey"] and listed["date_last_used"]
    assert [c["webauthnkey"] for c in admin.get_webauthncredentials()] == [listed["webauthnkey"]]
    assert admin.get_webauthncredential_by_id(listed["webauthnkey"])["credential_name"] == \
        "Blue key"
    assert admin.get_user_by_id(user_id)["is_enrolled"] is True
    admin.delete_webauthncredential(listed["webauthnkey"])
    assert admin.get_user_webauthncredentials(user_id) == []
    with pytest.raises(RuntimeError, match="400"):
        _options(bench)


async def test_replays_wrong_origins_and_tampering_are_refused(bench: Bench) -> None:
    key = SoftAuthenticator()
    await _register(bench, key)
    assertion = authenticate(key, _options(bench), bench.origin)
    assert _auth_with(bench, assertion) == "allow"
    assert _auth_with(bench, assertion) == "deny"  # replay: the challenge is gone
    elsewhere = authenticate(key, _options(bench), "https://127.0.0.1:1")
    assert _auth_with(bench, elsewhere) == "deny"
    tampered = authenticate(key, _options(bench), bench.origin)
    signature = bytearray(base64.urlsafe_b64decode(tampered["response"]["signature"] + "=="))
    signature[-1] ^= 1
    tampered["response"]["signature"] = base64.urlsafe_b64encode(bytes(signature)).decode()
    assert _auth_with(bench, tampered) == "deny"
    wrong_rp = _options(bench)
    wrong_rp["rpId"] = "localhost"  # the key holds no credential for another RP id
    with pytest.raises(ClientError):
        authenticate(key, wrong_rp, "https://localhost")
    assert _auth_with(bench, authenticate(key, _options(bench), bench.origin)) == "allow"


async def test_a_sign_count_that_does_not_increase_flags_the_key_as_cloned(bench: Bench) -> None:
    key = SoftAuthenticator()
    await _register(bench, key)
    assert auth_api_authenticate(bench.clients.auth, bench.origin, "kiki", key)["result"] == \
        "allow"
    clone = key.clone()
    clone.counter_mode = "regress"
    assert auth_api_authenticate(bench.clients.auth, bench.origin, "kiki", clone)["result"] == \
        "deny"
    assert _logs(bench)[0]["reason"] == "possible_clone"
    [listed] = bench.clients.admin.get_user_webauthncredentials(bench.user["user_id"])
    assert listed["possibly_cloned"] is True


async def _u2f_register(bench: Bench, key: SoftAuthenticator) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=bench.clients.ca_file)
    async with bench.session.post(f"{bench.origin}/portal/self/login", ssl=context,
                                  data={"username": "kiki", "passcode": bench.codes[1],
                                        "method": "passcode"}) as reply:
        page = await reply.text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    csrf = found.group(1)
    async with bench.session.post(f"{bench.origin}/portal/self/u2f/begin", ssl=context,
                                  data={"csrf": csrf}) as reply:
        request = await reply.json()
    registration = u2f_register(key, request["appId"], request["challenge"], bench.origin)
    async with bench.session.post(f"{bench.origin}/portal/self/u2f/finish", ssl=context,
                                  json={"csrf": csrf, "name": "Old key", **registration}) as reply:
        result: dict[str, Any] = await reply.json()
    assert reply.status == 200, result
    return {"app_id": request["appId"], **result}


async def test_raw_u2f_and_the_appid_path(bench: Bench) -> None:
    key = SoftAuthenticator(ctap2=False)
    registered = await _u2f_register(bench, key)
    sign_request = bench.clients.auth.json_api_call("POST", "/auth/v2/u2f/sign_request",
                                                    {"username": "kiki"})
    handle = sign_request["registeredKeys"][0]["keyHandle"]
    signed = u2f_sign(key, sign_request["appId"], sign_request["challenge"], handle, bench.origin)
    answer = bench.clients.auth.json_api_call("POST", "/auth/v2/auth",
                                              {"factor": "u2f", "username": "kiki", **signed})
    assert answer["result"] == "allow" and _logs(bench)[0]["factor"] == "u2f_token"
    replay = bench.clients.auth.json_api_call("POST", "/auth/v2/auth",
                                              {"factor": "u2f", "username": "kiki", **signed})
    assert replay["result"] == "deny"
    options = _options(bench)
    assert options["extensions"] == {"appid": registered["app_id"]}
    assertion = authenticate(key, options, bench.origin)
    assert assertion["clientExtensionResults"] == {"appid": True}
    assert _auth_with(bench, assertion) == "allow"
    admin = bench.clients.admin
    [token] = admin.get_user_u2ftokens(bench.user["user_id"])
    assert token["registration_id"] == registered["registration_id"]
    assert [t["registration_id"] for t in admin.get_u2ftokens()] == [token["registration_id"]]
    admin.delete_u2ftoken(token["registration_id"])
    assert admin.get_user_u2ftokens(bench.user["user_id"]) == []


async def test_an_admin_mails_a_security_key_enrollment_link(
        bench: Bench, tls_service: InProcessService) -> None:
    bench.clients.admin.json_api_call(
        "POST", f"/admin/v1/users/{bench.user['user_id']}/security_key_enrollment", {})
    link = links(carrier_of(tls_service).messages("email", "kiki@example.org")[-1])[0]
    context = ssl.create_default_context(cafile=bench.clients.ca_file)
    async with bench.session.post(link + "/webauthn/begin", ssl=context) as reply:
        options = (await reply.json())["options"]
    key = SoftAuthenticator()
    credential = register(key, options, bench.origin)
    async with bench.session.post(link + "/webauthn/finish", ssl=context,
                                  json={"name": "Mailed key", "credential": credential}) as reply:
        assert reply.status == 200
    async with bench.session.get(link, ssl=context) as reply:
        assert reply.status == 404  # used
    assert auth_api_authenticate(bench.clients.auth, bench.origin, "kiki", key)["result"] == \
        "allow"

