"""The Duo Prompt in a real browser: each sign-in starts at duo_universal's authorize URL and ends
in `exchange_authorization_code_for_2fa_result` with the right `auth_result`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duo_client
import pytest
from duo_universal import Client, DuoException
from playwright.sync_api import expect

from tests.browser.conftest import AppCallback, PhoneSim, Tab
from tests.conftest import create_integrations
from tests.e2e.oidc_helpers import WebApp, create_web_app, duo_client_for, off_loop
from tests.harness import RedisServer, ServiceProcess
from tokens.oath import HotpToken

pytestmark = pytest.mark.slow
HOSTILE_NAME = '<img src=x onerror="document.title=1">&"\''
HOSTILE_DEVICE = "<script>document.title='pwned'</script>"
# Usernames are limited to letters, digits and . - _ @ + ' \ (docs/api.md): a registered user's
# name can carry only quotes and backslashes; the application's duo_uname can carry anything.
QUOTED_NAME = "o'hara\\x"


@pytest.fixture
def admin(prompt_service: ServiceProcess, redis_url: str) -> duo_client.Admin:
    keys = off_loop(lambda: create_integrations(redis_url))
    return duo_client.Admin(keys.admin.ikey, keys.admin.skey, "localhost",
                            ca_certs=str(prompt_service.tls_ca), port=prompt_service.port)


@pytest.fixture
def web_app(redis_url: str, application: AppCallback) -> WebApp:
    return create_web_app(redis_url, name="Expense Reports",
                          redirect_uri=application.redirect_uri)


@pytest.fixture
def client(prompt_service: ServiceProcess, web_app: WebApp, application: AppCallback) -> Client:
    return duo_client_for(prompt_service, web_app, redirect_uri=application.redirect_uri)


def _start(tab: Tab, client: Client, username: str) -> str:
    state: str = client.generate_state()
    tab.page.goto(client.create_auth_url(username, state))
    return state


def _result(tab: Tab, client: Client, username: str, state: str) -> dict[str, str]:
    tab.page.wait_for_url(tab.callback.redirect_uri + "?**")
    duo_code, returned = tab.callback.code_and_state()
    assert returned == state
    claims = client.exchange_authorization_code_for_2fa_result(duo_code, username)
    with pytest.raises(DuoException, match="invalid_grant"):  # a replayed duo_code
        client.exchange_authorization_code_for_2fa_result(duo_code, username)
    result: dict[str, str] = claims["auth_result"]
    return result


def _phone_with_app(admin: duo_client.Admin, sim: PhoneSim, username: str,
                    name: str = "Work phone") -> str:
    user = admin.add_user(username)
    phone = admin.add_phone(number="+15555550142", type="mobile", platform="google android",
                            name=name)
    admin.add_user_phone(user["user_id"], phone["phone_id"])
    sim.activate(admin.create_activation_url(phone["phone_id"])["activation_url"])
    return str(user["user_id"])


def test_push_approved_by_mobile_sim(tab: Tab, client: Client, admin: duo_client.Admin,
                                     phone_sim: PhoneSim) -> None:
    _phone_with_app(admin, phone_sim, "pat")
    phone_sim.serve("approve")
    state = _start(tab, client, "pat")
    expect(tab.page.get_by_role("heading", name="Choose an authentication method")).to_be_visible()
    tab.shot("01-choose-method")
    tab.page.set_viewport_size({"width": 1280, "height": 760})
    tab.shot("00-desktop")
    tab.page.get_by_role("button", name="Send Me a Push").click()
    assert _result(tab, client, "pat", state)["result"] == "allow"


def test_verified_push_shows_the_code_the_phone_types(
        tab: Tab, client: Client, admin: duo_client.Admin, phone_sim: PhoneSim,
        tmp_path: Path) -> None:
    admin.json_api_call("POST", "/admin/v1/settings", {"verified_push_enabled": "1"})
    _phone_with_app(admin, phone_sim, "vera")
    code_file = tmp_path / "code.txt"
    phone_sim.serve("approve", code_file)
    state = _start(tab, client, "vera")
    tab.page.get_by_role("button", name="Send Me a Push").click()
    code = tab.page.locator("#verification-code")
    expect(code).to_have_text(re.compile(r"^\d{3}$"))
    tab.shot("02-verified-push")
    code_file.write_text(code.inner_text())
    assert _result(tab, client, "vera", state)["result"] == "allow"


def test_denied_push_shows_why_and_cancel_returns_a_deny(
        tab: Tab, client: Client, admin: duo_client.Admin, phone_sim: PhoneSim) -> None:
    _phone_with_app(admin, phone_sim, "dan")
    phone_sim.serve("deny")
    state = _start(tab, client, "dan")
    tab.page.get_by_role("button", name="Send Me a Push").click()
    expect(tab.page.locator("#message")).to_have_text("Login request denied.")
    tab.shot("03-push-denied")
    tab.page.get_by_role("button", name="Cancel and return to Expense Reports").click()
    assert _result(tab, client, "dan", state) == {
        "result": "deny", "status": "deny", "status_msg": "Login request denied."}


def test_hardware_token_passcode_with_hostile_names_escaped(
        tab: Tab, client: Client, admin: duo_client.Admin, prompt_service: ServiceProcess
        ) -> None:
    state = _start(tab, client, HOSTILE_NAME)  # unknown to the service: the enroll page
    expect(tab.page.locator("#username")).to_have_text(HOSTILE_NAME)
    assert tab.page.locator("script:not([src])").count() == 0
    assert tab.page.locator("img[src=x]").count() == 0 and "1" not in tab.page.title()
    user = admin.add_user(QUOTED_NAME)
    phone = admin.add_phone(number="+15555550199", type="mobile", platform="google android",
                            name=HOSTILE_DEVICE)
    admin.add_user_phone(user["user_id"], phone["phone_id"])
    token = HotpToken(b"browser-seed-0123456", "BROWSER-1")
    added = admin.add_hotp6_token(token.serial, token.secret_hex)
    admin.add_user_token(user["user_id"], added["token_id"])
    state = _start(tab, client, QUOTED_NAME)
    page = tab.page
    expect(page.locator("#username")).to_have_text(QUOTED_NAME)
    expect(page.locator(".device-name").first).to_have_text(HOSTILE_DEVICE)
    assert page.title() == "Verify it's you · authsvc"  # no injected script or handler ran
    assert page.locator("script:not([src])").count() == 0 and page.locator("img[src=x]").count() == 0
    headers = page.request.get(page.url).headers  # the same session, read again
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self';" in headers["content-security-policy"]
    tab.shot("04-hostile-names-escaped")
    page.get_by_label("Enter a passcode").fill(token.press())
    page.get_by_role("button", name="Log In").click()
    assert _result(tab, client, QUOTED_NAME, state)["result"] == "allow"


def test_sms_passcodes_read_by_the_simulated_carrier(
        tab: Tab, client: Client, admin: duo_client.Admin, prompt_service: ServiceProcess
        ) -> None:
    user = admin.add_user("sam")
    phone = admin.add_phone(number="+15555550177", type="mobile", platform="generic smartphone")
    admin.add_user_phone(user["user_id"], phone["phone_id"])
    state = _start(tab, client, "sam")
    tab.page.get_by_role("button", name="Text Me New Codes").click()
    expect(tab.page.locator("#message")).to_have_text("New SMS passcodes sent.")
    tab.shot("05-sms-sent")
    codes = subprocess.run(
        [sys.executable, "-c", "import sys; from mobile_sim.cli import main; sys.exit(main())",
         "sms", "--number", "+15555550177", "--codes", "--data-dir",
         prompt_service.env["AUTHSVC_DATA_DIR"], "--ca-file", str(prompt_service.tls_ca)],
        capture_output=True, text=True, check=True, timeout=60).stdout.split()
    tab.page.get_by_label("Enter a passcode").fill(codes[0])
    tab.page.get_by_role("button", name="Log In").click()
    assert _result(tab, client, "sam", state)["result"] == "allow"


def test_lockout_after_wrong_passcodes_is_shown_and_returned_as_deny(
        tab: Tab, client: Client, admin: duo_client.Admin) -> None:
    admin.update_settings(lockout_threshold=3)
    admin.add_user("lou")
    admin.add_user_bypass_codes(admin.get_users_by_name("lou")[0]["user_id"], count=1)
    state = _start(tab, client, "lou")
    for _ in range(2):
        tab.page.get_by_label("Enter a passcode").fill("000000000")
        tab.page.get_by_role("button", name="Log In").click()
        expect(tab.page.locator("#message")).to_have_text("Incorrect passcode. Please try again.")
    tab.page.get_by_label("Enter a passcode").fill("000000000")
    tab.page.get_by_role("button", name="Log In").click()
    expect(tab.page.get_by_role("heading", name="Access denied")).to_be_visible()
    expect(tab.page.locator("#message")).to_have_text("Your account is locked out.")
    tab.shot("06-locked-out")
    tab.page.get_by_role("button", name="Return to Expense Reports").click()
    result = _result(tab, client, "lou", state)
    assert (result["result"], result["status"]) == ("deny", "locked_out")


def test_inline_enrollment_of_a_new_user_by_qr_then_push(
        tab: Tab, client: Client, phone_sim: PhoneSim, redis_server: RedisServer) -> None:
    state = _start(tab, client, "newbie")
    expect(tab.page.get_by_role("heading", name="Protect your account")).to_be_visible()
    tab.shot("07-enroll")
    tab.page.get_by_label("Phone type").select_option("android")
    tab.page.get_by_role("button", name="Add Duo Mobile").click()
    expect(tab.page.locator("#qr")).to_be_visible()
    tab.shot("08-activate-qr")
    phone_sim.activate(tab.page.locator("#activation-link").get_attribute("href") or "")
    phone_sim.serve("approve")
    expect(tab.page.get_by_role("button", name="Send Me a Push")).to_be_visible()
    tab.page.get_by_role("button", name="Send Me a Push").click()
    assert _result(tab, client, "newbie", state)["result"] == "allow"
    # Attached at activation: the sweep of abandoned enrollments no longer names it.
    assert redis_server.command("ZCARD", "as:phones:unfinished") == b":0\r\n"


def _virtual_key(tab: Tab) -> None:
    cdp = tab.page.context.new_cdp_session(tab.page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})


def test_security_key_enrolled_inline_then_used(tab: Tab, client: Client) -> None:
    _virtual_key(tab)
    state = _start(tab, client, "keyholder")
    tab.page.get_by_label("Name of the key").fill("Blue key")
    tab.page.get_by_role("button", name="Add security key").click()
    use = tab.page.get_by_role("button", name="Use Security Key")
    expect(use).to_be_visible()
    tab.shot("09-security-key")
    use.click()
    result = _result(tab, client, "keyholder", state)
    assert result["result"] == "allow"


def test_manage_devices_and_remember_the_browser(
        tab: Tab, prompt_service: ServiceProcess, admin: duo_client.Admin,
        redis_url: str) -> None:
    app = create_web_app(redis_url, name="Wiki", remember_days=7,
                         redirect_uri=tab.callback.redirect_uri)
    client = duo_client_for(prompt_service, app, redirect_uri=tab.callback.redirect_uri)
    user = admin.add_user("mia")
    lost = admin.add_phone(number="+15555550123", type="mobile", platform="generic smartphone",
                           name="Lost phone")
    admin.add_user_phone(user["user_id"], lost["phone_id"])
    code = admin.add_user_bypass_codes(user["user_id"], count=1)[0]
    state = _start(tab, client, "mia")
    tab.page.get_by_role("button", name="Manage devices").click()
    tab.page.get_by_label("Enter a passcode").fill(code)
    tab.page.get_by_role("button", name="Log In").click()
    expect(tab.page.get_by_role("heading", name="Manage devices")).to_be_visible()
    tab.shot("10-manage-devices")
    tab.page.get_by_role("button", name="Delete Lost phone +15555550123").click()
    expect(tab.page.locator("#devices .device")).to_have_count(0)
    tab.page.get_by_role("textbox", name="Phone number").fill("+15555550124")
    tab.page.get_by_role("button", name="Add phone").click()
    expect(tab.page.locator("#devices .device")).to_have_count(1)
    tab.page.get_by_role("button", name="Done, continue to Wiki").click()
    expect(tab.page.get_by_role("heading", name="Trust this browser?")).to_be_visible()
    tab.shot("11-trust-browser")
    tab.page.get_by_role("button", name="Yes, trust this browser").click()
    assert _result(tab, client, "mia", state)["result"] == "allow"
    again = _start(tab, client, "mia")  # remembered: straight back, no prompt
    claims_result = _result(tab, client, "mia", again)
    assert claims_result["result"] == "allow"
    assert json.dumps(admin.get_phones_by_number("+15555550124"))  # the new phone exists
