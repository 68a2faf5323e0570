"""authsvc.wire.duo_sig against the worked vectors of duo-api.md §1.4 and duo_client's own signer."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import itertools
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from duo_client import client as duo

from authsvc.wire import duo_sig

IKEY = "DIWJ8X6AEYOR5OMC6TQ1"
SKEY = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"
DATE = "Tue, 21 Aug 2012 17:29:18 -0000"
DUO_HOST = "api-xxxxxxxx.duosecurity.com"
EMPTY_SHA512 = (
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)

Digest = Callable[..., Any]


def _signed_hex(authorization: str) -> tuple[str, str]:
    """(ikey, hex) out of a ``Basic`` header produced by duo_client."""
    ikey, _, sig = base64.b64decode(authorization.removeprefix("Basic ")).decode().partition(":")
    return ikey, sig


def _request(method: str, *, host: str = DUO_HOST, path: str = "/", date: str = DATE,
             query: Sequence[tuple[str, str]] = (), body: bytes = b"", is_json: bool = False,
             form: Sequence[tuple[str, str]] | None = None,
             x_duo: Mapping[str, str] | None = None) -> duo_sig.SignedRequest:
    return duo_sig.SignedRequest(method=method, hosts=[host], path=path, date=date, query=query,
                                 body=body, is_json=is_json, form=form, x_duo_headers=x_duo or {})


# --- §1.4 worked vectors -------------------------------------------------------------------------

VECTOR_A_CANONICAL = (
    "Tue, 21 Aug 2012 17:29:18 -0000\nPOST\napi-xxxxxxxx.duosecurity.com\n"
    "/accounts/v1/account/list\nrealname=First%20Last&username=root"
)
VECTOR_A_SHA512 = (
    "1bffb8924348f7db7da9e7d7d749ded93aafd02d8e904960da7b96c57510220185a64a2827ee8f24ac5d30802a9e"
    "e97e59de44b304b18242f0d596d15a8122af"
)
VECTOR_A_SHA512_AUTH = (
    "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6MWJmZmI4OTI0MzQ4ZjdkYjdkYTllN2Q3ZDc0OWRlZDkzYWFmZDAyZDhl"
    "OTA0OTYwZGE3Yjk2YzU3NTEwMjIwMTg1YTY0YTI4MjdlZThmMjRhYzVkMzA4MDJhOWVlOTdlNTlkZTQ0YjMwNGIxODI0"
    "MmYwZDU5NmQxNWE4MTIyYWY="
)
VECTOR_A_SHA1 = "2d97d6166319781b5a3a07af39d366f491234edc"
VECTOR_A_SHA1_AUTH = (
    "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6MmQ5N2Q2MTY2MzE5NzgxYjVhM2EwN2FmMzlkMzY2ZjQ5MTIzNGVkYw=="
)
VECTOR_A_PAIRS = [("username", "root"), ("realname", "First Last")]


def test_vector_a_v2_canonical_string_matches_the_sheet_and_duo_client() -> None:
    canonical = duo_sig.canonicalize(
        version=2, date=DATE, method="post", host="API-xxxxxxxx.duosecurity.com",
        path="/accounts/v1/account/list", params_line=duo_sig.canon_params(VECTOR_A_PAIRS))
    assert canonical == VECTOR_A_CANONICAL
    assert canonical == duo.canonicalize(
        "POST", "API-xxxxxxxx.duosecurity.com", "/accounts/v1/account/list",
        duo.normalize_params(dict(VECTOR_A_PAIRS)), DATE, 2)


@pytest.mark.parametrize(("digestmod", "expected_hex", "expected_auth"), [
    ("sha512", VECTOR_A_SHA512, VECTOR_A_SHA512_AUTH),
    ("sha1", VECTOR_A_SHA1, VECTOR_A_SHA1_AUTH),
])
def test_vector_a_v2_hmac_and_authorization_header(
        digestmod: str, expected_hex: str, expected_auth: str) -> None:
    signature = duo_sig.sign(SKEY, VECTOR_A_CANONICAL, digestmod)
    assert signature == expected_hex
    assert duo_sig.authorization_header(IKEY, signature) == expected_auth
    assert duo_sig.parse_authorization(expected_auth) == (IKEY, expected_hex)
    assert expected_auth == duo.sign(
        IKEY, SKEY, "POST", "API-xxxxxxxx.duosecurity.com", "/accounts/v1/account/list", DATE, 2,
        duo.normalize_params(dict(VECTOR_A_PAIRS)), digestmod=getattr(hashlib, digestmod))


@pytest.mark.parametrize("signature", [VECTOR_A_SHA512, VECTOR_A_SHA1, VECTOR_A_SHA1.upper()])
def test_vector_a_verifies_as_a_v2_form_post_with_either_digest(signature: str) -> None:
    request = _request("POST", host="API-xxxxxxxx.duosecurity.com",
                       path="/accounts/v1/account/list",
                       body=b"username=root&realname=First+Last", form=VECTOR_A_PAIRS)
    assert duo_sig.verify(request, SKEY, signature) == 2
    assert duo_sig.verify(request, SKEY[:-1] + "x", signature) is None
    moved = _request("POST", host="API-xxxxxxxx.duosecurity.com",
                     path="/accounts/v1/account/list",
                     form=[("username", "root"), ("realname", "First  Last")])
    assert duo_sig.verify(moved, SKEY, signature) is None


VECTOR_B_BODY = b'{"async":"0","device":"auto","factor":"push","username":"alice"}'
VECTOR_B_BODY_SHA512 = (
    "144a9f1892c31a335b214a4bcba1ab01306756330036584bf3c5d90977bb2900ea13aa78e13acc5f314c7e57fde8"
    "cc668a9819bf11fa9b97152d3de1b6cad433"
)
VECTOR_B_HMAC = (
    "1ae057e28ec818b6be6e19d8750aa739686d74c63d90590af52d391baaffce652caf336372b3f658af10ef672893"
    "148251059ddb29ee8f2e006f1c41ec56d134"
)
VECTOR_B_AUTH = (
    "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6MWFlMDU3ZTI4ZWM4MThiNmJlNmUxOWQ4NzUwYWE3Mzk2ODZkNzRjNjNk"
    "OTA1OTBhZjUyZDM5MWJhYWZmY2U2NTJjYWYzMzYzNzJiM2Y2NThhZjEwZWY2NzI4OTMxNDgyNTEwNTlkZGIyOWVlOGYy"
    "ZTAwNmYxYzQxZWM1NmQxMzQ="
)


def test_vector_b_v5_json_post() -> None:
    params = {"factor": "push", "username": "alice", "device": "auto", "async": "0"}
    assert duo.Client.canon_json(params).encode() == VECTOR_B_BODY
    assert hashlib.sha512(VECTOR_B_BODY).hexdigest() == VECTOR_B_BODY_SHA512
    canonical = duo_sig.canonicalize(
        version=5, date=DATE, method="POST", host=DUO_HOST, path="/auth/v2/auth", params_line="",
        body_sha512=VECTOR_B_BODY_SHA512, headers_sha512=duo_sig.canon_x_duo_headers({}))
    assert canonical == "\n".join([DATE, "POST", DUO_HOST, "/auth/v2/auth", "",
                                   VECTOR_B_BODY_SHA512, EMPTY_SHA512])
    assert canonical == duo.canonicalize("POST", DUO_HOST, "/auth/v2/auth", {}, DATE, 5,
                                         body=VECTOR_B_BODY.decode())
    signature = duo_sig.sign(SKEY, canonical)
    assert signature == VECTOR_B_HMAC
    assert duo_sig.authorization_header(IKEY, signature) == VECTOR_B_AUTH
    request = _request("POST", path="/auth/v2/auth", body=VECTOR_B_BODY, is_json=True)
    assert duo_sig.verify(request, SKEY, VECTOR_B_HMAC) == 5
    reordered = _request("POST", path="/auth/v2/auth", is_json=True,
                         body=b'{"username":"alice","async":"0","device":"auto","factor":"push"}')
    assert duo_sig.verify(reordered, SKEY, VECTOR_B_HMAC) is None  # raw bytes, never re-serialised


VECTOR_C_HMAC = (
    "f5afcd661b744f2937badaae9df18ea174ba1573f7f03d12d7fd8065a9f766a447198949750cb17004175830b76c"
    "d66e90435d813ddd1616687abe8641b35b95"
)


def test_vector_c_v5_get() -> None:
    pairs = [("offset", "0"), ("limit", "100")]
    line = duo_sig.canon_params(pairs)
    assert line == "limit=100&offset=0"
    canonical = duo_sig.canonicalize(version=5, date=DATE, method="GET", host=DUO_HOST,
                                     path="/admin/v1/users", params_line=line)
    assert canonical.split("\n")[4:] == [line, EMPTY_SHA512, EMPTY_SHA512]
    assert duo_sig.sign(SKEY, canonical) == VECTOR_C_HMAC
    request = _request("GET", path="/admin/v1/users", query=pairs)
    assert duo_sig.verify(request, SKEY, VECTOR_C_HMAC) == 5
    other = _request("GET", path="/admin/v1/users", query=[("limit", "101"), ("offset", "0")])
    assert duo_sig.verify(other, SKEY, VECTOR_C_HMAC) is None


D_IKEY = "DIABCDEFGHIJKLMNOPQR"
D_SKEY = "testtesttesttesttesttesttesttesttesttest"
D_DATE = "Fri, 24 May 2024 12:00:00 -0000"
VECTOR_D_GET_HMAC = (
    "c454639d75b4e3d99b8b1d5e41cd7bb2d2d8ba55f6811f786dfb0edd4facd2f3a5e6d6c837f31f6826706325b4ed"
    "7dcdc5f11164948e57a7032a524990e01583"
)
VECTOR_D_POST_AUTH = (
    "Basic RElBQkNERUZHSElKS0xNTk9QUVI6MTJhMDVkNzgzYjJlNThlMzZmMzdkZjhhNjkwNzgzNTQ5NmZiZTIwZmIz"
    "ZDA0YjE1MDM2YzgyYjE2OTRmYzU4ZDFjMDQ1MWI5MzdmYjliYTZlN2MyYjQ0ZDg5YjQ3M2FmNzA4MTY2MTgzZDIxNmFl"
    "YTEzZTUyNzQyYTU3ZjIzOWY="
)


def test_vector_d_duo_hmac_get_with_x_duo_date() -> None:
    headers = {"x-duo-date": D_DATE}
    canonical = duo_sig.canonicalize(
        version=5, date=D_DATE, method="GET", host=DUO_HOST, path="/api/path", params_line="",
        headers_sha512=duo_sig.canon_x_duo_headers(headers))
    assert duo_sig.sign(D_SKEY, canonical) == VECTOR_D_GET_HMAC
    assert duo_sig.verify(_request("GET", path="/api/path", date=D_DATE, x_duo=headers),
                          D_SKEY, VECTOR_D_GET_HMAC) == 5
    # The X-Duo-Date header is part of the v5 header hash: without it the signature is different.
    assert duo_sig.verify(_request("GET", path="/api/path", date=D_DATE),
                          D_SKEY, VECTOR_D_GET_HMAC) is None


def test_vector_d_duo_hmac_post_empty_object() -> None:
    headers = {"X-Duo-Date": D_DATE}
    canonical = duo_sig.canonicalize(
        version=5, date=D_DATE, method="POST", host=DUO_HOST, path="/api/path", params_line="",
        body_sha512=hashlib.sha512(b"{}").hexdigest(),
        headers_sha512=duo_sig.canon_x_duo_headers(headers))
    signature = duo_sig.sign(D_SKEY, canonical)
    assert duo_sig.authorization_header(D_IKEY, signature) == VECTOR_D_POST_AUTH
    request = _request("POST", path="/api/path", date=D_DATE, body=b"{}", is_json=True,
                       x_duo=headers)
    assert duo_sig.verify(request, D_SKEY, signature) == 5


# --- canon_params ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("pairs", "expected"), [
    ([], ""),
    ([("realname", "First Last")], "realname=First%20Last"),
    ([("a", "x~y")], "a=x~y"),
    ([("a~b", "1")], "a~b=1"),
    ([("a", "1+1")], "a=1%2B1"),
    ([("a", "-_.")], "a=-_."),
    ([("a", "x/y*z'!()")], "a=x%2Fy%2Az%27%21%28%29"),
    ([("a", "é")], "a=%C3%A9"),
    ([("a", "\u2603")], "a=%E2%98%83"),
    ([("a", "")], "a="),
    ([("a", "\x00")], "a=%00"),
    ([("b", "1"), ("a", "2"), ("c", "0")], "a=2&b=1&c=0"),
    ([("k", "b"), ("k", "a"), ("k", "c")], "k=a&k=b&k=c"),
    ([("k", "x"), ("k", "x")], "k=x&k=x"),
    ([("B", "1"), ("a", "1")], "B=1&a=1"),
    ([("a b", "1"), ("a", "2"), ("a+", "3")], "a=2&a%20b=1&a%2B=3"),
])
def test_canon_params_quotes_and_sorts_like_duo(pairs: list[tuple[str, str]], expected: str) -> None:
    assert duo_sig.canon_params(pairs) == expected
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    assert duo.canon_params(duo.normalize_params(grouped)) == expected


def test_canon_params_sorts_by_encoded_key_not_raw_key() -> None:
    # '~' (0x7E) stays literal and sorts after '%'-escapes (0x25) although raw ' ' < '~'.
    assert duo_sig.canon_params([("~", "1"), (" ", "2")]) == "%20=2&~=1"


# --- canon_x_duo_headers ---------------------------------------------------------------------------

def test_canon_x_duo_headers_sheet_example() -> None:
    headers = {"X-Duo-Foo": "bar", "x-duo-a": "1"}
    expected = ("73ca8ea97a21eb4070968eb9e2344c5f17740979d653be4c31964155e7078dccc70da0109c820f3add"
                "d9192b56fa66b72b3d0b80036fff01c672fe2a4013e153")
    assert duo_sig.canon_x_duo_headers(headers) == expected
    assert duo.canon_x_duo_headers(headers) == expected


def test_canon_x_duo_headers_empty_and_non_duo_headers_ignored() -> None:
    assert duo_sig.canon_x_duo_headers({}) == EMPTY_SHA512
    assert duo_sig.canon_x_duo_headers({"Date": "x", "Host": "y", "X-Dup": "z"}) == EMPTY_SHA512
    assert duo_sig.canon_x_duo_headers({"X-Duo-A": "1", "Content-Type": "text/plain"}) \
        == duo.canon_x_duo_headers({"X-Duo-A": "1"})


@pytest.mark.parametrize("headers", [
    {"X-Duo-Date": D_DATE},
    {"x-duo-b": "2", "X-DUO-A": "1"},
    {"X-Duo-Spaced": "  padded value  "},
    {"X-Duo-Unicode": "caf\u00e9"},
    {"X-Duo-Empty": ""},
])
def test_canon_x_duo_headers_matches_duo_client(headers: dict[str, str]) -> None:
    assert duo_sig.canon_x_duo_headers(headers) == duo.canon_x_duo_headers(headers)


def test_canon_x_duo_headers_values_are_not_trimmed_or_case_folded() -> None:
    assert duo_sig.canon_x_duo_headers({"X-Duo-A": "v"}) \
        != duo_sig.canon_x_duo_headers({"X-Duo-A": " v"})
    assert duo_sig.canon_x_duo_headers({"X-Duo-A": "v"}) \
        != duo_sig.canon_x_duo_headers({"X-Duo-A": "V"})
    assert duo_sig.canon_x_duo_headers({"X-Duo-A": "v"}) \
        == duo_sig.canon_x_duo_headers({"x-duo-a": "v"})


# --- canonicalize ----------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [1, 3, 6])
def test_canonicalize_rejects_unsupported_versions(version: int) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        duo_sig.canonicalize(version=version, date=DATE, method="GET", host="h", path="/",
                             params_line="")


@pytest.mark.parametrize("version", [2, 4, 5])
def test_canonicalize_matches_duo_client_line_for_line(version: int) -> None:
    params = {"b": ["2", "1"], "a": ["x y"]}
    body = '{"z":1}' if version != 2 else None
    ours = duo_sig.canonicalize(
        version=version, date=DATE, method="delete", host="Foo.Example.COM", path="/p/a%20th",
        params_line=duo_sig.canon_params([("b", "2"), ("b", "1"), ("a", "x y")]),
        body_sha512=hashlib.sha512(b'{"z":1}').hexdigest())
    theirs = duo.canonicalize("DELETE", "Foo.Example.COM", "/p/a%20th",
                              duo.normalize_params(params), DATE, version, body=body)
    assert ours == theirs
    assert len(ours.split("\n")) == {2: 5, 4: 6, 5: 7}[version]


# --- parse_authorization ---------------------------------------------------------------------------

def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


@pytest.mark.parametrize("value", [
    "",
    "Basic",
    "Basic ",
    "Basic    ",
    "Bearer " + base64.b64encode(b"ikey:sig").decode(),
    "Digest username=ikey",
    "Basic !!!not-base64!!!",
    "Basic aWtleTpzaWc",  # "ikey:sig" without its padding
    _basic(b"no-colon-here"),
    _basic(b":signature-without-ikey"),
    _basic(b"ikey-without-signature:"),
    _basic(b":"),
    _basic(b"\xff\xfe:\xfd"),
    base64.b64encode(b"ikey:sig").decode(),
])
def test_parse_authorization_rejects_malformed_values(value: str) -> None:
    assert duo_sig.parse_authorization(value) is None


def test_parse_authorization_accepts_what_duo_client_sends() -> None:
    header = duo.sign(IKEY, SKEY, "GET", DUO_HOST, "/auth/v2/check", DATE, 2, {})
    ikey, sig = _signed_hex(header)
    assert duo_sig.parse_authorization(header) == (IKEY, sig) == (ikey, sig)
    assert duo_sig.parse_authorization("basic " + header.split()[1]) == (IKEY, sig)
    assert duo_sig.parse_authorization("  " + header + "  ") == (IKEY, sig)
    assert duo_sig.parse_authorization(_basic(b"ik:a:b")) == ("ik", "a:b")


# --- parse_date ------------------------------------------------------------------------------------

EPOCH_OF_DATE = 1345570158.0


@pytest.mark.parametrize("value", [
    "Tue, 21 Aug 2012 17:29:18 -0000",
    "Tue, 21 Aug 2012 17:29:18 +0000",
    "Tue, 21 Aug 2012 17:29:18 GMT",
    "Tue, 21 Aug 2012 19:29:18 +0200",
    "Tue, 21 Aug 2012 12:29:18 -0500",
])
def test_parse_date_forms(value: str) -> None:
    assert duo_sig.parse_date(value) == EPOCH_OF_DATE


def test_parse_date_of_duo_client_format() -> None:
    assert duo_sig.parse_date(email.utils.formatdate(EPOCH_OF_DATE)) == EPOCH_OF_DATE
    assert duo_sig.parse_date(email.utils.formatdate(EPOCH_OF_DATE, usegmt=True)) == EPOCH_OF_DATE


@pytest.mark.parametrize("value", [
    "", "yesterday", "0", "1345570158", "Tue, 21 Aug 2012", "Tue, 32 Foo 2012 17:29:18 -0000",
    "Tue, 21 Aug 99999999999 17:29:18 -0000", "\x00", "Tue, 21 Aug 2012 17:",
])
def test_parse_date_garbage_is_none(value: str) -> None:
    assert duo_sig.parse_date(value) is None


# --- canonical_host --------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    ("127.0.0.1:18081", "127.0.0.1"),
    ("127.0.0.1", "127.0.0.1"),
    ("API-XXXXXXXX.DuoSecurity.com:443", "api-xxxxxxxx.duosecurity.com"),
    ("api.example.org", "api.example.org"),
    ("  Example.ORG:8443 ", "example.org"),
    ("[::1]:8080", "::1"),
    ("[::1]", "::1"),
    ("[2001:DB8::1]:443", "2001:db8::1"),
])
def test_canonical_host(header: str, expected: str) -> None:
    assert duo_sig.canonical_host(header) == expected


# --- verify: duo_client's own signatures, v2 (sha1/sha512), v4, v5 -------------------------------

PARAM_SETS: list[dict[str, list[str]]] = [
    {},
    {"username": ["alice"]},
    {"realname": ["First Last"], "username": ["root"]},
    {"q": ["a+b c"], "plus": ["+"], "space": [" "]},
    {"unicode": ["caf\u00e9 \u2603 \U0001f600"], "ключ": ["значение"]},
    {"empty": [""], "also_empty": [""], "x": ["1"]},
    {"users": ["DU2", "DU1", "DU3"], "limit": ["10"]},
    {"tilde~": ["~home"], "reserved": ["a/b?c=d&e#f%g"]},
    {"nul": ["a\x00b"], "tab": ["\t"], "newline": ["line1\nline2"]},
    {"long": ["x" * 3000]},
]
HOSTS = ["127.0.0.1", "API-Example.COM"]


def _wire_pairs(params: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """What a server parses back out of duo_client's urlencoded query or form body."""
    encoded = urllib.parse.urlencode(duo.normalize_params(dict(params)), doseq=True)
    return urllib.parse.parse_qsl(encoded, keep_blank_values=True)


