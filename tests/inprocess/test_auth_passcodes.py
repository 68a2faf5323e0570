"""Auth API v2 with passcodes, through duo_client.Auth, unmodified, against the service in this
process (on a clock the test moves, so TOTP steps are the test's choice)."""

from __future__ import annotations

from typing import Any

import duo_client
import pytest

from tests.inprocess.serving import ServedClock
from tokens.oath import HotpToken, TotpToken

SEED = b"12345678901234567890"


def _user_with_hotp(admin: duo_client.Admin, name: str, digits: int = 6,
                    counter: int = 0) -> tuple[dict[str, Any], HotpToken]:
    user = admin.add_user(name)
    hardware = HotpToken(SEED, f"{name}-hotp", digits=digits, counter=counter)
    add = admin.add_hotp8_token if digits == 8 else admin.add_hotp6_token
    token = add(hardware.serial, hardware.secret_hex, counter=counter)
    admin.add_user_token(user["user_id"], token["token_id"])
    return user, hardware


def _result(auth: duo_client.Auth, name: str, code: str) -> str:
    answer: dict[str, str] = auth.auth("passcode", username=name, passcode=code)
    return answer["result"]


def test_preauth_lists_tokens_as_duo_devices(admin_api: duo_client.Admin,
                                             auth_api: duo_client.Auth) -> None:
    user, _ = _user_with_hotp(admin_api, "amy")
    answer = auth_api.preauth(username="AMY")
    assert answer["result"] == "auth"
    assert answer["status_msg"] == "Account is active"
    token_id = admin_api.get_user_tokens(user["user_id"])[0]["token_id"]
    assert answer["devices"] == [{"device": token_id, "type": "token", "name": "amy-hotp"}]
    assert auth_api.preauth(user_id=user["user_id"])["devices"] == answer["devices"]


def test_preauth_sends_unknown_and_deviceless_users_to_enroll(admin_api: duo_client.Admin,
                                                              auth_api: duo_client.Auth) -> None:
    for name in ("nobody", admin_api.add_user("bare")["username"]):
        answer = auth_api.preauth(username=name)
        assert answer["result"] == "enroll"
        assert answer["enroll_portal_url"].startswith("http")
        assert "devices" not in answer


def test_user_status_decides_preauth_and_auth(admin_api: duo_client.Admin,
                                              auth_api: duo_client.Auth) -> None:
    user, hardware = _user_with_hotp(admin_api, "ben")
    admin_api.update_user(user["user_id"], status="bypass")
    assert auth_api.preauth(username="ben")["result"] == "allow"
    answer = auth_api.auth("passcode", username="ben", passcode="000000")
    assert (answer["result"], answer["status"]) == ("allow", "bypass")
    admin_api.update_user(user["user_id"], status="disabled")
    assert auth_api.preauth(username="ben")["result"] == "deny"
    assert _result(auth_api, "ben", hardware.press()) == "deny"
    admin_api.update_user(user["user_id"], status="active")
    assert _result(auth_api, "ben", hardware.press()) == "allow"


