"""YubiKey OTP tokens and hardware-token import, end to end with duo_client and the emulated
YubiKey and OATH tokens of `tokens/`."""

from __future__ import annotations

import base64
import time
from collections import Counter
from typing import Any

import duo_client
import pytest

from tokens.oath import HotpToken, TotpToken
from tokens.yubikey import YubiKey


def _logs(admin: duo_client.Admin) -> list[dict[str, Any]]:
    now_ms = int(time.time() * 1000)
    logs: list[dict[str, Any]] = admin.get_authentication_log(
        api_version=2, mintime=now_ms - 60_000, maxtime=now_ms + 1000)["authlogs"]
    return logs


def _assign_yubikey(admin: duo_client.Admin, username: str) -> YubiKey:
    key = YubiKey()
    user = admin.add_user(username)
    token = admin.add_yubikey_token("YK-" + key.public_id, key.private_id, key.aes_key)
    assert token["type"] == "yk" and key.aes_key not in str(token)
    admin.add_user_token(user["user_id"], token["token_id"])
    return key


def test_yubikey_otps_work_once_and_only_going_forward(admin_api: duo_client.Admin,
                                                        auth_api: duo_client.Auth) -> None:
    key = _assign_yubikey(admin_api, "yuki")
    first, second = key.press(), key.press()
    assert len(first) == 44
    assert auth_api.auth("passcode", username="yuki", passcode=second)["result"] == "allow"
    assert auth_api.auth("passcode", username="yuki", passcode=second)["result"] == "deny"
    assert auth_api.auth("passcode", username="yuki", passcode=first)["result"] == "deny"
    key.replug()
    assert auth_api.auth("passcode", username="yuki", passcode=key.press())["result"] == "allow"
    factors = [log["factor"] for log in _logs(admin_api)]
    assert factors == ["yubikey_code", "passcode", "passcode", "yubikey_code"]
    assert auth_api.auth("passcode", username="yuki",
                         passcode=YubiKey().press())["result"] == "deny"  # another key


def test_yubikey_tokens_need_private_id_and_aes_key(admin_api: duo_client.Admin) -> None:
    with pytest.raises(RuntimeError, match="aes_key"):
        admin_api.add_yubikey_token("YK1", "0" * 12, "abc")
    with pytest.raises(RuntimeError, match="private_id"):
        admin_api.add_yubikey_token("YK1", "0" * 11, "0" * 32)


def _import(admin: duo_client.Admin, token_type: str, text: str,
            partial: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = admin.json_api_call(
        "POST", "/admin/v1/tokens/import",
        {"type": token_type, "csv": text, "partial": "1" if partial else "0"})
    return rows


def test_hotp_import_assigns_tokens_and_they_verify(admin_api: duo_client.Admin,
                                                    auth_api: duo_client.Auth) -> None:
    admin_api.add_user("ivy")
    tokens = [HotpToken(bytes([n]) * 20, f"OATH-{n}") for n in range(1, 4)]
    text = "\n".join(f"{t.serial},{t.secret_hex},{5 if n == 0 else 0}{',ivy' if n == 1 else ''}"
                     for n, t in enumerate(tokens))
    rows = _import(admin_api, "h6", text)
    assert [row["line"] for row in rows] == [1, 2, 3]
    assert [row["user"] for row in rows] == ["", "ivy", ""]
    assert len(admin_api.get_tokens()) == 3
    assert auth_api.auth("passcode", username="ivy", passcode=tokens[1].press())["result"] == \
        "allow"
    assert "secret" not in str(admin_api.get_tokens())


def test_a_bad_row_imports_nothing_unless_partial(admin_api: duo_client.Admin) -> None:
    good = HotpToken(b"g" * 20, "GOOD-1")
    text = f"{good.serial},{good.secret_hex}\nBAD-1,not-hex\n{'S' * 129},{good.secret_hex}\n" \
           f"GOOD-2,{good.secret_hex},0,nobody\n"
    with pytest.raises(RuntimeError, match="line 2.*line 3.*line 4"):
        _import(admin_api, "h6", text)
    assert admin_api.get_tokens() == []
    rows = _import(admin_api, "h6", text, partial=True)
    assert Counter("error" in row for row in rows) == {True: 3, False: 1}
    assert [t["serial"] for t in admin_api.get_tokens()] == ["GOOD-1"]
    with pytest.raises(RuntimeError, match="already in use"):
        _import(admin_api, "h6", f"GOOD-1,{good.secret_hex}")


def test_yubico_and_azure_formats(admin_api: duo_client.Admin, auth_api: duo_client.Auth) -> None:
    admin_api.add_user("zoe")
    admin_api.add_user("al@example.org")
    keys = [YubiKey(), YubiKey()]
    yubico = "\n".join(f"{1000 + n},{k.public_id},{k.private_id},{k.aes_key},000000000000,"
                       f"2026-11-23T10:00:00,{'zoe' if n == 0 else ''}" for n, k in enumerate(keys))
    assert len(_import(admin_api, "yk", yubico)) == 2
    assert auth_api.auth("passcode", username="zoe", passcode=keys[0].press())["result"] == \
        "allow"
    traditional = (f"LOGGING START,11/23/26 10:00\nYubico OTP,11/23/26 10:01,1,"
                   f"{YubiKey().public_id},{'ab' * 6},{'cd' * 16},,,0,0,0,0,0,0,0,0,0,0\n")
    [row] = _import(admin_api, "yk", traditional)
    assert "token_id" in row
    secret = b"azure-seed-123456789"
    azure = ("upn,serial number,secret key,time interval,manufacturer,model\n"
             f"al@example.org,AZ-1,{base64.b32encode(secret).decode()},30,Token2,C202\n")
    [row] = _import(admin_api, "t6", azure)
    assert row["user"] == "al@example.org"
    code = TotpToken(secret, "AZ-1").code()
    assert auth_api.auth("passcode", username="al@example.org", passcode=code)["result"] == "allow"
