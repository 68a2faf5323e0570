"""The prompt's rules without a browser (forms posted as a browser without JavaScript would):
the new-user policy, CSRF and session checks, headers, remembered devices and their revocation,
and the CLI's web integrations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duo_client
import pytest
import requests

from tests.e2e.oidc_helpers import FormBrowser, create_web_app, csrf_of, duo_client_for
from tests.harness import RedisServer, ServiceProcess

pytestmark = pytest.mark.slow


def test_policy_allow_lets_an_unenrolled_user_in_and_logs_why(
        tls_service: ServiceProcess, redis_url: str, admin_api: duo_client.Admin) -> None:
    client = duo_client_for(tls_service, create_web_app(redis_url, enroll_policy="allow"))
    browser = FormBrowser(tls_service).open(client.create_auth_url("walk-in", "s" * 16))
    code, _ = browser.code_and_state()
    claims = client.exchange_authorization_code_for_2fa_result(code, "walk-in")
    assert claims["auth_result"]["result"] == "allow"
    assert claims["auth_context"]["reason"] == "allow_unenrolled_user"
    now_ms = int(time.time() * 1000) + 1000
    log = admin_api.get_authentication_log(api_version=2, mintime=now_ms - 600_000,
                                           maxtime=now_ms)["authlogs"]
    assert [entry["reason"] for entry in log] == ["allow_unenrolled_user"]


def test_policy_deny_refuses_an_unenrolled_user(tls_service: ServiceProcess,
                                                redis_url: str) -> None:
    client = duo_client_for(tls_service, create_web_app(redis_url, enroll_policy="deny"))
    browser = FormBrowser(tls_service).open(client.create_auth_url("stranger", "s" * 16))
    assert browser.status == 403 and "does not enroll new users" in browser.page
    browser.post("cancel")
    code, _ = browser.code_and_state()
    claims = client.exchange_authorization_code_for_2fa_result(code, "stranger")
    assert claims["auth_result"]["result"] == "deny"
    assert claims["auth_context"]["reason"] == "deny_unenrolled_user"


def test_forms_need_the_csrf_value_and_the_cookie(tls_service: ServiceProcess,
                                                  redis_url: str,
                                                  admin_api: duo_client.Admin) -> None:
    admin_api.add_user("carol")
    client = duo_client_for(tls_service, create_web_app(redis_url))
    browser = FormBrowser(tls_service).open(client.create_auth_url("carol", "s" * 16))
    prompt_url = browser.url
    headers = browser.http.get(prompt_url, timeout=10).headers
    assert headers["Content-Security-Policy"].startswith("default-src 'none'; script-src 'self'")
    assert "form-action 'self' https://app.example.test;" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
    browser.post("cancel", csrf="forged")
    assert browser.status == 403 and browser.callback is None
    stranger = requests.Session()
    stranger.trust_env = False
    reply = stranger.get(prompt_url, verify=str(tls_service.tls_ca), timeout=10)
    assert reply.status_code == 404 and "This sign-in has ended" in reply.text
    css = stranger.get(f"{browser.base}/static/authsvc.css", verify=str(tls_service.tls_ca),
                       timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")


def test_a_remembered_browser_skips_the_prompt_until_the_devices_change(
        tls_service: ServiceProcess, redis_url: str, admin_api: duo_client.Admin) -> None:
    client = duo_client_for(tls_service, create_web_app(redis_url, remember_days=30))
    user = admin_api.add_user("remy")
    codes = admin_api.add_user_bypass_codes(user["user_id"], count=3)
    browser = FormBrowser(tls_service).open(client.create_auth_url("remy", "s" * 16))
    browser.post("passcode", passcode=codes[0])
    assert "Trust this browser?" in browser.page
    browser.post("finish", trust="yes")
    code, _ = browser.code_and_state()
    assert client.exchange_authorization_code_for_2fa_result(code, "remy")[
        "auth_result"]["result"] == "allow"
    remembered = [cookie for cookie in browser.http.cookies if cookie.name.startswith(
        "authsvc_remember_")]
    assert remembered and remembered[0].path == "/oauth/v1/authorize"
    assert remembered[0].has_nonstandard_attr("HttpOnly")

    browser.forget_callback()
    browser.open(client.create_auth_url("remy", "t" * 16))  # straight back
    claims = client.exchange_authorization_code_for_2fa_result(browser.code_and_state()[0],
                                                               "remy")
    assert claims["auth_context"]["reason"] == "remembered_device"

    admin_api.add_user_bypass_codes(user["user_id"], count=1, preserve_existing=True)
    phone = admin_api.add_phone(number="+15555550111", type="mobile")
    admin_api.add_user_phone(user["user_id"], phone["phone_id"])  # the devices changed
    browser.forget_callback()
    browser.open(client.create_auth_url("remy", "u" * 16))
    assert browser.callback is None and "Choose an authentication method" in browser.page


def test_self_service_needs_a_second_factor_first(tls_service: ServiceProcess,
                                                   redis_url: str,
                                                   admin_api: duo_client.Admin) -> None:
    admin_api.add_user_bypass_codes(admin_api.add_user("eve")["user_id"], count=1)
    client = duo_client_for(tls_service, create_web_app(redis_url))
    browser = FormBrowser(tls_service).open(client.create_auth_url("eve", "s" * 16))
    prompt_url = browser.url
    browser.open(prompt_url + "/manage")
    assert browser.status == 403
    browser.open(prompt_url)
    browser.post("enroll/phone", number="+15555550100")  # not enrolling: she has a code
    assert browser.status == 403 and "second factor first" in browser.page


def test_entering_self_service_gives_the_session_a_new_cookie(
        tls_service: ServiceProcess, redis_url: str, admin_api: duo_client.Admin) -> None:
    """The second factor that opens "Manage devices" also replaces the session's cookie (and
    CSRF value): a copy of the cookie taken before (a planted or leaked one) opens nothing."""
    codes = admin_api.add_user_bypass_codes(admin_api.add_user("max")["user_id"], count=1)
    client = duo_client_for(tls_service, create_web_app(redis_url))
    browser = FormBrowser(tls_service).open(client.create_auth_url("max", "s" * 16))
    prompt_url = browser.url
    browser.post("manage")
    before, csrf_before = browser.http.cookies.get("authsvc_prompt"), csrf_of(browser.page)
    browser.post("passcode", passcode=codes[0])
    assert browser.status == 200 and browser.url == prompt_url + "/manage", browser.url
    after = browser.http.cookies.get("authsvc_prompt")
    assert before and after and after != before
    assert csrf_of(browser.page) != csrf_before
    stale = requests.get(prompt_url + "/manage", cookies={"authsvc_prompt": before},
                         verify=str(tls_service.tls_ca), timeout=10)
    assert stale.status_code >= 400 and "expired" in stale.text


def test_cli_creates_a_web_integration_with_client_id_and_secret(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTHSVC_")}
    command = [sys.executable, "-m", "authsvc", "integration", "create", "--type", "web",
               "--name", "Portal", "--redirect-uri", "https://app.example.test/cb",
               "--remember-days", "7", "--data-dir", str(tmp_path / "var")]
    created = json.loads(subprocess.run(command, capture_output=True, text=True, env=env,
                                        check=True, timeout=60).stdout)
    assert len(created["client_id"]) == 20 and len(created["client_secret"]) == 40
    assert created["client_id"] == created["ikey"] and created["type"] == "web"
    assert created["redirect_uris"] == ["https://app.example.test/cb"]
    assert (created["enroll_policy"], created["remember_days"]) == ("enroll", 7)
    assert created["api_host"]
    refused = subprocess.run([*command[:-4], "--redirect-uri", "http://evil.test/cb",
                              "--data-dir", str(tmp_path / "var")],
                             capture_output=True, text=True, env=env, check=False, timeout=60)
    assert refused.returncode == 1 and "redirect_uri" in refused.stderr


def test_a_user_in_bypass_status_goes_straight_back_logged_once(
        tls_service: ServiceProcess, redis_url: str, admin_api: duo_client.Admin) -> None:
    admin_api.add_user("byron", status="bypass")
    client = duo_client_for(tls_service, create_web_app(redis_url))
    browser = FormBrowser(tls_service).open(client.create_auth_url("byron", "s" * 16))
    claims = client.exchange_authorization_code_for_2fa_result(browser.code_and_state()[0],
                                                               "byron")
    assert (claims["auth_result"]["result"], claims["auth_result"]["status"]) == \
        ("allow", "bypass")
    now_ms = int(time.time() * 1000) + 1000
    log = admin_api.get_authentication_log(api_version=2, mintime=now_ms - 600_000,
                                           maxtime=now_ms)["authlogs"]
    assert [entry["reason"] for entry in log] == ["bypass_user"]


def test_starting_duo_mobile_again_replaces_the_unfinished_phone(
        tls_service: ServiceProcess, redis_url: str, admin_api: duo_client.Admin,
        redis_server: RedisServer) -> None:
    """Inline enrollment: each start of Duo Mobile makes an unattached phone awaiting its app;
    starting again in the same session (another platform, a lost QR code) deletes the one that
    was never activated instead of leaving it behind."""
    before = {phone["phone_id"] for phone in admin_api.get_phones()}
    client = duo_client_for(tls_service, create_web_app(redis_url))
    browser = FormBrowser(tls_service).open(client.create_auth_url("newbie", "s" * 16))
    made = []
    for platform in ("ios", "android", "android"):
        browser.post("enroll/mobile", platform=platform)
        assert browser.status == 200, browser.page[:300]
        made.append({phone["phone_id"]: phone for phone in admin_api.get_phones()
                     if phone["phone_id"] not in before})
    assert [len(phones) for phones in made] == [1, 1, 1]
    assert len({*made[0], *made[1], *made[2]}) == 3  # a new phone each time, the last one kept
    assert [phone["platform"] for phone in made[-1].values()] == ["google android"]
    assert all(not phone["users"] for phone in made[-1].values())  # attached once activated
    # The kept one is deleted by the Trash sweep unless attached before the session is over
    # (tests/store/test_unfinished_phones.py); the ones replaced left that list.
    listed = redis_server.command("ZRANGE", "as:phones:unfinished", "0", "-1", "WITHSCORES")
    kept = next(iter(made[-1]))
    assert listed.split(b"\r\n")[2].decode() == kept and listed.startswith(b"*2\r\n"), listed
    until_s = int(listed.split(b"\r\n")[4]) / 1000 - time.time()
    assert 900 <= until_s <= 960 + 5, until_s  # the session (15 min) and a minute's grace


@pytest.mark.parametrize(("method", "action", "body"), [
    ("post", "send", {"method": "fax", "device": "x"}),
    ("post", "send", {"method": "push", "device": "DPNOTAPHONE000000000"}),
    ("post", "passcode", {"passcode": "9" * 500}),
    ("post", "enroll/mobile", {"platform": "nokia"}),
    ("post", "manage/delete", {"device": "DPNOPE"}),
    ("json", "key/options", {}),
    ("json", "key", {"assertion": {"id": "AAAA", "response": {"clientDataJSON": "!!"}}}),
    ("json", "key", {"assertion": "not an object"}),
    ("json", "enroll/key", {"credential": {"id": 1}}),
    ("raw", "key", b"[1, 2"),
    ("get", "nowhere", {}),
])
def test_bad_input_gets_a_clear_4xx_page_never_a_500(
        tls_service: ServiceProcess, redis_url: str, admin_api: duo_client.Admin,
        method: str, action: str, body: Any) -> None:
    user = admin_api.add_user("fuzz")
    phone = admin_api.add_phone(number="+15555550109", type="mobile")
    admin_api.add_user_phone(user["user_id"], phone["phone_id"])
    client = duo_client_for(tls_service, create_web_app(redis_url))
    browser = FormBrowser(tls_service).open(client.create_auth_url("fuzz", "s" * 16))
    target, csrf = f"{browser.url}/{action}", csrf_of(browser.page)
    if method == "post":
        reply = browser.http.post(target, data={"csrf": csrf, **body}, timeout=10)
    elif method == "json":
        reply = browser.http.post(target, json={"csrf": csrf, **body}, timeout=10)
    elif method == "raw":
        reply = browser.http.post(target, data=body, timeout=10)
    else:
        reply = browser.http.get(target, timeout=10)
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.text[:300])
    assert "Traceback" not in reply.text
