"""The soft FIDO2/U2F key driven by python-fido2's client, verified by py_webauthn (the service's
verifier) and by fido2.server.Fido2Server, plus raw U2F messages checked with `cryptography`."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.attestation.base import InvalidSignature as Fido2InvalidSignature
from fido2.client import ClientError
from fido2.ctap import CtapError
from fido2.ctap1 import ApduError, Ctap1, RegistrationData, SignatureData
from fido2.ctap2.base import Ctap2
from fido2.hid import CTAPHID
from fido2.server import Fido2Server
from fido2.utils import sha256, websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestedCredentialData,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
)
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tokens.fido import AAGUID, CRED_ID_LENGTH, SoftAuthenticator
from tokens.webauthn_client import (
    NoCredentialError,
    U2fError,
    UvTrapError,
    authenticate,
    register,
    u2f_register,
    u2f_sign,
)

RP_ID = "example.test"
ORIGIN = "https://example.test"
APP_ID = "https://example.test/u2f/app-id.json"
SIGN = ec.ECDSA(hashes.SHA256())
RP = PublicKeyCredentialRpEntity(id=RP_ID, name="Example")
USER = PublicKeyCredentialUserEntity(id=b"user-1", name="alice")


@dataclass
class Stored:
    """What the RP keeps about a credential."""

    credential_id: bytes
    public_key: bytes
    sign_count: int


def registration_options(**kwargs: Any) -> Any:
    return generate_registration_options(rp_id=RP_ID, rp_name="Example", user_name="alice", **kwargs)


def enroll(key: SoftAuthenticator, **kwargs: Any) -> Stored:
    options = registration_options(**kwargs)
    response = register(key, options_to_json(options), ORIGIN)
    verified = verify_registration_response(credential=response, expected_challenge=options.challenge,
                                            expected_rp_id=RP_ID, expected_origin=ORIGIN)
    return Stored(verified.credential_id, verified.credential_public_key, verified.sign_count)


def request_options(stored: Stored, **extra: Any) -> tuple[bytes, dict[str, Any]]:
    options = generate_authentication_options(
        rp_id=RP_ID, allow_credentials=[PublicKeyCredentialDescriptor(id=stored.credential_id)])
    return options.challenge, {**json.loads(options_to_json(options)), **extra}


def sign_in(key: SoftAuthenticator, stored: Stored, *, origin: str = ORIGIN,
            expected_rp_id: str = RP_ID) -> int:
    """A py_webauthn-verified login; the RP keeps the new sign count."""
    challenge, options = request_options(stored)
    response = authenticate(key, options, origin)
    verified = verify_authentication_response(
        credential=response, expected_challenge=challenge, expected_rp_id=expected_rp_id,
        expected_origin=ORIGIN, credential_public_key=stored.public_key,
        credential_current_sign_count=stored.sign_count)
    stored.sign_count = verified.new_sign_count
    return verified.new_sign_count


def cose_from_u2f(public_key: bytes) -> bytes:
    return cbor.encode({1: 2, 3: -7, -1: 1, -2: public_key[1:33], -3: public_key[33:65]})


def flip_last_byte(b64: str) -> str:
    raw = bytearray(websafe_decode(b64))
    raw[-1] ^= 0x01
    return websafe_encode(bytes(raw))


# -- CTAP2 surface -----------------------------------------------------------------------------

def test_get_info_is_ctap2_with_u2f_and_no_uv_or_pin_option() -> None:
    info = Ctap2(SoftAuthenticator()).info
    assert info.versions == ["U2F_V2", "FIDO_2_0"] and bytes(info.aaguid) == AAGUID
    assert info.options == {"plat": False, "rk": False, "up": True}


def test_preflight_without_presence_signs_with_up_clear() -> None:
    key = SoftAuthenticator()
    stored = enroll(key)
    allow: list[Mapping[str, Any]] = [{"type": "public-key", "id": stored.credential_id}]
    assertion = Ctap2(key).get_assertion(RP_ID, bytes(32), allow, options={"up": False})
    assert not assertion.auth_data.is_user_present()
    assert Ctap2(key).get_assertion(RP_ID, bytes(32), allow).auth_data.is_user_present()


def test_unknown_command_bad_cbor_and_unsupported_algorithm_are_ctap_errors() -> None:
    key = SoftAuthenticator()
    assert key.call(CTAPHID.CBOR, b"\x09") == bytes([CtapError.ERR.INVALID_COMMAND])
    assert key.call(CTAPHID.CBOR, b"\x01\xff") == bytes([CtapError.ERR.INVALID_CBOR])
    with pytest.raises(CtapError) as caught:
        Ctap2(key).make_credential(bytes(32), {"id": RP_ID}, {"id": b"u", "name": "u"},
                                   [{"type": "public-key", "alg": -257}])
    assert caught.value.code == CtapError.ERR.UNSUPPORTED_ALGORITHM


def test_resident_key_required_is_refused_by_a_key_without_rk() -> None:
    with pytest.raises(ClientError) as caught:
        enroll(SoftAuthenticator(), authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED))
    assert caught.value.code == ClientError.ERR.CONFIGURATION_UNSUPPORTED


# -- WebAuthn ceremonies -----------------------------------------------------------------------

def test_py_webauthn_verifies_packed_self_attestation_and_increasing_counts() -> None:
    key = SoftAuthenticator()
    stored = enroll(key)
    assert len(stored.credential_id) == CRED_ID_LENGTH and stored.sign_count == 1
    # The client's up:false pre-flight is a signature too: +2 per login.
    assert [sign_in(key, stored) for _ in range(3)] == [3, 5, 7]


def test_fido2_server_verifies_registration_and_assertion() -> None:
    server = Fido2Server(RP)
    key = SoftAuthenticator()
    options, state = server.register_begin(USER)
    assert set(dict(options)) == {"publicKey"}  # the {"publicKey": ...} wrapper is unwrapped
    auth_data = server.register_complete(state, register(key, dict(options), ORIGIN))
    credential = auth_data.credential_data
    assert credential is not None and bytes(credential.aaguid) == AAGUID
    request, state = server.authenticate_begin([credential])
    response = authenticate(key, dict(request.public_key), ORIGIN)
    assert server.authenticate_complete(state, [credential], response) == credential
    stored = AttestedCredentialData(bytes(credential))  # what a server persists, rebuilt
    assert stored.credential_id == credential.credential_id


def test_the_same_secret_is_the_same_key_and_another_key_is_ineligible() -> None:
    key = SoftAuthenticator()
    stored = enroll(key)
    sign_in(key, stored)
    restored = SoftAuthenticator.from_secret(key.secret, counter=key.counter)
    assert sign_in(restored, stored) == key.counter + 2
    with pytest.raises(ClientError) as caught:
        sign_in(SoftAuthenticator(), stored)
    assert caught.value.code == ClientError.ERR.DEVICE_INELIGIBLE
    with pytest.raises(ValueError, match="32 bytes"):
        SoftAuthenticator.from_secret(b"short")


def test_excluded_credential_is_not_registered_twice() -> None:
    key = SoftAuthenticator()
    stored = enroll(key)
    with pytest.raises(ClientError) as caught:
        enroll(key, exclude_credentials=[PublicKeyCredentialDescriptor(id=stored.credential_id)])
    assert caught.value.code == ClientError.ERR.DEVICE_INELIGIBLE


def test_zero_counter_is_accepted_by_the_both_zero_rule() -> None:
    key = SoftAuthenticator(counter_mode="zero")
    stored = enroll(key)
    assert stored.sign_count == 0
    assert [sign_in(key, stored) for _ in range(3)] == [0, 0, 0]


def test_regressing_counter_is_refused_by_py_webauthn() -> None:
    key = SoftAuthenticator(counter=40)
    stored = enroll(key)
    sign_in(key, stored)
    key.counter_mode = "regress"
    with pytest.raises(InvalidAuthenticationResponse, match="sign count"):
        sign_in(key, stored)


def test_a_cloned_key_falls_behind_and_is_refused() -> None:
    key = SoftAuthenticator()
    stored = enroll(key)
    clone = key.clone()
    sign_in(key, stored)
    with pytest.raises(InvalidAuthenticationResponse, match="sign count"):
        sign_in(clone, stored)


def test_wrong_origin_is_refused_by_the_client_collector() -> None:
    options = registration_options()
    with pytest.raises(ClientError) as caught:
        register(SoftAuthenticator(), options_to_json(options), "https://evil.test")
    assert caught.value.code == ClientError.ERR.BAD_REQUEST


def test_subdomain_origin_passes_the_client_but_not_the_verifier() -> None:
    key = SoftAuthenticator()
    stored = enroll(key)
    with pytest.raises(InvalidAuthenticationResponse, match="origin"):
        sign_in(key, stored, origin="https://login.example.test")


def test_wrong_rp_id_is_refused_by_the_verifier_and_the_key() -> None:
    key = SoftAuthenticator()
    stored = enroll(key)
    with pytest.raises(InvalidAuthenticationResponse, match="RP ID"):
        sign_in(key, stored, expected_rp_id="other.test")
    _, options = request_options(stored, rpId="other.test")
    with pytest.raises(ClientError) as caught:  # the id is bound to SHA-256("example.test")
        authenticate(key, options, "https://other.test")
    assert caught.value.code == ClientError.ERR.DEVICE_INELIGIBLE


def test_tampered_signature_is_refused_by_both_verifiers() -> None:
    server = Fido2Server(RP)
    key = SoftAuthenticator()
    options, state = server.register_begin(USER)
    credential = server.register_complete(state, register(key, dict(options.public_key), ORIGIN)
                                          ).credential_data
    assert credential is not None
    request, state = server.authenticate_begin([credential])
    response = authenticate(key, dict(request.public_key), ORIGIN)
    response["response"] = {**response["response"],
                            "signature": flip_last_byte(response["response"]["signature"])}
    with pytest.raises(ValueError, match="signature"):
        server.authenticate_complete(state, [credential], response)
    with pytest.raises(InvalidAuthenticationResponse, match="signature"):
        verify_authentication_response(
            credential=response, expected_challenge=websafe_decode(state["challenge"]),
            expected_rp_id=RP_ID, expected_origin=ORIGIN,
            credential_public_key=cbor.encode(dict(credential.public_key)),
            credential_current_sign_count=0)


def test_u2f_only_key_registers_with_fido_u2f_attestation_through_the_client() -> None:
    key = SoftAuthenticator(ctap2=False)
    options = registration_options()
    response = register(key, options_to_json(options), ORIGIN)
    verified = verify_registration_response(credential=response, expected_challenge=options.challenge,
                                            expected_rp_id=RP_ID, expected_origin=ORIGIN)
    assert verified.fmt == "fido-u2f"
    stored = Stored(verified.credential_id, verified.credential_public_key, verified.sign_count)
    assert sign_in(key, stored) == 1  # CTAP1 has no pre-flight signature


# -- user presence -----------------------------------------------------------------------------

def test_slow_touch_prompts_once_then_succeeds() -> None:
    key = SoftAuthenticator(touch_delay=0.2)
    prompts: list[str] = []
    register(key, options_to_json(registration_options()), ORIGIN,
             on_touch=lambda: prompts.append("touch"))
    assert prompts == ["touch"]


def test_waiting_for_touch_is_cancelled_by_the_event() -> None:
    key = SoftAuthenticator(touch_delay=30)
    event = threading.Event()
    timer = threading.Timer(0.1, event.set)
    timer.start()
    try:
        with pytest.raises(ClientError) as caught:
            register(key, options_to_json(registration_options()), ORIGIN, event=event)
    finally:
        timer.join()
    assert caught.value.code == ClientError.ERR.TIMEOUT


def test_refused_presence_is_operation_denied() -> None:
    with pytest.raises(ClientError) as caught:
        register(SoftAuthenticator(refuse=True), options_to_json(registration_options()), ORIGIN)
    assert caught.value.code == ClientError.ERR.BAD_REQUEST
    assert isinstance(caught.value.cause, CtapError)
    assert caught.value.cause.code == CtapError.ERR.OPERATION_DENIED


def test_uv_trap_is_reported_and_discouraged_avoids_it() -> None:
    key = SoftAuthenticator(advertise_client_pin=True)  # like a factory-fresh YubiKey
    with pytest.raises(UvTrapError, match="discouraged"):
        enroll(key)
    stored = enroll(key, authenticator_selection=AuthenticatorSelectionCriteria(
        user_verification=UserVerificationRequirement.DISCOURAGED))
    _, options = request_options(stored)
    with pytest.raises(UvTrapError):
        authenticate(key, options, ORIGIN)
    authenticate(key, {**options, "userVerification": "discouraged"}, ORIGIN)


# -- raw U2F -----------------------------------------------------------------------------------

def split_registration(raw: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(public key, key handle, certificate, signature) per the U2F raw message format."""
    assert raw[0] == 0x05
    public_key, length = raw[1:66], raw[66]
    handle, rest = raw[67:67 + length], raw[67 + length:]
    size = rest[1]
    header = 2
    if size & 0x80:
        header += size & 0x7F
        size = int.from_bytes(rest[2:header], "big")
    return public_key, handle, rest[:header + size], rest[header + size:]


