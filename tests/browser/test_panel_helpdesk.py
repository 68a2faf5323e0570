"""The help-desk story of seeds 000 and 001, end to end in a real browser: a locked-out user
calls; the Help Desk admin finds them, verifies them with Duo Push (the confirmation code read
out, the answer appearing live as `mobile-sim serve --approve` answers on the user's phone),
sets them Active, generates a bypass code (shown once), and the user signs in with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from authsvc.model.roles import Role
from tests.browser.conftest import PhoneSim
from tests.browser.panel_helpers import (
    DESKTOP,
    PHONE,
    auth_api,
    make_admin,
    open_tab,
    owner_api,
    sign_in,
)
from tests.harness import ServiceProcess

pytestmark = pytest.mark.slow


def test_a_locked_out_user_is_verified_unlocked_and_given_a_bypass_code(
        browser: Browser, prompt_service: ServiceProcess, redis_url: str, tmp_path: Path,
        phone_sim: PhoneSim) -> None:
    admin, auth = owner_api(redis_url, prompt_service), auth_api(redis_url, prompt_service)
    user = admin.add_user("lena", realname="Lena Locked", email="lena@example.org")
    phone = admin.add_phone(number="+15555550111", type="mobile", platform="apple ios",
                            name="Lena's iPhone")
    admin.add_user_phone(user["user_id"], phone["phone_id"])
    phone_sim.activate(admin.create_activation_url(phone["phone_id"])["activation_url"])
    admin.update_settings(lockout_threshold=3)
    for _ in range(3):
        auth.auth(username="lena", factor="passcode", passcode="000000")
    assert admin.get_user_by_id(user["user_id"])["status"] == "locked out"
    helper = make_admin(redis_url, prompt_service, "hana@example.org", Role.HELP_DESK,
                        "Hana Helpdesk")

    tab = open_tab(browser, prompt_service, tmp_path)
    page = tab.page
    sign_in(tab, helper)
    page.get_by_label("Search users").fill("lena")
    page.keyboard.press("Enter")
    expect(page.locator("#users")).to_contain_text("Locked Out")
    tab.shot("10-users-search")
    page.get_by_role("link", name="lena", exact=True).click()
    expect(page.get_by_role("heading", name="lena")).to_be_visible()
    expect(page.locator('[name="username"]')).to_have_count(0)  # Help Desk: not the username
    tab.shot("11-user-locked-out")
    page.get_by_role("link", name="Send Duo Push").click()
    tab.shot("12-verify-push")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#confirmation-code")).to_have_text(re.compile(r"^\s*\d{6}\s*$"))
    expect(page.locator("#push-status")).to_have_text("Waiting for the user to answer…")
    tab.shot("13-verify-push-waiting")
    phone_sim.serve("approve")  # the user approves on their phone
    expect(page.locator("#verify-result")).to_contain_text("Approved", timeout=20_000)
    tab.shot("14-verify-push-approved")
    page.get_by_role("link", name="Close").click()
    page.get_by_role("button", name="Unlock user").click()
    expect(page.locator("#notice")).to_have_text("Status changed.")
    expect(page.locator("#status-title + p .status")).to_have_text("Active")
    page.get_by_role("button", name="Generate Bypass Code").click()
    code = page.locator("#code-1")
    expect(code).to_be_visible()
    tab.shot("15-bypass-code-shown-once")
    bypass = code.inner_text().strip()
    page.get_by_role("link", name="Back to lena").click()
    expect(page.locator("#bypass-codes")).to_contain_text("hana@example.org")
    assert bypass not in page.content()  # shown once, never again
    assert auth.auth(username="lena", factor="passcode", passcode=bypass)["result"] == "allow"
    page.reload()
    expect(page.locator("#bypass-codes")).to_contain_text("No bypass codes.")  # used once
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    tab.shot("16-user-page-phone-width")
    tab.page.set_viewport_size(DESKTOP)
    tab.go("/admin/logs/administrator")
    log = page.locator("#adminlog")
    for action in ("admin_login", "user_update", "bypass_create"):
        expect(log).to_contain_text(action)
