"""Admin API hardware tokens and bypass codes through duo_client.Admin, unmodified."""

from __future__ import annotations

import duo_client
import pytest

from tests.inprocess.serving import ServedClock
from tokens.oath import HotpToken

SEED = bytes(range(1, 21))
SEED_HEX = SEED.hex()


def _token_keys(token: dict[str, object]) -> set[str]:
    return set(token)


def test_each_token_type_is_created_and_no_call_ever_returns_a_seed(
        admin_api: duo_client.Admin) -> None:
    created = [
        admin_api.add_hotp6_token("H6-1", SEED_HEX),
        admin_api.add_hotp8_token("H8-1", SEED_HEX, counter=5),
        admin_api.add_totp6_token("T6-1", SEED_HEX),
        admin_api.add_totp8_token("T8-1", SEED_HEX, totp_step=60),
    ]
    assert [token["type"] for token in created] == ["h6", "h8", "t6", "t8"]
    assert [token["totp_step"] for token in created] == [None, None, 30, 60]
    listed = admin_api.get_tokens()
    assert [token["token_id"] for token in listed] == [token["token_id"] for token in created]
    for token in [*created, *listed, admin_api.get_token_by_id(created[0]["token_id"])]:
        assert token["token_id"].startswith("DH")
        assert _token_keys(token) == {"token_id", "type", "serial", "totp_step", "users", "admins"}
        assert SEED_HEX not in str(token)


def test_serials_are_unique_and_at_most_128_characters(admin_api: duo_client.Admin) -> None:
    admin_api.add_hotp6_token("S" * 128, SEED_HEX)
    with pytest.raises(RuntimeError, match="400"):
        admin_api.add_hotp6_token("S" * 129, SEED_HEX)
    with pytest.raises(RuntimeError, match="already in use"):
        admin_api.add_totp6_token("S" * 128, SEED_HEX)
    assert len(admin_api.get_tokens()) == 1


def test_get_tokens_by_serial_returns_zero_or_one(admin_api: duo_client.Admin) -> None:
    token = admin_api.add_hotp6_token("FIND-ME", SEED_HEX)
    assert [t["token_id"] for t in admin_api.get_tokens_by_serial("h6", "FIND-ME")] == \
        [token["token_id"]]
    assert admin_api.get_tokens_by_serial("h8", "FIND-ME") == []
    assert admin_api.get_tokens_by_serial("h6", "NOPE") == []