def _check(request: duo_sig.SignedRequest, header: str, version: int) -> None:
    ikey, sig = _signed_hex(header)
    assert ikey == IKEY
    assert duo_sig.verify(request, SKEY, sig) == version
    assert duo_sig.verify(request, "wrong" + SKEY[5:], sig) is None


@pytest.mark.parametrize("digestmod", [hashlib.sha1, hashlib.sha512], ids=["sha1", "sha512"])
def test_verify_v2_signed_by_duo_client(digestmod: Digest) -> None:
    for params, host, method in itertools.product(PARAM_SETS, HOSTS, ["GET", "DELETE", "POST"]):
        header = duo.sign(IKEY, SKEY, method, host, "/admin/v1/users", DATE, 2,
                          duo.normalize_params(params), digestmod=digestmod)
        pairs = _wire_pairs(params)
        if method == "POST":
            body = urllib.parse.urlencode(duo.normalize_params(params), doseq=True).encode()
            request = _request(method, host=host.lower(), path="/admin/v1/users", body=body,
                               form=pairs)
        else:
            request = _request(method, host=host.lower(), path="/admin/v1/users", query=pairs)
        _check(request, header, 2)
        tampered = pairs + [("extra", "1")]
        if method == "POST":
            bad = _request(method, host=host.lower(), path="/admin/v1/users", form=tampered)
        else:
            bad = _request(method, host=host.lower(), path="/admin/v1/users", query=tampered)
        assert duo_sig.verify(bad, SKEY, _signed_hex(header)[1]) is None


