"""The first steps of the README in a real browser: `authsvc admin create` prints a setup link;
the page enrolls Duo Mobile by QR code (read by `mobile-sim activate`) or a security key
(Chromium's virtual authenticator over CDP), then sets the password; the administrator signs in
with a Verified Push answered by `mobile-sim serve`, or with the key."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from authsvc.model.roles import Role
from tests.browser.conftest import PhoneSim
from tests.browser.panel_helpers import PHONE, PanelTab, make_admin, open_tab, sign_in
from tests.harness import ServiceProcess, service_env
from tests.panel.conftest import PASSWORD

pytestmark = pytest.mark.slow


def admin_create(service: ServiceProcess, redis_url: str, tmp_path: Path, email: str,
                 name: str, role: str) -> str:
    """`authsvc admin create`, as the README's first step; the printed setup link (the
    service's public host and TLS named as its operator would: the test Redis was flushed
    since the service announced itself)."""
    env = service_env(redis_url, tmp_path, AUTHSVC_PUBLIC_HOST=f"localhost:{service.port}",
                      **{f"AUTHSVC_TLS_{part}": value for part, value in
                         zip(("CERT", "KEY"), _tls_files(service), strict=True)})
    done = subprocess.run(
        [sys.executable, "-m", "authsvc", "admin", "create", "--email", email, "--name", name,
         "--role", role], env=env, capture_output=True, text=True, check=True, timeout=60)
    link: str = json.loads(done.stdout)["setup_link"]
    assert link.startswith(f"https://localhost:{service.port}/admin/setup/")
    return link


def _tls_files(service: ServiceProcess) -> tuple[str, str]:
    args = list(service.args)
    return args[args.index("--tls-cert") + 1], args[args.index("--tls-key") + 1]


def _password(tab: PanelTab) -> None:
    tab.page.get_by_label("New password").fill(PASSWORD)
    tab.page.get_by_label("Repeat it").fill(PASSWORD)
    tab.page.get_by_role("button", name="Finish setup").click()
    expect(tab.page.locator("#notice")).to_have_text("Your account is ready: sign in.")


def test_setup_link_enrolls_duo_mobile_and_the_owner_signs_in_with_verified_push(
        browser: Browser, prompt_service: ServiceProcess, redis_url: str, tmp_path: Path,
        phone_sim: PhoneSim) -> None:
    link = admin_create(prompt_service, redis_url, tmp_path, "olive@example.org", "Olive Owner",
                        "owner")
    tab = open_tab(browser, prompt_service, tmp_path)
    tab.page.goto(link)
    expect(tab.page.get_by_role("heading", name="Set up your administrator account")
           ).to_be_visible()
    tab.shot("00-setup")
    tab.page.get_by_role("button", name="Add Duo Mobile").click()
    qr = tab.page.locator("#qr")
    expect(qr).to_be_visible()
    tab.shot("00-setup-qr")
    phone_sim.activate(tab.base + str(qr.get_attribute("src")))  # mobile-sim reads the QR
    expect(tab.page.get_by_role("heading", name="Set up your administrator account")
           ).to_be_visible()  # the page noticed the activation and went on
    expect(tab.page.locator("#factors")).to_contain_text("activated")
    _password(tab)
    tab.page.get_by_label("Email").fill("olive@example.org")
    tab.page.get_by_label("Password").fill(PASSWORD)
    tab.page.get_by_role("button", name="Log in").click()
    code_file = tmp_path / "code.txt"
    phone_sim.serve("approve", code_file)
    tab.page.get_by_role("button", name="Send Me a Push").click()
    code = tab.page.locator("#verification-code")
    expect(code).to_have_text(re.compile(r"^\d{3}$"))
    tab.shot("03-verified-push")
    code_file.write_text(code.inner_text())
    expect(tab.page.get_by_role("heading", name="Dashboard")).to_be_visible()
    tab.page.set_viewport_size(PHONE)
    tab.shot("04-dashboard-phone-width")
    # The setup link worked once.
    tab.page.goto(link)
    expect(tab.page.locator("#error")).to_contain_text("setup link")


def _virtual_key(tab: PanelTab) -> None:
    cdp = tab.page.context.new_cdp_session(tab.page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})


def test_a_security_key_as_the_second_factor(
        browser: Browser, prompt_service: ServiceProcess, redis_url: str,
        tmp_path: Path) -> None:
    link = admin_create(prompt_service, redis_url, tmp_path, "kim@example.org", "Kim Key",
                        "administrator")
    tab = open_tab(browser, prompt_service, tmp_path)
    _virtual_key(tab)
    tab.page.goto(link)
    tab.page.get_by_label("Name").fill("Kim's key")
    tab.page.get_by_role("button", name="Add Security Key").click()
    expect(tab.page.locator("#factors")).to_contain_text("Kim's key")
    _password(tab)
    tab.page.get_by_label("Email").fill("kim@example.org")
    tab.page.get_by_label("Password").fill(PASSWORD)
    tab.page.get_by_role("button", name="Log in").click()
    expect(tab.page.locator("text=Send Me a Push")).to_have_count(0)  # no phone enrolled
    tab.page.get_by_role("button", name="Use Security Key").click()
    expect(tab.page.get_by_role("heading", name="Dashboard")).to_be_visible()
    tab.go("/admin/logs/administrator")
    expect(tab.page.locator("#adminlog")).to_contain_text("admin_login")
    expect(tab.page.locator("#adminlog")).to_contain_text("security_key")


def test_the_sign_in_pages(browser: Browser, prompt_service: ServiceProcess,
                           redis_url: str, tmp_path: Path) -> None:
    who = make_admin(redis_url, prompt_service, "hal@example.org", Role.HELP_DESK)
    tab = open_tab(browser, prompt_service, tmp_path)
    sign_in(tab, who, shots=True)
    tab.page.get_by_role("button", name="Sign out").click()
    expect(tab.page.locator("#notice")).to_have_text("You are signed out.")