def test_hotp_code_is_accepted_once_and_the_counter_never_goes_back(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    _, hardware = _user_with_hotp(admin_api, "cat")
    first, second, third = hardware.press(), hardware.press(), hardware.press()
    assert _result(auth_api, "cat", second) == "allow"
    assert _result(auth_api, "cat", second) == "deny"
    assert _result(auth_api, "cat", first) == "deny"
    assert _result(auth_api, "cat", third) == "allow"


def test_hotp_look_ahead_window_is_the_setting(admin_api: duo_client.Admin,
                                               auth_api: duo_client.Auth) -> None:
    _, hardware = _user_with_hotp(admin_api, "dan", digits=8)
    hardware.press_ahead(19)
    assert _result(auth_api, "dan", hardware.press()) == "allow"
    admin_api.update_settings(lockout_threshold=50)
    hardware.press_ahead(20)
    assert _result(auth_api, "dan", hardware.press()) == "deny"
    admin_api.json_api_call("POST", "/admin/v1/settings", {"hotp_lookahead_window": "40"})
    assert _result(auth_api, "dan", hardware.press()) == "allow"


def test_three_consecutive_far_codes_in_successive_attempts_resync_the_token(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    _, hardware = _user_with_hotp(admin_api, "eli")
    hardware.press_ahead(500)
    assert _result(auth_api, "eli", hardware.press()) == "deny"
    assert _result(auth_api, "eli", hardware.press()) == "deny"
    assert _result(auth_api, "eli", hardware.press()) == "allow"
    assert _result(auth_api, "eli", hardware.press()) == "allow"


def test_a_wrong_attempt_between_far_codes_restarts_the_resync(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    _, hardware = _user_with_hotp(admin_api, "fay")
    hardware.press_ahead(300)
    assert _result(auth_api, "fay", hardware.press()) == "deny"
    assert _result(auth_api, "fay", "000000") == "deny"
    assert _result(auth_api, "fay", hardware.press()) == "deny"
    assert _result(auth_api, "fay", hardware.press()) == "deny"
    assert _result(auth_api, "fay", hardware.press()) == "allow"


def test_drift_of_a_thousand_or_more_is_not_resynced_automatically(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    _, hardware = _user_with_hotp(admin_api, "gus")
    hardware.press_ahead(1000)
    assert [_result(auth_api, "gus", hardware.press()) for _ in range(4)] == ["deny"] * 4


def _step_start(clock: ServedClock) -> float:
    """The service's time, one second into a 30 s step (so every code below is of a known step)."""
    clock.advance_into_step(30)
    return clock.now()


def test_totp_accepts_one_step_either_side_and_each_step_once(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, clock: ServedClock) -> None:
    user = admin_api.add_user("hal")
    token = admin_api.add_totp6_token("HAL-T", SEED.hex())
    admin_api.add_user_token(user["user_id"], token["token_id"])
    totp = TotpToken(SEED, "HAL-T")
    now = _step_start(clock)
    previous, current, following = (totp.code_at(now + offset) for offset in (-30, 0, 30))
    assert _result(auth_api, "hal", totp.code_at(now - 60)) == "deny"
    assert _result(auth_api, "hal", previous) == "allow"
    assert _result(auth_api, "hal", previous) == "deny"
    assert _result(auth_api, "hal", following) == "allow"
    assert _result(auth_api, "hal", current) == "deny"
    assert _result(auth_api, "hal", totp.code_at(now + 60)) == "deny"


def test_a_totp_code_works_until_the_step_after_its_own_ends(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, clock: ServedClock) -> None:
    totp = TotpToken(SEED, "EDGE-T")
    for name in ("ivy", "jay"):  # one token each, same seed: the same code, used once per token
        user = admin_api.add_user(name)
        token = admin_api.add_totp6_token(f"{name.upper()}-T", SEED.hex())
        admin_api.add_user_token(user["user_id"], token["token_id"])
    clock.advance_into_step(30, into=0)
    code = totp.code_at(clock.now())
    clock.advance(59.5)  # the last half second of the following step
    assert _result(auth_api, "ivy", code) == "allow"
    clock.advance(0.5)  # two steps on
    assert _result(auth_api, "jay", code) == "deny"


def test_totp8_codes_use_eight_digits(admin_api: duo_client.Admin, auth_api: duo_client.Auth,
                                      clock: ServedClock) -> None:
    user = admin_api.add_user("hank")
    token = admin_api.add_totp8_token("HANK-T", SEED.hex(), totp_step=60)
    admin_api.add_user_token(user["user_id"], token["token_id"])
    totp = TotpToken(SEED, "HANK-T", digits=8, step=60)
    assert _result(auth_api, "hank", totp.code_at(clock.now())[:6]) == "deny"
    assert _result(auth_api, "hank", totp.code_at(clock.now())) == "allow"


def test_lockout_after_threshold_until_an_admin_sets_the_user_active(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    admin_api.update_settings(lockout_threshold=3)
    user, hardware = _user_with_hotp(admin_api, "ida")
    answers = [auth_api.auth("passcode", username="ida", passcode="999999") for _ in range(3)]
    assert [a["result"] for a in answers] == ["deny"] * 3
    assert answers[-1]["status"] == "locked_out"
    locked = admin_api.get_user_by_id(user["user_id"])
    assert (locked["status"], locked["lockout_reason"]) == ("locked out", "Failed Attempts")
    answer = auth_api.auth("passcode", username="ida", passcode=hardware.press())
    assert (answer["result"], answer["status"]) == ("deny", "locked_out")
    assert auth_api.preauth(username="ida")["result"] == "deny"
    admin_api.update_user(user["user_id"], status="active")
    assert _result(auth_api, "ida", hardware.press()) == "allow"


def test_a_lockout_with_an_expire_duration_ends_by_itself(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, clock: ServedClock) -> None:
    admin_api.update_settings(lockout_threshold=3, lockout_expire_duration=1)
    user, hardware = _user_with_hotp(admin_api, "liv")
    assert [_result(auth_api, "liv", "999999") for _ in range(3)] == ["deny"] * 3
    assert admin_api.get_user_by_id(user["user_id"])["status"] == "locked out"
    clock.advance(59)
    answer = auth_api.auth("passcode", username="liv", passcode=hardware.press())
    assert (answer["result"], answer["status"]) == ("deny", "locked_out")
    clock.advance(1)  # lockout_expire_duration is in minutes
    assert _result(auth_api, "liv", hardware.press()) == "allow"
    assert admin_api.get_user_by_id(user["user_id"])["status"] == "active"


def test_a_success_resets_the_consecutive_failure_count(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    admin_api.update_settings(lockout_threshold=3)
    user, hardware = _user_with_hotp(admin_api, "jon")
    for _ in range(3):
        assert _result(auth_api, "jon", "000000") == "deny"
        assert _result(auth_api, "jon", "000001") == "deny"
        assert _result(auth_api, "jon", hardware.press()) == "allow"
    assert admin_api.get_user_by_id(user["user_id"])["status"] == "active"


def test_aliases_and_user_id_name_the_same_user(admin_api: duo_client.Admin,
                                                auth_api: duo_client.Auth) -> None:
    user, hardware = _user_with_hotp(admin_api, "kai")
    admin_api.update_user(user["user_id"], alias1="K.Alias")
    assert _result(auth_api, "k.alias", hardware.press()) == "allow"
    answer = auth_api.auth("passcode", user_id=user["user_id"], passcode=hardware.press())
    assert answer["result"] == "allow"


def test_unknown_users_and_factors_are_clear_400s(auth_api: duo_client.Auth) -> None:
    with pytest.raises(RuntimeError, match="400.*username"):
        auth_api.auth("passcode", username="ghost", passcode="123456")
    with pytest.raises(RuntimeError, match="400.*factor"):
        auth_api.auth("carrier-pigeon", username="ghost")
    with pytest.raises(RuntimeError, match="400.*passcode"):
        auth_api.auth("passcode", username="ghost")


def test_async_passcode_answers_through_auth_status(admin_api: duo_client.Admin,
                                                    auth_api: duo_client.Auth) -> None:
    _, hardware = _user_with_hotp(admin_api, "lou")
    txid = auth_api.auth("passcode", username="lou", passcode=hardware.press(),
                         async_txn=True)["txid"]
    status = auth_api.auth_status(txid)
    assert status["success"] is True and status["waiting"] is False
    with pytest.raises(RuntimeError, match="400.*txid"):
        auth_api.auth_status("00000000-0000-0000-0000-000000000000")