def test_u2f_register_and_sign_verify_with_cryptography_and_fido2() -> None:
    key = SoftAuthenticator()
    challenge = websafe_encode(os.urandom(32))
    enrolled = u2f_register(key, APP_ID, challenge, ORIGIN)
    client_data = websafe_decode(enrolled["clientData"])
    assert json.loads(client_data) == {"typ": "navigator.id.finishEnrollment",
                                       "challenge": challenge, "origin": ORIGIN}
    raw = websafe_decode(enrolled["registrationData"])
    public_key, handle, cert, signature = split_registration(raw)
    app_param, client_param = sha256(APP_ID.encode()), sha256(client_data)
    attestation_key = x509.load_der_x509_certificate(cert).public_key()
    assert isinstance(attestation_key, ec.EllipticCurvePublicKey)
    attestation_key.verify(
        signature, b"\x00" + app_param + client_param + handle + public_key, SIGN)
    RegistrationData(raw).verify(app_param, client_param)

    signed = u2f_sign(key, APP_ID, challenge, websafe_encode(handle), ORIGIN)
    assert signed["keyHandle"] == websafe_encode(handle)
    client_param = sha256(websafe_decode(signed["clientData"]))
    data = websafe_decode(signed["signatureData"])
    assert data[0] == 0x01 and int.from_bytes(data[1:5], "big") == 1
    credential_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    credential_key.verify(data[5:], app_param + data[:5] + client_param, SIGN)
    SignatureData(data).verify(app_param, client_param, public_key)
    with pytest.raises(InvalidSignature):
        SignatureData(websafe_decode(flip_last_byte(signed["signatureData"]))).verify(
            app_param, client_param, public_key)
    with pytest.raises(Fido2InvalidSignature):
        RegistrationData(raw).verify(sha256(b"https://other.test"), client_param)


