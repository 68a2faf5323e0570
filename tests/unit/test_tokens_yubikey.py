"""The YubiKey OTP emulator: Yubico's test vector, the CRC, modhex, and counters that move like a
real key's, cross-checked against the server's decoder."""

from __future__ import annotations

import pytest

from authsvc.factors import yubikey as server_yubikey
from tokens.yubikey import (
    CRC_RESIDUE,
    KeyExhaustedError,
    OtpError,
    YubiKey,
    crc16,
    decode_otp,
    encode_otp,
    modhex_decode,
    modhex_encode,
)

VECTOR_KEY = "ecde18dbe76fbd0c33330f1c354871db"
VECTOR_OTP = "dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh"
VECTOR_PLAIN = bytes.fromhex("8792ebfe26cc130030c20011c89f23c8")


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_yubico_vector_decodes_to_its_fields() -> None:
    decoded = decode_otp(VECTOR_OTP, VECTOR_KEY)
    assert decoded.public_id == "dteffuje"
    assert decoded.private_id == bytes.fromhex("8792ebfe26cc")
    assert decoded.counters == (19, 17)
    assert (decoded.timestamp, decoded.random) == (0x00C230, 0x9FC8)


def test_yubico_vector_is_reproduced_by_the_encoder() -> None:
    otp = encode_otp(modhex_decode("dteffuje"), bytes.fromhex("8792ebfe26cc"),
                     bytes.fromhex(VECTOR_KEY), use_counter=19, timestamp=0x00C230,
                     session_counter=17, random=0x9FC8)
    assert otp == VECTOR_OTP


def test_crc_over_a_whole_block_leaves_the_x25_residue() -> None:
    assert crc16(VECTOR_PLAIN) == CRC_RESIDUE == 0xF0B8
    assert crc16(b"123456789") == 0x906E ^ 0xFFFF  # X-25 check value 0x906E before the final xor
    tampered = bytes([VECTOR_PLAIN[0] ^ 1]) + VECTOR_PLAIN[1:]
    assert crc16(tampered) != CRC_RESIDUE


def test_modhex_round_trip_and_rejects_other_letters() -> None:
    assert modhex_encode(bytes.fromhex("0123456789abcdef")) == "cbdefghijklnrtuv"
    assert modhex_decode("CBDEFGHIJKLNRTUV") == bytes.fromhex("0123456789abcdef")
    with pytest.raises(OtpError):
        modhex_decode("cbdefa")
    with pytest.raises(OtpError):
        modhex_decode("cbd")


def test_wrong_key_or_altered_otp_does_not_decode() -> None:
    with pytest.raises(OtpError, match="CRC"):
        decode_otp(VECTOR_OTP, "00" * 16)
    with pytest.raises(OtpError, match="CRC"):
        decode_otp(VECTOR_OTP[:-1] + ("c" if VECTOR_OTP[-1] != "c" else "b"), VECTOR_KEY)
    with pytest.raises(OtpError):
        decode_otp("vvvv", VECTOR_KEY)


def test_a_press_is_44_modhex_characters_that_decode_with_the_keys_own_secrets() -> None:
    key = YubiKey()
    otp = key.press()
    assert len(otp) == 44 and otp.startswith(key.public_id) and key.public_id.startswith("vv")
    assert len(key.private_id) == 12 and len(key.aes_key) == 32
    decoded = decode_otp(otp, key.aes_key)
    assert decoded.public_id == key.public_id and decoded.private_id.hex() == key.private_id
    assert decoded.counters == (1, 0)
    assert key.press() != otp


def test_counters_strictly_increase_across_presses_wraps_and_replugs() -> None:
    key = YubiKey(use_counter=7)
    seen = []
    for round_ in range(3):
        for _ in range(300 if round_ == 0 else 5):  # the first session wraps sessionCtr
            seen.append(decode_otp(key.press(), key.aes_key).counters)
        key.replug()
    assert all(later > earlier for earlier, later in zip(seen, seen[1:], strict=False))
    assert (7, 255) in seen and (8, 0) in seen
    assert seen[300] == (9, 0)  # the replug after the wrap: a new use, session from 0


def test_timestamp_runs_at_8_hz_and_restarts_randomly_on_replug() -> None:
    clock = FakeClock()
    key = YubiKey(timestamp_start=0xFFFFF0, clock=clock)
    first = decode_otp(key.press(), key.aes_key).timestamp
    clock.now += 2.5
    assert decode_otp(key.press(), key.aes_key).timestamp == (first + 20) & 0xFFFFFF == 0x000004
    key.replug()
    assert key.powered_at == clock.now and key.timestamp() == key.timestamp_start


def test_state_round_trip_carries_on_counting() -> None:
    key = YubiKey()
    key.press()
    again = YubiKey.from_dict(key.to_dict())
    assert again.public_id == key.public_id and again.counters == key.counters == (1, 1)
    assert decode_otp(again.press(), key.aes_key).counters == (1, 1)


def test_an_exhausted_key_gives_no_more_otps() -> None:
    key = YubiKey(use_counter=0x7FFF, session_counter=0xFF)
    key.press()
    with pytest.raises(KeyExhaustedError):
        key.press()


def test_bad_secret_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="6 bytes"):
        YubiKey(private_id=b"12345")
    with pytest.raises(ValueError, match="16"):
        YubiKey(aes_key=b"short")


def test_server_decoder_accepts_soft_otps_with_increasing_packed_counters() -> None:
    key = YubiKey()
    aes_key, private_id = bytes.fromhex(key.aes_key), bytes.fromhex(key.private_id)
    counters = []
    for _ in range(3):
        otp = key.press()
        assert server_yubikey.is_otp_shape(otp)
        counters.append(server_yubikey.counter_of(otp, aes_key, private_id))
        key.replug()
    assert counters == [256, 512, 768]
    assert server_yubikey.counter_of(VECTOR_OTP, bytes.fromhex(VECTOR_KEY),
                                     bytes.fromhex("8792ebfe26cc")) == 19 * 256 + 17
    assert server_yubikey.counter_of(key.press(), aes_key, bytes(6)) is None
