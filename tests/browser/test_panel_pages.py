"""Every page of the Admin Panel in a real browser, as an Owner with data on it (each page
screenshotted for docs/admin-panel.md), what each role sees, hostile names shown as text with
nothing run, and the pages at phone width and by keyboard."""

from __future__ import annotations

import re
from pathlib import Path

import duo_client
import pytest
from playwright.sync_api import Browser, expect

from authsvc.model.roles import Role
from tests.browser.panel_helpers import (
    PHONE,
    KnownAdmin,
    Nav,
    PanelTab,
    auth_api,
    make_admin,
    open_tab,
    owner_api,
    sign_in,
)
from tests.harness import ServiceProcess
from tokens.oath import HotpToken

pytestmark = pytest.mark.slow
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'


def _people(admin: duo_client.Admin, auth: duo_client.Auth) -> dict[str, str]:
    """A small organisation: users with phones, a token, bypass codes, a group, a denial."""
    ids: dict[str, str] = {}
    for name, real in (("ana", "Ana Lima"), ("bob", "Bob Stone"), ("carla", "Carla Díaz"),
                       ("dan", "Dan O'Brien")):
        ids[name] = admin.add_user(name, realname=real, email=f"{name}@example.org")["user_id"]
    phone = admin.add_phone(number="+15555550101", type="mobile", platform="google android",
                            name="Ana's Pixel")
    admin.add_user_phone(ids["ana"], phone["phone_id"])
    ids["phone"] = phone["phone_id"]
    token = HotpToken(b"panel-seed-0123456789", "HOTP-7001")
    added = admin.add_hotp6_token(token.serial, token.secret_hex)
    admin.add_user_token(ids["bob"], added["token_id"])
    ids["token"] = added["token_id"]
    admin.add_user_bypass_codes(ids["carla"], count=2)
    group = admin.json_api_call("POST", "/admin/v1/groups", {"name": "Contractors",
                                                            "status": "bypass"})
    admin.json_api_call("POST", f"/admin/v1/users/{ids['dan']}/groups",
                        {"group_id": group["group_id"]})
    ids["group"] = group["group_id"]
    ids["erin"] = admin.add_user("erin", realname="Erin Gone", email="erin@example.org")[
        "user_id"]
    admin.delete_user(ids["erin"])  # to the Trash
    for code in ("000000", "111111"):
        auth.auth(username="bob", factor="passcode", passcode=code)
    auth.auth(username="bob", factor="passcode", passcode=token.press())
    return ids


PAGES = [
    ("20-dashboard", "/admin", "Dashboard"),
    ("21-users", "/admin/users", "Users"),
    ("22-user", "/admin/users/{ana}", "ana"),
    ("23-user-with-group", "/admin/users/{dan}", "dan"),
    ("24-add-user", "/admin/users/new", "Add User"),
    ("25-phones", "/admin/phones", "Phones"),
    ("26-phone", "/admin/phones/{phone}", "Ana's Pixel"),
    ("27-tokens", "/admin/tokens", "Hardware Tokens"),
    ("28-token-resync", "/admin/tokens/{token}", "HOTP-7001"),
    ("29-security-keys", "/admin/security_keys", "Security Keys"),
    ("30-bypass-codes", "/admin/bypass_codes", "Bypass Codes"),
    ("31-groups", "/admin/groups", "Groups"),
    ("32-group", "/admin/groups/{group}", "Contractors"),
    ("33-applications", "/admin/applications", "Applications"),
    ("34-administrators", "/admin/admins", "Administrators"),
    ("35-settings", "/admin/settings", "Settings"),
    ("36-authentication-log", "/admin/logs/authentication", "Authentication Log"),
    ("37-administrator-log", "/admin/logs/administrator", "Administrator Log"),
    ("38-telephony-log", "/admin/logs/telephony", "Telephony Log"),
    ("39-my-account", "/admin/account", "My Account"),
    ("48-trash", "/admin/trash", "Trash"),
    ("49-user-in-the-trash", "/admin/users/{erin}", "erin"),
]