def test_u2f_status_words() -> None:
    key = SoftAuthenticator()
    ctap1 = Ctap1(key)
    app = sha256(APP_ID.encode())
    handle = ctap1.register(bytes(32), app).key_handle
    assert ctap1.get_version() == "U2F_V2"
    expectations: list[tuple[Callable[[], object], int]] = [
        (lambda: ctap1.authenticate(bytes(32), app, handle, check_only=True), 0x6985),
        (lambda: ctap1.authenticate(bytes(32), sha256(b"https://other.test"), handle), 0x6A80),
        (lambda: ctap1.authenticate(bytes(32), app, bytes(CRED_ID_LENGTH)), 0x6A80),
        (lambda: ctap1.send_apdu(ins=0x01, data=bytes(10)), 0x6700),
        (lambda: ctap1.send_apdu(ins=0x42), 0x6D00),
        (lambda: ctap1.send_apdu(cla=0x80, ins=0x03), 0x6E00),
    ]
    for call, status in expectations:
        with pytest.raises(ApduError) as caught:
            call()
        assert caught.value.code == status
    data = ctap1.send_apdu(ins=0x02, p1=0x08, data=bytes(32) + app + bytes([len(handle)]) + handle)
    assert SignatureData(data).user_presence == 0  # "sign without presence"


