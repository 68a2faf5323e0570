"""Secrets at rest: AES-GCM sealing bound to a record, keyed code hashes, the key file."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsvc.crypto import (
    DecryptionError,
    SecretBox,
    constant_time_equal,
    load_or_create_master_key,
    random_digits,
    random_id,
)


def test_sealed_secrets_open_only_for_the_record_they_were_sealed_for() -> None:
    box = SecretBox(b"k" * 32)
    sealed = box.seal(b"seed bytes", bound_to="DH1")
    assert b"seed bytes".hex() not in sealed and "seed bytes" not in sealed
    assert box.open(sealed, bound_to="DH1") == b"seed bytes"
    with pytest.raises(DecryptionError):
        box.open(sealed, bound_to="DH2")
    with pytest.raises(DecryptionError):
        SecretBox(b"x" * 32).open(sealed, bound_to="DH1")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        box.open(tampered, bound_to="DH1")


def test_sealing_twice_gives_different_ciphertexts() -> None:
    box = SecretBox(b"k" * 32)
    assert box.seal(b"same", bound_to="r") != box.seal(b"same", bound_to="r")


def test_derived_tokens_are_stable_per_key_and_distinct_per_purpose() -> None:
    box, same, other = SecretBox(b"k" * 32), SecretBox(b"k" * 32), SecretBox(b"j" * 32)
    token = box.derive_token("outbox reader v1")
    assert len(token) == 64 and int(token, 16) >= 0
    assert same.derive_token("outbox reader v1") == token  # another process agrees
    assert other.derive_token("outbox reader v1") != token
    assert box.derive_token("something else") != token
    assert token != box.code_hash("outbox reader v1", "", "")  # not the code pepper


def test_code_hashes_are_keyed_and_bound_to_the_owner() -> None:
    box, other = SecretBox(b"k" * 32), SecretBox(b"j" * 32)
    digest = box.code_hash("bypass", "DU1", "123456789")
    assert digest == box.code_hash("bypass", "DU1", "123456789")
    assert digest != box.code_hash("bypass", "DU2", "123456789")
    assert digest != other.code_hash("bypass", "DU1", "123456789")
    assert "123456789" not in digest


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret.key"
    first = load_or_create_master_key(path)
    assert len(first) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_master_key(path) == first


def test_identifiers_and_codes_have_duo_shapes() -> None:
    ident = random_id("DU")
    assert len(ident) == 20 and ident.startswith("DU") and ident.isalnum() and ident.isupper()
    code = random_digits(9)
    assert len(code) == 9 and code.isdigit()
    assert constant_time_equal("abc", b"abc") and not constant_time_equal("abc", "abd")