def _owner_with_data(browser: Browser, service: ServiceProcess, redis_url: str,
                     tmp_path: Path) -> tuple[PanelTab, dict[str, str], KnownAdmin]:
    admin, auth = owner_api(redis_url, service), auth_api(redis_url, service)
    ids = _people(admin, auth)
    owner = make_admin(redis_url, service, "olive@example.org", Role.OWNER, "Olive Owner")
    make_admin(redis_url, service, "hana@example.org", Role.HELP_DESK, "Hana Helpdesk")
    tab = open_tab(browser, service, tmp_path)
    sign_in(tab, owner)
    return tab, ids, owner


def test_every_page_as_the_owner(browser: Browser, prompt_service: ServiceProcess,
                                 redis_url: str, tmp_path: Path) -> None:
    tab, ids, _ = _owner_with_data(browser, prompt_service, redis_url, tmp_path)
    page = tab.page
    for name, path, heading in PAGES:
        tab.go(path.format(**ids))
        expect(page.locator("#title")).to_contain_text(heading)
        assert page.locator("script:not([src])").count() == 0
        if name == "28-token-resync":  # a token may have several holders (seed 003)
            expect(page.locator("#token-users")).to_have_text("bob")
        tab.shot(name)
    tab.go(f"/admin/phones/{ids['phone']}/activate")
    page.get_by_role("button", name="Generate Duo Mobile Activation Code").click()
    expect(page.locator("#qr")).to_be_visible()
    tab.shot("40-activate-duo-mobile")
    tab.go("/admin/applications")
    page.get_by_label("Name").fill("Payroll VPN")
    page.get_by_role("button", name="Protect").click()
    expect(page.locator("#secret-key")).to_have_text(re.compile(r"^\w{40}$"))
    tab.shot("41-application-secret-shown-once")
    tab.go(f"/admin/applications/{page.locator('#ikey').inner_text()}")  # later: hidden
    expect(page.locator("#title")).to_have_text("Payroll VPN")
    expect(page.locator("#secret-key")).to_have_count(0)


def test_enrollment_and_token_import_report_every_row(
        browser: Browser, prompt_service: ServiceProcess, redis_url: str,
        tmp_path: Path) -> None:
    tab, _, _ = _owner_with_data(browser, prompt_service, redis_url, tmp_path)
    page = tab.page
    tab.go("/admin/enrollment")
    page.get_by_label("Users (CSV)").fill("nina,nina@example.org\nomar,omar@example.org\n"
                                          "ana,ana@example.org")
    page.get_by_role("button", name="Send Enrollment Links").click()
    report = page.locator("#bulk-report")
    expect(report).to_contain_text("nina")
    expect(page.locator("#pending-enrollments")).to_contain_text("omar")
    tab.shot("42-enrollment-report-and-pending")
    tab.go("/admin/tokens/import")
    page.get_by_label("Tokens (CSV)").fill("HOTP-8001,3132333435363738393031323334353637383930\n"
                                           "HOTP-8002,zz\nHOTP-8003,"
                                           "3132333435363738393031323334353637383931")
    page.get_by_label("Import the good rows even if some are bad").check()
    page.get_by_role("button", name="Import Hardware Tokens").click()
    expect(page.locator("#import-summary")).to_have_text("2 imported, 1 refused.")
    tab.shot("43-token-import-report")
    tab.go("/admin/users/import")
    page.get_by_label("Users (CSV)").fill("username,realname,email,groups\n"
                                          "frank,Frank Ocean,frank@example.org,Contractors\n"
                                          "gina,Gina,not-an-email,\nhal,Hal,hal@example.org,Nope")
    page.get_by_role("button", name="Import Users").click()
    expect(page.locator("#import-summary")).to_have_text("1 row done, 2 refused.")
    tab.shot("50-import-users-report")


