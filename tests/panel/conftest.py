"""The Admin Panel over HTTP, in the test's own process: `create_app` served by aiohttp's test
server against the session Redis (flushed per test), on a fake clock, with a client that keeps
cookies as a browser does. Administrators are made through the domain, with a Duo Mobile phone
whose passcode seed the test knows (the activation itself is tested with a real browser and
`mobile-sim` in tests/browser/)."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from authsvc.app import create_app
from authsvc.clock import FakeClock
from authsvc.crypto import SecretBox
from authsvc.domain.admins import AdminAccounts
from authsvc.domain.phones import otp_copy
from authsvc.http.middleware import SERVICES
from authsvc.model.admins import Admin
from authsvc.model.phones import AppCredentials
from authsvc.model.roles import Role
from authsvc.services import Services
from authsvc.settings import Settings
from tests.harness import TEST_SECRET_KEY
from tests.store.counting import CountingRedis
from tokens.oath import oath_code

PASSWORD = "correct-horse-battery-9"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class PanelAdmin:
    """An administrator the test can sign in as (password, and the Duo Mobile seed)."""

    admin: Admin
    secret: str
    counter: int = 0

    def passcode(self) -> str:
        self.counter += 1
        return oath_code(self.secret.encode(), self.counter - 1)


@dataclass
class Panel:
    """The app, its services, its clock, and a way to open more browsers."""

    app: web.Application
    server: TestServer
    clock: FakeClock
    clients: list[TestClient[Any, Any]]

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    async def browser(self) -> TestClient[Any, Any]:
        """A new client with its own cookie jar (a second browser)."""
        client: TestClient[Any, Any] = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        return client

    async def admin(self, email: str, role: Role = Role.OWNER, name: str = "Test Admin",
                    *, factor: bool = True) -> PanelAdmin:
        """An active administrator with a password and (with `factor`) an activated phone."""
        svc = self.services
        accounts = AdminAccounts(svc.store, svc.clock, svc.links)
        admin, link, _ = await accounts.create(email, name, role)
        settings = await svc.store.account.cached()
        admin = await accounts.complete_setup(link.rsplit("/", 1)[1], PASSWORD, settings)
        secret = secrets.token_hex(16)
        if factor:
            await activate_phone(svc, admin, secret)
        return PanelAdmin(await accounts.get(admin.admin_id), secret)


async def activate_phone(svc: Services, admin: Admin, secret: str) -> str:
    """Enroll the administrator's Duo Mobile and activate it as the app would (credentials and
    the subject's passcode copy), with a known seed."""
    phone_id, _ = await svc.panel.factors.add_phone(admin)
    admin = await AdminAccounts(svc.store, svc.clock, svc.links).get(admin.admin_id)
    box = SecretBox.from_passphrase(TEST_SECRET_KEY)
    app = AppCredentials(akey="DATEST", pubkey="", host="localhost", cred=1,
                         sealed_hotp_secret=box.seal(secret.encode(), bound_to=f"{phone_id}:1"))
    await svc.store.phones.store_app(phone_id, app, model="test", app_info="{}", now_s=0)
    await svc.store.phones.set_otp_copies([admin.subject], phone_id,
                                          otp_copy(box, phone_id, 1, secret))
    return phone_id


@pytest.fixture
async def panel(redis_url: str, tmp_path: Path) -> AsyncIterator[Panel]:
    settings = Settings.from_env({"AUTHSVC_REDIS_URL": redis_url,
                                  "AUTHSVC_SECRET_KEY": TEST_SECRET_KEY,
                                  "AUTHSVC_DATA_DIR": str(tmp_path)})
    clock = FakeClock()
    app = create_app(settings, redis=CountingRedis.from_url(redis_url), clock=clock)
    server = TestServer(app)
    panel = Panel(app, server, clock, [])
    await panel.browser()
    yield panel
    for client in panel.clients:
        await client.close()


@pytest.fixture
async def browser(panel: Panel) -> TestClient[Any, Any]:
    return panel.clients[0]


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def sign_in(client: TestClient[Any, Any], who: PanelAdmin) -> str:
    """Email and password, then a Duo Mobile passcode; the signed-in session's CSRF value."""
    page = await client.get("/admin/login")
    reply = await client.post("/admin/login", data={
        "csrf": csrf_of(await page.text()), "email": who.admin.email, "password": PASSWORD},
        allow_redirects=False)
    assert reply.status == 303, await reply.text()
    verify = await client.get("/admin/login/verify")
    reply = await client.post("/admin/login/passcode", data={
        "csrf": csrf_of(await verify.text()), "passcode": who.passcode()},
        allow_redirects=False)
    assert reply.status == 303 and reply.headers["Location"] == "/admin", await reply.text()
    dashboard = await client.get("/admin/account")
    assert dashboard.status == 200
    return csrf_of(await dashboard.text())


def session_cookie(client: TestClient[Any, Any]) -> str:
    """The session cookie the service set (Path=/admin), not one planted beside it."""
    for cookie in client.session.cookie_jar:
        if cookie.key == "authsvc_admin" and cookie["path"] == "/admin":
            return cookie.value
    return ""