@pytest.mark.parametrize("version", [4, 5])
def test_verify_v4_v5_get_signed_by_duo_client(version: int) -> None:
    for params, host in itertools.product(PARAM_SETS, HOSTS):
        header = duo.sign(IKEY, SKEY, "GET", host, "/admin/v1/users", DATE, version,
                          duo.normalize_params(params), body="")
        request = _request("GET", host=host.lower(), path="/admin/v1/users",
                           query=_wire_pairs(params))
        _check(request, header, version)
        moved = _request("GET", host=host.lower(), path="/admin/v1/users/",
                         query=_wire_pairs(params))
        assert duo_sig.verify(moved, SKEY, _signed_hex(header)[1]) is None


@pytest.mark.parametrize("version", [4, 5])
def test_verify_v4_v5_json_post_signed_by_duo_client(version: int) -> None:
    bodies: list[dict[str, Any]] = [
        {str(key): (values[0] if values else "") for key, values in params.items()}
        for params in PARAM_SETS
    ] + [{"flag": True, "n": 3, "aliases": {"alias1": "x"}, "list": ["a", 1]}]
    for params, host in itertools.product(bodies, HOSTS):
        body = duo.Client.canon_json(params)
        header = duo.sign(IKEY, SKEY, "POST", host, "/auth/v2/auth", DATE, version, {}, body=body)
        request = _request("POST", host=host.lower(), path="/auth/v2/auth", body=body.encode(),
                           is_json=True)
        _check(request, header, version)
        as_form = _request("POST", host=host.lower(), path="/auth/v2/auth", body=body.encode(),
                           form=[])
        assert duo_sig.verify(as_form, SKEY, _signed_hex(header)[1]) is None
        changed = _request("POST", host=host.lower(), path="/auth/v2/auth",
                           body=body.encode() + b" ", is_json=True)
        assert duo_sig.verify(changed, SKEY, _signed_hex(header)[1]) is None


