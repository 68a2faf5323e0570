"""Seed 001, Verifying Users with Duo Push: the push verifies the person *before* an admin
resets a locked-out (or disabled) user, so it is sent whatever the user's status."""

from __future__ import annotations

import pytest

from authsvc.crypto import SecretBox
from authsvc.domain.phones import PhoneChanges, otp_copy
from authsvc.domain.users import UserChanges
from authsvc.model.admin_factors import PANEL_INTEGRATION
from authsvc.model.permissions import SYSTEM
from authsvc.model.phones import AppCredentials
from authsvc.model.users import UserStatus
from tests.harness import TEST_SECRET_KEY
from tests.panel.conftest import Panel


@pytest.mark.parametrize("status", [UserStatus.LOCKED_OUT, UserStatus.DISABLED])
async def test_a_verification_push_reaches_a_locked_out_or_disabled_user(
        panel: Panel, status: UserStatus) -> None:
    svc = panel.services
    user = await svc.users.add(UserChanges(username="lena"))
    phone = await svc.phones.add(PhoneChanges(type="mobile", platform="apple ios"))
    box = SecretBox.from_passphrase(TEST_SECRET_KEY)
    await svc.store.phones.store_app(phone.phone_id, AppCredentials(
        akey="DATEST", cred=1, sealed_hotp_secret=box.seal(b"0" * 32,
                                                           bound_to=f"{phone.phone_id}:1")),
        model="", app_info="{}", now_s=0)
    await svc.phones.attach(user.user_id, phone.phone_id)
    await svc.store.phones.set_otp_copies([user.user_id], phone.phone_id,
                                          otp_copy(box, phone.phone_id, 1, "0" * 32))
    await svc.store.users.set_status(user.user_id, status)
    sent = await svc.admin.users.send_verification_push(SYSTEM, user.user_id, phone.phone_id,
                                                        PANEL_INTEGRATION)
    assert len(sent["confirmation_code"]) == 6
    answer = await svc.admin.users.verification_push_response(SYSTEM, user.user_id,
                                                              sent["push_id"])
    assert answer["result"] == "waiting"
    stored = await svc.store.users.get(user.user_id)
    assert stored is not None and stored.status is status