def test_tokens_are_assigned_listed_and_unassigned_per_user(admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("olga")
    other = admin_api.add_user("pete")
    token = admin_api.add_hotp6_token("OLGA-1", SEED_HEX)
    admin_api.add_user_token(user["user_id"], token["token_id"])
    admin_api.add_user_token(user["user_id"], token["token_id"])  # again: nothing changes
    assert [t["token_id"] for t in admin_api.get_user_tokens(user["user_id"])] == \
        [token["token_id"]]
    assert [u["user_id"] for u in admin_api.get_token_by_id(token["token_id"])["users"]] == \
        [user["user_id"]]
    assert admin_api.get_user_by_id(user["user_id"])["is_enrolled"] is True
    admin_api.delete_user_token(user["user_id"], token["token_id"])
    assert admin_api.get_user_tokens(user["user_id"]) == []
    with pytest.raises(RuntimeError, match="404"):
        admin_api.delete_user_token(user["user_id"], token["token_id"])
    admin_api.add_user_token(other["user_id"], token["token_id"])
    assert admin_api.get_token_by_id(token["token_id"])["users"][0]["username"] == "pete"


def test_a_hardware_token_may_be_assigned_to_several_users_each_with_its_own_counter(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    """Seed 003: "A hardware token may be assigned to multiple end users." Each holder decides
    with its own copy: a code works once per holder; a holder removed and given back the token
    does not get back the codes already used."""
    hardware = HotpToken(SEED, "SHARED-1")
    token = admin_api.add_hotp6_token("SHARED-1", hardware.secret_hex)
    ids = [admin_api.add_user(name)["user_id"] for name in ("sam", "tess", "uma")]
    for user_id in ids:
        admin_api.add_user_token(user_id, token["token_id"])
    holders = admin_api.get_token_by_id(token["token_id"])["users"]
    assert sorted(u["username"] for u in holders) == ["sam", "tess", "uma"]

    code = hardware.press()
    for name in ("sam", "tess"):
        assert auth_api.auth("passcode", username=name, passcode=code)["result"] == "allow"
        assert auth_api.auth("passcode", username=name, passcode=code)["result"] == "deny"
    admin_api.delete_user_token(ids[1], token["token_id"])
    assert auth_api.auth("passcode", username="tess", passcode=hardware.press())["result"] \
        == "deny"
    admin_api.add_user_token(ids[1], token["token_id"])
    assert auth_api.auth("passcode", username="tess", passcode=code)["result"] == "deny"
    assert sorted(u["username"] for u in admin_api.get_token_by_id(
        token["token_id"])["users"]) == ["sam", "tess", "uma"]

    admin_api.delete_token(token["token_id"])
    assert all(admin_api.get_user_tokens(user_id) == [] for user_id in ids)


def test_delete_token_removes_it_from_its_user_and_frees_the_serial(
        admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("quinn")
    token = admin_api.add_hotp6_token("Q-1", SEED_HEX)
    admin_api.add_user_token(user["user_id"], token["token_id"])
    admin_api.delete_token(token["token_id"])
    admin_api.delete_token(token["token_id"])
    assert admin_api.get_user_tokens(user["user_id"]) == []
    with pytest.raises(RuntimeError, match="404"):
        admin_api.get_token_by_id(token["token_id"])
    admin_api.add_hotp6_token("Q-1", SEED_HEX)


def test_resync_hotp_token_finds_three_consecutive_codes_and_moves_past_them(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    user = admin_api.add_user("rita")
    hardware = HotpToken(SEED, "R-1")
    token = admin_api.add_hotp6_token("R-1", hardware.secret_hex)
    admin_api.add_user_token(user["user_id"], token["token_id"])
    hardware.press_ahead(400)
    admin_api.resync_hotp_token(token["token_id"], hardware.press(), hardware.press(),
                                hardware.press())
    assert auth_api.auth("passcode", username="rita", passcode=hardware.press())["result"] == "allow"
    with pytest.raises(RuntimeError, match="400"):
        admin_api.resync_hotp_token(token["token_id"], "111111", "222222", "333333")
    totp = admin_api.add_totp6_token("R-T", SEED_HEX)
    with pytest.raises(RuntimeError, match="only HOTP"):
        admin_api.resync_hotp_token(totp["token_id"], "1", "2", "3")


def test_bypass_codes_are_nine_random_digits_and_listed_without_the_codes(
        admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("sam")
    codes = admin_api.add_user_bypass_codes(user["user_id"], count=5, remaining_uses=2,
                                            valid_secs=3600)
    assert len(codes) == 5 and len(set(codes)) == 5
    assert all(len(code) == 9 and code.isdigit() for code in codes)
    listed = admin_api.get_user_bypass_codes(user["user_id"])
    assert len(listed) == 5
    for entry in listed:
        assert entry["bypass_code_id"].startswith("DB")
        assert entry["reuse_count"] == 2
        assert entry["expiration"] is not None
        assert entry["user"]["user_id"] == user["user_id"]
        assert not any(code in str(entry) for code in codes)
    assert len(admin_api.get_bypass_codes()) == 5


def test_bypass_codes_default_to_ten_single_use_expiring_in_an_hour_and_replace_old_ones(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, clock: ServedClock) -> None:
    """Seeds 000/001: "by default, bypass codes expire after a single use or in one hour,
    whichever happens first" (the account's `bypass_default_expiration`, 60 minutes)."""
    user = admin_api.add_user("tara")
    old = admin_api.add_user_bypass_codes(user["user_id"])
    assert len(old) == 10
    listed = admin_api.get_user_bypass_codes(user["user_id"])
    assert {entry["reuse_count"] for entry in listed} == {1}
    # The service's clock (not the wall clock, which may have moved past a second meanwhile).
    assert {entry["expiration"] for entry in listed} == {int(clock.now()) + 3600}
    new = admin_api.add_user_bypass_codes(user["user_id"], count=1)
    assert len(admin_api.get_user_bypass_codes(user["user_id"])) == 1
    assert auth_api.auth("passcode", username="tara", passcode=old[0])["result"] == "deny"
    assert auth_api.auth("passcode", username="tara", passcode=new[0])["result"] == "allow"
    assert auth_api.auth("passcode", username="tara", passcode=new[0])["result"] == "deny"


def test_the_default_bypass_expiry_is_an_account_setting_and_zero_means_never(
        admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("tess")
    admin_api.json_api_call("POST", "/admin/v1/settings", {"bypass_default_expiration": "0"})
    admin_api.add_user_bypass_codes(user["user_id"], count=2)
    assert {e["expiration"] for e in admin_api.get_user_bypass_codes(user["user_id"])} == {None}
    admin_api.json_api_call("POST", "/admin/v1/settings", {"bypass_default_expiration": "5"})
    admin_api.add_user_bypass_codes(user["user_id"], count=1, valid_secs=0)
    assert {e["expiration"] for e in admin_api.get_user_bypass_codes(user["user_id"])} == {None}


def test_bypass_codes_stop_working_when_their_valid_secs_are_over(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth, clock: ServedClock) -> None:
    user = admin_api.add_user("uma")
    first, second = admin_api.add_user_bypass_codes(user["user_id"], count=2, valid_secs=60)
    clock.advance(59)
    assert auth_api.auth("passcode", username="uma", passcode=first)["result"] == "allow"
    clock.advance(1)
    assert auth_api.auth("passcode", username="uma", passcode=second)["result"] == "deny"


def test_custom_codes_preserve_existing_and_the_hundred_code_limit(
        admin_api: duo_client.Admin) -> None:
    user = admin_api.add_user("uma")
    assert admin_api.add_user_bypass_codes(user["user_id"], codes=["123456789", "987654321"]) == \
        ["123456789", "987654321"]
    with pytest.raises(RuntimeError, match="already in use"):
        admin_api.add_user_bypass_codes(user["user_id"], codes=["123456789"],
                                        preserve_existing=True)
    for _ in range(9):
        admin_api.add_user_bypass_codes(user["user_id"], count=10, preserve_existing=True)
    assert len(admin_api.get_user_bypass_codes(user["user_id"])) == 92
    with pytest.raises(RuntimeError, match="at most 100"):
        admin_api.add_user_bypass_codes(user["user_id"], count=10, preserve_existing=True)
    assert len(admin_api.get_user_bypass_codes(user["user_id"])) == 92
    with pytest.raises(RuntimeError, match="400"):
        admin_api.add_user_bypass_codes(user["user_id"], count=11)
    with pytest.raises(RuntimeError, match="mutually exclusive"):
        admin_api.add_user_bypass_codes(user["user_id"], count=1, codes=["55555555"])


def test_delete_bypass_code_by_id_makes_the_code_unusable(
        admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    user = admin_api.add_user("vic")
    codes = admin_api.add_user_bypass_codes(user["user_id"], codes=["424242424"])
    code_id = admin_api.get_user_bypass_codes(user["user_id"])[0]["bypass_code_id"]
    admin_api.delete_bypass_code_by_id(code_id)
    assert admin_api.get_bypass_codes() == []
    assert auth_api.auth("passcode", username="vic", passcode=codes[0])["result"] == "deny"
    with pytest.raises(RuntimeError, match="404"):
        admin_api.delete_bypass_code_by_id(code_id)


def test_settings_round_trip_and_reject_bad_values(admin_api: duo_client.Admin) -> None:
    settings = admin_api.get_settings()
    assert settings["lockout_threshold"] == 10
    assert settings["lockout_expire_duration"] == 0
    assert settings["hotp_lookahead_window"] == 20
    updated = admin_api.update_settings(lockout_threshold=4, lockout_expire_duration=15,
                                        sms_refresh=True)
    assert (updated["lockout_threshold"], updated["lockout_expire_duration"]) == (4, 15)
    assert updated["sms_refresh"] is True
    with pytest.raises(RuntimeError, match="lockout_threshold"):
        admin_api.update_settings(lockout_threshold=0)
    assert admin_api.get_settings()["lockout_threshold"] == 4
    admin_api.json_api_call("POST", "/admin/v1/settings", {"hotp_lookahead_window": "35"})
    assert admin_api.get_settings()["hotp_lookahead_window"] == 35


@pytest.mark.parametrize(("field", "value"), [
    ("timezone", "1"), ("fraud_email", "1"), ("caller_id", "not a number")])
def test_settings_refuse_nonsense_with_40002_naming_the_field(
        admin_api: duo_client.Admin, field: str, value: str) -> None:
    with pytest.raises(RuntimeError, match=f"Invalid request parameters.*{field}") as caught:
        admin_api.update_settings(**{field: value})
    assert getattr(caught.value, "status", None) == 400
    assert admin_api.update_settings(timezone="Europe/Paris")["timezone"] == "Europe/Paris"
