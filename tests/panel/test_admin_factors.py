"""Administrators' second factors live on internal subjects that no administrator view of users
shows, that only the panel can authenticate, and whose attempts go to the administrator log,
not the authentication log (docs/api.md, "Administrators' second factor")."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from authsvc.domain.auth_requests import AuthRequest, Passcode
from authsvc.domain.bypass import BypassRequest
from authsvc.domain.subjects import UnknownUser
from authsvc.domain.users import UserChanges
from authsvc.errors import NotFound
from authsvc.model.admin_factors import PANEL_INTEGRATION, is_admin_subject
from authsvc.model.authlog import LogQuery
from authsvc.model.integrations import Integration, IntegrationType
from authsvc.model.permissions import SYSTEM
from authsvc.model.roles import Role
from authsvc.model.security_keys import KeyKind
from authsvc.model.verdicts import Result
from tests.panel.conftest import Panel, sign_in

Client = TestClient[Any, Any]
APP = Integration(ikey="DIAPPLICATION0000000", name="VPN", type=IntegrationType.AUTH,
                  role=Role.OWNER, sealed_skey="", created=0)


async def test_an_administrators_factors_are_in_no_users_view(panel: Panel,
                                                               browser: Client) -> None:
    svc = panel.services
    owner = await panel.admin("owner@example.org")
    subject = (await svc.admin.admins.get(SYSTEM, owner.admin.admin_id)).subject
    assert is_admin_subject(subject)
    await svc.users.add(UserChanges(username="real"))
    await sign_in(browser, owner)
    views, total = await svc.admin.users.page(SYSTEM, 0, 100)
    assert [view.user.username for view in views] == ["real"] and total == 1
    phones, total = await svc.admin.devices.phones(SYSTEM, 0, 100)
    assert phones == [] and total == 0
    keys, total = await svc.admin.devices.keys(SYSTEM, KeyKind.WEBAUTHN, 0, 100)
    assert keys == [] and total == 0
    for call in (svc.admin.users.get(SYSTEM, subject),
                 svc.admin.users.issue_bypass_codes(SYSTEM, subject, BypassRequest(count=1))):
        with pytest.raises(NotFound):
            await call
    assert await svc.users.by_name(owner.admin.email) is None  # no name in the index
    page = await (await browser.get(f"/admin/users?q={owner.admin.email[:5]}")).text()
    assert subject not in page and "No users match" in page


async def test_only_the_panel_authenticates_a_subject_and_nothing_else(panel: Panel) -> None:
    svc = panel.services
    owner = await panel.admin("owner@example.org")
    subject = (await svc.admin.admins.get(SYSTEM, owner.admin.admin_id)).subject
    with pytest.raises(UnknownUser):  # an application naming the subject finds nobody
        await svc.auth.auth(AuthRequest(integration=APP, user_id=subject,
                                        proof=Passcode(owner.passcode())))
    user = await svc.users.add(UserChanges(username="real"))
    with pytest.raises(UnknownUser):  # and the panel's integration finds no user
        await svc.auth.auth(AuthRequest(integration=PANEL_INTEGRATION, user_id=user.user_id,
                                        proof=Passcode("123456")))
    answer = await svc.auth.auth(AuthRequest(integration=PANEL_INTEGRATION, user_id=subject,
                                             proof=Passcode(owner.passcode())))
    assert answer.verdict.result is Result.ALLOW
    log = await svc.admin.account.authentication_log(
        SYSTEM, LogQuery(mintime=0, maxtime=2**62))
    assert log.records == []  # administrators' checks are not users' authentications


async def test_wrong_second_factors_lock_the_administrator_until_an_owner_resets(
        panel: Panel, browser: Client) -> None:
    svc = panel.services
    await svc.admin.account.update_settings(SYSTEM, {"lockout_threshold": 3})
    helper = await panel.admin("hd@example.org", Role.HELP_DESK)
    for _ in range(3):
        verdict = await svc.panel.factors.passcode(helper.admin, "000000", None)
        assert verdict.result is Result.DENY
    verdict = await svc.panel.factors.passcode(helper.admin, helper.passcode(), None)
    assert verdict.status == "locked_out"
    counts = await svc.admin.trash.counts(SYSTEM)  # an administrator is no user
    assert (counts.total, counts.locked_out) == (0, 0)
    await svc.admin.admins.reset(SYSTEM, helper.admin.admin_id)
    await sign_in(browser, helper)


async def test_a_deleted_administrator_leaves_no_subject_behind(panel: Panel) -> None:
    svc = panel.services
    await panel.admin("owner@example.org")
    helper = await panel.admin("hd@example.org", Role.HELP_DESK)
    subject = (await svc.admin.admins.get(SYSTEM, helper.admin.admin_id)).subject
    await svc.admin.admins.delete(SYSTEM, helper.admin.admin_id)
    keys = await svc.store.redis.execute("KEYS", f"*{subject}*")
    assert keys == []