def test_each_role_sees_its_own_panel(browser: Browser, prompt_service: ServiceProcess,
                                      redis_url: str, tmp_path: Path) -> None:
    admin = owner_api(redis_url, prompt_service)
    user_id = admin.add_user("target", realname="Tess Target")["user_id"]
    shown = {
        Role.OWNER: ({"/admin/admins", "/admin/settings", "/admin/billing"}, True),
        Role.ADMINISTRATOR: ({"/admin/admins", "/admin/settings"}, True),
        Role.APPLICATION_MANAGER: ({"/admin/applications", "/admin/users"}, False),
        Role.USER_MANAGER: ({"/admin/users", "/admin/enrollment"}, True),
        Role.HELP_DESK: ({"/admin/users", "/admin/logs/authentication"}, True),
        Role.BILLING: ({"/admin/billing"}, False),
        Role.READ_ONLY: ({"/admin/users", "/admin/settings", "/admin/admins"}, False),
    }
    hidden = {Role.APPLICATION_MANAGER: {"/admin/settings", "/admin/admins"},
              Role.USER_MANAGER: {"/admin/settings", "/admin/applications"},
              Role.HELP_DESK: {"/admin/settings", "/admin/enrollment", "/admin/applications"},
              Role.BILLING: {"/admin/users", "/admin/logs/authentication"},
              Role.READ_ONLY: {"/admin/enrollment", "/admin/billing"}}
    for role, (links, edits_users) in shown.items():
        who = make_admin(redis_url, prompt_service, f"{role.value}@example.org", role)
        tab = open_tab(browser, prompt_service, tmp_path)
        sign_in(tab, who)
        nav = Nav.of(tab.page)
        assert links <= nav.links, (role, links - nav.links)
        assert not hidden.get(role, set()) & nav.links, role
        if "/admin/users" in nav.links:
            tab.go(f"/admin/users/{user_id}")
            expect(tab.page.locator("#details-form")).to_have_count(1 if edits_users else 0)
        if role is Role.HELP_DESK:
            tab.shot("44-help-desk-view-of-a-user")
        if role is Role.READ_ONLY:
            tab.go("/admin/settings")
            expect(tab.page.locator("#save-settings")).to_have_count(0)
            tab.shot("45-read-only-settings")
        tab.page.context.close()


def test_hostile_names_are_shown_as_text_and_nothing_runs(
        browser: Browser, prompt_service: ServiceProcess, redis_url: str,
        tmp_path: Path) -> None:
    admin = owner_api(redis_url, prompt_service)
    try:
        user = admin.add_user(HOSTILE, realname=HOSTILE, notes="<script>alert(1)</script>")
    except RuntimeError:  # usernames limited to safe characters: the name fields stay hostile
        user = admin.add_user("o'hostile", realname=HOSTILE, notes="<script>alert(1)</script>")
    owner = make_admin(redis_url, prompt_service, "olive@example.org", Role.OWNER)
    tab = open_tab(browser, prompt_service, tmp_path)
    dialogs: list[str] = []
    tab.page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    sign_in(tab, owner)
    for path in ("/admin/users", f"/admin/users/{user['user_id']}"):
        tab.go(path)
        if path == "/admin/users":
            expect(tab.page.get_by_text(HOSTILE).first).to_be_visible()
        else:
            expect(tab.page.get_by_label("Full name")).to_have_value(HOSTILE)
        assert tab.page.locator("img[src=x]").count() == 0
        assert tab.page.title() != "pwned" and dialogs == []
    tab.shot("46-hostile-names-escaped")


def test_phone_width_and_keyboard(browser: Browser, prompt_service: ServiceProcess,
                                  redis_url: str, tmp_path: Path) -> None:
    owner = make_admin(redis_url, prompt_service, "olive@example.org", Role.OWNER)
    tab = open_tab(browser, prompt_service, tmp_path)
    tab.page.set_viewport_size(PHONE)
    tab.go("/admin/login")
    tab.shot("05-sign-in-phone-width")
    page = tab.page
    page.keyboard.press("Tab")  # the email field has the focus: type, tab, type, enter
    page.get_by_label("Email").focus()
    page.keyboard.type(owner.email)
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery-9")
    page.keyboard.press("Enter")
    page.get_by_label("Enter a passcode").focus()
    page.keyboard.type(owner.passcode())
    page.keyboard.press("Enter")
    expect(page.locator("#sign-out")).to_be_visible()
    tab.go("/admin/users")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width  # no sideways scrolling of the page itself
    tab.shot("47-users-phone-width")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')].filter(e => !(e.labels && e.labels.length)
        && !e.getAttribute('aria-label')).map(e => e.name || e.id)""")
    assert unlabelled == []
