"""The ``tokens`` console script: help and usage errors, import CSVs and later codes from the state
file, and the register/authenticate client contract against in-process fakes (the portal on a
unix socket, the Auth API as a stand-in for duo_client.Auth), both verifying with py_webauthn."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import duo_client
import pytest
from aiohttp import web
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse
from webauthn.helpers.structs import PublicKeyCredentialDescriptor

from tokens.cli import main
from tokens.oath import TotpToken, oath_code
from tokens.yubikey import MODHEX, decode_otp

SERVICE = "http://localhost:8443"
SUBCOMMANDS = ["list", "csv", "otp", "register", "authenticate"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# -- help and usage ----------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["--help"], *[[name, "--help"] for name in SUBCOMMANDS]])
def test_every_command_answers_help(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("usage: tokens")


@pytest.mark.parametrize("argv", [
    [], ["frobnicate"], ["csv", "--type", "x6", "--count", "1"], ["csv", "--type", "h6", "--count", "0"],
    ["otp"], ["register", "--service", "ftp://host:1", "--username", "u", "--passcode", "1"],
    ["authenticate", "--service", "https://host:1/path", "--username", "u", "--ikey", "i", "--skey", "s"],
    ["authenticate", "--service", SERVICE, "--username", "u", "--ikey", "i", "--skey", "s", "--key", "usb"],
    ["authenticate", "--service", SERVICE, "--username", "u"],
    ["authenticate", "--service", SERVICE, "--username", "u", "--ikey", "i"],
])
def test_usage_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                              argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("tokens") and "(see --help)" in err


def test_pyproject_declares_the_console_script(repo_root: Path) -> None:
    scripts = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["tokens"] == "tokens.cli:main"


# -- csv and otp -------------------------------------------------------------------------------

def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(("kind", "digits"), [("h6", 6), ("h8", 8)])
def test_hotp_csv_then_otp_gives_the_codes_in_order(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    kind: str, digits: int) -> None:
    state = str(tmp_path / "state.json")
    code, out, _ = run(capsys, "csv", "--type", kind, "--count", "3", "--state", state)
    rows = csv_rows(out)
    assert code == 0 and [row[0] for row in rows] == [f"{kind}-00000{i}" for i in (1, 2, 3)]
    serial, secret_hex, counter = rows[1]
    assert len(bytes.fromhex(secret_hex)) == 20 and counter == "0"
    codes = [run(capsys, "otp", "--serial", serial, "--state", state)[1].strip() for _ in range(2)]
    assert codes == [oath_code(bytes.fromhex(secret_hex), c, digits) for c in (0, 1)]
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(("kind", "digits"), [("t6", 6), ("t8", 8)])
def test_totp_csv_has_no_counter_and_otp_shows_the_current_code(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str, digits: int) -> None:
    state = str(tmp_path / "state.json")
    _, out, _ = run(capsys, "csv", "--type", kind, "--count", "1", "--serial-prefix", "T-",
                    "--state", state)
    [[serial, secret_hex]] = csv_rows(out)
    assert serial == "T-000001"
    token = TotpToken(bytes.fromhex(secret_hex), serial, digits)
    before = token.code()
    shown = run(capsys, "otp", "--serial", serial, "--state", state)[1].strip()
    assert shown in (before, token.code()) and len(shown) == digits


def test_yubikey_csv_is_the_yubico_format_and_otps_decode(capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    state, output = str(tmp_path / "state.json"), tmp_path / "yk.csv"
    code, out, _ = run(capsys, "csv", "--type", "yk", "--count", "2", "--state", state,
                       "--output", str(output))
    assert code == 0 and out == ""
    lines = output.read_text().splitlines()
    serial, public_id, private_id, aes_key, access, stamp, empty = lines[0].split(",")
    assert lines[0].endswith(",") and empty == "" and access == "000000000000"
    assert len(public_id) == 12 and set(public_id) <= set(MODHEX) and public_id.startswith("vv")
    assert len(bytes.fromhex(private_id)) == 6 and len(bytes.fromhex(aes_key)) == 16 and "T" in stamp
    otps = [run(capsys, "otp", "--serial", serial, "--state", state)[1].strip() for _ in range(2)]
    otps.append(run(capsys, "otp", "--serial", serial, "--replug", "--state", state)[1].strip())
    decoded = [decode_otp(otp, aes_key) for otp in otps]
    assert {d.public_id for d in decoded} == {public_id}
    assert {d.private_id.hex() for d in decoded} == {private_id}
    assert [d.counters for d in decoded] == [(1, 0), (1, 1), (2, 0)]


def test_more_tokens_continue_the_serials_and_unknown_serial_fails(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = str(tmp_path / "state.json")
    run(capsys, "csv", "--type", "h6", "--count", "2", "--state", state)
    _, out, _ = run(capsys, "csv", "--type", "h6", "--count", "1", "--state", state)
    assert csv_rows(out)[0][0] == "h6-000003"
    code, out, err = run(capsys, "otp", "--serial", "nope", "--state", state)
    assert code == 1 and out == "" and err == f"tokens: error: no token 'nope' in {state}\n"


def test_list_says_why_no_real_key_is_seen(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "list", "--state", str(tmp_path / "none.json"))
    assert code == 0 and "soft key: none" in out and "no FIDO key found" in out


def test_ceremonies_fail_cleanly_without_a_key(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    common = ["--service", SERVICE, "--username", "alice", "--ikey", "DI", "--skey", "s",
              "--state", str(tmp_path / "none.json")]
    code, _, err = run(capsys, "authenticate", *common, "--key", "hid")
    assert code == 1 and err.startswith("tokens: error: no FIDO key found") and len(err.splitlines()) == 1
    code, _, err = run(capsys, "authenticate", *common)
    assert code == 1 and "no soft key" in err


# -- register and authenticate against the contract --------------------------------------------

class FakeService:
    """The contract's server side, with py_webauthn as the verifier (rp id "localhost")."""

    def __init__(self) -> None:
        self.challenge = b""
        self.credential: dict[str, Any] = {}

    def portal(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/portal/self/login", self.login)
        app.router.add_get("/portal/self/devices", self.devices)
        app.router.add_post("/portal/self/webauthn/begin", self.begin)
        app.router.add_post("/portal/self/webauthn/finish", self.finish)
        return app

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (form["username"], form["passcode"], form["method"]) != ("alice", "123456", "passcode"):
            return web.Response(text="<form>bad passcode</form>", content_type="text/html")
        response = web.HTTPFound("/portal/self/devices")
        response.set_cookie("portal", "s1", httponly=True)
        raise response

    async def devices(self, request: web.Request) -> web.Response:
        if request.cookies.get("portal") != "s1":
            return web.Response(text="<form>log in</form>", content_type="text/html")
        return web.Response(text='<form><input type="hidden" name="csrf" value="c&amp;1"></form>',
                            content_type="text/html")

    async def begin(self, request: web.Request) -> web.Response:
        assert request.cookies.get("portal") == "s1" and (await request.post())["csrf"] == "c&1"
        options = generate_registration_options(rp_id="localhost", rp_name="authsvc", user_name="alice")
        self.challenge = options.challenge
        return web.json_response({"options": json.loads(options_to_json(options))})

    async def finish(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert body["csrf"] == "c&1"
        verified = verify_registration_response(credential=body["credential"],
                                                expected_challenge=self.challenge,
                                                expected_rp_id="localhost", expected_origin=SERVICE)
        self.credential = {"id": verified.credential_id, "key": verified.credential_public_key,
                           "count": verified.sign_count}
        return web.json_response({"webauthnkey": "WA1", "credential_name": body["name"]})

    def auth_api(self, ikey: str, skey: str, host: str, *, ca_certs: str | None,
                 port: int) -> FakeService:
        assert (ikey, skey, host, ca_certs, port) == ("DIXXX", "secret", "localhost", "HTTP", 8443)
        return self

    def json_api_call(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        assert method == "POST" and params["username"] == "alice"
        if path == "/auth/v2/webauthn/options":
            options = generate_authentication_options(rp_id="localhost", allow_credentials=[
                PublicKeyCredentialDescriptor(id=self.credential["id"])])
            self.challenge = options.challenge
            return {"options": options_to_json(options)}  # a JSON string is accepted too
        assert path == "/auth/v2/auth" and params["factor"] == "webauthn"
        try:
            verified = verify_authentication_response(
                credential=json.loads(params["assertion"]), expected_challenge=self.challenge,
                expected_rp_id="localhost", expected_origin=SERVICE,
                credential_public_key=self.credential["key"],
                credential_current_sign_count=self.credential["count"])
        except InvalidAuthenticationResponse:
            return {"result": "deny", "status": "deny", "status_msg": "Login denied"}
        self.credential["count"] = verified.new_sign_count
        return {"result": "allow", "status": "allow", "status_msg": "Success. Logging you in..."}


@pytest.fixture
async def portal_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                        ) -> AsyncIterator[FakeService]:
    """The fake portal on a unix socket; the CLI's aiohttp sessions are pointed at it."""
    service = FakeService()
    runner = web.AppRunner(service.portal())
    await runner.setup()
    path = str(tmp_path / "portal.sock")
    await web.UnixSite(runner, path).start()
    real_session = aiohttp.ClientSession

    def session(**kwargs: Any) -> aiohttp.ClientSession:
        return real_session(connector=aiohttp.UnixConnector(path=path), **kwargs)

    monkeypatch.setattr(aiohttp, "ClientSession", session)
    monkeypatch.setattr(duo_client, "Auth", service.auth_api)
    yield service
    await runner.cleanup()


async def test_register_then_authenticate_with_the_soft_key_of_the_state_file(
        portal_socket: FakeService, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = str(tmp_path / "state.json")
    register = ["register", "--service", SERVICE, "--username", "alice", "--passcode", "123456",
                "--name", "desk key", "--state", state]
    assert await asyncio.to_thread(main, register) == 0
    assert json.loads(capsys.readouterr().out) == {"webauthnkey": "WA1", "credential_name": "desk key"}
    assert portal_socket.credential["count"] == 1
    login = ["authenticate", "--service", SERVICE, "--ikey", "DIXXX", "--skey", "secret",
             "--username", "alice", "--state", state]
    for expected_count in (3, 5):  # each process restores the key and its counter
        code, out, _ = run(capsys, *login)
        assert code == 0 and json.loads(out)["result"] == "allow"
        assert portal_socket.credential["count"] == expected_count
    app = tmp_path / "app.json"  # as `authsvc integration create ... > var/app.json` writes it
    app.write_text(json.dumps({"ikey": "DIXXX", "skey": "secret", "type": "auth", "name": "a"}))
    by_file = ["authenticate", "--service", SERVICE, "--integration", str(app),
               "--username", "alice", "--state", state]
    code, out, _ = run(capsys, *by_file)
    assert code == 0 and json.loads(out)["result"] == "allow"
    code, out, _ = run(capsys, *login, "--counter-mode", "regress")
    assert code == 1 and json.loads(out)["result"] == "deny"


def test_an_integration_file_that_is_not_one_is_said_so(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wrong = tmp_path / "admin.csv"
    wrong.write_text("username,email\n")
    code, _, err = run(capsys, "authenticate", "--service", SERVICE, "--username", "alice",
                       "--integration", str(wrong), "--state", str(tmp_path / "state.json"))
    assert code == 1
    assert err == (f"tokens: error: {wrong} is not what `authsvc integration create` prints "
                   '(a JSON object with "ikey" and "skey")\n')


async def test_register_with_a_wrong_passcode_stops_before_the_key(
        portal_socket: FakeService, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["register", "--service", SERVICE, "--username", "alice", "--passcode", "999999",
            "--state", str(tmp_path / "state.json")]
    assert await asyncio.to_thread(main, argv) == 1
    err = capsys.readouterr().err
    assert err == "tokens: error: no CSRF token on /portal/self/devices: the portal login failed\n"
    assert portal_socket.credential == {}
    assert not (tmp_path / "state.json").exists()  # the new soft key was not kept
