"""The authentication log v2 through duo_client.Admin: every decision, Duo's vocabulary, filters
and next_offset paging."""

from __future__ import annotations

import time
from typing import Any

import duo_client

from tokens.oath import HotpToken

SEED = bytes(range(20))


def _logs(admin: duo_client.Admin, **filters: Any) -> dict[str, Any]:
    now_ms = int(time.time() * 1000) + 1000
    logs: dict[str, Any] = admin.get_authentication_log(
        api_version=2, mintime=now_ms - 600_000, maxtime=now_ms, **filters)
    return logs


def _setup(admin: duo_client.Admin) -> tuple[dict[str, Any], HotpToken, list[str]]:
    user = admin.add_user("logan", alias1="lo", email="logan@example.org")
    hardware = HotpToken(SEED, "LOG-1")
    token = admin.add_hotp6_token(hardware.serial, hardware.secret_hex)
    admin.add_user_token(user["user_id"], token["token_id"])
    codes = admin.add_user_bypass_codes(user["user_id"], count=1)
    return user, hardware, codes


def test_every_decision_is_logged_with_duo_vocabulary(admin_api: duo_client.Admin,
                                                      auth_api: duo_client.Auth) -> None:
    user, hardware, codes = _setup(admin_api)
    token_code = hardware.press()
    auth_api.auth("passcode", username="lo", passcode=token_code, ipaddr="203.0.113.9")
    auth_api.auth("passcode", username="logan", passcode=codes[0])
    auth_api.auth("passcode", username="logan", passcode="000000")
    admin_api.update_user(user["user_id"], status="disabled")
    auth_api.preauth(username="logan")
    records = _logs(admin_api)["authlogs"]
    summary = [(r["result"], r["reason"], r["factor"]) for r in reversed(records)]
    assert summary == [
        ("success", "valid_passcode", "hardware_token"),
        ("success", "valid_passcode", "bypass_code"),
        ("denied", "invalid_passcode", "passcode"),
        ("denied", "user_disabled", "not_available"),
    ]
    first = records[-1]
    assert first["user"] == {"key": user["user_id"], "name": "logan", "groups": []}
    assert first["alias"] == "lo" and first["email"] == "logan@example.org"
    assert first["access_device"]["ip"] == "203.0.113.9"
    assert first["application"]["name"] == "test application"
    assert first["event_type"] == "authentication" and first["eventtype"] == "authentication"
    assert len(first["txid"]) == 36
    text = str(records)
    assert token_code not in text and codes[0] not in text


def test_lockout_and_bypass_status_are_logged(admin_api: duo_client.Admin,
                                              auth_api: duo_client.Auth) -> None:
    admin_api.update_settings(lockout_threshold=2)
    user, hardware, _ = _setup(admin_api)
    for _ in range(3):
        auth_api.auth("passcode", username="logan", passcode="111111")
    admin_api.update_user(user["user_id"], status="bypass")
    auth_api.auth("passcode", username="logan", passcode="222222")
    reasons = [r["reason"] for r in reversed(_logs(admin_api)["authlogs"])]
    assert reasons == ["invalid_passcode", "invalid_passcode", "locked_out", "bypass_user"]


def test_filters_select_by_user_result_reason_and_factor(admin_api: duo_client.Admin,
                                                         auth_api: duo_client.Auth) -> None:
    user, hardware, codes = _setup(admin_api)
    other = admin_api.add_user("other")
    admin_api.add_user_bypass_codes(other["user_id"], codes=["55555555"])
    auth_api.auth("passcode", username="logan", passcode=hardware.press())
    auth_api.auth("passcode", username="logan", passcode="000000")
    auth_api.auth("passcode", username="other", passcode="55555555")
    assert len(_logs(admin_api, users=[user["user_id"]])["authlogs"]) == 2
    assert len(_logs(admin_api, results=["denied"])["authlogs"]) == 1
    assert len(_logs(admin_api, reasons=["valid_passcode"])["authlogs"]) == 2
    factors = _logs(admin_api, factors=["bypass_code", "hardware_token"])["authlogs"]
    assert {r["factor"] for r in factors} == {"bypass_code", "hardware_token"}
    both = _logs(admin_api, users=[other["user_id"]], results=["success"])
    assert [r["user"]["name"] for r in both["authlogs"]] == ["other"]
    assert both["metadata"]["total_objects"] == 1


def test_next_offset_pages_through_every_record_once(admin_api: duo_client.Admin,
                                                     auth_api: duo_client.Auth) -> None:
    _setup(admin_api)
    admin_api.update_settings(lockout_threshold=100)
    for _ in range(7):
        auth_api.auth("passcode", username="logan", passcode="000000")
    seen: list[str] = []
    page = _logs(admin_api, limit="3")
    assert page["metadata"]["total_objects"] == 7
    while True:
        seen += [r["txid"] for r in page["authlogs"]]
        offset = page["metadata"].get("next_offset")
        if not offset:
            break
        # duo_client sends a list as repeated keys; Duo's docs show the comma-joined form.
        page = _logs(admin_api, limit="3", next_offset=",".join(offset) if len(seen) > 3 else offset)
    assert len(seen) == 7 and len(set(seen)) == 7
    ascending = _logs(admin_api, limit="10", sort="ts:asc")["authlogs"]
    assert [r["txid"] for r in ascending] == list(reversed(seen))
