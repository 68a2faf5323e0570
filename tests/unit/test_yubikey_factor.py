"""The server's Yubico OTP decoding, pinned by Yubico's test vector."""

from __future__ import annotations

from authsvc.factors.yubikey import counter_of, crc16, decrypt_block, is_otp_shape

KEY = bytes.fromhex("ecde18dbe76fbd0c33330f1c354871db")
OTP = "dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh"
UID = bytes.fromhex("8792ebfe26cc")


def test_the_vector_decrypts_to_the_documented_fields() -> None:
    plain = decrypt_block(OTP, KEY)
    assert plain.hex() == "8792ebfe26cc130030c20011c89f23c8"
    assert crc16(plain) == 0xF0B8
    assert counter_of(OTP, KEY, UID) == 19 * 256 + 17
    assert counter_of(OTP.upper(), KEY, UID) == 19 * 256 + 17


def test_a_wrong_key_private_id_or_tampered_otp_is_refused() -> None:
    assert counter_of(OTP, bytes(16), UID) is None
    assert counter_of(OTP, KEY, bytes(6)) is None
    tampered = OTP[:-1] + ("c" if OTP[-1] != "c" else "b")
    assert counter_of(tampered, KEY, UID) is None


def test_only_modhex_of_the_right_length_has_the_otp_shape() -> None:
    assert is_otp_shape(OTP) and is_otp_shape("cccccccccccc" + OTP[-32:])
    assert not is_otp_shape("123456") and not is_otp_shape(OTP[:-1]) and not is_otp_shape("x" * 44)