def test_u2f_waits_for_a_slow_touch_and_times_out_on_refusal() -> None:
    key = SoftAuthenticator(touch_delay=0.3)
    prompts: list[str] = []
    enrolled = u2f_register(key, APP_ID, "c2FsdA", ORIGIN, on_touch=lambda: prompts.append("touch"))
    assert prompts == ["touch"]
    handle = websafe_encode(split_registration(websafe_decode(enrolled["registrationData"]))[1])
    key.refuse = True
    with pytest.raises(ClientError) as caught:
        u2f_sign(key, APP_ID, "c2FsdA", handle, ORIGIN, timeout=0.3)
    assert caught.value.code == ClientError.ERR.TIMEOUT
    with pytest.raises(U2fError) as wrong:
        u2f_sign(key, "https://other.test/app-id.json", "c2FsdA", handle, ORIGIN)
    assert wrong.value.status == 0x6A80


# -- the appid extension -----------------------------------------------------------------------

def u2f_credential(key: SoftAuthenticator) -> Stored:
    enrolled = u2f_register(key, APP_ID, websafe_encode(os.urandom(32)), ORIGIN)
    registration = RegistrationData(websafe_decode(enrolled["registrationData"]))
    return Stored(registration.key_handle, cose_from_u2f(registration.public_key), 0)


