"""Error answers over real HTTP: every failure is Duo's FAIL envelope with the right code.

404/405/413 from the router and the body limit, 400 40001/40002 naming the parameter, and a loop
that throws junk at every route with a valid signature: never a 5xx, always an envelope.
Inputs that once answered 500 are pinned by regression tests at the end of the file.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duo_client
import pytest

from tests.conftest import IntegrationPair, Keys
from tests.inprocess.api.wire import (
    Outgoing,
    Reply,
    Wire,
    assert_envelope,
    assert_fail,
    prepare,
)

USERS = "/admin/v1/users"
TOKENS = "/admin/v1/tokens"
SEED_HEX = "3132333435363738393031323334353637383930"  # RFC 4226 test seed
RFC4226_CODES = ("755224", "287082", "359152", "969429")
MAX_BODY = 262144


def _usernames(admin_api: duo_client.Admin) -> list[str]:
    return sorted(user["username"] for user in admin_api.get_users())


# --- router: 404, 405 ------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/nope"),
    ("GET", "/admin/v1/nope"),
    ("POST", "/auth/v2/nope"),
    ("GET", "/admin/v1/users/DU1/nope"),
    ("GET", "/auth/v3/check"),
    ("GET", "/"),
])
async def test_unknown_path_is_a_404_envelope(
        wire: Wire, integrations: IntegrationPair, method: str, path: str) -> None:
    assert_fail(await wire.send(Outgoing(method, path)), 40401)
    signed = prepare(integrations.admin, method, path)
    data = assert_fail(await wire.send(signed), 40401)
    assert data["message"] == "Resource not found"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/auth/v2/auth"),
    ("GET", "/auth/v2/preauth"),
    ("POST", "/auth/v2/check"),
    ("POST", "/auth/v2/ping"),
    ("DELETE", USERS),
    ("PUT", USERS),
    ("PATCH", "/admin/v1/tokens/DH1"),
    ("POST", "/admin/v1/bypass_codes"),
])
async def test_wrong_method_is_a_405_envelope(
        wire: Wire, integrations: IntegrationPair, method: str, path: str) -> None:
    assert_fail(await wire.send(Outgoing(method, path)), 40501)
    keys = integrations.auth if path.startswith("/auth/") else integrations.admin
    data = assert_fail(await wire.send(prepare(keys, method, path)), 40501)
    assert data["message"] == "Method not allowed"


async def test_ping_works_unsigned(wire: Wire) -> None:
    for headers in ({}, {"Authorization": "Basic garbage", "Date": "yesterday"}):
        reply = await wire.send(Outgoing("GET", "/auth/v2/ping", headers=headers))
        assert reply.content_type == "application/json"
        assert set(reply.json()) == {"stat", "response"}
        assert reply.ok()["time"] > 1_700_000_000
    assert (await wire.send(Outgoing("GET", "/auth/v2/ping", query="junk=%FF"))).ok()["time"] > 0


# --- body limit: 413 -------------------------------------------------------------------------------

def _json_body_of_size(size: int, **fields: str) -> bytes:
    """``{"username":"aaa…", **fields}`` padded to exactly `size` bytes."""
    template = json.dumps({"username": "", **fields}, separators=(",", ":")).encode()
    padding = size - len(template)
    assert padding >= 0
    return json.dumps({"username": "a" * padding, **fields}, separators=(",", ":")).encode()


async def test_body_over_the_limit_is_a_413_envelope_and_changes_nothing(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin) -> None:
    body = _json_body_of_size(MAX_BODY + 1)
    assert len(body) == MAX_BODY + 1
    signed = prepare(integrations.admin, "POST", USERS, json_body=body)
    data = assert_fail(await wire.send(signed), 41301)
    assert data["message"] == "Request entity too large"
    unsigned = Outgoing("POST", USERS, body=b"x" * (4 * MAX_BODY),
                        headers={"Content-Type": "application/json"})
    assert_fail(await wire.send(unsigned), 41301)
    form = prepare(integrations.admin, "POST", USERS,
                   {"username": "big", "notes": "n" * MAX_BODY}, version=2)
    assert_fail(await wire.send(form), 41301)
    assert _usernames(admin_api) == []


async def test_body_at_the_limit_is_read_and_validated(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin) -> None:
    body = _json_body_of_size(MAX_BODY)
    assert len(body) == MAX_BODY
    reply = await wire.send(prepare(integrations.admin, "POST", USERS, json_body=body))
    assert_fail(reply, 40002, "username")  # past the limit check, the name is too long
    assert _usernames(admin_api) == []


# --- body shape: 40002 -----------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "detail"), [
    (b'{"username": "alice"', "body"),
    (b"{'username': 'alice'}", "body"),
    (b"username=alice", "body"),
    (b'{"username": "\xff\xfe"}', "body"),
    (b"\x00\x01\x02", "body"),
    (b'["username", "alice"]', "body (must be a JSON object)"),
    (b'"alice"', "body (must be a JSON object)"),
    (b"42", "body (must be a JSON object)"),
    (b"null", "body (must be a JSON object)"),
])
async def test_invalid_json_body_is_40002(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin, body: bytes,
        detail: str) -> None:
    reply = await wire.send(prepare(integrations.admin, "POST", USERS, json_body=body))
    assert_fail(reply, 40002, detail)
    assert _usernames(admin_api) == []


# --- missing parameters: 40001 ---------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    api: str  # "auth" or "admin"
    method: str
    path: str
    params: Mapping[str, Any]
    code: int
    detail: str

    def keys(self, pair: IntegrationPair) -> Keys:
        return pair.auth if self.api == "auth" else pair.admin


MISSING = {
    "auth without factor": Case("auth", "POST", "/auth/v2/auth",
                                {"username": "alice", "passcode": "123456"}, 40001, "factor"),
    "auth without username or user_id": Case(
        "auth", "POST", "/auth/v2/auth", {"factor": "passcode", "passcode": "123456"}, 40001,
        "user_id or username"),
    "auth without passcode": Case("auth", "POST", "/auth/v2/auth",
                                  {"factor": "passcode", "username": "alice"}, 40001, "passcode"),
    "preauth without username or user_id": Case(
        "auth", "POST", "/auth/v2/preauth", {"ipaddr": "10.0.0.1"}, 40001, "user_id or username"),
    "auth_status without txid": Case("auth", "GET", "/auth/v2/auth_status", {}, 40001, "txid"),
    "add_user without username": Case("admin", "POST", USERS, {"realname": "No Name"}, 40001,
                                      "username"),
    "add token without type": Case("admin", "POST", TOKENS,
                                   {"serial": "s1", "secret": SEED_HEX}, 40001, "type"),
    "add token without serial": Case("admin", "POST", TOKENS,
                                     {"type": "h6", "secret": SEED_HEX}, 40001, "serial"),
    "add token without secret": Case("admin", "POST", TOKENS, {"type": "h6", "serial": "s1"},
                                     40001, "secret"),
    "add_user_token without token_id": Case("admin", "POST", f"{USERS}/DUXXXXXXXXXXXXXXXXXX/tokens",
                                            {}, 40001, "token_id"),
    "resync without code3": Case("admin", "POST", f"{TOKENS}/DHXXXXXXXXXXXXXXXXXX/resync",
                                 {"code1": "1", "code2": "2"}, 40001, "code3"),
}

INVALID = {
    "add_user bad status": Case("admin", "POST", USERS, {"username": "alice", "status": "bad"},
                                40002, "status"),
    "add_user locked out status": Case("admin", "POST", USERS,
                                       {"username": "alice", "status": "locked out"}, 40002,
                                       "status"),
    "add_user email without @": Case("admin", "POST", USERS,
                                     {"username": "alice", "email": "nope"}, 40002, "email"),
    "add_user alias slot 9": Case("admin", "POST", USERS,
                                  {"username": "alice", "aliases": "alias9=x"}, 40002, "alias9"),
    "get_users limit=abc": Case("admin", "GET", USERS, {"limit": "abc"}, 40002, "limit"),
    "get_users limit=0": Case("admin", "GET", USERS, {"limit": "0"}, 40002, "limit"),
    "get_users offset=-1": Case("admin", "GET", USERS, {"offset": "-1"}, 40002, "offset"),
    "get_users username_list not json": Case("admin", "GET", USERS, {"username_list": "[a"},
                                             40002, "username_list"),
    "get_tokens limit=1.5": Case("admin", "GET", TOKENS, {"limit": "1.5"}, 40002, "limit"),
    "token type zz": Case("admin", "POST", TOKENS,
                          {"type": "zz", "serial": "s1", "secret": SEED_HEX}, 40002, "type"),
    "token serial of 129 chars": Case("admin", "POST", TOKENS,
                                      {"type": "h6", "serial": "s" * 129, "secret": SEED_HEX},
                                      40002, "serial"),
    "token secret not hex": Case("admin", "POST", TOKENS,
                                 {"type": "h6", "serial": "s1", "secret": "zz" * 20}, 40002,
                                 "secret"),
    "token secret too short": Case("admin", "POST", TOKENS,
                                   {"type": "h6", "serial": "s1", "secret": "abcd"}, 40002,
                                   "secret"),
    "token totp_step 5": Case("admin", "POST", TOKENS,
                              {"type": "t6", "serial": "s1", "secret": SEED_HEX,
                               "totp_step": "5"}, 40002, "totp_step"),
    "token counter -1": Case("admin", "POST", TOKENS,
                             {"type": "h6", "serial": "s1", "secret": SEED_HEX, "counter": "-1"},
                             40002, "counter"),
    "auth unknown factor": Case("auth", "POST", "/auth/v2/auth",
                                {"factor": "carrier-pigeon", "username": "alice"}, 40002,
                                "factor"),
    "auth push without device": Case("auth", "POST", "/auth/v2/auth",
                                     {"factor": "push", "username": "alice"}, 40001, "device"),
    "auth async=maybe": Case("auth", "POST", "/auth/v2/auth",
                             {"factor": "passcode", "username": "alice", "passcode": "1",
                              "async": "maybe"}, 40002, "async"),
    "auth username and user_id": Case("auth", "POST", "/auth/v2/preauth",
                                      {"username": "alice", "user_id": "DU1"}, 40002,
                                      "user_id or username"),
    "auth_status unknown txid": Case("auth", "GET", "/auth/v2/auth_status", {"txid": "nope"},
                                     40002, "txid"),
    "settings unknown field": Case("admin", "POST", "/admin/v1/settings", {"nope": "1"}, 40002,
                                   "nope"),
    "settings out of range": Case("admin", "POST", "/admin/v1/settings",
                                  {"lockout_threshold": "0"}, 40002, "lockout_threshold"),
    "authlog sort": Case("admin", "GET", "/admin/v2/logs/authentication", {"sort": "up"}, 40002,
                         "sort"),
    "authlog maxtime before mintime": Case("admin", "GET", "/admin/v2/logs/authentication",
                                           {"mintime": "2000", "maxtime": "1000"}, 40002,
                                           "maxtime"),
}


@pytest.mark.parametrize("version", [2, 5])
@pytest.mark.parametrize("name", list(MISSING) + list(INVALID))
async def test_parameter_errors_name_the_parameter(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin, name: str,
        version: int) -> None:
    case = MISSING.get(name) or INVALID[name]
    reply = await wire.call(case.keys(integrations), case.method, case.path, case.params,
                            version=version)
    data = assert_fail(reply, case.code, case.detail)
    assert data["message"] == ("Missing required request parameters" if case.code == 40001
                               else "Invalid request parameters")
    assert _usernames(admin_api) == []
    assert admin_api.get_tokens() == []


@dataclass(frozen=True)
class World:
    """A user with an HOTP token (RFC 4226 seed), created through duo_client."""

    user_id: str
    token_id: str


@pytest.fixture
def world(admin_api: duo_client.Admin) -> World:
    user = admin_api.add_user("alice")
    token = admin_api.add_hotp6_token("hotp-1", SEED_HEX)
    admin_api.add_user_token(user["user_id"], token["token_id"])
    return World(user["user_id"], token["token_id"])


@pytest.mark.parametrize(("params", "detail"), [
    ({"count": "11"}, "count"),
    ({"count": "0"}, "count"),
    ({"count": "ten"}, "count"),
    ({"codes": "12"}, "codes"),
    ({"codes": ",".join(str(1000 + n) for n in range(11))}, "codes"),
    ({"codes": "1234,1234"}, "codes"),
    ({"count": "2", "codes": "1234,5678"}, "count"),
    ({"reuse_count": "-1"}, "reuse_count"),
    ({"valid_secs": "x"}, "valid_secs"),
    ({"preserve_existing": "maybe"}, "preserve_existing"),
])
async def test_bypass_code_parameters(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin, world: World,
        params: dict[str, str], detail: str) -> None:
    path = f"{USERS}/{world.user_id}/bypass_codes"
    assert_fail(await wire.call(integrations.admin, "POST", path, params), 40002, detail)
    assert admin_api.get_user_bypass_codes(world.user_id) == []
    issued = (await wire.call(integrations.admin, "POST", path, {"count": "10"})).ok()
    assert len(issued) == 10


async def test_json_values_of_the_wrong_type_are_40002(
        wire: Wire, integrations: IntegrationPair, world: World) -> None:
    path = f"{USERS}/{world.user_id}/bypass_codes"
    wrong_counts: tuple[Any, ...] = (True, 1.5, [1], {"n": 1}, "1e1")
    for count in wrong_counts:
        body = json.dumps({"count": count}).encode()
        assert_fail(await wire.call(integrations.admin, "POST", path, json_body=body), 40002,
                    "count")
    wrong_names: tuple[Any, ...] = (True, 1.5, ["alice"], {"n": "alice"}, None)
    for value in wrong_names:
        body = json.dumps({"username": value, "factor": "passcode", "passcode": "1"}).encode()
        reply = await wire.call(integrations.auth, "POST", "/auth/v2/auth", json_body=body)
        if value is None:
            assert_fail(reply, 40001, "user_id or username")
        else:
            assert_fail(reply, 40002, "username")
    # JSON numbers where duo_client sends strings are accepted as their text.
    body = json.dumps({"count": 2}).encode()
    assert len((await wire.call(integrations.admin, "POST", path, json_body=body)).ok()) == 2


# --- junk at every route ---------------------------------------------------------------------------

NESTED_50: Any = "bottom"
for _ in range(50):
    NESTED_50 = {"k": [NESTED_50]}

# Junk that may go anywhere: JSON values (POST) or, for strings, query/form values.
JUNK: dict[str, Any] = {
    "long": "x" * 100_000,
    "long-unicode": "\u00e9\u2603\U0001f600" * 5000,
    "nul": "a\x00b",
    "only-nul": "\x00",
    "controls": "\x01\x1b[31m\r\n\t",
    "bidi-bom": "\u202e\ufeffabc",
    "lone-surrogate": "\udcff",
    "empty": "",
    "spaces": "   ",
    "digits-unicode": "\u0661\u0662\u0663",
    "negative": "-1",
    "float-text": "1.5",
    "exp-text": "1e308",
    "true-text": "true",
    "injection": "'; DROP TABLE users; -- \" ]] redis.call('FLUSHALL') {{7*7}} ${x}",
    "percent": "%00%FF%zz",
    "comma-list": ",,a,,b,",
    "stream-id-like": "0-0",
    "json-text": '{"a": [1, 2, {"b": null}]}',
    "huge-digits": "9" * 30,
    "next-offset-like": "1,not-an-id",
    "int": 12345,
    "huge-int": 10**30,
    "zero": 0,
    "negative-int": -7,
    "float": 1.5,
    "big-float": 1e308,
    "true": True,
    "false": False,
    "null": None,
    "list": ["a", "b"],
    "empty-list": [],
    "list-of-objects": [{"a": 1}, {"b": [2]}],
    "object": {"a": {"b": {"c": [1, {"d": None}]}}},
    "nested-50": NESTED_50,
}
QUERY_LIMIT = 1500  # keep the request line far below aiohttp's 8190-byte limit


@dataclass(frozen=True)
class Route:
    api: str
    method: str
    path: str  # {user_id} and {token_id} are filled from the world
    params: tuple[str, ...]
    base: Mapping[str, str] = dataclasses.field(default_factory=dict)


ROUTES = [
    Route("auth", "GET", "/auth/v2/check", ("junk",)),
    Route("auth", "POST", "/auth/v2/preauth", ("username", "user_id", "ipaddr", "hostname"),
          {"username": "alice"}),
    Route("auth", "POST", "/auth/v2/auth",
          ("factor", "username", "user_id", "passcode", "async", "ipaddr", "hostname", "device"),
          {"factor": "passcode", "username": "alice", "passcode": "000000"}),
    Route("auth", "GET", "/auth/v2/auth_status", ("txid",), {"txid": "x"}),
    Route("admin", "GET", USERS,
          ("username", "username_list", "user_id_list", "email", "limit", "offset")),
    Route("admin", "POST", USERS,
          ("username", "realname", "email", "notes", "firstname", "lastname", "status", "alias1",
           "alias8", "aliases"), {"username": "junk-user"}),
    Route("admin", "GET", USERS + "/{user_id}", ("junk",)),
    Route("admin", "POST", USERS + "/{user_id}",
          ("username", "realname", "email", "notes", "status", "alias2", "aliases")),
    Route("admin", "GET", USERS + "/{user_id}/tokens", ("junk",)),
    Route("admin", "POST", USERS + "/{user_id}/tokens", ("token_id",), {"token_id": "DH1"}),
    Route("admin", "DELETE", USERS + "/DUNOBODY/tokens/{token_id}", ("junk",)),
    Route("admin", "GET", USERS + "/{user_id}/bypass_codes", ("limit", "offset")),
    Route("admin", "POST", USERS + "/{user_id}/bypass_codes",
          ("count", "codes", "reuse_count", "valid_secs", "preserve_existing"), {"count": "1"}),
    Route("admin", "DELETE", USERS + "/DUNOBODY", ("junk",)),
    Route("admin", "GET", TOKENS, ("serial", "type", "limit", "offset")),
    Route("admin", "POST", TOKENS, ("type", "serial", "secret", "counter", "totp_step"),
          {"type": "h6", "serial": "junk-serial", "secret": SEED_HEX}),
    Route("admin", "GET", TOKENS + "/{token_id}", ("junk",)),
    Route("admin", "POST", TOKENS + "/{token_id}/resync", ("code1", "code2", "code3"),
          {"code1": "1", "code2": "2", "code3": "3"}),
    Route("admin", "DELETE", TOKENS + "/DHNOBODY", ("junk",)),
    Route("admin", "GET", "/admin/v1/settings", ("junk",)),
    Route("admin", "POST", "/admin/v1/settings",
          ("lockout_threshold", "hotp_lookahead_window", "sms_refresh", "sms_message",
           "keypress_confirm", "helpdesk_bypass", "push_enabled"), {"lockout_threshold": "50"}),
    Route("admin", "GET", "/admin/v1/bypass_codes", ("limit", "offset")),
    Route("admin", "DELETE", "/admin/v1/bypass_codes/DBNOBODY", ("junk",)),
    Route("admin", "GET", "/admin/v2/logs/authentication",
          ("mintime", "maxtime", "limit", "sort", "next_offset", "users", "results", "factors",
           "event_types")),
]

AUTHLOG = "/admin/v2/logs/authentication"


def _query_safe(value: Any) -> str | None:
    """The junk as a query/form string, or None when it cannot travel as one."""
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate cannot be percent-encoded
        return None
    if len(urllib.parse.quote(value)) > QUERY_LIMIT:
        return value[:300]
    return value


def _attempts(route: Route, keys: Keys, path: str) -> list[tuple[str, Outgoing]]:
    """Every (label, signed request) for one route."""
    attempts: list[tuple[str, Outgoing]] = []
    body_method = route.method == "POST"
    for param in route.params:
        for name, value in JUNK.items():
            if body_method:
                body = json.dumps({**route.base, param: value}).encode()
                attempts.append((f"json {param}={name}",
                                 prepare(keys, "POST", path, json_body=body)))
            text = _query_safe(value)
            if text is None:
                continue
            params = {**route.base, param: text}
            if body_method:
                attempts.append((f"form {param}={name}",
                                 prepare(keys, "POST", path, params, version=2)))
            else:
                attempts.append((f"query {param}={name}", prepare(keys, route.method, path, params)))
        attempts += _raw_byte_attempts(route, keys, path, param)
    return attempts


def _raw_byte_attempts(route: Route, keys: Keys, path: str,
                       param: str) -> list[tuple[str, Outgoing]]:
    """Non-UTF-8 bytes: percent-escaped in a query or form, and raw in a JSON body.

    The server canonicalises what it parses (invalid UTF-8 becomes U+FFFD), so the request is
    signed over the parsed parameters and sent with the raw escapes.
    """
    escaped = "%FF%FE%00"
    raw_query = "&".join(
        f"{urllib.parse.quote(key)}={escaped if key == param else urllib.parse.quote(value)}"
        for key, value in {**route.base, param: ""}.items())
    grouped: dict[str, list[str]] = {}
    for key, value in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    attempts: list[tuple[str, Outgoing]] = []
    if route.method == "POST":
        signed = prepare(keys, "POST", path, grouped, version=2)
        attempts.append((f"form {param}={escaped}",
                         dataclasses.replace(signed, body=raw_query.encode())))
        body = json.dumps({**route.base, param: "PLACEHOLDER"}).encode()
        attempts.append((f"json {param}=raw \\xff", prepare(
            keys, "POST", path, json_body=body.replace(b"PLACEHOLDER", b"\xff\xfe"))))
    else:
        signed = prepare(keys, route.method, path, grouped)
        attempts.append((f"query {param}={escaped}", dataclasses.replace(signed, query=raw_query)))
    return attempts


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
async def test_junk_never_gets_a_5xx_and_always_an_envelope(
        wire: Wire, integrations: IntegrationPair, world: World, route: Route) -> None:
    keys = integrations.auth if route.api == "auth" else integrations.admin
    path = route.path.format(user_id=world.user_id, token_id=world.token_id)
    problems: list[str] = []
    attempts = _attempts(route, keys, path)
    assert len(attempts) >= len(route.params) * 15
    for label, outgoing in attempts:
        reply = await wire.send(outgoing)
        try:
            data = assert_envelope(reply)
        except AssertionError as error:
            problems.append(f"{label}: {error}")
            continue
        if data["stat"] == "FAIL" and data["code"] // 100 in (401, 403):
            problems.append(f"{label}: refused before the handler ran: {data}")
    assert problems == [], "\n".join(problems[:20])
    # The service is still answering correctly for this route's integration.
    assert (await wire.call(keys, "GET", "/auth/v2/check" if route.api == "auth"
                            else "/admin/v1/settings")).ok()


@pytest.mark.parametrize("junk", [
    "x" * 2000, "%00", "%FF%FE", "..%2F..%2Fetc%2Fpasswd", "%E2%98%83", "DU%20X", "%0D%0AX-Duo-A:1",
])
async def test_junk_in_path_parameters(wire: Wire, integrations: IntegrationPair, junk: str) -> None:
    for method, template in (("GET", "/admin/v1/users/{}"), ("POST", "/admin/v1/users/{}"),
                             ("DELETE", "/admin/v1/users/{}"), ("GET", "/admin/v1/users/{}/tokens"),
                             ("POST", "/admin/v1/users/{}/bypass_codes"),
                             ("GET", "/admin/v1/tokens/{}"), ("DELETE", "/admin/v1/tokens/{}"),
                             ("POST", "/admin/v1/tokens/{}/resync"),
                             ("DELETE", "/admin/v1/bypass_codes/{}")):
        path = template.format(junk)
        params = {"code1": "1", "code2": "2", "code3": "3"} if path.endswith("/resync") else {}
        reply = await wire.send(prepare(integrations.admin, method, path, params))
        data = assert_envelope(reply)
        assert data["stat"] == "OK" or data["code"] in (40002, 40401), (method, path, data)


# --- regressions: inputs that once reached Redis or struct.pack and answered 500 ------------------

def _no_5xx_or_40002(reply: Reply, detail: str) -> None:
    """A fixed service may answer 200 (an empty page) or 40002 naming the parameter."""
    data = assert_envelope(reply)
    if data["stat"] != "OK":
        assert_fail(reply, 40002, detail)


@pytest.mark.parametrize("path", [USERS, TOKENS, "/admin/v1/bypass_codes"])
@pytest.mark.parametrize("offset", ["9" * 30, str(2**63 - 1)])
async def test_huge_offset_is_not_a_500(
        wire: Wire, integrations: IntegrationPair, path: str, offset: str) -> None:
    reply = await wire.call(integrations.admin, "GET", path, {"offset": offset})
    _no_5xx_or_40002(reply, "offset")


@pytest.mark.parametrize("params", [
    {"maxtime": str(2**64)},
    {"mintime": str(2**64), "maxtime": str(2**65)},
    {"mintime": "0", "maxtime": "9" * 30, "sort": "ts:asc"},
])
async def test_authlog_huge_time_is_not_a_500(
        wire: Wire, integrations: IntegrationPair, params: dict[str, str]) -> None:
    reply = await wire.call(integrations.admin, "GET", AUTHLOG, params)
    _no_5xx_or_40002(reply, "time")


@pytest.mark.parametrize("next_offset", ["1,not-an-id", "1,1-a", "5,-", "1,18446744073709551616-0"])
async def test_authlog_bad_next_offset_is_not_a_500(
        wire: Wire, integrations: IntegrationPair, next_offset: str) -> None:
    reply = await wire.call(integrations.admin, "GET", AUTHLOG, {"next_offset": next_offset})
    _no_5xx_or_40002(reply, "next_offset")


async def test_lone_surrogate_in_json_is_not_a_500(
        wire: Wire, integrations: IntegrationPair, world: World) -> None:
    for keys, path, body, detail in (
            (integrations.auth, "/auth/v2/preauth", b'{"username":"\\udcff"}', "username"),
            (integrations.admin, f"{USERS}/{world.user_id}", b'{"realname":"a\\ud800"}',
             "realname"),
            (integrations.admin, "/admin/v1/settings", b'{"sms_message":"\\udfff"}',
             "sms_message")):
        assert_fail(await wire.call(keys, "POST", path, json_body=body), 40002, detail)


@pytest.mark.parametrize("body", [
    b'{"username":"alice","aliases":"alias\xc2\xb2=x"}',
    b'{"username":"alice","aliases":{"alias\xc2\xb2":"x"}}',
    b'{"username":"alice","aliases":{"alias' + b"1" * 5000 + b'":"x"}}',
])
async def test_alias_slot_that_is_not_a_decimal_number_is_not_a_500(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin,
        body: bytes) -> None:
    reply = await wire.call(integrations.admin, "POST", USERS, json_body=body)
    assert_fail(reply, 40002, "alias")
    assert _usernames(admin_api) == []


async def test_deeply_nested_json_is_not_a_500(
        wire: Wire, integrations: IntegrationPair) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert_fail(await wire.call(integrations.admin, "POST", USERS, json_body=deep), 40002, "body")
    nested_object = b'{"username":' + b'{"a":' * 30_000 + b"1" + b"}" * 30_001
    assert_fail(await wire.call(integrations.admin, "POST", USERS, json_body=nested_object),
                40002, "body")
    reply = await wire.call(integrations.admin, "GET", USERS, {"username_list": "[" * 2000})
    assert_fail(reply, 40002, "username_list")


async def test_huge_hotp_counter_is_refused_or_harmless(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin) -> None:
    user_id = admin_api.add_user("alice")["user_id"]
    created = await wire.call(integrations.admin, "POST", TOKENS, {
        "type": "h6", "serial": "big", "secret": SEED_HEX, "counter": "9" * 30})
    if created.status == 200:
        token_id = created.ok()["token_id"]
        admin_api.add_user_token(user_id, token_id)
        reply = await wire.call(integrations.auth, "POST", "/auth/v2/auth", {
            "factor": "passcode", "username": "alice", "passcode": "123456"})
        assert reply.ok()["result"] == "deny"
        resync = await wire.call(integrations.admin, "POST", f"{TOKENS}/{token_id}/resync",
                                 {"code1": "1", "code2": "2", "code3": "3"})
        assert_fail(resync, 40002, "code1")
    else:
        assert_fail(created, 40002, "counter")


async def test_form_body_that_is_not_utf8_is_40002(
        wire: Wire, integrations: IntegrationPair, admin_api: duo_client.Admin) -> None:
    user_id = admin_api.add_user("alice", realname="Alice")["user_id"]
    signed_empty = prepare(integrations.admin, "POST", f"{USERS}/{user_id}", {}, version=2)
    junk_body = dataclasses.replace(signed_empty, body=b"realname=\xff\xfe&status=disabled")
    assert_fail(await wire.send(junk_body), 40002, "body")
    assert admin_api.get_user_by_id(user_id)["realname"] == "Alice"
