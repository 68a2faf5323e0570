"""Request signing over real HTTP: requests built byte by byte, signed by duo_client's functions.

Every accepted form (v2 form posts with SHA-1 and SHA-512, v4/v5 JSON, X-Duo-Date, extra X-Duo
headers, query strings re-canonicalised from the parsed query, Host with a port) and every
rejection (40101-40105, 40301) with Duo's envelope, and a rejected request changes nothing.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import urllib.parse
from collections.abc import Callable
from typing import Any

import duo_client
import pytest
from duo_client import client as duo

from tests.conftest import IntegrationPair, Keys
from tests.inprocess.api.wire import Outgoing, Wire, assert_fail, duo_date, prepare, tamper_signature
from tests.inprocess.serving import ServedClock

USERS = "/admin/v1/users"


def _usernames(admin_api: duo_client.Admin) -> list[str]:
    return sorted(user["username"] for user in admin_api.get_users())


# --- accepted --------------------------------------------------------------------------------------

@pytest.mark.parametrize("digestmod", [hashlib.sha1, hashlib.sha512], ids=["sha1", "sha512"])
async def test_v2_form_post_is_accepted_and_acts(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin,
        digestmod: Callable[..., Any]) -> None:
    outgoing = prepare(integrations.admin, "POST", USERS,
                       {"username": "Zoë.O'Brien+1@x", "realname": "Zoë  Quinn & co ~x"},
                       version=2, digestmod=digestmod)
    assert outgoing.headers["Content-Type"] == "application/x-www-form-urlencoded"
    user = (await wire.send(outgoing)).ok()
    assert user["username"] == "zoë.o'brien+1@x"
    assert user["realname"] == "Zoë  Quinn & co ~x"
    assert _usernames(admin_api) == ["zoë.o'brien+1@x"]


@pytest.mark.parametrize("version", [4, 5])
async def test_v4_v5_json_post_is_accepted_and_acts(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin,
        version: int) -> None:
    outgoing = prepare(integrations.admin, "POST", USERS,
                       {"username": "bob", "realname": "Bob \u2603 Smith"}, version=version)
    assert outgoing.headers["Content-Type"] == "application/json"
    assert outgoing.body == b'{"realname":"Bob \\u2603 Smith","username":"bob"}'
    user = (await wire.send(outgoing)).ok()
    assert user["realname"] == "Bob \u2603 Smith"
    assert _usernames(admin_api) == ["bob"]


async def test_json_body_is_hashed_as_sent_not_reserialised(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin) -> None:
    body = b'{ "username" : "carol",\n  "realname": "caf\xc3\xa9" }'
    user = (await wire.call(integrations.admin, "POST", USERS, json_body=body)).ok()
    assert (user["username"], user["realname"]) == ("carol", "café")
    assert _usernames(admin_api) == ["carol"]


@pytest.mark.parametrize("version", [2, 4, 5])
async def test_signed_get_of_each_version(
        wire: Wire, integrations: IntegrationPair, version: int) -> None:
    reply = await wire.call(integrations.auth, "GET", "/auth/v2/check", version=version)
    assert reply.ok()["time"] > 1_700_000_000


async def test_v5_extra_x_duo_headers_and_x_duo_date_instead_of_date(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin) -> None:
    extra = {"X-Duo-Request-Id": "req-42", "X-Duo-Client": "duo_hmac  1.0; é"}
    outgoing = prepare(integrations.admin, "POST", USERS, {"username": "dave"},
                       date_header="X-Duo-Date", x_duo_headers=extra)
    assert "Date" not in outgoing.headers
    assert set(outgoing.headers) >= {"X-Duo-Date", "X-Duo-Request-Id", "X-Duo-Client"}
    assert (await wire.send(outgoing)).ok()["username"] == "dave"
    get = prepare(integrations.auth, "GET", "/auth/v2/check", date_header="x-duo-date",
                  x_duo_headers=extra)
    assert (await wire.send(get)).ok()["time"] > 1_700_000_000
    assert _usernames(admin_api) == ["dave"]


async def test_v5_x_duo_headers_are_part_of_the_signature(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin) -> None:
    signed = prepare(integrations.admin, "POST", USERS, {"username": "erin"},
                     x_duo_headers={"X-Duo-Foo": "bar"})
    for changed in (signed.with_headers(X_Duo_Foo="baz"),
                    signed.with_headers(X_Duo_Foo=None),
                    signed.with_headers(X_Duo_Extra="1")):
        assert_fail(await wire.send(changed), 40103)
    assert _usernames(admin_api) == []
    assert (await wire.send(signed)).ok()["username"] == "erin"


async def test_v2_ignores_x_duo_headers_but_takes_its_date_from_x_duo_date(
        wire: Wire, integrations: IntegrationPair) -> None:
    # duo_unix: v2, date in X-Duo-Date with "+0000".
    outgoing = prepare(integrations.auth, "GET", "/auth/v2/check", version=2,
                       date=duo_date(zone="+0000"), date_header="X-Duo-Date",
                       x_duo_headers={"X-Duo-Unsigned": "anything"})
    assert outgoing.headers["X-Duo-Date"].endswith("+0000")
    assert (await wire.send(outgoing)).ok()["time"] > 1_700_000_000


@pytest.mark.parametrize("zone", ["-0000", "+0000", "GMT"])
async def test_each_date_form_is_accepted(
        wire: Wire, integrations: IntegrationPair, zone: str) -> None:
    outgoing = prepare(integrations.auth, "GET", "/auth/v2/check", date=duo_date(zone=zone))
    assert outgoing.headers["Date"].endswith(zone)
    assert (await wire.send(outgoing)).ok()["time"] > 1_700_000_000


async def test_x_duo_date_wins_over_date(wire: Wire, integrations: IntegrationPair) -> None:
    outgoing = prepare(integrations.auth, "GET", "/auth/v2/check", date_header="X-Duo-Date")
    garbage_date = outgoing.with_headers(Date="not a date at all")
    assert (await wire.send(garbage_date)).ok()["time"] > 1_700_000_000
    stale = prepare(integrations.auth, "GET", "/auth/v2/check", date_header="X-Duo-Date",
                    date=duo_date(-3600)).with_headers(Date=duo_date())
    assert_fail(await wire.send(stale), 40105)


NAME = "José O'Brien+1 ~x"


@pytest.mark.parametrize("version", [2, 5])
async def test_get_query_is_canonicalised_from_the_parsed_query(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin,
        version: int) -> None:
    # NAME cannot be a username (spaces, '~'): a lookup that finds nobody still proves the
    # signature matched (a mismatch is 40103), with a user present that it must not find.
    admin_api.add_user("jose.obrien")
    outgoing = prepare(integrations.admin, "GET", USERS, {"username": NAME, "empty": ""},
                       version=version)
    assert "+" in outgoing.query and "%2B" in outgoing.query  # quote_plus on the wire
    assert (await wire.send(outgoing)).ok() == []
    # The same parameters encoded differently on the wire: %20 for spaces, reordered, %7E.
    pairs = [("empty", ""), ("username", NAME)]
    reencoded = "&".join(f"{urllib.parse.quote(key, safe='')}={urllib.parse.quote(value, safe='')}"
                         for key, value in pairs).replace("~", "%7E")
    assert "%20" in reencoded and "%7E" in reencoded
    assert (await wire.send(dataclasses.replace(outgoing, query=reencoded))).ok() == []
    # A '+' that means a plus sign, sent unescaped, is a space: a different parameter.
    literal_plus = outgoing.query.replace("%2B", "+")
    assert_fail(await wire.send(dataclasses.replace(outgoing, query=literal_plus)), 40103)


async def test_repeated_query_keys_are_signed(
        wire: Wire, integrations: IntegrationPair) -> None:
    outgoing = prepare(integrations.admin, "GET", "/admin/v2/logs/authentication",
                       {"users": ["DU2", "DU1"], "limit": "10"})
    assert outgoing.query.count("users=") == 2
    assert (await wire.send(outgoing)).ok()["authlogs"] == []
    dropped = outgoing.query.replace("users=DU2&", "")
    assert_fail(await wire.send(dataclasses.replace(outgoing, query=dropped)), 40103)


@pytest.mark.parametrize(("host_header", "signed_host"), [
    (None, "127.0.0.1"),
    ("API-Example.COM:8443", "api-example.com"),
    ("api-example.com", "API-EXAMPLE.com"),
    ("[::1]:8080", "::1"),
])
async def test_signed_host_is_the_host_header_without_its_port(
        wire: Wire, integrations: IntegrationPair, host_header: str | None,
        signed_host: str) -> None:
    outgoing = prepare(integrations.auth, "GET", "/auth/v2/check", sign_host=signed_host)
    if host_header is not None:
        outgoing = outgoing.with_headers(Host=host_header)
    assert (await wire.send(outgoing)).ok()["time"] > 1_700_000_000


async def test_a_signed_host_with_the_port_is_rejected(
        wire: Wire, integrations: IntegrationPair) -> None:
    with_port = prepare(integrations.auth, "GET", "/auth/v2/check",
                        sign_host=f"127.0.0.1:{wire.port}")
    assert_fail(await wire.send(with_port), 40103)
    elsewhere = prepare(integrations.auth, "GET", "/auth/v2/check", sign_host="api.example.com")
    assert_fail(await wire.send(elsewhere), 40103)


@pytest.mark.parametrize("seconds", [-290, 290])
async def test_date_290_seconds_off_is_accepted(
        wire: Wire, integrations: IntegrationPair, clock: ServedClock, seconds: int) -> None:
    reply = await wire.call(integrations.auth, "GET", "/auth/v2/check",
                            date=duo_date(seconds, now=clock.now()))
    assert reply.ok()["time"] > 1_700_000_000


# --- rejected --------------------------------------------------------------------------------------

def _alice(keys: Keys, **options: Any) -> Outgoing:
    return prepare(keys, "POST", USERS, {"username": "alice"}, **options)


def _sha1_over_v5(pair: IntegrationPair, _now: float) -> Outgoing:
    signed = _alice(pair.admin)
    canonical = duo.canonicalize("POST", "127.0.0.1", USERS, {}, signed.headers["Date"], 5,
                                 body=signed.body.decode(), additional_headers={})
    sig = hmac.new(pair.admin.skey.encode(), canonical.encode(), hashlib.sha1).hexdigest()
    token = base64.b64encode(f"{pair.admin.ikey}:{sig}".encode()).decode()
    return signed.with_headers(Authorization=f"Basic {token}")


def _wrong_method(pair: IntegrationPair, _now: float) -> Outgoing:
    """Signed for PUT with the same path, body and date; sent as POST."""
    signed = _alice(pair.admin)
    auth = duo.sign(pair.admin.ikey, pair.admin.skey, "PUT", "127.0.0.1", USERS,
                    signed.headers["Date"], 5, {}, body=signed.body.decode(),
                    additional_headers={})
    return signed.with_headers(Authorization=auth)


def _basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


# Each case builds its request from the integrations and the service's time (dates are made
# relative to the service's clock, which stands still from the test's start: the wall clock
# has moved on by the set-up's duration, which on a busy machine made '301 s ago' 299 s).
REJECTIONS: dict[str, tuple[Callable[[IntegrationPair, float], Outgoing], int]] = {
    "no authorization": (lambda p, now: _alice(p.admin).with_headers(Authorization=None), 40101),
    "empty authorization": (lambda p, now: _alice(p.admin).with_headers(Authorization=""), 40101),
    "bearer scheme": (lambda p, now: _alice(p.admin).with_headers(Authorization="Bearer abc"), 40101),
    "basic not base64": (lambda p, now: _alice(p.admin).with_headers(Authorization="Basic %%%"), 40101),
    "basic without colon": (
        lambda p, now: _alice(p.admin).with_headers(Authorization=_basic(p.admin.ikey)), 40101),
    "unknown ikey": (lambda p, now: _alice(Keys("DIXXXXXXXXXXXXXXXXXX", p.admin.skey)), 40102),
    "flipped signature": (lambda p, now: tamper_signature(_alice(p.admin)), 40103),
    "signature of another skey": (lambda p, now: _alice(Keys(p.admin.ikey, p.auth.skey)), 40103),
    "truncated signature": (
        lambda p, now: _alice(p.admin).with_headers(Authorization=_basic(f"{p.admin.ikey}:abcdef")),
        40103),
    "sha1 over a v5 canonical string": (_sha1_over_v5, 40103),
    "tampered json body": (
        lambda p, now: dataclasses.replace(_alice(p.admin), body=b'{"username":"mallory"}'), 40103),
    "json body with a trailing space": (
        lambda p, now: dataclasses.replace(_alice(p.admin), body=_alice(p.admin).body + b" "), 40103),
    "tampered form param": (
        lambda p, now: dataclasses.replace(_alice(p.admin, version=2), body=b"username=mallory"),
        40103),
    "added form param": (
        lambda p, now: dataclasses.replace(_alice(p.admin, version=2),
                                      body=b"username=alice&status=disabled"), 40103),
    "json signed, sent as a form": (
        lambda p, now: _alice(p.admin).with_headers(
            Content_Type="application/x-www-form-urlencoded"), 40103),
    "signed for PUT, sent as POST": (_wrong_method, 40103),
    "signed for another path": (
        lambda p, now: dataclasses.replace(
            prepare(p.admin, "POST", "/admin/v1/tokens", {"username": "alice"}), path=USERS),
        40103),
    "signed host with port": (lambda p, now: _alice(p.admin, sign_host="127.0.0.1:80"), 40103),
    "no date": (lambda p, now: _alice(p.admin).with_headers(Date=None), 40104),
    "garbage date": (lambda p, now: _alice(p.admin, date="yesterday at noon"), 40104),
    "date 301 s ago": (lambda p, now: _alice(p.admin, date=duo_date(-301, now=now)), 40105),
    "date 301 s ahead": (lambda p, now: _alice(p.admin, date=duo_date(301, now=now)), 40105),
    "x-duo-date 301 s ago": (
        lambda p, now: _alice(p.admin, date=duo_date(-301, now=now), date_header="X-Duo-Date"), 40105),
    "auth integration on the admin api": (lambda p, now: _alice(p.auth), 40301),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
async def test_rejected_request_gets_its_code_and_changes_nothing(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin,
        clock: ServedClock, case: str) -> None:
    build, code = REJECTIONS[case]
    outgoing = build(integrations, clock.now())
    assert_fail(await wire.send(outgoing), code)
    assert_fail(await wire.send(outgoing), code)  # and again: nothing was consumed or created
    assert _usernames(admin_api) == []
    # The untampered request goes through, so the rejection was about the change alone.
    assert (await wire.send(_alice(integrations.admin))).ok()["username"] == "alice"
    assert _usernames(admin_api) == ["alice"]


async def test_missing_authorization_on_every_signed_api(wire: Wire) -> None:
    for method, path in (("GET", "/auth/v2/check"), ("POST", "/auth/v2/auth"),
                         ("GET", USERS), ("DELETE", "/admin/v1/users/DU123"),
                         ("GET", "/admin/v2/logs/authentication")):
        reply = await wire.send(Outgoing(method, path))
        data = assert_fail(reply, 40101)
        assert data["message"] == "Missing request credentials"


async def test_wrong_path_and_wrong_method_on_get(
        wire: Wire, integrations: IntegrationPair) -> None:
    signed = prepare(integrations.admin, "GET", "/admin/v1/tokens", {"limit": "5"})
    assert (await wire.send(signed)).ok() == []
    assert_fail(await wire.send(dataclasses.replace(signed, path=USERS)), 40103)
    as_delete = prepare(integrations.admin, "GET", "/admin/v1/users/DUXXXXXXXXXXXXXXXXXX")
    assert_fail(await wire.send(dataclasses.replace(as_delete, method="DELETE")), 40103)
    tampered_query = dataclasses.replace(signed, query="limit=6")
    assert_fail(await wire.send(tampered_query), 40103)


async def test_auth_key_on_admin_api_and_admin_key_on_auth_api_are_forbidden(
        wire: Wire, integrations: IntegrationPair) -> None:
    data = assert_fail(await wire.call(integrations.auth, "GET", USERS), 40301)
    assert data["message"] == "Access forbidden"
    assert_fail(await wire.call(integrations.admin, "GET", "/auth/v2/check"), 40301)
    assert_fail(await wire.call(integrations.admin, "POST", "/auth/v2/preauth",
                                {"username": "alice"}), 40301)
    # Correct keys for each API still work.
    assert (await wire.call(integrations.admin, "GET", USERS)).ok() == []
    assert (await wire.call(integrations.auth, "GET", "/auth/v2/check")).ok()["time"] > 0


async def test_duo_client_sees_the_envelope_as_its_runtime_error(
        service: Any, integrations: IntegrationPair) -> None:
    wrong = duo_client.Admin(integrations.admin.ikey, integrations.auth.skey, "127.0.0.1",
                             ca_certs="HTTP", port=service.port)
    with pytest.raises(RuntimeError) as caught:
        wrong.get_users()
    error: Any = caught.value
    assert error.status == 401
    assert error.data["code"] == 40103
    assert "Invalid signature" in str(error)