def test_verify_v5_covers_x_duo_headers() -> None:
    extra = {"X-Duo-Foo": "bar", "x-duo-date": DATE}
    body = duo.Client.canon_json({"username": "alice"})
    header = duo.sign(IKEY, SKEY, "POST", DUO_HOST, "/auth/v2/preauth", DATE, 5, {}, body=body,
                      additional_headers=extra)
    sig = _signed_hex(header)[1]

    def request(x_duo: Mapping[str, str]) -> duo_sig.SignedRequest:
        return _request("POST", path="/auth/v2/preauth", body=body.encode(), is_json=True,
                        x_duo=x_duo)

    assert duo_sig.verify(request(extra), SKEY, sig) == 5
    assert duo_sig.verify(request({"X-DUO-FOO": "bar", "X-Duo-Date": DATE}), SKEY, sig) == 5
    assert duo_sig.verify(request({"X-Duo-Foo": "baz", "x-duo-date": DATE}), SKEY, sig) is None
    assert duo_sig.verify(request({"x-duo-date": DATE}), SKEY, sig) is None
    assert duo_sig.verify(request({**extra, "X-Duo-Added": "1"}), SKEY, sig) is None
    # v4 ignores X-Duo headers entirely.
    v4 = _signed_hex(duo.sign(IKEY, SKEY, "POST", DUO_HOST, "/auth/v2/preauth", DATE, 4, {},
                              body=body))[1]
    assert duo_sig.verify(request({"X-Duo-Anything": "1"}), SKEY, v4) == 4


