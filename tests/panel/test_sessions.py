"""Signing in to the Admin Panel: password then second factor, a new session id after each
(session fixation), CSRF on every form, the security headers (clickjacking), idle and absolute
timeouts, sign-out everywhere, lockout, and every sign-in in the administrator log."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from authsvc.domain.admin_sessions import actor_of
from authsvc.http.redaction import redact_target
from authsvc.model.admin_sessions import ABSOLUTE_SECONDS
from authsvc.model.permissions import Actor
from authsvc.model.roles import Role
from tests.panel.conftest import (
    PASSWORD,
    Panel,
    PanelAdmin,
    csrf_of,
    session_cookie,
    sign_in,
)

Client = TestClient[Any, Any]


async def _log_actions(panel: Panel) -> list[str]:
    records = await panel.services.admin.audit.since(0)
    return [str(record["action"]) for record in records]


async def _password_step(client: Client, email: str, password: str = PASSWORD) -> int:
    page = await client.get("/admin/login")
    reply = await client.post("/admin/login", data={
        "csrf": csrf_of(await page.text()), "email": email, "password": password},
        allow_redirects=False)
    return reply.status


async def test_the_panel_asks_for_a_password_then_a_second_factor(
        panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    first = await browser.get("/admin/users", allow_redirects=False)
    assert first.status == 303 and first.headers["Location"].startswith("/admin/login")
    assert await _password_step(browser, "owner@example.org", "wrong password!!") == 401
    assert await _password_step(browser, "owner@example.org") == 303
    # The password alone opens nothing but the second-factor step.
    assert (await browser.get("/admin", allow_redirects=False)).status == 303
    verify = await browser.get("/admin/login/verify")
    assert "Send Me a Push" in await verify.text()
    reply = await browser.post("/admin/login/passcode", data={
        "csrf": csrf_of(await verify.text()), "passcode": "000000"}, allow_redirects=False)
    assert reply.headers["Location"].startswith("/admin/login/verify?message=denied")
    reply = await browser.post("/admin/login/passcode", data={
        "csrf": csrf_of(await verify.text()), "passcode": owner.passcode()},
        allow_redirects=False)
    assert reply.status == 303 and reply.headers["Location"] == "/admin"
    assert (await browser.get("/admin")).status == 200
    assert await _log_actions(panel) == ["admin_login_error", "admin_2fa_error", "admin_login"]


async def test_a_new_session_id_after_the_password_and_after_the_second_factor(
        panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    planted = "DEPLANTED00000000000.attacker-chosen-token"
    browser.session.cookie_jar.update_cookies({"authsvc_admin": planted})
    await _password_step(browser, owner.admin.email)
    after_password = session_cookie(browser)
    assert after_password not in ("", planted)
    csrf_before = csrf_of(await (await browser.get("/admin/login/verify")).text())
    await browser.post("/admin/login/passcode", data={
        "csrf": csrf_before, "passcode": owner.passcode()}, allow_redirects=False)
    signed_in = session_cookie(browser)
    assert signed_in not in ("", planted, after_password)
    assert csrf_of(await (await browser.get("/admin/account")).text()) != csrf_before
    # An id seen before the second factor (or planted) opens nothing now.
    for old in (planted, after_password):
        other = await panel.browser()
        other.session.cookie_jar.update_cookies({"authsvc_admin": old})
        assert (await other.get("/admin", allow_redirects=False)).status == 303
        assert (await other.get("/admin/login/verify", allow_redirects=False)).status == 303
    # Redis keeps the SHA-256 of the token, never the token.
    keys = await panel.services.store.redis.execute("KEYS", "*session*")
    assert keys and not any(signed_in.split(".", 1)[1] in key for key in keys)


async def test_every_form_needs_the_sessions_csrf_value(panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    csrf = await sign_in(browser, owner)
    for data in ({"username": "mallory"}, {"username": "mallory", "csrf": "forged"},
                 {"username": "mallory", "csrf": csrf + "x"}):
        reply = await browser.post("/admin/users/new", data=data, allow_redirects=False)
        assert reply.status == 403
    cross_site = await browser.post("/admin/users/new", data={"username": "mallory",
                                                              "csrf": csrf},
                                    headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status == 403
    assert await panel.services.users.by_name("mallory") is None
    reply = await browser.post("/admin/users/new", data={"username": "mallory", "csrf": csrf},
                               allow_redirects=False)
    assert reply.status == 303 and await panel.services.users.by_name("mallory") is not None
    # The sign-in form has its own: without it, no password is even checked.
    other = await panel.browser()
    reply = await other.post("/admin/login", data={"email": owner.admin.email,
                                                    "password": PASSWORD, "csrf": "x"})
    assert reply.status == 403


async def test_pages_forbid_framing_and_inline_script_and_cookies_are_strict(
        panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    login = await browser.get("/admin/login")
    await sign_in(browser, owner)
    for reply in (login, await browser.get("/admin/users"), await browser.get("/admin/nope")):
        csp = reply.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert reply.headers["X-Frame-Options"] == "DENY"
        assert reply.headers["Cache-Control"] == "no-store"
    assert (await browser.get("/admin/nope")).status == 404
    fresh = await panel.browser()
    page = await fresh.get("/admin/login")
    set_cookie = (await fresh.post("/admin/login", data={
        "csrf": csrf_of(await page.text()), "email": owner.admin.email,
        "password": PASSWORD}, allow_redirects=False)).headers.getall("Set-Cookie")
    session = next(value for value in set_cookie if value.startswith("authsvc_admin="))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/admin" in session


async def test_idle_and_absolute_timeouts(panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    await sign_in(browser, owner)
    redis = panel.services.store.redis
    key = (await redis.execute("KEYS", "*:session:*"))[0]
    await redis.execute("EXPIRE", key, 5)
    assert (await browser.get("/admin")).status == 200
    assert 890 <= await redis.execute("TTL", key) <= 900  # every request renews the idle time
    panel.clock.advance(ABSOLUTE_SECONDS - 60)
    assert (await browser.get("/admin")).status == 200
    panel.clock.advance(61)
    reply = await browser.get("/admin", allow_redirects=False)
    assert reply.status == 303 and "expired" in reply.headers["Location"]
    assert not await redis.execute("EXISTS", key)


async def test_sign_out_everywhere_ends_every_browser(panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    csrf = await sign_in(browser, owner)
    laptop = await panel.browser()
    await sign_in(laptop, owner)
    page = await (await browser.get("/admin/account")).text()
    assert "2 signed-in sessions" in page
    reply = await browser.post("/admin/account/sign_out_everywhere", data={"csrf": csrf},
                               allow_redirects=False)
    assert reply.status == 303
    for client in (browser, laptop):
        assert (await client.get("/admin", allow_redirects=False)).status == 303
    assert (await _log_actions(panel))[-1] == "admin_logout"


async def test_a_disabled_administrator_is_signed_out_at_once(panel: Panel,
                                                               browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    helper = await panel.admin("hd@example.org", Role.HELP_DESK)
    other = await panel.browser()
    await sign_in(other, helper)
    csrf = await sign_in(browser, owner)
    reply = await browser.post(f"/admin/admins/{helper.admin.admin_id}/edit", data={
        "csrf": csrf, "name": "Help Desk", "role": "help_desk", "status": "disabled"},
        allow_redirects=False)
    assert reply.status == 303
    assert (await other.get("/admin", allow_redirects=False)).status == 303


async def test_wrong_passwords_lock_the_administrator_until_an_owner_resets(
        panel: Panel, browser: Client) -> None:
    owner = await panel.admin("owner@example.org")
    helper = await panel.admin("hd@example.org", Role.HELP_DESK)
    await panel.services.admin.account.update_settings(
        owner_actor(owner), {"admin_lockout_threshold": 3})
    for _ in range(3):
        assert await _password_step(browser, helper.admin.email, "not the password") == 401
    assert await _password_step(browser, helper.admin.email) == 401  # locked: right one too
    csrf = await sign_in(browser, owner)
    page = await (await browser.get(f"/admin/admins/{helper.admin.admin_id}")).text()
    assert "Locked Out" in page and "Reset Lockout" in page
    await browser.post(f"/admin/admins/{helper.admin.admin_id}/reset", data={"csrf": csrf})
    other = await panel.browser()
    assert await _password_step(other, helper.admin.email) == 303


def owner_actor(who: PanelAdmin) -> Actor:
    return actor_of(who.admin)


def test_a_setup_links_token_never_reaches_a_log_line() -> None:
    assert redact_target("/admin/setup/s3cr3t-t0ken/phone?x=1") == \
        "/admin/setup/<redacted>/phone?x=<redacted>"
