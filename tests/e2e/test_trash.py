"""The Trash, the Users page counts and `info/summary`, end to end: duo_client unmodified against
the service process (seed 001, Deleting and Restoring Users, Listing Users)."""

from __future__ import annotations

import time

import duo_client
import pytest

from tests.conftest import IntegrationPair, Keys
from tests.harness import ServiceProcess
from tokens.oath import HotpToken

SEED = bytes(range(1, 21))


def _trash(admin: duo_client.Admin) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = admin.json_api_call("GET", "/admin/v1/trash", {})
    return listed


def _counts(admin: duo_client.Admin) -> dict[str, int]:
    counts: dict[str, int] = admin.json_api_call("GET", "/admin/v1/users/counts", {})
    return counts


def test_a_user_in_the_trash_cannot_authenticate_keeps_its_devices_and_comes_back_disabled(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    hardware = HotpToken(SEED, "TR-1")
    user = admin_api.add_user("tia", email="tia@example.org")
    token = admin_api.add_hotp6_token("TR-1", hardware.secret_hex)
    admin_api.add_user_token(user["user_id"], token["token_id"])
    phone = admin_api.add_phone(number="+15555550140", type="mobile", platform="apple ios")
    admin_api.add_user_phone(user["user_id"], phone["phone_id"])
    assert auth_api.auth("passcode", username="tia", passcode=hardware.press())["result"] == \
        "allow"

    admin_api.delete_user(user["user_id"])

    assert admin_api.get_user_by_id(user["user_id"])["status"] == "pending deletion"
    assert auth_api.preauth(username="tia")["result"] == "deny"
    answer = auth_api.auth("passcode", username="tia", passcode=hardware.press())
    assert (answer["result"], answer["status_msg"]) == ("deny", "Your account is disabled.")
    [entry] = _trash(admin_api)
    assert (entry["user_id"], entry["trash_reason"]) == (user["user_id"], "admin")
    deleted_at = int(str(entry["trashed_at"]))
    assert abs(deleted_at - time.time()) < 60
    assert entry["permanent_deletion_at"] == deleted_at + 7 * 86400  # the default duration
    assert [t["token_id"] for t in entry["tokens"]] == [token["token_id"]]  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="400"):
        admin_api.update_user(user["user_id"], status="active")  # restore it first

    restored = admin_api.json_api_call("POST", f"/admin/v1/trash/{user['user_id']}/restore", {})

    assert restored["status"] == "disabled"  # seed 001: restoring does not reactivate
    assert [t["token_id"] for t in restored["tokens"]] == [token["token_id"]]
    assert [p["phone_id"] for p in restored["phones"]] == [phone["phone_id"]]
    assert _trash(admin_api) == []
    assert auth_api.auth("passcode", username="tia", passcode=hardware.press())["result"] == \
        "deny"
    admin_api.update_user(user["user_id"], status="active")
    assert auth_api.auth("passcode", username="tia", passcode=hardware.press())["result"] == \
        "allow"


def test_deleting_for_good_removes_the_user_and_its_unshared_phones_only(
        admin_api: duo_client.Admin) -> None:
    gone = admin_api.add_user("uri", alias1="u.r.i")
    other = admin_api.add_user("val")
    own = admin_api.add_phone(number="+15555550141")
    shared = admin_api.add_phone(number="+15555550142")
    for user_id, phone_id in ((gone["user_id"], own["phone_id"]),
                              (gone["user_id"], shared["phone_id"]),
                              (other["user_id"], shared["phone_id"])):
        admin_api.add_user_phone(user_id, phone_id)
    with pytest.raises(RuntimeError, match="400"):  # not in the Trash
        admin_api.json_api_call("DELETE", f"/admin/v1/trash/{gone['user_id']}", {})
    admin_api.delete_user(gone["user_id"])

    admin_api.json_api_call("DELETE", f"/admin/v1/trash/{gone['user_id']}", {})

    with pytest.raises(RuntimeError, match="404"):
        admin_api.get_user_by_id(gone["user_id"])
    with pytest.raises(RuntimeError, match="404"):
        admin_api.get_phone_by_id(own["phone_id"])  # seed 001: its phones go with it
    assert [u["user_id"] for u in admin_api.get_phone_by_id(shared["phone_id"])["users"]] == \
        [other["user_id"]]
    with pytest.raises(RuntimeError, match="404"):
        admin_api.json_api_call("POST", f"/admin/v1/trash/{gone['user_id']}/restore", {})
    admin_api.add_user("u.r.i")  # the names are free again


def test_counts_and_summary_follow_every_change_without_a_scan(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    names = ["wes", "xia", "yan", "zoe"]
    ids = {name: admin_api.add_user(name)["user_id"] for name in names}
    admin_api.update_user(ids["xia"], status="bypass")
    phone = admin_api.add_phone(number="+15555550143")
    admin_api.add_user_phone(ids["yan"], phone["phone_id"])
    admin_api.delete_user(ids["zoe"])
    admin_api.enroll_user("amy", "amy@example.org")  # pending enrollment: Not Enrolled

    counts = _counts(admin_api)

    assert counts == {"total": 4, "active": 3, "bypass": 1, "disabled": 0, "locked_out": 0,
                      "not_enrolled": 3, "inactive": 0, "trash": 1}
    summary = admin_api.get_info_summary()
    assert (summary["user_count"], summary["user_pending_deletion_count"]) == (4, 1)
    assert summary["integration_count"] == 2  # the admin and the auth integration
    assert {"admin_count", "telephony_credits_remaining"} <= set(summary)


@pytest.fixture
def role_admin(service: ServiceProcess, integrations: IntegrationPair,
               redis_url: str) -> duo_client.Admin:
    """An Admin API integration in the Read-only role."""
    import asyncio

    from authsvc.clock import SystemClock
    from authsvc.crypto import SecretBox
    from authsvc.domain.integrations import IntegrationRegistry
    from authsvc.store import Redis, Store
    from tests.harness import TEST_SECRET_KEY

    async def create() -> Keys:
        store = Store(Redis.from_url(redis_url))
        try:
            made = await IntegrationRegistry(store, SecretBox.from_passphrase(TEST_SECRET_KEY),
                                             SystemClock()).create("admin", "ro", "read_only")
        finally:
            await store.close()
        return Keys(made.integration.ikey, made.skey)

    keys = asyncio.run(create())
    return duo_client.Admin(keys.ikey, keys.skey, "127.0.0.1", ca_certs="HTTP",
                            port=service.port)


def test_read_only_may_list_the_trash_and_the_counts_but_not_restore_or_delete(
        admin_api: duo_client.Admin, role_admin: duo_client.Admin) -> None:
    user = admin_api.add_user("bea")
    with pytest.raises(RuntimeError, match="403"):
        role_admin.delete_user(user["user_id"])
    admin_api.delete_user(user["user_id"])

    assert [entry["user_id"] for entry in _trash(role_admin)] == [user["user_id"]]
    assert _counts(role_admin)["trash"] == 1
    for method, path in (("POST", f"/admin/v1/trash/{user['user_id']}/restore"),
                         ("DELETE", f"/admin/v1/trash/{user['user_id']}")):
        with pytest.raises(RuntimeError, match="403"):
            role_admin.json_api_call(method, path, {})
    assert admin_api.get_user_by_id(user["user_id"])["status"] == "pending deletion"
