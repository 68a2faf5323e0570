"""Helpers of the Admin Panel's browser tests: a desktop-sized tab that screenshots into
docs/screenshots/panel/ (with AUTHSVC_UPDATE_SCREENSHOTS=1), administrators made through the
domain with a Duo Mobile seed the test knows (the setup page itself is driven by
`test_panel_setup.py` with `authsvc admin create` and `mobile-sim`), and sign-in by passcode."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import duo_client
from playwright.sync_api import Browser, Page, ViewportSize, expect

from authsvc.clock import SystemClock
from authsvc.crypto import SecretBox
from authsvc.domain.admins import AdminAccounts
from authsvc.model.roles import Role
from authsvc.services import Services
from authsvc.settings import Settings
from authsvc.store import Redis, Store
from tests.browser.conftest import UPDATE_SCREENSHOTS
from tests.conftest import create_integrations
from tests.e2e.oidc_helpers import off_loop
from tests.harness import TEST_SECRET_KEY, ServiceProcess
from tests.panel.conftest import PASSWORD, activate_phone
from tokens.oath import oath_code

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "panel"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass
class PanelTab:
    """A browser tab on the panel, and where its screenshots go."""

    page: Page
    base: str
    shots: Path

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        """A full-page screenshot: into docs/screenshots/panel/ with AUTHSVC_UPDATE_SCREENSHOTS=1
        (what docs/admin-panel.md shows), else into the test's temporary directory."""
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


def open_tab(browser: Browser, service: ServiceProcess, tmp_path: Path) -> PanelTab:
    context = browser.new_context(ignore_https_errors=True, viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())  # the "are you sure?" confirmations
    shots = SHOTS if os.environ.get(UPDATE_SCREENSHOTS) == "1" else tmp_path / "shots"
    return PanelTab(page, f"https://localhost:{service.port}", shots)


@dataclass
class KnownAdmin:
    """An administrator whose Duo Mobile seed the test holds (passcodes in order)."""

    email: str
    secret: str
    counter: int = 0
    admin_id: str = ""

    def passcode(self) -> str:
        self.counter += 1
        return oath_code(self.secret.encode(), self.counter - 1)


def make_admin(redis_url: str, service: ServiceProcess, email: str, role: Role,
               name: str = "") -> KnownAdmin:
    """An active administrator with the test password and an activated Duo Mobile."""

    async def create() -> KnownAdmin:
        store = Store(Redis.from_url(redis_url))
        await store.start()
        try:
            settings = Settings.from_env({"AUTHSVC_REDIS_URL": redis_url})
            svc = Services.build(settings, store, SecretBox.from_passphrase(TEST_SECRET_KEY),
                                 SystemClock(), base_url=f"https://localhost:{service.port}")
            accounts = AdminAccounts(store, svc.clock, svc.links)
            admin, link, _ = await accounts.create(email, name or email.split("@")[0].title(),
                                                   role)
            admin = await accounts.complete_setup(link.rsplit("/", 1)[1], PASSWORD,
                                                  await store.account.cached())
            known = KnownAdmin(email, secrets.token_hex(16), admin_id=admin.admin_id)
            await activate_phone(svc, admin, known.secret)
            return known
        finally:
            await store.close()

    return off_loop(lambda: asyncio.run(create()))


def owner_api(redis_url: str, service: ServiceProcess) -> duo_client.Admin:
    """duo_client.Admin with an Owner's Admin API key (the test's own setup of users)."""
    keys = off_loop(lambda: create_integrations(redis_url))
    return duo_client.Admin(keys.admin.ikey, keys.admin.skey, "localhost",
                            ca_certs=str(service.tls_ca), port=service.port)


def auth_api(redis_url: str, service: ServiceProcess) -> duo_client.Auth:
    keys = off_loop(lambda: create_integrations(redis_url))
    return duo_client.Auth(keys.auth.ikey, keys.auth.skey, "localhost",
                           ca_certs=str(service.tls_ca), port=service.port)


def sign_in(tab: PanelTab, who: KnownAdmin, *, shots: bool = False) -> None:
    """Email and password, then a Duo Mobile passcode, through the pages."""
    tab.go("/admin/login")
    page = tab.page
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(PASSWORD)
    if shots:
        tab.shot("01-sign-in")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    if shots:
        tab.shot("02-second-factor")
    page.get_by_label("Enter a passcode").fill(who.passcode())
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#sign-out")).to_be_visible()


@dataclass
class Nav:
    """The sidebar's links as a role sees them."""

    links: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, page: Page) -> Nav:
        hrefs = page.locator("nav.sidebar a").evaluate_all("links => links.map(a => a.pathname)")
        return cls({str(href) for href in hrefs})


def only_digits(text: str) -> str:
    return re.sub(r"\D", "", text)