def test_verify_sha1_only_for_v2() -> None:
    body = duo.Client.canon_json({"username": "alice"})
    canonical = duo.canonicalize("POST", DUO_HOST, "/auth/v2/preauth", {}, DATE, 5, body=body)
    sha1_sig = hmac.new(SKEY.encode(), canonical.encode(), hashlib.sha1).hexdigest()
    request = _request("POST", path="/auth/v2/preauth", body=body.encode(), is_json=True)
    assert duo_sig.verify(request, SKEY, sha1_sig) is None


@pytest.mark.parametrize("signature", ["", "abc", "0" * 64, "0" * 127, "0" * 129, "z" * 128])
def test_verify_rejects_signatures_of_the_wrong_shape(signature: str) -> None:
    assert duo_sig.verify(_request("GET", path="/"), SKEY, signature) is None


def test_verify_tries_every_accepted_host() -> None:
    header = duo.sign(IKEY, SKEY, "GET", "auth.example.org", "/auth/v2/check", DATE, 5, {},
                      body="")
    sig = _signed_hex(header)[1]
    request = duo_sig.SignedRequest(
        method="GET", hosts=["127.0.0.1", "auth.example.org"], path="/auth/v2/check", date=DATE,
        query=[], body=b"", is_json=False, form=None, x_duo_headers={})
    assert duo_sig.verify(request, SKEY, sig) == 5
    only_local = duo_sig.SignedRequest(
        method="GET", hosts=["127.0.0.1"], path="/auth/v2/check", date=DATE,
        query=[], body=b"", is_json=False, form=None, x_duo_headers={})
    assert duo_sig.verify(only_local, SKEY, sig) is None


def test_verify_date_is_signed() -> None:
    header = duo.sign(IKEY, SKEY, "GET", DUO_HOST, "/auth/v2/check", DATE, 5, {}, body="")
    sig = _signed_hex(header)[1]
    assert duo_sig.verify(_request("GET", path="/auth/v2/check"), SKEY, sig) == 5
    later = _request("GET", path="/auth/v2/check", date="Tue, 21 Aug 2012 17:29:19 -0000")
    assert duo_sig.verify(later, SKEY, sig) is None