@pytest.mark.parametrize(("via", "ctap2"), [("auto", True), ("ctap1", True), ("ctap2", True),
                                             ("auto", False)])
def test_u2f_credential_signs_in_through_webauthn_appid(via: Any, ctap2: bool) -> None:
    key = SoftAuthenticator(ctap2=ctap2)
    stored = u2f_credential(key)
    challenge, options = request_options(stored, extensions={"appid": APP_ID})
    response = authenticate(key, options, ORIGIN, appid_via=via)
    assert response["clientExtensionResults"] == {"appid": True}
    verified = verify_authentication_response(
        credential=response, expected_challenge=challenge, expected_rp_id=APP_ID,
        expected_origin=ORIGIN, credential_public_key=stored.public_key,
        credential_current_sign_count=stored.sign_count)
    assert verified.new_sign_count > 0
    with pytest.raises(InvalidAuthenticationResponse, match="RP ID"):
        verify_authentication_response(
            credential=response, expected_challenge=challenge, expected_rp_id=RP_ID,
            expected_origin=ORIGIN, credential_public_key=stored.public_key,
            credential_current_sign_count=stored.sign_count)


def test_u2f_credential_without_appid_is_ineligible() -> None:
    key = SoftAuthenticator()
    _, options = request_options(u2f_credential(key))
    with pytest.raises(ClientError) as caught:
        authenticate(key, options, ORIGIN)
    assert caught.value.code == ClientError.ERR.DEVICE_INELIGIBLE


def test_appid_of_another_site_or_foreign_handle_is_refused() -> None:
    key = SoftAuthenticator()
    stored = u2f_credential(key)
    _, options = request_options(stored, extensions={"appid": "https://evil.test/app-id.json"})
    with pytest.raises(ClientError) as caught:
        authenticate(key, options, ORIGIN)
    assert caught.value.code == ClientError.ERR.BAD_REQUEST
    _, options = request_options(stored, extensions={"appid": APP_ID})
    with pytest.raises(NoCredentialError):
        authenticate(SoftAuthenticator(), options, ORIGIN)


def test_registration_response_is_plain_json_with_base64url_fields() -> None:
    response = register(SoftAuthenticator(), options_to_json(registration_options()), ORIGIN)
    assert json.loads(json.dumps(response)) == response
    assert response["type"] == "public-key" and response["id"] == response["rawId"]
    base64.urlsafe_b64decode(response["response"]["attestationObject"] + "==")
    with pytest.raises(InvalidRegistrationResponse):
        verify_registration_response(credential=response, expected_challenge=b"not the challenge",
                                     expected_rp_id=RP_ID, expected_origin=ORIGIN)
